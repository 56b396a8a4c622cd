package s3

import (
	"bytes"
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/uuid"
	"github.com/penstock-dev/penstock/pipeline"
)

// Failures is an on-failure destination that writes the ESM's on-failure
// record of every failure (SPEC §6, with the whole event of the failed
// records as "payload", as Lambda writes it to S3) as one object under
//
//	penstock/<pipeline>/<topic>-<partition>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>
type Failures struct {
	api      API
	bucket   string
	pipeline string
	rec      *esm.FailureRecord
	mu       sync.Mutex
	buf, ev  []byte
}

// NewFailures returns a destination writing to bucket; rec must have
// Payload set.
func NewFailures(api API, bucket, pipelineName string, rec *esm.FailureRecord) *Failures {
	return &Failures{api: api, bucket: bucket, pipeline: pipelineName, rec: rec}
}

// HandleFailure implements pipeline.FailureHandler.
func (f *Failures) HandleFailure(ctx context.Context, fl *pipeline.Failure) error {
	f.mu.Lock()
	f.buf, f.ev = f.rec.Append(f.buf[:0], f.ev, fl)
	body := bytes.Clone(f.buf)
	f.mu.Unlock()
	at := fl.At.UTC()
	key := "penstock/" + f.pipeline + "/" + fl.TopicPartition.String() + "/" + at.Format("2006/01/02/2006-01-02T15.04.05") + "-" + uuid.New()
	_, err := f.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &f.bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json")})
	if err != nil {
		return classify(err, f.bucket, key)
	}
	return nil
}

// Close implements pipeline.FailureHandler.
func (f *Failures) Close(context.Context) error { return nil }
