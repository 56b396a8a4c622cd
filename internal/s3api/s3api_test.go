package s3api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

const (
	testRegion = "eu-west-1"
	testKey    = "AKIDLOCALS3"
	testSecret = "local-s3-secret"
	testBucket = "penstock-test"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Region, opts.AccessKeyID, opts.SecretAccessKey = testRegion, testKey, testSecret
	if opts.Buckets == nil {
		opts.Buckets = []string{testBucket}
	}
	srv, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// client is the SDK's S3 client for srv. The checksum settings are what
// config.LoadDefaultConfig gives a production client; s3.New leaves them
// unset, which sends no checksums and validates none.
func client(srv *Server, secret string, optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		Region:                     testRegion,
		Credentials:                credentials.NewStaticCredentialsProvider(testKey, secret, ""),
		BaseEndpoint:               aws.String(srv.URL()),
		UsePathStyle:               true,
		RetryMaxAttempts:           1,
		HTTPClient:                 srv.HTTPClient(),
	}, optFns...)
}

func asAPIError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an API error", err, err)
	}
	return ae
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// sentHeaders returns a client option recording the headers of each
// request as it leaves the SDK (after signing and content encoding).
func sentHeaders(record *[]http.Header) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *smithymiddleware.Stack) error {
			return stack.Finalize.Add(smithymiddleware.FinalizeMiddlewareFunc("record",
				func(ctx context.Context, in smithymiddleware.FinalizeInput, next smithymiddleware.FinalizeHandler) (smithymiddleware.FinalizeOutput, smithymiddleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						*record = append(*record, req.Header.Clone())
					}
					return next.HandleFinalize(ctx, in)
				}), smithymiddleware.After)
		})
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			srv := start(t, Options{TLS: tls})
			var sent []http.Header
			c := client(srv, testSecret, sentHeaders(&sent))
			ctx := context.Background()
			body := bytes.Repeat([]byte("penstock record\n"), 9000) // 144 000 bytes
			put, err := c.PutObject(ctx, &s3.PutObjectInput{
				Bucket:          aws.String(testBucket),
				Key:             aws.String("out/2026/01/part-0001.json.gz"),
				Body:            bytes.NewReader(body),
				ContentType:     aws.String("application/x-ndjson"),
				ContentEncoding: aws.String("gzip"),
				Metadata:        map[string]string{"Pipeline": "orders", "record-count": "9000"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(put.ETag) != md5ETag(body) || aws.ToString(put.ChecksumCRC32) != sum64(CRC32, body) ||
				put.ChecksumType != types.ChecksumTypeFullObject {
				t.Errorf("put: etag %s crc32 %s type %s", aws.ToString(put.ETag), aws.ToString(put.ChecksumCRC32), put.ChecksumType)
			}
			if id, _ := awsmiddleware.GetRequestIDMetadata(put.ResultMetadata); id == "" {
				t.Error("no request id")
			}
			// Over HTTPS the SDK sends the body aws-chunked with a trailing
			// checksum; over HTTP, signed, with the checksum in a header.
			h := sent[0]
			if tls {
				if h.Get("X-Amz-Content-Sha256") != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" || h.Get("X-Amz-Trailer") != "x-amz-checksum-crc32" ||
					strings.Join(h.Values("Content-Encoding"), ",") != "gzip,aws-chunked" || h.Get("X-Amz-Decoded-Content-Length") != "144000" {
					t.Errorf("HTTPS put headers %v", h)
				}
			} else if len(h.Get("X-Amz-Content-Sha256")) != 64 || h.Get("X-Amz-Checksum-Crc32") == "" || h.Get("Content-Encoding") != "gzip" {
				t.Errorf("HTTP put headers %v", h)
			}

			obj, ok := srv.Object(testBucket, "out/2026/01/part-0001.json.gz")
			if !ok {
				t.Fatal("object not stored")
			}
			if !bytes.Equal(obj.Body, body) || obj.ContentType != "application/x-ndjson" || obj.ContentEncoding != "gzip" ||
				obj.Metadata["pipeline"] != "orders" || obj.Metadata["record-count"] != "9000" || len(obj.Metadata) != 2 ||
				obj.ChecksumAlgorithm != CRC32 || obj.Parts != 0 {
				t.Errorf("stored %d bytes, type %q encoding %q metadata %v checksum %s", len(obj.Body), obj.ContentType,
					obj.ContentEncoding, obj.Metadata, obj.ChecksumAlgorithm)
			}

			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("out/2026/01/part-0001.json.gz")})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(get.Body) // the SDK validates the CRC32 as it reads
			get.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) || aws.ToString(get.ContentType) != "application/x-ndjson" ||
				aws.ToString(get.ContentEncoding) != "gzip" || get.Metadata["pipeline"] != "orders" ||
				aws.ToInt64(get.ContentLength) != int64(len(body)) || aws.ToString(get.ChecksumCRC32) != sum64(CRC32, body) ||
				aws.ToString(get.ETag) != md5ETag(body) {
				t.Errorf("get: %d bytes type %q encoding %q metadata %v crc32 %q", len(got), aws.ToString(get.ContentType),
					aws.ToString(get.ContentEncoding), get.Metadata, aws.ToString(get.ChecksumCRC32))
			}

			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("out/2026/01/part-0001.json.gz")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt64(head.ContentLength) != int64(len(body)) || head.Metadata["record-count"] != "9000" {
				t.Errorf("head: length %d metadata %v", aws.ToInt64(head.ContentLength), head.Metadata)
			}
			if srv.Requests(OpPutObject) != 1 || srv.Requests(OpGetObject) != 1 || srv.Requests("") != 3 || srv.SignatureFailures() != 0 {
				t.Errorf("requests put %d get %d all %d; signature failures %d", srv.Requests(OpPutObject),
					srv.Requests(OpGetObject), srv.Requests(""), srv.SignatureFailures())
			}
		})
	}
}

