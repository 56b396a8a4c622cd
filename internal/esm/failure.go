package esm

import (
	"strconv"
	"time"

	"github.com/penstock-dev/penstock/internal/uuid"
	"github.com/penstock-dev/penstock/pipeline"
)

// FailureRecord writes the ESM's on-failure record (SPEC §6) for records a
// pipeline gave up on: what Lambda sends to an SQS queue or SNS topic, and,
// with the whole event as "payload", writes to an S3 bucket.
type FailureRecord struct {
	// FunctionARN names the target in requestContext.functionArn.
	FunctionARN string
	// Source fills eventSourceArn and bootstrapServers.
	Source Source
	// Payload adds the whole event of the failed records as an escaped JSON
	// string, as S3 destinations get it.
	Payload bool
	enc     *Encoder
}

// NewFailureRecord returns a writer of on-failure records.
func NewFailureRecord(functionARN string, src Source, payload bool) *FailureRecord {
	return &FailureRecord{FunctionARN: functionARN, Source: src, Payload: payload, enc: NewEncoder(src)}
}

// Append appends the on-failure record of f to dst as one line of JSON
// (without a newline). scratch is reused for the event when Payload is set;
// the grown buffer is returned with the record.
func (w *FailureRecord) Append(dst, scratch []byte, f *pipeline.Failure) ([]byte, []byte) {
	var event []byte
	payloadSize := 0
	if w.Payload || f.Response == nil || f.Response.PayloadSize == 0 {
		scratch = w.enc.AppendRecords(scratch[:0], f.TopicPartition, f.Records)
		event = scratch
		payloadSize = len(event)
	}
	if f.Response != nil && f.Response.PayloadSize > 0 {
		payloadSize = f.Response.PayloadSize
	}
	reqID := ""
	if f.Response != nil {
		reqID = f.Response.RequestID
	}
	if reqID == "" {
		reqID = uuid.New()
	}
	dst = append(dst, `{"requestContext":{"requestId":`...)
	dst = AppendString(dst, reqID)
	dst = append(dst, `,"functionArn":`...)
	dst = AppendString(dst, w.FunctionARN)
	dst = append(dst, `,"condition":`...)
	dst = AppendString(dst, string(f.Condition))
	dst = append(dst, `,"approximateInvokeCount":`...)
	dst = strconv.AppendInt(dst, int64(f.Attempts), 10)
	dst = append(dst, `},"responseContext":`...)
	if f.Response == nil || f.Condition == pipeline.MaximumPayloadSizeExceeded {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"statusCode":`...)
		dst = strconv.AppendInt(dst, int64(f.Response.StatusCode), 10)
		dst = append(dst, `,"executedVersion":`...)
		dst = AppendString(dst, f.Response.ExecutedVersion)
		dst = append(dst, `,"functionError":`...)
		dst = AppendString(dst, f.Response.FunctionError)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"version":"1.0","timestamp":`...)
	dst = appendTime(dst, f.At.UnixMilli())
	dst = append(dst, `,"KafkaBatchInfo":{"batchSize":`...)
	dst = strconv.AppendInt(dst, int64(len(f.Records)), 10)
	if w.Source.ARN != "" {
		dst = append(dst, `,"eventSourceArn":`...)
		dst = AppendString(dst, w.Source.ARN)
	}
	dst = append(dst, `,"bootstrapServers":`...)
	dst = AppendString(dst, w.Source.BootstrapServers)
	dst = append(dst, `,"payloadSize":`...)
	dst = strconv.AppendInt(dst, int64(payloadSize), 10)
	dst = append(dst, `,"recordsInfo":{`...)
	if n := len(f.Records); n > 0 {
		first, last := &f.Records[0], &f.Records[n-1]
		dst = AppendString(dst, f.TopicPartition.String())
		dst = append(dst, `:{"firstRecordOffset":"`...)
		dst = strconv.AppendInt(dst, first.Offset, 10)
		dst = append(dst, `","lastRecordOffset":"`...)
		dst = strconv.AppendInt(dst, last.Offset, 10)
		dst = append(dst, `","firstRecordTimestamp":`...)
		dst = appendTime(dst, first.Timestamp)
		dst = append(dst, `,"lastRecordTimestamp":`...)
		dst = appendTime(dst, last.Timestamp)
		dst = append(dst, '}')
	}
	dst = append(dst, "}}"...)
	if w.Payload {
		dst = append(dst, `,"payload":`...)
		dst = AppendString(dst, string(event))
	}
	return append(dst, '}'), scratch
}

// appendTime appends a Unix millisecond time as a quoted ISO 8601 UTC time
// with milliseconds, as the ESM writes timestamps.
func appendTime(dst []byte, ms int64) []byte {
	dst = append(dst, '"')
	dst = time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	return append(dst, '"')
}
