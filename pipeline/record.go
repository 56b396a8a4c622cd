// Package pipeline is Penstock's batch core: records, batches, per-partition
// lanes and the runner that moves batches through filters, enrichers and a
// target, committing offsets only after delivery.
package pipeline

import "strconv"

// TimestampType says where a record's timestamp comes from, as Kafka does.
type TimestampType uint8

const (
	// CreateTime is a timestamp set by the producer.
	CreateTime TimestampType = iota
	// LogAppendTime is a timestamp set by the broker when it appended the record.
	LogAppendTime
)

// String returns the ESM's name for the timestamp type.
func (t TimestampType) String() string {
	if t == LogAppendTime {
		return "LOG_APPEND_TIME"
	}
	return "CREATE_TIME"
}

// Header is one Kafka record header. Its layout matches franz-go's
// kgo.RecordHeader so that a fetched header slice is used without a copy.
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka record. Key, Value and header values alias the bytes the
// source fetched: nothing is copied, and a stage that needs new bytes takes
// them from its batch's arena.
type Record struct {
	Key           []byte
	Value         []byte
	Headers       []Header
	Topic         string
	Offset        int64
	Timestamp     int64 // milliseconds since the Unix epoch
	Partition     int32
	TimestampType TimestampType
}

// Size is the number of payload bytes the record holds: key, value and headers.
// Back-pressure and batch.max_bytes count these bytes.
func (r *Record) Size() int {
	n := len(r.Key) + len(r.Value)
	for i := range r.Headers {
		n += len(r.Headers[i].Key) + len(r.Headers[i].Value)
	}
	return n
}

// TopicPartition names one partition of one topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String returns "<topic>-<partition>", the key the ESM payload groups records under.
func (tp TopicPartition) String() string {
	return tp.Topic + "-" + strconv.Itoa(int(tp.Partition))
}