// TestChecksumAlgorithms puts with each algorithm the SDK offers, over
// HTTP (checksum header) and HTTPS (aws-chunked with a trailer), and
// reads back with validation.
func TestChecksumAlgorithms(t *testing.T) {
	algs := []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
		types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256}
	for _, tls := range []bool{false, true} {
		srv := start(t, Options{TLS: tls})
		c := client(srv, testSecret)
		for _, alg := range algs {
			key := fmt.Sprintf("tls-%v/%s", tls, alg)
			body := []byte(strings.Repeat(key, 100))
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(body), ChecksumAlgorithm: alg,
			})
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			obj, _ := srv.Object(testBucket, key)
			if obj.ChecksumAlgorithm != string(alg) || obj.Checksum != sum64(string(alg), body) || !bytes.Equal(obj.Body, body) {
				t.Errorf("%s: stored %s %s", key, obj.ChecksumAlgorithm, obj.Checksum)
			}
			get, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			got, err := io.ReadAll(get.Body)
			get.Body.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("%s: read %d bytes, %v", key, len(got), err)
			}
		}
	}
}

func TestDefaultIntegrityChecksum(t *testing.T) {
	// A client that sends no checksum still gets one: CRC64NVME, which the
	// SDK validates on GetObject.
	srv := start(t, Options{})
	c := client(srv, testSecret, func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired })
	body := []byte("no checksum sent")
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	obj, _ := srv.Object(testBucket, "k")
	if obj.ChecksumAlgorithm != CRC64NVME || obj.Checksum != sum64(CRC64NVME, body) {
		t.Errorf("checksum %s %s", obj.ChecksumAlgorithm, obj.Checksum)
	}
	get, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || string(got) != string(body) || aws.ToString(get.ChecksumCRC64NVME) != obj.Checksum {
		t.Errorf("got %q %v crc64nvme %q", got, err, aws.ToString(get.ChecksumCRC64NVME))
	}

	// The SDK does validate the checksum answered: a wrong one fails the
	// read.
	srv.mu.Lock()
	srv.buckets[testBucket].objects["k"].sum.value = sum64(CRC64NVME, []byte("something else"))
	srv.mu.Unlock()
	get, err = c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(get.Body)
	get.Body.Close()
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("reading with a wrong checksum: %v", err)
	}
}

