package kafka

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/pipeline"
)

// Failed records land in the destination topic with their keys, values and
// headers, plus the failure headers, in order.
func TestFailedRecordsAreWrittenWithFailureHeaders(t *testing.T) {
	c := kafkatest.Start(t, 1, "orders", "orders-dlq")
	f, err := NewFailures(Config{Brokers: c.Addrs, Topic: "orders-dlq"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close(context.Background())
	fl := &pipeline.Failure{
		TopicPartition: pipeline.TopicPartition{Topic: "orders", Partition: 0},
		Records: []pipeline.Record{
			{Topic: "orders", Offset: 41, Key: []byte("k1"), Value: []byte(`{"a":1}`), Headers: []pipeline.Header{{Key: "type", Value: []byte("order")}}},
			{Topic: "orders", Offset: 42, Key: nil, Value: []byte(`{"a":2}`)},
		},
		Condition: pipeline.RetryAttemptsExhausted, Attempts: 11, Err: errors.New("function error (Unhandled)"),
		At: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC),
	}
	if err := f.HandleFailure(context.Background(), fl); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs...), kgo.ConsumeTopics("orders-dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(got) < 2 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records", len(got))
		}
		got = append(got, fs.Records()...)
	}
	h := func(r *kgo.Record, k string) string {
		for _, x := range r.Headers {
			if x.Key == k {
				return string(x.Value)
			}
		}
		return "<none>"
	}
	r := got[0]
	if string(r.Key) != "k1" || string(r.Value) != `{"a":1}` || h(r, "type") != "order" || h(r, HeaderCondition) != "RetryAttemptsExhausted" ||
		h(r, HeaderAttempts) != "11" || h(r, HeaderOffset) != "41" || h(r, HeaderTopic) != "orders" || h(r, HeaderPartition) != "0" ||
		h(r, HeaderTimestamp) != "2026-11-29T10:00:00.000Z" || h(r, HeaderError) != "function error (Unhandled)" {
		t.Fatalf("first record %+v", r)
	}
	if got[1].Key != nil || h(got[1], HeaderOffset) != "42" {
		t.Fatalf("second record %+v", got[1])
	}
}
