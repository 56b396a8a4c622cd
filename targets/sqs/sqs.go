// Package sqs delivers batches to an Amazon SQS queue with SendMessageBatch:
// one message per record, up to 10 per request within SQS's size limit,
// record headers as message attributes, and, for FIFO queues, the record
// key as message group (so per-key order is kept) and topic-partition-offset
// as deduplication id (so a retry never adds a duplicate).
package sqs

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/penstock-dev/penstock/internal/template"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/internal/awserr"
	"github.com/penstock-dev/penstock/targets/internal/msgbatch"
)

// MaxMessageBytes is SQS's limit on a message and on a SendMessageBatch
// request: 1 MiB.
const MaxMessageBytes = 1 << 20

// TargetConfigNotValid is the state reason of a pipeline stopped because
// its queue or topic can never be written (it does not exist, access is
// denied).
const TargetConfigNotValid = awserr.TargetConfigNotValid

// API is the part of the SQS client the target and the on-failure
// destination use.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Options configure a Target.
type Options struct {
	// API is the SQS client; required.
	API API
	// QueueURL is the queue's URL; required. A URL ending in ".fifo" is a
	// FIFO queue.
	QueueURL string
	// Body renders message bodies; nil sends each record in the ESM record
	// shape.
	Body *template.Template
	// Group renders FIFO message group ids; nil uses the record key (or
	// "<topic>-<partition>" without one).
	Group *template.Template
	// Attributes sends record headers as message attributes (String when
	// the value is UTF-8, else Binary; at most 10, the SQS limit).
	Attributes bool
}

// Target is a pipeline.Target writing to one queue.
type Target struct {
	o    Options
	fifo bool
	b    *msgbatch.Batcher
	pool sync.Pool // *request
}

// request holds the reused SDK input of one SendMessageBatch.
type request struct {
	b  msgbatch.Entries[types.SendMessageBatchRequestEntry, types.MessageAttributeValue]
	in sqs.SendMessageBatchInput
}

// New returns a target writing to o.QueueURL.
func New(o Options) (*Target, error) {
	if o.API == nil || o.QueueURL == "" {
		return nil, errors.New("sqs target: no queue")
	}
	t := &Target{o: o, fifo: strings.HasSuffix(o.QueueURL, ".fifo")}
	t.b = msgbatch.New(msgbatch.Options{Body: o.Body, FIFO: t.fifo, Group: o.Group, Headers: o.Attributes,
		MaxEntries: 10, MaxBytes: MaxMessageBytes, MaxMessage: MaxMessageBytes})
	return t, nil
}

// FIFO reports whether the queue is a FIFO queue.
func (t *Target) FIFO() bool { return t.fifo }

// Deliver implements pipeline.Target.
func (t *Target) Deliver(ctx context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	return t.b.Deliver(ctx, b, t)
}

// Close implements pipeline.Target.
func (t *Target) Close(context.Context) error { return nil }

// Send implements msgbatch.Sender with one SendMessageBatch.
func (t *Target) Send(ctx context.Context, msgs []msgbatch.Message, failed []int) ([]int, error) {
	rq, _ := t.pool.Get().(*request)
	if rq == nil {
		rq = &request{}
	}
	defer t.pool.Put(rq)
	entries := rq.b.Build(msgs, t.fifo, attribute, func(e *types.SendMessageBatchRequestEntry, f msgbatch.Fields[types.MessageAttributeValue]) {
		e.Id, e.MessageBody, e.MessageGroupId, e.MessageDeduplicationId = f.ID, f.Body, f.Group, f.Dedup
		e.MessageAttributes = f.Attributes
	})
	rq.in = sqs.SendMessageBatchInput{QueueUrl: &t.o.QueueURL, Entries: entries}
	out, err := t.o.API.SendMessageBatch(ctx, &rq.in)
	rq.b.Clear() // drop views of the batch's buffers
	if err != nil {
		return nil, classify(err, t.o.QueueURL)
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
var permanentCodes = []string{"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "AccessDenied", "AccessDeniedException",
	"InvalidAddress", "InvalidSecurity", "KMS.AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId"}

// classify sorts a request error: errors retrying cannot fix stop the
// pipeline; throttling, service and network errors are failed attempts.
func classify(err error, queue string) error {
	return awserr.Classify(err, "sqs "+queue, permanentCodes, http.StatusForbidden, http.StatusNotFound)
}