func TestUnseekableBody(t *testing.T) {
	ctx := context.Background()
	type onlyReader struct{ io.Reader }
	// Over HTTP the SDK cannot send a checksum for a body it cannot rewind.
	srv := start(t, Options{})
	_, err := client(srv, testSecret).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"),
		Body: onlyReader{strings.NewReader("data")}})
	if err == nil || !strings.Contains(err.Error(), "unseekable stream is not supported without TLS") {
		t.Errorf("HTTP: %v", err)
	}
	// Over HTTPS it streams it with a trailer; S3 then needs the length.
	srv = start(t, Options{TLS: true})
	c := client(srv, testSecret)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: onlyReader{strings.NewReader("data")}})
	if asAPIError(t, err).ErrorCode() != "NotImplemented" {
		t.Errorf("HTTPS, unknown length: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: onlyReader{strings.NewReader("data")},
		ContentLength: aws.Int64(4)})
	if obj, _ := srv.Object(testBucket, "k"); err != nil || string(obj.Body) != "data" {
		t.Errorf("HTTPS, length given: %v", err)
	}
}

func TestBadChecksumRefused(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("data"),
		ChecksumCRC32: aws.String(sum64(CRC32, []byte("other data"))),
	})
	if ae := asAPIError(t, err); ae.ErrorCode() != "BadDigest" || httpStatus(err) != http.StatusBadRequest {
		t.Errorf("error %v", err)
	}
	if _, ok := srv.Object(testBucket, "k"); ok {
		t.Error("object stored despite a bad checksum")
	}
}

func TestMultipartUpload(t *testing.T) {
	for _, tc := range []struct {
		name     string
		alg      types.ChecksumAlgorithm
		typ      types.ChecksumType
		wantAlg  string
		wantType string
	}{
		{name: "default", wantAlg: CRC64NVME, wantType: FullObject},
		{name: "crc32-composite", alg: types.ChecksumAlgorithmCrc32, wantAlg: CRC32, wantType: Composite},
		{name: "crc32c-full", alg: types.ChecksumAlgorithmCrc32c, typ: types.ChecksumTypeFullObject, wantAlg: CRC32C, wantType: FullObject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, Options{MinPartSize: 1000, TLS: tc.name == "crc32-composite"})
			c := client(srv, testSecret)
			ctx := context.Background()
			key := aws.String("big/object.bin")
			cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
				Bucket: aws.String(testBucket), Key: key, ContentType: aws.String("application/octet-stream"),
				Metadata: map[string]string{"batch": "7"}, ChecksumAlgorithm: tc.alg, ChecksumType: tc.typ,
			})
			if err != nil {
				t.Fatal(err)
			}
			parts := [][]byte{bytes.Repeat([]byte("a"), 1500), bytes.Repeat([]byte("b"), 1000), []byte("tail")}
			var completed []types.CompletedPart
			for i, p := range parts {
				up, err := c.UploadPart(ctx, &s3.UploadPartInput{
					Bucket: aws.String(testBucket), Key: key, UploadId: cr.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: tc.alg,
				})
				if err != nil {
					t.Fatalf("part %d: %v", i+1, err)
				}
				completed = append(completed, types.CompletedPart{
					ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1)),
					ChecksumCRC32: up.ChecksumCRC32, ChecksumCRC32C: up.ChecksumCRC32C,
				})
			}
			lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
			if err != nil {
				t.Fatal(err)
			}
			if len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(cr.UploadId) ||
				aws.ToString(lu.Uploads[0].Key) != *key || srv.PendingUploads(testBucket) != 1 {
				t.Fatalf("uploads %+v", lu.Uploads)
			}
			done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String(testBucket), Key: key, UploadId: cr.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
			})
			if err != nil {
				t.Fatal(err)
			}
			whole := bytes.Join(parts, nil)
			obj, ok := srv.Object(testBucket, *key)
			if !ok || !bytes.Equal(obj.Body, whole) || obj.Parts != 3 || !strings.HasSuffix(obj.ETag, `-3"`) ||
				obj.ContentType != "application/octet-stream" || obj.Metadata["batch"] != "7" ||
				obj.ChecksumAlgorithm != tc.wantAlg || obj.ChecksumType != tc.wantType {
				t.Fatalf("object %d bytes parts %d etag %s checksum %s/%s", len(obj.Body), obj.Parts, obj.ETag, obj.ChecksumAlgorithm, obj.ChecksumType)
			}
			if aws.ToString(done.ETag) != obj.ETag || string(done.ChecksumType) != tc.wantType {
				t.Errorf("complete: etag %s type %s", aws.ToString(done.ETag), done.ChecksumType)
			}
			if srv.PendingUploads(testBucket) != 0 {
				t.Error("upload still pending")
			}
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: key})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(get.Body)
			get.Body.Close()
			if err != nil || !bytes.Equal(got, whole) {
				t.Errorf("read back %d bytes: %v", len(got), err)
			}
		})
	}
}

