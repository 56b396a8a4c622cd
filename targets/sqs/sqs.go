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
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	entries []types.SendMessageBatchRequestEntry
	strs    []string
	attrs   []map[string]types.MessageAttributeValue
	vals    []string // attribute string values, viewing the records' headers
	in      sqs.SendMessageBatchInput
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
	n := len(msgs)
	if cap(rq.entries) < n {
		rq.entries = make([]types.SendMessageBatchRequestEntry, n)
		rq.strs = make([]string, 4*n)
		rq.attrs = make([]map[string]types.MessageAttributeValue, n)
	}
	rq.entries = rq.entries[:n]
	nh := 0
	for i := range msgs {
		nh += min(len(msgs[i].Headers), 10)
	}
	if cap(rq.vals) < nh {
		rq.vals = make([]string, nh)
	}
	rq.vals = rq.vals[:nh]
	v := 0
	for i := range msgs {
		m := &msgs[i]
		e := &rq.entries[i]
		*e = types.SendMessageBatchRequestEntry{}
		s := rq.strs[4*i : 4*i+4]
		s[0], s[1] = m.ID, m.Body
		e.Id, e.MessageBody = &s[0], &s[1]
		if t.fifo {
			s[2], s[3] = m.GroupID, m.DedupID
			e.MessageGroupId, e.MessageDeduplicationId = &s[2], &s[3]
		}
		if len(m.Headers) > 0 {
			if rq.attrs[i] == nil {
				rq.attrs[i] = make(map[string]types.MessageAttributeValue, 4)
			}
			clear(rq.attrs[i])
			for _, h := range m.Headers {
				if len(rq.attrs[i]) == 10 {
					break
				}
				if msgbatch.ValidAttributeName(h.Key) {
					rq.attrs[i][h.Key] = attribute(h.Value, &rq.vals[v])
					v++
				}
			}
			e.MessageAttributes = rq.attrs[i]
		}
	}
	rq.in = sqs.SendMessageBatchInput{QueueUrl: &t.o.QueueURL, Entries: rq.entries}
	out, err := t.o.API.SendMessageBatch(ctx, &rq.in)
	clear(rq.strs)
	clear(rq.vals) // drop views of the batch's buffers
	if err != nil {
		return nil, classify(err, t.o.QueueURL)
	}
	for _, f := range out.Failed {
		id := aws.ToString(f.Id)
		for i := range msgs {
			if msgs[i].ID == id {
				failed = append(failed, i)
				break
			}
		}
	}
	return failed, nil
}

var stringType, binaryType, blank = "String", "Binary", " "

// attribute makes a message attribute of a header value: String when it is
// valid UTF-8 and not empty, Binary otherwise.
func attribute(v []byte, s *string) types.MessageAttributeValue {
	if len(v) > 0 && utf8.Valid(v) {
		*s = unsafe.String(&v[0], len(v))
		return types.MessageAttributeValue{DataType: &stringType, StringValue: s}
	}
	if len(v) == 0 { // SQS refuses empty attribute values
		return types.MessageAttributeValue{DataType: &stringType, StringValue: &blank}
	}
	return types.MessageAttributeValue{DataType: &binaryType, BinaryValue: v}
}

// permanentCodes are the error codes retrying cannot fix.
var permanentCodes = []string{"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "AccessDenied", "AccessDeniedException",
	"InvalidAddress", "InvalidSecurity", "KMS.AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId"}

// classify sorts a request error: errors retrying cannot fix stop the
// pipeline; throttling, service and network errors are failed attempts.
func classify(err error, queue string) error {
	return awserr.Classify(err, "sqs "+queue, permanentCodes, http.StatusForbidden, http.StatusNotFound)
}
