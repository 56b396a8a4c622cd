package sqs

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

// Failures is an on-failure destination that sends the ESM's on-failure
// record (SPEC §6) of every failure as one message, as Lambda does.
type Failures struct {
	api   API
	queue string
	rec   *esm.FailureRecord
	mu    sync.Mutex
	buf   []byte
	ev    []byte
}

// NewFailures returns a destination sending to queueURL.
func NewFailures(api API, queueURL string, rec *esm.FailureRecord) *Failures {
	return &Failures{api: api, queue: queueURL, rec: rec}
}

// HandleFailure implements pipeline.FailureHandler.
func (f *Failures) HandleFailure(ctx context.Context, fl *pipeline.Failure) error {
	f.mu.Lock()
	f.buf, f.ev = f.rec.Append(f.buf[:0], f.ev, fl)
	body := string(f.buf)
	f.mu.Unlock()
	in := &sqs.SendMessageInput{QueueUrl: &f.queue, MessageBody: &body}
	if strings.HasSuffix(f.queue, ".fifo") {
		g, d := fl.TopicPartition.String(), failureID(fl)
		in.MessageGroupId, in.MessageDeduplicationId = &g, &d
	}
	_, err := f.api.SendMessage(ctx, in)
	if err != nil {
		return classify(err, f.queue)
	}
	return nil
}

// failureID identifies a failure by its records, so a retried hand-off is
// deduplicated by a FIFO queue.
func failureID(fl *pipeline.Failure) string {
	var b strings.Builder
	b.WriteString(fl.TopicPartition.String())
	if n := len(fl.Records); n > 0 {
		b.WriteString("-")
		b.WriteString(itoa(fl.Records[0].Offset))
		b.WriteString("-")
		b.WriteString(itoa(fl.Records[n-1].Offset))
	}
	return b.String()
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// Close implements pipeline.FailureHandler.
func (f *Failures) Close(context.Context) error { return nil }
