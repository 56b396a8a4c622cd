package esm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/penstock-dev/penstock/pipeline"
)

// ParseRecord parses one record in the ESM record shape (the form
// AppendRecord writes and Lambda's Kafka events carry): base64 key and
// value, headers as arrays of byte values. It is for tools and tests, not
// the hot path: it allocates.
func ParseRecord(line []byte) (pipeline.Record, error) {
	var in struct {
		Topic         string               `json:"topic"`
		Partition     json.Number          `json:"partition"`
		Offset        int64                `json:"offset"`
		Timestamp     int64                `json:"timestamp"`
		TimestampType string               `json:"timestampType"`
		Key           *string              `json:"key"`
		Value         *string              `json:"value"`
		Headers       []map[string][]int64 `json:"headers"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return pipeline.Record{}, fmt.Errorf("not an ESM record: %w", err)
	}
	// The ESM documentation shows partition both as a number and as a
	// string; accept both.
	part, err := in.Partition.Int64()
	if in.Partition == "" {
		part, err = 0, nil
	}
	if err != nil || part < 0 || part > 1<<31-1 {
		return pipeline.Record{}, fmt.Errorf("not an ESM record: partition %q is not a partition number", in.Partition)
	}
	r := pipeline.Record{Topic: in.Topic, Partition: int32(part), Offset: in.Offset, Timestamp: in.Timestamp}
	switch in.TimestampType {
	case "", "CREATE_TIME":
	case "LOG_APPEND_TIME":
		r.TimestampType = pipeline.LogAppendTime
	default:
		return pipeline.Record{}, fmt.Errorf("not an ESM record: unknown timestampType %q", in.TimestampType)
	}
	if in.Key != nil {
		if r.Key, err = base64.StdEncoding.DecodeString(*in.Key); err != nil {
			return pipeline.Record{}, fmt.Errorf("key is not base64: %w", err)
		}
	}
	if in.Value != nil {
		if r.Value, err = base64.StdEncoding.DecodeString(*in.Value); err != nil {
			return pipeline.Record{}, fmt.Errorf("value is not base64: %w", err)
		}
	}
	for _, h := range in.Headers {
		if len(h) != 1 {
			return pipeline.Record{}, errors.New("each header must be an object with one key")
		}
		for k, vs := range h {
			v := make([]byte, len(vs))
			for i, b := range vs {
				// Lambda writes signed (Java) bytes, -128..127; unsigned
				// 0..255 is accepted too.
				if b < -128 || b > 255 {
					return pipeline.Record{}, fmt.Errorf("header %q: %d is not a byte", k, b)
				}
				v[i] = byte(b)
			}
			r.Headers = append(r.Headers, pipeline.Header{Key: k, Value: v})
		}
	}
	return r, nil
}
