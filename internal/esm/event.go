package esm

import (
	"strconv"

	"github.com/penstock-dev/penstock/pipeline"
)

// Source describes the cluster an event comes from: it fills the event's
// eventSource, eventSourceArn and bootstrapServers.
type Source struct {
	// ARN is the MSK cluster's ARN; empty for a self-managed cluster, whose
	// events say "SelfManagedKafka" and carry no eventSourceArn.
	ARN string
	// BootstrapServers is the comma-separated broker list.
	BootstrapServers string
}

// Encoder writes Lambda Kafka events (SPEC §1) for the batches of one
// pipeline. It is safe for concurrent use: all its state is fixed at New.
type Encoder struct {
	head []byte // {"eventSource":…,"bootstrapServers":…,"records":{
}

// NewEncoder returns an encoder of events from src.
func NewEncoder(src Source) *Encoder {
	e := &Encoder{}
	h := e.head
	if src.ARN != "" {
		h = append(h, `{"eventSource":"aws:kafka","eventSourceArn":`...)
		h = AppendString(h, src.ARN)
	} else {
		h = append(h, `{"eventSource":"SelfManagedKafka"`...)
	}
	h = append(h, `,"bootstrapServers":`...)
	h = AppendString(h, src.BootstrapServers)
	h = append(h, `,"records":{`...)
	e.head = h
	return e
}

// Append appends the event holding the Active records of b.Records[lo:hi]
// (all of one partition, in offset order) to dst. Records are written
// straight from their bytes: base64 keys and values, headers as byte arrays.
func (e *Encoder) Append(dst []byte, b *pipeline.Batch, lo, hi int) []byte {
	return e.appendEvent(dst, b.TopicPartition, b.Records[lo:hi], b.Status[lo:hi])
}

// AppendRecords appends the event holding recs, all of partition tp, to dst.
func (e *Encoder) AppendRecords(dst []byte, tp pipeline.TopicPartition, recs []pipeline.Record) []byte {
	return e.appendEvent(dst, tp, recs, nil)
}

// appendEvent writes the event of recs whose status is Active (all of them
// when status is nil).
func (e *Encoder) appendEvent(dst []byte, tp pipeline.TopicPartition, recs []pipeline.Record, status []pipeline.Status) []byte {
	dst = append(dst, e.head...)
	dst = AppendString(dst, tp.String())
	dst = append(dst, ":["...)
	// Every record of the batch starts with the same topic and partition.
	mark := len(dst)
	dst = append(dst, `{"topic":`...)
	dst = AppendString(dst, tp.Topic)
	dst = append(dst, `,"partition":`...)
	dst = strconv.AppendInt(dst, int64(tp.Partition), 10)
	dst = append(dst, `,"offset":`...)
	prefix := len(dst) - mark
	first := true
	for i := range recs {
		if status != nil && status[i] != pipeline.Active {
			continue
		}
		if first {
			first = false
		} else {
			dst = append(dst, ',')
			dst = append(dst, dst[mark:mark+prefix]...)
		}
		dst = appendRecordTail(dst, &recs[i])
	}
	if first { // no Active record: drop the prefix
		dst = dst[:mark]
	}
	return append(dst, "]}}"...)
}

// appendRecordTail appends a record object from its offset on: the topic and
// partition are already written.
func appendRecordTail(dst []byte, r *pipeline.Record) []byte {
	dst = strconv.AppendInt(dst, r.Offset, 10)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, r.Timestamp, 10)
	if r.TimestampType == pipeline.LogAppendTime {
		dst = append(dst, `,"timestampType":"LOG_APPEND_TIME"`...)
	} else {
		dst = append(dst, `,"timestampType":"CREATE_TIME"`...)
	}
	if r.Key != nil {
		dst = append(dst, `,"key":"`...)
		dst = AppendBase64(dst, r.Key)
		dst = append(dst, '"')
	}
	if r.Value != nil {
		dst = append(dst, `,"value":"`...)
		dst = AppendBase64(dst, r.Value)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"headers":[`...)
	for i := range r.Headers {
		h := &r.Headers[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		dst = AppendString(dst, h.Key)
		dst = append(dst, ":["...)
		dst = appendByteArray(dst, h.Value)
		dst = append(dst, "]}"...)
	}
	return append(dst, "]}"...)
}

// appendByteArray appends the bytes of v as comma-separated decimal numbers,
// signed as Java bytes are (0xff is -1), because that is how Lambda writes
// header values: aws-lambda-go and the Rust runtime decode them as int8 and
// reject 128..255.
func appendByteArray(dst, v []byte) []byte {
	for j, c := range v {
		if j > 0 {
			dst = append(dst, ',')
		}
		if c >= 128 {
			dst = append(dst, '-')
			c = byte(-int8(c)) // 0x80 → 128, 0xff → 1
		}
		switch {
		case c >= 100:
			dst = append(dst, '0'+c/100, '0'+c/10%10, '0'+c%10)
		case c >= 10:
			dst = append(dst, '0'+c/10, '0'+c%10)
		default:
			dst = append(dst, '0'+c)
		}
	}
	return dst
}

// Overhead returns the bytes an event of one batch of tp takes besides its
// records: Size(b) = Overhead(tp) + the sum of RecordSize over its records.
func (e *Encoder) Overhead(tp pipeline.TopicPartition) int {
	return len(e.head) + len(AppendString(nil, tp.String())) + len(":[]}}") - 1 // the first record has no comma
}

// RecordSize returns the bytes r adds to an event, its separating comma
// included; it is exact, so batches can be cut to fit a payload limit.
func RecordSize(r *pipeline.Record) int {
	n := 1 + len(`{"topic":`) + jsonStringLen(r.Topic) + len(`,"partition":`) + intLen(int64(r.Partition)) +
		len(`,"offset":`) + intLen(r.Offset) + len(`,"timestamp":`) + intLen(r.Timestamp) +
		len(`,"timestampType":"CREATE_TIME"`) + len(`,"headers":[`) + len("]}")
	if r.TimestampType == pipeline.LogAppendTime {
		n += len("LOG_APPEND_TIME") - len("CREATE_TIME")
	}
	if r.Key != nil {
		n += len(`,"key":""`) + (len(r.Key)+2)/3*4
	}
	if r.Value != nil {
		n += len(`,"value":""`) + (len(r.Value)+2)/3*4
	}
	for i := range r.Headers {
		h := &r.Headers[i]
		if i > 0 {
			n++
		}
		n += 2 + jsonStringLen(h.Key) + 1 + 2 // {"k":[ ]}
		for j, c := range h.Value {
			if j > 0 {
				n++
			}
			if c >= 128 {
				n++
				c = byte(-int8(c))
			}
			switch {
			case c >= 100:
				n += 3
			case c >= 10:
				n += 2
			default:
				n++
			}
		}
	}
	return n
}

func intLen(v int64) int {
	n := 1
	if v < 0 {
		n++
		v = -v
	}
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// jsonStringLen is len(AppendString(nil, s)) without the allocation for
// the common case of plain ASCII.
func jsonStringLen(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return len(AppendString(nil, s))
		}
	}
	return len(s) + 2
}
