// Package s3 delivers each batch as one Amazon S3 object: JSON lines of ESM
// records, raw values one per line, or lines rendered from a template,
// optionally gzip-compressed. The default key is made of the batch's topic,
// partition and fetched offset range, so a retried batch overwrites its
// object rather than adding another. Objects above a size threshold are
// uploaded in parts.
package s3

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/objkey"
	"github.com/penstock-dev/penstock/internal/template"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/internal/awserr"
)

// TargetConfigNotValid is the state reason of a pipeline stopped because
// its bucket can never be written (it does not exist, access is denied).
const TargetConfigNotValid = awserr.TargetConfigNotValid

// Defaults.
const (
	// DefaultKey is the default key template.
	DefaultKey = "{topic}/{partition}/{first_offset}-{last_offset}.jsonl"
	// DefaultMultipartThreshold is the object size from which uploads use
	// multipart upload.
	DefaultMultipartThreshold = 16 << 20
	// DefaultPartSize is the size of the parts of a multipart upload.
	DefaultPartSize = 8 << 20
	// MinPartSize is S3's smallest part (but for the last).
	MinPartSize = 5 << 20
)

// Format is how records are written into an object.
type Format string

// Formats.
const (
	// JSONLines writes one ESM record (the file target's shape) per line.
	JSONLines Format = "jsonl"
	// Raw writes each record's value followed by a newline.
	Raw Format = "raw"
)

// API is the part of the S3 client the target and the on-failure
// destination use.
type API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// Options configure a Target.
type Options struct {
	// API is the S3 client; required.
	API API
	// Bucket is the bucket's name; required.
	Bucket string
	// Key is the object key template (see package objkey); default
	// DefaultKey (with ".gz" added when Gzip is set).
	Key *objkey.Key
	// Format is JSONLines (default) or Raw; ignored when Lines is set.
	Format Format
	// Lines renders each record's line (without the newline).
	Lines *template.Template
	// Gzip compresses objects (Content-Encoding: gzip).
	Gzip bool
	// ContentType is the objects' content type; default
	// application/x-ndjson for JSON lines and templates, text/plain for raw.
	ContentType string
	// Metadata is added to every object's user metadata, besides the
	// batch's own (pipeline, topic, partition, offsets, record count).
	Metadata map[string]string
	// Pipeline names the pipeline in keys and metadata.
	Pipeline string
	// MultipartThreshold is the size from which objects are uploaded in
	// parts; default DefaultMultipartThreshold.
	MultipartThreshold int
	// PartSize is the part size of multipart uploads; default
	// DefaultPartSize, at least MinPartSize.
	PartSize int
}

// Target is a pipeline.Target writing one object per batch.
type Target struct {
	o    Options
	pool sync.Pool // *state
}

type state struct {
	body, zbuf, key []byte
	zw              *gzip.Writer
	meta            map[string]string
	parts           []types.CompletedPart
}

// New returns a target writing to o.Bucket.
func New(o Options) (*Target, error) {
	if o.API == nil || o.Bucket == "" {
		return nil, errors.New("s3 target: no bucket")
	}
	if o.Key == nil {
		k := DefaultKey
		if o.Gzip {
			k += ".gz"
		}
		o.Key, _ = objkey.Parse(k)
	}
	if o.Format == "" {
		o.Format = JSONLines
	}
	if o.ContentType == "" {
		o.ContentType = "application/x-ndjson"
		if o.Format == Raw && o.Lines == nil {
			o.ContentType = "text/plain"
		}
	}
	if o.MultipartThreshold <= 0 {
		o.MultipartThreshold = DefaultMultipartThreshold
	}
	if o.PartSize < MinPartSize {
		o.PartSize = max(o.PartSize, DefaultPartSize)
	}
	return &Target{o: o}, nil
}

