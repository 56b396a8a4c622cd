// Package lambda delivers batches to a function, as AWS Lambda's Kafka event
// source mapping does: one synchronous invocation per batch with the ESM's
// event payload, so an existing function runs unchanged. The function is
// either an AWS Lambda function, invoked with the aws-sdk-go-v2 client, or a
// local executable that speaks the Lambda Runtime API (package localfn).
package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

// DefaultPayloadLimit is Lambda's limit on a synchronous invocation's
// request payload: 6 MB.
const DefaultPayloadLimit = 6 << 20

// ConfigNotValid is the state reason of a pipeline stopped because its
// function can never be invoked (not found, access denied), as the ESM
// names it.
const ConfigNotValid = "FUNCTION_CONFIG_NOT_VALID"

// Reply is a function's answer to one invocation.
type Reply struct {
	// Payload is the function's response, or its error document when
	// FunctionError is set.
	Payload []byte
	// FunctionError is "Unhandled" or "Handled" when the function failed.
	FunctionError string
	// StatusCode is the invoke call's HTTP status (200 for a local function).
	StatusCode int
	// ExecutedVersion is the version that ran ("$LATEST" when unknown).
	ExecutedVersion string
	// RequestID identifies the invocation.
	RequestID string
}

// Invoker invokes one function synchronously. Errors are failed attempts;
// an error wrapped with pipeline.Permanent stops the pipeline.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) (Reply, error)
	// ARN names the function in on-failure records.
	ARN() string
	Close(ctx context.Context) error
}

// Options configure a Target.
type Options struct {
	// Invoker calls the function; required.
	Invoker Invoker
	// Source fills the event's eventSource, eventSourceArn and bootstrapServers.
	Source esm.Source
	// PayloadLimit bounds an invocation's payload; default DefaultPayloadLimit.
	// A batch whose event would be larger is sent in several invocations, in
	// order; a record whose event alone is larger is marked Oversized and
	// goes to the on-failure destination without an invocation.
	PayloadLimit int
	// ReportBatchItemFailures makes the target read the function's partial
	// batch response (Lambda's ReportBatchItemFailures): only the reported
	// records and the ones after them are attempted again.
	ReportBatchItemFailures bool
	// Logger receives the target's log; default slog.Default().
	Logger *slog.Logger
}

// Target is a pipeline.Target that invokes a function per batch.
type Target struct {
	o   Options
	enc *esm.Encoder
	buf sync.Pool // *[]byte payload buffers, reused across batches
}