func TestMultipartErrors(t *testing.T) {
	srv := start(t, Options{MinPartSize: 100})
	c := client(srv, testSecret)
	ctx := context.Background()
	key := aws.String("k")
	create := func() *string {
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return cr.UploadId
	}
	part := func(id *string, n int32, b []byte) types.CompletedPart {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: key, UploadId: id, PartNumber: aws.Int32(n), Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		return types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(n)}
	}
	complete := func(id *string, parts ...types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		return err
	}

	id := create()
	p1 := part(id, 1, make([]byte, 50))
	p2 := part(id, 2, make([]byte, 10))
	err := complete(id, p1, p2)
	if ae := asAPIError(t, err); ae.ErrorCode() != "EntityTooSmall" || httpStatus(err) != 400 {
		t.Errorf("small part: %v", err)
	}
	bad := p2
	bad.ETag = aws.String(`"0123456789abcdef0123456789abcdef"`)
	if ae := asAPIError(t, complete(id, bad)); ae.ErrorCode() != "InvalidPart" {
		t.Errorf("wrong etag: %v", ae)
	}
	if ae := asAPIError(t, complete(id, types.CompletedPart{ETag: p1.ETag, PartNumber: aws.Int32(7)})); ae.ErrorCode() != "InvalidPart" {
		t.Errorf("missing part: %v", ae)
	}
	big := part(id, 1, make([]byte, 100))
	if ae := asAPIError(t, complete(id, p2, big)); ae.ErrorCode() != "InvalidPartOrder" {
		t.Errorf("order: %v", ae)
	}
	if err := complete(id, big, p2); err != nil {
		t.Errorf("valid completion after errors: %v", err)
	}
	// NoSuchUpload is a modelled (typed) error of AbortMultipartUpload
	// only; elsewhere the SDK gives it as a generic API error.
	if err := complete(id, big, p2); asAPIError(t, err).ErrorCode() != "NoSuchUpload" || httpStatus(err) != 404 {
		t.Errorf("completing twice: %v", err)
	}

	id = create()
	part(id, 1, []byte("x"))
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: id}); err != nil {
		t.Fatal(err)
	}
	if srv.PendingUploads(testBucket) != 0 {
		t.Error("aborted upload still pending")
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: key, UploadId: id, PartNumber: aws.Int32(2), Body: strings.NewReader("y")})
	if asAPIError(t, err).ErrorCode() != "NoSuchUpload" {
		t.Errorf("part of an aborted upload: %v", err)
	}
	var nsu *types.NoSuchUpload
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(testBucket), Key: key, UploadId: id}); !errors.As(err, &nsu) {
		t.Errorf("part of an aborted upload: %v", err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: key, UploadId: create(), PartNumber: aws.Int32(10001), Body: strings.NewReader("y")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidArgument" {
		t.Errorf("part number 10001: %v", err)
	}
}

func TestListObjectsV2(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	keys := []string{"a/1", "a/2", "a/b/3", "b/4", "c", "d/5"}
	for _, k := range keys {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(in *s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
		in.Bucket = aws.String(testBucket)
		p := s3.NewListObjectsV2Paginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, o := range out.Contents {
				keys = append(keys, aws.ToString(o.Key))
				if aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) {
					t.Errorf("%s: size %d", aws.ToString(o.Key), aws.ToInt64(o.Size))
				}
			}
			for _, cp := range out.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(cp.Prefix))
			}
		}
		return keys, prefixes, pages
	}
	eq := func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

	if k, _, pages := list(&s3.ListObjectsV2Input{}); !eq(k, keys) || pages != 1 {
		t.Errorf("all: %v in %d pages", k, pages)
	}
	if k, _, _ := list(&s3.ListObjectsV2Input{Prefix: aws.String("a/")}); !eq(k, []string{"a/1", "a/2", "a/b/3"}) {
		t.Errorf("prefix a/: %v", k)
	}
	if k, _, pages := list(&s3.ListObjectsV2Input{MaxKeys: aws.Int32(2)}); !eq(k, keys) || pages != 3 {
		t.Errorf("pages of 2: %v in %d pages", k, pages)
	}
	if k, p, _ := list(&s3.ListObjectsV2Input{Delimiter: aws.String("/")}); !eq(k, []string{"c"}) || !eq(p, []string{"a/", "b/", "d/"}) {
		t.Errorf("delimiter: keys %v prefixes %v", k, p)
	}
	if k, p, pages := list(&s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}); !eq(k, []string{"c"}) ||
		!eq(p, []string{"a/", "b/", "d/"}) || pages != 4 {
		t.Errorf("delimiter, pages of 1: keys %v prefixes %v pages %d", k, p, pages)
	}
	if k, p, _ := list(&s3.ListObjectsV2Input{Prefix: aws.String("a/"), Delimiter: aws.String("/")}); !eq(k, []string{"a/1", "a/2"}) || !eq(p, []string{"a/b/"}) {
		t.Errorf("prefix and delimiter: keys %v prefixes %v", k, p)
	}
	if k, _, _ := list(&s3.ListObjectsV2Input{StartAfter: aws.String("b/4")}); !eq(k, []string{"c", "d/5"}) {
		t.Errorf("start after: %v", k)
	}
	if got := srv.Keys(testBucket); !eq(got, keys) {
		t.Errorf("Keys %v", got)
	}

	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("never-was")}); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
	if k, _, _ := list(&s3.ListObjectsV2Input{Prefix: aws.String("c")}); len(k) != 0 {
		t.Errorf("after delete: %v", k)
	}
}

