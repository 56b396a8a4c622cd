package sns

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

// Failures is an on-failure destination that publishes the ESM's
// on-failure record (SPEC §6) of every failure as one message, as Lambda
// does.
type Failures struct {
	api   API
	topic string
	rec   *esm.FailureRecord
	mu    sync.Mutex
	buf   []byte
	ev    []byte
}

// NewFailures returns a destination publishing to topicARN.
func NewFailures(api API, topicARN string, rec *esm.FailureRecord) *Failures {
	return &Failures{api: api, topic: topicARN, rec: rec}
}

// HandleFailure implements pipeline.FailureHandler.
func (f *Failures) HandleFailure(ctx context.Context, fl *pipeline.Failure) error {
	f.mu.Lock()
	f.buf, f.ev = f.rec.Append(f.buf[:0], f.ev, fl)
	body := string(f.buf)
	f.mu.Unlock()
	in := &sns.PublishInput{TopicArn: &f.topic, Message: &body}
	if strings.HasSuffix(f.topic, ".fifo") {
		g := fl.TopicPartition.String()
		d := g
		if n := len(fl.Records); n > 0 {
			d += "-" + strconv.FormatInt(fl.Records[0].Offset, 10) + "-" + strconv.FormatInt(fl.Records[n-1].Offset, 10)
		}
		in.MessageGroupId, in.MessageDeduplicationId = &g, &d
	}
	if _, err := f.api.Publish(ctx, in); err != nil {
		return classify(err, f.topic)
	}
	return nil
}

// Close implements pipeline.FailureHandler.
func (f *Failures) Close(context.Context) error { return nil }
