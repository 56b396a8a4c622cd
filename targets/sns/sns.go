// Package sns delivers batches to an Amazon SNS topic with PublishBatch: one
// message per record, up to 10 per request within SNS's size limit, record
// headers as message attributes, and, for FIFO topics, the record key as
// message group and topic-partition-offset as deduplication id.
package sns

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/penstock-dev/penstock/internal/template"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/internal/awserr"
	"github.com/penstock-dev/penstock/targets/internal/msgbatch"
)

// MaxMessageBytes is SNS's limit on a message and on a PublishBatch
// request: 256 KiB.
const MaxMessageBytes = 256 << 10

// TargetConfigNotValid is the state reason of a pipeline stopped because
// its topic can never be written.
const TargetConfigNotValid = awserr.TargetConfigNotValid

// API is the part of the SNS client the target and the on-failure
// destination use.
type API interface {
	PublishBatch(ctx context.Context, in *sns.PublishBatchInput, opts ...func(*sns.Options)) (*sns.PublishBatchOutput, error)
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Options configure a Target.
type Options struct {
	// API is the SNS client; required.
	API API
	// TopicARN is the topic; required. An ARN ending in ".fifo" is a FIFO
	// topic.
	TopicARN string
	// Body renders messages; nil sends each record in the ESM record shape.
	Body *template.Template
	// Group renders FIFO message group ids; nil uses the record key (or
	// "<topic>-<partition>" without one).
	Group *template.Template
	// Attributes sends record headers as message attributes (String when
	// the value is UTF-8, else Binary; at most 10).
	Attributes bool
}

// Target is a pipeline.Target publishing to one topic.
type Target struct {
	o    Options
	fifo bool
	b    *msgbatch.Batcher
	pool sync.Pool // *request
}

type request struct {
	b  msgbatch.Entries[types.PublishBatchRequestEntry, types.MessageAttributeValue]
	in sns.PublishBatchInput
}

// New returns a target publishing to o.TopicARN.
func New(o Options) (*Target, error) {
	if o.API == nil || o.TopicARN == "" {
		return nil, errors.New("sns target: no topic")
	}
	t := &Target{o: o, fifo: strings.HasSuffix(o.TopicARN, ".fifo")}
	t.b = msgbatch.New(msgbatch.Options{Body: o.Body, FIFO: t.fifo, Group: o.Group, Headers: o.Attributes,
		MaxEntries: 10, MaxBytes: MaxMessageBytes, MaxMessage: MaxMessageBytes})
	return t, nil
}

// FIFO reports whether the topic is a FIFO topic.
func (t *Target) FIFO() bool { return t.fifo }

// Deliver implements pipeline.Target.
func (t *Target) Deliver(ctx context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	return t.b.Deliver(ctx, b, t)
}

// Close implements pipeline.Target.
func (t *Target) Close(context.Context) error { return nil }

// Send implements msgbatch.Sender with one PublishBatch.
func (t *Target) Send(ctx context.Context, msgs []msgbatch.Message, failed []int) ([]int, error) {
	rq, _ := t.pool.Get().(*request)
	if rq == nil {
		rq = &request{}
	}
	defer t.pool.Put(rq)
	entries := rq.b.Build(msgs, t.fifo, attribute, func(e *types.PublishBatchRequestEntry, f msgbatch.Fields[types.MessageAttributeValue]) {
		e.Id, e.Message, e.MessageGroupId, e.MessageDeduplicationId = f.ID, f.Body, f.Group, f.Dedup
		e.MessageAttributes = f.Attributes
	})
	rq.in = sns.PublishBatchInput{TopicArn: &t.o.TopicARN, PublishBatchRequestEntries: entries}
	out, err := t.o.API.PublishBatch(ctx, &rq.in)
	rq.b.Clear() // drop views of the batch's buffers
	if err != nil {
		return nil, classify(err, t.o.TopicARN)
	}
	return msgbatch.AppendFailed(failed, msgs, out.Failed, func(f *types.BatchResultErrorEntry) *string { return f.Id }), nil
}

// attribute makes a message attribute of a header value
// (msgbatch.Attribute).
func attribute(v []byte, s *string) types.MessageAttributeValue {
	dt, str, bin := msgbatch.Attribute(v, s)
	return types.MessageAttributeValue{DataType: dt, StringValue: str, BinaryValue: bin}
}

// permanentCodes are the error codes retrying cannot fix.
var permanentCodes = []string{"NotFound", "AuthorizationError", "InvalidSecurity", "KMSAccessDenied", "KMSDisabled", "KMSNotFound",
	"UnrecognizedClientException", "InvalidClientTokenId", "AccessDenied", "AccessDeniedException"}

// classify sorts a request error: errors retrying cannot fix stop the
// pipeline; throttling, service and network errors are failed attempts.
func classify(err error, queue string) error {
	return awserr.Classify(err, "sns "+queue, permanentCodes, http.StatusForbidden, http.StatusNotFound)
}
