package esm

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/penstock-dev/penstock/pipeline"
)

func sampleBatch() *pipeline.Batch {
	tp := pipeline.TopicPartition{Topic: "mytopic", Partition: 0}
	recs := []pipeline.Record{
		{Topic: "mytopic", Partition: 0, Offset: 15, Timestamp: 1545084650987, Key: []byte("key-1"),
			Value: []byte("Hello, this is a test."), Headers: []pipeline.Header{{Key: "headerKey", Value: []byte("headerValue")}}},
		{Topic: "mytopic", Partition: 0, Offset: 16, Timestamp: 1545084650988, TimestampType: pipeline.LogAppendTime,
			Value: []byte(`{"a":1}`)},
		{Topic: "mytopic", Partition: 0, Offset: 17, Timestamp: 1545084650989, Key: []byte{}, Value: nil,
			Headers: []pipeline.Header{{Key: "bin", Value: []byte{0, 9, 10, 99, 100, 255}}, {Key: "empty", Value: []byte{}}}},
	}
	return pipeline.NewBatch(tp, recs)
}

// The event of a self-managed cluster and of an MSK cluster, byte for byte,
// against the golden files in testdata (the shape of SPEC §1).
func TestEventGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		src  Source
	}{
		{"self-managed", Source{BootstrapServers: "b-1:9092,b-2:9092"}},
		{"msk", Source{ARN: "arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2", BootstrapServers: "b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := NewEncoder(c.src).Append(nil, sampleBatch(), 0, 3)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatalf("event is not JSON: %v\n%s", err, got)
			}
			path := filepath.Join("testdata", "event-"+c.name+".json")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(path, pretty.Bytes(), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Fatalf("event differs from %s:\n%s", path, pretty.Bytes())
			}
		})
	}
}

// A function written against aws-lambda-go's events.KafkaEvent reads every
// field back.
func TestEventDecodesAsLambdaKafkaEvent(t *testing.T) {
	b := sampleBatch()
	raw := NewEncoder(Source{ARN: "arn:aws:kafka:eu-west-1:1:cluster/c/u", BootstrapServers: "b:9092"}).Append(nil, b, 0, 3)
	var ev events.KafkaEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.EventSource != "aws:kafka" || ev.EventSourceARN != "arn:aws:kafka:eu-west-1:1:cluster/c/u" || ev.BootstrapServers != "b:9092" {
		t.Fatalf("envelope: %+v", ev)
	}
	recs := ev.Records["mytopic-0"]
	if len(ev.Records) != 1 || len(recs) != 3 {
		t.Fatalf("records: %+v", ev.Records)
	}
	r0 := recs[0]
	if r0.Topic != "mytopic" || r0.Partition != 0 || r0.Offset != 15 || r0.Timestamp.UnixMilli() != 1545084650987 ||
		r0.TimestampType != "CREATE_TIME" || r0.Key != "a2V5LTE=" || r0.Value != "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==" {
		t.Fatalf("record 0: %+v", r0)
	}
	if h := r0.Headers; len(h) != 1 || string(h[0]["headerKey"]) != "headerValue" {
		t.Fatalf("headers: %+v", h)
	}
	if recs[1].TimestampType != "LOG_APPEND_TIME" || recs[1].Key != "" {
		t.Fatalf("record 1: %+v", recs[1])
	}
	if h := recs[2].Headers; len(h) != 2 || !bytes.Equal(h[0]["bin"], []byte{0, 9, 10, 99, 100, 255}) {
		t.Fatalf("record 2 headers: %+v", h)
	}
}

func TestEventSkipsNonActiveRecordsAndSizesAreExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	enc := NewEncoder(Source{BootstrapServers: "localhost:9092"})
	for range 200 {
		n := 1 + r.IntN(20)
		recs := make([]pipeline.Record, n)
		for i := range recs {
			recs[i] = pipeline.Record{Topic: "t\"ü", Partition: 7, Offset: int64(r.IntN(1 << 40)), Timestamp: r.Int64N(1 << 42),
				TimestampType: pipeline.TimestampType(r.IntN(2))}
			if r.IntN(3) > 0 {
				recs[i].Key = make([]byte, r.IntN(20))
			}
			if r.IntN(4) > 0 {
				recs[i].Value = make([]byte, r.IntN(400))
			}
			for range r.IntN(3) {
				v := make([]byte, r.IntN(8))
				for j := range v {
					v[j] = byte(r.Uint32())
				}
				recs[i].Headers = append(recs[i].Headers, pipeline.Header{Key: "h\n", Value: v})
			}
		}
		b := pipeline.NewBatch(pipeline.TopicPartition{Topic: "t\"ü", Partition: 7}, recs)
		active := 0
		want := enc.Overhead(b.TopicPartition)
		for i := range b.Status {
			if r.IntN(4) == 0 {
				b.Status[i] = pipeline.Filtered
				continue
			}
			active++
			want += RecordSize(&recs[i])
		}
		out := enc.Append(nil, b, 0, n)
		var ev events.KafkaEvent
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if got := len(ev.Records[b.TopicPartition.String()]); got != active {
			t.Fatalf("%d records in event, want %d", got, active)
		}
		if active > 0 && len(out) != want {
			t.Fatalf("size %d, predicted %d", len(out), want)
		}
	}
}