func TestTypedErrors(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()

	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) || httpStatus(err) != 404 || nsk.ErrorMessage() != "The specified key does not exist." {
		t.Errorf("missing key: %v", err)
	}
	// NoSuchBucket is typed where S3's model lists it (ListObjectsV2, ...);
	// for other operations the SDK gives a generic API error.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
	if asAPIError(t, err).ErrorCode() != "NoSuchBucket" || httpStatus(err) != 404 {
		t.Errorf("missing bucket: %v", err)
	}
	var nsb *types.NoSuchBucket
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "NoSuchBucket" {
		t.Errorf("put to a missing bucket: %v", err)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket")})
	if !errors.As(err, &nsb) {
		t.Errorf("list of a missing bucket: %v", err)
	}
	var nf *types.NotFound
	if _, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("missing")}); !errors.As(err, &nf) {
		t.Errorf("head of a missing key: %v", err)
	}
	if _, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")}); !errors.As(err, &nf) {
		t.Errorf("head of a missing bucket: %v", err)
	}

	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("second-bucket")}); err != nil {
		t.Fatal(err)
	}
	hb, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("second-bucket")})
	if err != nil || aws.ToString(hb.BucketRegion) != testRegion {
		t.Errorf("head bucket: %+v %v", hb, err)
	}
	var owned *types.BucketAlreadyOwnedByYou
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("second-bucket")}); !errors.As(err, &owned) {
		t.Errorf("creating twice: %v", err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")}); asAPIError(t, err).ErrorCode() != "InvalidBucketName" {
		t.Errorf("bad name: %v", err)
	}
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("elsewhere"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintApSouth1}})
	if asAPIError(t, err).ErrorCode() != "IllegalLocationConstraintException" {
		t.Errorf("other region: %v", err)
	}
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 2 || aws.ToString(lb.Buckets[0].Name) != testBucket {
		t.Errorf("list buckets: %+v %v", lb, err)
	}

	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("once"), Body: strings.NewReader("1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("once"), Body: strings.NewReader("2"), IfNoneMatch: aws.String("*")})
	if asAPIError(t, err).ErrorCode() != "PreconditionFailed" || httpStatus(err) != 412 {
		t.Errorf("If-None-Match: %v", err)
	}
	// An operation the endpoint does not serve.
	_, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(testBucket)})
	if asAPIError(t, err).ErrorCode() != "NotImplemented" || srv.Requests(OpUnknown) != 1 {
		t.Errorf("unserved operation: %v", err)
	}
}

func TestRangeGet(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("r"), Body: strings.NewReader("0123456789")}); err != nil {
		t.Fatal(err)
	}
	for rng, want := range map[string]string{"bytes=2-4": "234", "bytes=7-": "789", "bytes=-3": "789", "bytes=8-100": "89"} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("r"), Range: aws.String(rng)})
		if err != nil {
			t.Fatalf("%s: %v", rng, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != want || out.ContentRange == nil {
			t.Errorf("%s: %q (%s)", rng, got, aws.ToString(out.ContentRange))
		}
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("r"), Range: aws.String("bytes=20-")})
	if asAPIError(t, err).ErrorCode() != "InvalidRange" || httpStatus(err) != 416 {
		t.Errorf("unsatisfiable: %v", err)
	}
}

