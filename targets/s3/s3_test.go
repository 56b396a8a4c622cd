package s3_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/interop"
	"github.com/penstock-dev/penstock/internal/objkey"
	"github.com/penstock-dev/penstock/internal/s3api"
	"github.com/penstock-dev/penstock/internal/template"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/s3"
)

// store is an S3 server the target tests run against: the local endpoint
// (which checks signatures and can inject faults) or versitygw.
type store struct {
	client *awss3.Client
	bucket string
	local  *s3api.Server
}

func client(endpoint, region, key, secret string) *awss3.Client {
	return awss3.New(awss3.Options{Region: region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(endpoint), UsePathStyle: true, RetryMaxAttempts: 1,
		HTTPClient: awsconf.HTTPClient(),
		// As config.LoadDefaultConfig sets them in production.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported})
}

func localStore(t *testing.T, rules ...s3api.Rule) store {
	t.Helper()
	srv, err := s3api.Start(s3api.Options{Region: "eu-west-1", AccessKeyID: "AKIDS3TEST", SecretAccessKey: "s3-test-secret",
		Buckets: []string{"orders-archive"}, Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n := srv.SignatureFailures(); n > 0 {
			t.Errorf("%d requests failed signature verification", n)
		}
		srv.Close()
	})
	return store{client: client(srv.URL(), "eu-west-1", "AKIDS3TEST", "s3-test-secret"), bucket: "orders-archive", local: srv}
}

func versityStore(t *testing.T) store {
	t.Helper()
	srv := interop.VersityGW(t)
	c := client(srv.Endpoint, srv.Region, srv.AccessKeyID, srv.SecretAccessKey)
	if _, err := c.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String("orders-archive")}); err != nil {
		t.Fatal(err)
	}
	return store{client: c, bucket: "orders-archive"}
}

func (s store) get(t *testing.T, key string) (*awss3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := s.client.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out, b
}

func (s store) keys(t *testing.T) []string {
	out, err := s.client.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: &s.bucket})
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, *o.Key)
	}
	return ks
}

func batch(n, size int) *pipeline.Batch {
	recs := make([]pipeline.Record, n)
	for i := range recs {
		v := fmt.Appendf(nil, `{"seq":%d,"pad":"`, i)
		v = append(v, strings.Repeat("x", max(0, size-len(v)-2))...)
		v = append(v, `"}`...)
		recs[i] = pipeline.Record{Topic: "orders", Partition: 2, Offset: int64(500 + i), Timestamp: 1764411301200, Key: []byte("k"), Value: v}
	}
	return pipeline.NewBatch(pipeline.TopicPartition{Topic: "orders", Partition: 2}, recs)
}