// Deliver implements pipeline.Target: the batch's Active records become one
// object, written whole or not at all.
func (t *Target) Deliver(ctx context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	st, _ := t.pool.Get().(*state)
	if st == nil {
		st = &state{meta: make(map[string]string, 8+len(t.o.Metadata))}
	}
	defer t.pool.Put(st)
	st.body = t.AppendBody(st.body[:0], b)
	body := st.body
	if t.o.Gzip {
		st.zbuf = st.zbuf[:0]
		w := bytes.NewBuffer(st.zbuf)
		if st.zw == nil {
			st.zw, _ = gzip.NewWriterLevel(w, gzip.DefaultCompression)
		} else {
			st.zw.Reset(w)
		}
		st.zw.Write(body)
		st.zw.Close()
		st.zbuf = w.Bytes()
		body = st.zbuf
	}
	st.key = t.o.Key.Append(st.key[:0], b, t.o.Pipeline)
	key := string(st.key)
	t.metadata(st.meta, b)
	var err error
	if len(body) >= t.o.MultipartThreshold {
		err = t.multipart(ctx, st, key, body)
	} else {
		in := &s3.PutObjectInput{Bucket: &t.o.Bucket, Key: &key, Body: bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))), ContentType: &t.o.ContentType, Metadata: st.meta}
		if t.o.Gzip {
			in.ContentEncoding = aws.String("gzip")
		}
		_, err = t.o.API.PutObject(ctx, in)
	}
	if err != nil {
		return pipeline.Result{}, classify(err, t.o.Bucket, key)
	}
	return pipeline.Result{}, nil
}

// AppendBody appends the object body of the batch's Active records to dst.
func (t *Target) AppendBody(dst []byte, b *pipeline.Batch) []byte {
	for i := range b.Records {
		if b.Status[i] != pipeline.Active {
			continue
		}
		r := &b.Records[i]
		switch {
		case t.o.Lines != nil:
			dst = t.o.Lines.Append(dst, r)
		case t.o.Format == Raw:
			dst = append(dst, r.Value...)
		default:
			dst = esm.AppendRecord(dst, r)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// metadata fills m with the object's user metadata.
func (t *Target) metadata(m map[string]string, b *pipeline.Batch) {
	clear(m)
	for k, v := range t.o.Metadata {
		m[k] = v
	}
	if t.o.Pipeline != "" {
		m["penstock-pipeline"] = t.o.Pipeline
	}
	m["penstock-topic"] = b.Topic
	m["penstock-partition"] = strconv.Itoa(int(b.Partition))
	m["penstock-first-offset"] = strconv.FormatInt(b.FirstOffset(), 10)
	m["penstock-last-offset"] = strconv.FormatInt(b.LastOffset(), 10)
	m["penstock-records"] = strconv.Itoa(b.ActiveCount())
}

// multipart uploads body in parts; a failed upload is aborted.
func (t *Target) multipart(ctx context.Context, st *state, key string, body []byte) error {
	in := &s3.CreateMultipartUploadInput{Bucket: &t.o.Bucket, Key: &key, ContentType: &t.o.ContentType, Metadata: st.meta}
	if t.o.Gzip {
		in.ContentEncoding = aws.String("gzip")
	}
	up, err := t.o.API.CreateMultipartUpload(ctx, in)
	if err != nil {
		return err
	}
	st.parts = st.parts[:0]
	for n, off := int32(1), 0; off < len(body); n, off = n+1, off+t.o.PartSize {
		part := body[off:min(off+t.o.PartSize, len(body))]
		out, err := t.o.API.UploadPart(ctx, &s3.UploadPartInput{Bucket: &t.o.Bucket, Key: &key, UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part)))})
		if err != nil {
			t.abort(key, up.UploadId)
			return err
		}
		// The upload names no checksum algorithm, so the parts are
		// listed by ETag alone (S3 then keeps a full-object checksum);
		// listing the per-part checksums the SDK computed is refused by
		// some S3 implementations for such uploads.
		st.parts = append(st.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = t.o.API.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &t.o.Bucket, Key: &key,
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: st.parts}})
	if err != nil {
		t.abort(key, up.UploadId)
	}
	return err
}

// abort cancels a multipart upload so its parts are not kept (and billed).
func (t *Target) abort(key string, id *string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = t.o.API.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &t.o.Bucket, Key: &key, UploadId: id})
}

// Close implements pipeline.Target.
func (t *Target) Close(context.Context) error { return nil }

// permanentCodes are the error codes retrying cannot fix.
var permanentCodes = []string{"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "InvalidBucketName"}

func classify(err error, bucket, key string) error {
	return awserr.Classify(err, "s3 "+bucket+"/"+key, permanentCodes, http.StatusForbidden)
}