func TestWrongSecretRefused(t *testing.T) {
	srv := start(t, Options{})
	_, err := client(srv, "not-the-secret").PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x")})
	ae := asAPIError(t, err)
	if ae.ErrorCode() != "SignatureDoesNotMatch" || httpStatus(err) != http.StatusForbidden || !strings.Contains(ae.ErrorMessage(), "signature mismatch") {
		t.Errorf("error %v", err)
	}
	if srv.SignatureFailures() != 1 || srv.Requests("") != 0 || len(srv.Keys(testBucket)) != 0 {
		t.Errorf("signature failures %d, requests %d", srv.SignatureFailures(), srv.Requests(""))
	}
	c := s3.New(s3.Options{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider("AKIDSTRANGER", testSecret, ""),
		BaseEndpoint: aws.String(srv.URL()), UsePathStyle: true, RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
	_, err = c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if asAPIError(t, err).ErrorCode() != "InvalidAccessKeyId" {
		t.Errorf("unknown key: %v", err)
	}
}

func TestSlowDownIsRetryable(t *testing.T) {
	srv := start(t, Options{Rules: []Rule{On(OpPutObject, SlowDown())}})
	put := func(c *s3.Client) error {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x")})
		return err
	}
	err := put(client(srv, testSecret))
	ae := asAPIError(t, err)
	if ae.ErrorCode() != "SlowDown" || ae.ErrorMessage() != "Please reduce your request rate." || httpStatus(err) != http.StatusServiceUnavailable {
		t.Errorf("error %v", err)
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) != aws.TrueTernary {
		t.Errorf("SlowDown is not retryable for the SDK: %v", err)
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
		t.Errorf("SlowDown is not a throttle for the SDK: %v", err)
	}
	if _, ok := srv.Object(testBucket, "k"); ok {
		t.Error("throttled put was stored")
	}

	// A throttle that clears: the SDK's retries get through.
	srv.SetRules(FirstN(OpPutObject, 2, SlowDown()))
	retrying := client(srv, testSecret, func(o *s3.Options) {
		o.RetryMaxAttempts = 0
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	})
	if err := put(retrying); err != nil {
		t.Fatalf("with retries: %v", err)
	}
	if n := srv.Requests(OpPutObject); n != 4 {
		t.Errorf("%d PutObject requests, want 1 + 3", n)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	putter := func(c *s3.Client, key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader(key)})
		return err
	}

	t.Run("nth", func(t *testing.T) {
		srv := start(t, Options{Rules: []Rule{Nth("", 2, InternalError())}})
		c := client(srv, testSecret)
		for i, want := range []string{"", "InternalError", ""} {
			err := putter(c, fmt.Sprint(i))
			if want == "" && err != nil || want != "" && (err == nil || asAPIError(t, err).ErrorCode() != want || httpStatus(err) != 500) {
				t.Errorf("request %d: %v", i+1, err)
			}
		}
		if got := srv.Keys(testBucket); strings.Join(got, ",") != "0,2" {
			t.Errorf("keys %v", got)
		}
	})

	t.Run("after commit", func(t *testing.T) {
		srv := start(t, Options{Rules: []Rule{On(OpPutObject, Fault{Status: 500, AfterCommit: true})}})
		if err := putter(client(srv, testSecret), "k"); err == nil || asAPIError(t, err).ErrorCode() != "InternalError" {
			t.Errorf("error %v", err)
		}
		if _, ok := srv.Object(testBucket, "k"); !ok {
			t.Error("the write did not happen")
		}
	})

	t.Run("hangup", func(t *testing.T) {
		srv := start(t, Options{Rules: []Rule{On(OpGetObject, Hangup())}})
		c := client(srv, testSecret)
		if err := putter(c, "k"); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
		var ae smithy.APIError
		if err == nil || errors.As(err, &ae) {
			t.Errorf("error %v, want a transport error", err)
		}
	})

	t.Run("slow honours cancellation", func(t *testing.T) {
		srv := start(t, Options{Rules: []Rule{On(OpPutObject, Slow(30*time.Second))}})
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		_, err := client(srv, testSecret).PutObject(cctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x")})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > 2*time.Second {
			t.Fatalf("error %v after %s", err, time.Since(t0))
		}
		deadline := time.Now().Add(2 * time.Second)
		for srv.active.Load() != 0 {
			if time.Now().After(deadline) {
				t.Fatal("handler still waiting after the client gave up")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, ok := srv.Object(testBucket, "k"); ok {
			t.Error("abandoned put was stored")
		}
	})

	t.Run("slow elapses", func(t *testing.T) {
		srv := start(t, Options{Rules: []Rule{On(OpPutObject, Slow(100*time.Millisecond))}})
		t0 := time.Now()
		if err := putter(client(srv, testSecret), "k"); err != nil || time.Since(t0) < 100*time.Millisecond {
			t.Errorf("error %v after %s", err, time.Since(t0))
		}
	})

	t.Run("error in a 200 answer", func(t *testing.T) {
		srv := start(t, Options{MinPartSize: -1, Rules: []Rule{On(OpCompleteMultipartUpload, Fault{Status: 500, With200: true})}})
		c := client(srv, testSecret)
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String("k"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("k"),
			UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: up.ETag, PartNumber: aws.Int32(1)}}}})
		if err == nil || asAPIError(t, err).ErrorCode() != "InternalError" {
			t.Errorf("error %v", err)
		}
	})

	t.Run("randomly", func(t *testing.T) {
		pattern := func(r Rule) string {
			var b strings.Builder
			for i := range 200 {
				if r(&Call{Op: OpPutObject, N: int64(i + 1)}) != nil {
					b.WriteByte('x')
				} else {
					b.WriteByte('.')
				}
			}
			return b.String()
		}
		a, b := pattern(Randomly(OpPutObject, 0.3, 42, SlowDown())), pattern(Randomly(OpPutObject, 0.3, 42, SlowDown()))
		if a != b {
			t.Errorf("same seed, different faults")
		}
		if n := strings.Count(a, "x"); n < 35 || n > 85 {
			t.Errorf("%d of 200 faulted at rate 0.3", n)
		}
		if pattern(Randomly(OpGetObject, 1, 1, SlowDown())) != strings.Repeat(".", 200) {
			t.Error("rule for another operation fired")
		}
	})
}