// targetSuite runs the same checks against any S3 server.
func targetSuite(t *testing.T, s store) {
	ctx := context.Background()
	t.Run("jsonl object with deterministic key, overwritten on retry", func(t *testing.T) {
		tg, _ := s3.New(s3.Options{API: s.client, Bucket: s.bucket, Pipeline: "archive", Metadata: map[string]string{"team": "orders"}})
		b := batch(10, 100)
		b.Status[3] = pipeline.Filtered
		for range 2 { // a retried batch writes the same object again
			if _, err := tg.Deliver(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		const key = "orders/2/500-509.jsonl"
		if ks := s.keys(t); len(ks) != 1 || ks[0] != key {
			t.Fatalf("keys %v, want only %s", ks, key)
		}
		out, body := s.get(t, key)
		lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
		if len(lines) != 9 {
			t.Fatalf("%d lines, want 9", len(lines))
		}
		if r, err := esm.ParseRecord([]byte(lines[3])); err != nil || r.Offset != 504 {
			t.Fatalf("line 3: %v %s", err, lines[3])
		}
		if aws.ToString(out.ContentType) != "application/x-ndjson" || out.Metadata["team"] != "orders" ||
			out.Metadata["penstock-first-offset"] != "500" || out.Metadata["penstock-records"] != "9" || out.Metadata["penstock-pipeline"] != "archive" {
			t.Fatalf("content type %q metadata %v", aws.ToString(out.ContentType), out.Metadata)
		}
	})
	t.Run("gzip raw values with a custom key", func(t *testing.T) {
		k, _ := objkey.Parse("{pipeline}/{yyyy}/{mm}/{dd}/{topic}-{partition}-{first_offset}.txt.gz")
		tg, _ := s3.New(s3.Options{API: s.client, Bucket: s.bucket, Key: k, Format: s3.Raw, Gzip: true, Pipeline: "raw"})
		if _, err := tg.Deliver(ctx, batch(5, 50)); err != nil {
			t.Fatal(err)
		}
		out, body := s.get(t, "raw/2025/11/29/orders-2-500.txt.gz")
		if aws.ToString(out.ContentEncoding) != "gzip" {
			t.Fatalf("content encoding %q", aws.ToString(out.ContentEncoding))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if !strings.HasPrefix(string(plain), `{"seq":0,`) || strings.Count(string(plain), "\n") != 5 {
			t.Fatalf("body %q", plain)
		}
	})
	t.Run("template lines", func(t *testing.T) {
		lines, _ := template.Compile(`{"seq": <$.value.seq>, "at": "<topic>/<partition>/<offset>"}`, "p")
		tg, _ := s3.New(s3.Options{API: s.client, Bucket: s.bucket, Lines: lines})
		b := batch(2, 40)
		b.Records[0].Offset, b.Records[1].Offset = 900, 901
		b = pipeline.NewBatch(b.TopicPartition, b.Records)
		if _, err := tg.Deliver(ctx, b); err != nil {
			t.Fatal(err)
		}
		_, body := s.get(t, "orders/2/900-901.jsonl")
		if string(body) != "{\"seq\": 0, \"at\": \"orders/2/900\"}\n{\"seq\": 1, \"at\": \"orders/2/901\"}\n" {
			t.Fatalf("body %q", body)
		}
	})
	t.Run("multipart above the threshold", func(t *testing.T) {
		tg, _ := s3.New(s3.Options{API: s.client, Bucket: s.bucket, MultipartThreshold: 5 << 20, PartSize: 5 << 20})
		b := batch(20_000, 300) // ~8 MB of JSON lines
		want := tg.AppendBody(nil, b)
		if _, err := tg.Deliver(ctx, b); err != nil {
			t.Fatal(err)
		}
		_, body := s.get(t, "orders/2/500-20499.jsonl")
		if !bytes.Equal(body, want) {
			t.Fatalf("object is %d bytes, want %d", len(body), len(want))
		}
	})
}

func TestTargetAgainstLocalEndpoint(t *testing.T) {
	s := localStore(t)
	targetSuite(t, s)
	if o, ok := s.local.Object("orders-archive", "orders/2/500-20499.jsonl"); !ok || o.Parts != (len(o.Body)+(5<<20)-1)/(5<<20) || o.Parts < 2 {
		t.Fatalf("multipart object of %d bytes has %d parts", len(o.Body), o.Parts)
	}
	if n := s.local.PendingUploads("orders-archive"); n != 0 {
		t.Fatalf("%d multipart uploads left behind", n)
	}
}

// The same checks against versitygw, an independent S3 server.
func TestTargetAgainstVersityGW(t *testing.T) {
	targetSuite(t, versityStore(t))
}

func TestErrorsAndAbortedUploads(t *testing.T) {
	ctx := context.Background()
	s := localStore(t, s3api.On(s3api.OpUploadPart, s3api.InternalError()))
	tg, _ := s3.New(s3.Options{API: s.client, Bucket: s.bucket, MultipartThreshold: 5 << 20, PartSize: 5 << 20})
	if _, err := tg.Deliver(ctx, batch(20_000, 300)); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("a failed part must be a retryable error: %v", err)
	}
	if n := s.local.PendingUploads("orders-archive"); n != 0 {
		t.Fatalf("the failed upload was not aborted (%d pending)", n)
	}
	slow := localStore(t, s3api.On(s3api.OpPutObject, s3api.SlowDown()))
	tg, _ = s3.New(s3.Options{API: slow.client, Bucket: slow.bucket})
	if _, err := tg.Deliver(ctx, batch(3, 10)); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("SlowDown must be retryable: %v", err)
	}
	tg, _ = s3.New(s3.Options{API: s.client, Bucket: "no-such-bucket"})
	if _, err := tg.Deliver(ctx, batch(3, 10)); !pipeline.IsPermanent(err) {
		t.Fatalf("a missing bucket must stop the pipeline: %v", err)
	}
}

// The S3 on-failure destination writes the ESM's record with the whole event
// as "payload" (golden file).
func TestFailuresGolden(t *testing.T) {
	s := localStore(t)
	rec := esm.NewFailureRecord("arn:aws:lambda:eu-west-1:123456789012:function:orders", esm.Source{BootstrapServers: "b-1:9092"}, true)
	fl := &pipeline.Failure{TopicPartition: pipeline.TopicPartition{Topic: "orders", Partition: 3},
		Records:   []pipeline.Record{{Topic: "orders", Partition: 3, Offset: 1502, Timestamp: 1764411301200, Value: []byte(`{"a":1}`)}},
		Condition: pipeline.RetryAttemptsExhausted, Attempts: 11,
		Response: &pipeline.Response{RequestID: "0d0ab2f4-3f8a-4a8e-9d34-5f3cbd1a7c11", StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled", PayloadSize: 300},
		At:       time.Date(2026, 11, 29, 10, 15, 30, 21e6, time.UTC)}
	if err := s3.NewFailures(s.client, s.bucket, "orders", rec).HandleFailure(context.Background(), fl); err != nil {
		t.Fatal(err)
	}
	ks := s.keys(t)
	if len(ks) != 1 || !strings.HasPrefix(ks[0], "penstock/orders/orders-3/2026/11/29/2026-11-29T10.15.30-") {
		t.Fatalf("keys %v", ks)
	}
	_, body := s.get(t, ks[0])
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile("testdata/on-failure.json", pretty.Bytes(), 0o644)
	}
	want, _ := os.ReadFile("testdata/on-failure.json")
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Fatalf("on-failure object differs from testdata/on-failure.json:\n%s", pretty.Bytes())
	}
}