// New returns a target that invokes o.Invoker.
func New(o Options) (*Target, error) {
	if o.Invoker == nil {
		return nil, errors.New("lambda target: no function")
	}
	if o.PayloadLimit <= 0 {
		o.PayloadLimit = DefaultPayloadLimit
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Target{o: o, enc: esm.NewEncoder(o.Source)}, nil
}

// ARN returns the function's ARN.
func (t *Target) ARN() string { return t.o.Invoker.ARN() }

// Encoder returns the target's event encoder.
func (t *Target) Encoder() *esm.Encoder { return t.enc }

// Deliver implements pipeline.Target: it invokes the function with the event
// of the batch's Active records, cut into several invocations when the event
// exceeds the payload limit.
func (t *Target) Deliver(ctx context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	bp, _ := t.buf.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer t.buf.Put(bp)

	overhead := t.enc.Overhead(b.TopicPartition)
	lo := 0
	first := true
	var res pipeline.Result
	for lo < len(b.Records) {
		// Cut the next run of records whose event fits the limit.
		size := overhead
		hi := lo
		n := 0
		for ; hi < len(b.Records); hi++ {
			if b.Status[hi] != pipeline.Active {
				continue
			}
			rs := esm.RecordSize(&b.Records[hi])
			if overhead+rs > t.o.PayloadLimit {
				b.Status[hi] = pipeline.Oversized
				continue
			}
			if size+rs > t.o.PayloadLimit && n > 0 {
				break
			}
			size += rs
			n++
		}
		if n == 0 {
			break
		}
		payload := t.enc.Append((*bp)[:0], b, lo, hi)
		*bp = payload
		reply, err := t.o.Invoker.Invoke(ctx, payload)
		res.Response = &pipeline.Response{RequestID: reply.RequestID, StatusCode: reply.StatusCode,
			ExecutedVersion: reply.ExecutedVersion, FunctionError: reply.FunctionError, PayloadSize: len(payload)}
		if err == nil && reply.FunctionError != "" {
			err = pipeline.BatchFault(&FunctionError{Type: reply.FunctionError, Payload: excerpt(reply.Payload)})
		}
		if err == nil && t.o.ReportBatchItemFailures {
			from, perr := firstFailure(reply.Payload, b, lo, hi)
			if perr != nil {
				err = pipeline.BatchFault(perr)
			} else if from >= 0 {
				failFrom(b, from)
				res.Partial = true
				return res, nil
			}
		}
		if err != nil {
			if first || pipeline.IsPermanent(err) {
				return res, err
			}
			// Earlier invocations of this batch succeeded: only this run
			// and the ones after it are attempted again.
			failFrom(b, lo)
			res.Partial = true
			t.o.Logger.Warn("invocation failed after earlier parts of the batch were delivered", "partition", b.TopicPartition.String(), "error", err)
			return res, nil
		}
		first = false
		lo = hi
	}
	return res, nil
}

// failFrom marks the Active records from index i on Failed.
func failFrom(b *pipeline.Batch, i int) {
	for ; i < len(b.Records); i++ {
		if b.Status[i] == pipeline.Active {
			b.Status[i] = pipeline.Failed
		}
	}
}

// Close implements pipeline.Target.
func (t *Target) Close(ctx context.Context) error { return t.o.Invoker.Close(ctx) }

// FunctionError is an invocation the function answered with an error.
type FunctionError struct {
	// Type is "Unhandled" or "Handled".
	Type string
	// Payload is the start of the function's error document.
	Payload string
}

func (e *FunctionError) Error() string {
	return "function error (" + e.Type + "): " + e.Payload
}

func excerpt(p []byte) string {
	const max = 512
	if len(p) > max {
		return string(p[:max]) + "…"
	}
	return string(p)
}

// batchResponse is Lambda's partial batch response for Kafka:
//
//	{"batchItemFailures":[{"itemIdentifier":{"partition":"topic-0","offset":15}}]}
type batchResponse struct {
	BatchItemFailures []struct {
		ItemIdentifier json.RawMessage `json:"itemIdentifier"`
	} `json:"batchItemFailures"`
}

type itemIdentifier struct {
	Partition *string          `json:"partition"`
	Offset    *json.RawMessage `json:"offset"`
}

// firstFailure reads a partial batch response and returns the index in b of
// the first record to attempt again, or -1 when the batch succeeded. As
// Lambda does: an empty or null list, an empty or non-JSON response is
// success; the lowest reported offset of the partition is where retrying
// starts; an identifier that is null, empty, malformed, or names a record
// that was not in the invocation fails the whole invocation.
func firstFailure(payload []byte, b *pipeline.Batch, lo, hi int) (int, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || payload[0] != '{' {
		return -1, nil
	}
	var r batchResponse
	if err := json.Unmarshal(payload, &r); err != nil {
		return -1, nil // not a batch response: the invocation succeeded
	}
	from := -1
	want := b.TopicPartition.String()
	for _, f := range r.BatchItemFailures {
		var id itemIdentifier
		if len(f.ItemIdentifier) == 0 || bytes.Equal(f.ItemIdentifier, []byte("null")) ||
			json.Unmarshal(f.ItemIdentifier, &id) != nil || id.Partition == nil || id.Offset == nil {
			return -1, fmt.Errorf("partial batch response: invalid itemIdentifier %s", f.ItemIdentifier)
		}
		off, err := parseOffset(*id.Offset)
		if err != nil || *id.Partition != want {
			return -1, fmt.Errorf("partial batch response: itemIdentifier %s names no record of the invocation", f.ItemIdentifier)
		}
		i := indexOf(b, lo, hi, off)
		if i < 0 {
			return -1, fmt.Errorf("partial batch response: offset %d of %s was not in the invocation", off, want)
		}
		if from < 0 || i < from {
			from = i
		}
	}
	return from, nil
}

// parseOffset accepts an offset as a JSON number or a numeric string.
func parseOffset(raw json.RawMessage) (int64, error) {
	s := string(raw)
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	return strconv.ParseInt(s, 10, 64)
}

// indexOf returns the index of the Active record with offset off among
// b.Records[lo:hi], or -1.
func indexOf(b *pipeline.Batch, lo, hi int, off int64) int {
	for i := lo; i < hi; i++ {
		if b.Records[i].Offset == off && b.Status[i] == pipeline.Active {
			return i
		}
	}
	return -1
}