func TestDecodeAWSChunked(t *testing.T) {
	data, tr, err := decodeAWSChunked([]byte("5\r\nhello\r\n6;chunk-signature=abc\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"))
	if err != nil || string(data) != "hello world" || tr["x-amz-checksum-crc32"] != "DUoRhQ==" {
		t.Errorf("data %q trailers %v err %v", data, tr, err)
	}
	if data, tr, err := decodeAWSChunked([]byte("0\r\n\r\n")); err != nil || len(data) != 0 || len(tr) != 0 {
		t.Errorf("empty: %q %v %v", data, tr, err)
	}
	for _, bad := range []string{"", "5\r\nhel", "5\r\nhelloXX0\r\n\r\n", "zz\r\n", "5\r\nhello\r\n0\r\nnot-a-trailer\r\n\r\n", "0\r\n\r\ntrailing"} {
		if _, _, err := decodeAWSChunked([]byte(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestStartValidation(t *testing.T) {
	if _, err := Start(Options{}); err == nil {
		t.Error("Start without credentials succeeded")
	}
	if _, err := Start(Options{AccessKeyID: "a", SecretAccessKey: "b", Buckets: []string{"NO"}}); err == nil {
		t.Error("Start with an invalid bucket name succeeded")
	}
	srv, err := Start(Options{AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	srv.Close()
}

func TestDefaultMinimumPartSize(t *testing.T) {
	// Parts this large also make the SDK send Expect: 100-continue.
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	upload := func(first int) error {
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("big")})
		if err != nil {
			return err
		}
		var parts []types.CompletedPart
		for i, p := range [][]byte{make([]byte, first), []byte("tail")} {
			up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String("big"), UploadId: cr.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
			if err != nil {
				return err
			}
			parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
		}
		_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("big"),
			UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		return err
	}
	if err := upload(DefaultMinPartSize - 1); err == nil || asAPIError(t, err).ErrorCode() != "EntityTooSmall" {
		t.Errorf("part of 5 MiB - 1: %v", err)
	}
	if err := upload(DefaultMinPartSize); err != nil {
		t.Errorf("part of 5 MiB: %v", err)
	}
	if obj, _ := srv.Object(testBucket, "big"); len(obj.Body) != DefaultMinPartSize+4 {
		t.Errorf("object of %d bytes", len(obj.Body))
	}
}
