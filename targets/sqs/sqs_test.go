package sqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/sqsapi"
	"github.com/penstock-dev/penstock/internal/template"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/sources/kafka"
	"github.com/penstock-dev/penstock/targets/sqs"
)

const (
	region = "eu-west-1"
	key    = "AKIDSQSTEST"
	secret = "sqs-test-secret"
)

func endpoint(t testing.TB, fault sqsapi.FaultFunc) *sqsapi.Server {
	t.Helper()
	srv, err := sqsapi.Start(sqsapi.Options{Region: region, AccessKeyID: key, SecretAccessKey: secret, AccountID: "123456789012", Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n := srv.SignatureFailures(); n > 0 {
			t.Errorf("%d requests failed signature verification", n)
		}
		srv.Close()
	})
	return srv
}

func client(srv *sqsapi.Server) *awssqs.Client {
	return awssqs.New(awssqs.Options{Region: region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(srv.URL()), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
}

func records(n int) *pipeline.Batch {
	recs := make([]pipeline.Record, n)
	for i := range recs {
		recs[i] = pipeline.Record{Topic: "orders", Partition: 1, Offset: int64(i), Timestamp: 1764411301200,
			Key: fmt.Appendf(nil, "cust-%d", i%3), Value: fmt.Appendf(nil, `{"order_id":"o-%d","amount":%d}`, i, i*10),
			Headers: []pipeline.Header{{Key: "type", Value: []byte("order")}, {Key: "bin", Value: []byte{0xff, 0}}, {Key: "bad name", Value: []byte("x")}}}
	}
	return pipeline.NewBatch(pipeline.TopicPartition{Topic: "orders", Partition: 1}, recs)
}

func TestStandardQueueMessagesAndAttributes(t *testing.T) {
	srv := endpoint(t, nil)
	url, err := srv.CreateQueue("orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := sqs.New(sqs.Options{API: client(srv), QueueURL: url, Attributes: true})
	b := records(25)
	b.Status[4] = pipeline.Filtered
	if res, err := tg.Deliver(context.Background(), b); err != nil || res.Partial {
		t.Fatalf("%v %+v", err, res)
	}
	msgs := srv.Messages("orders")
	if len(msgs) != 24 || srv.Requests("SendMessageBatch") != 3 {
		t.Fatalf("%d messages in %d requests, want 24 in 3", len(msgs), srv.Requests("SendMessageBatch"))
	}
	r, err := esm.ParseRecord([]byte(msgs[0].Body))
	if err != nil || r.Offset != 0 || string(r.Value) != `{"order_id":"o-0","amount":0}` {
		t.Fatalf("body is not the ESM record: %v %s", err, msgs[0].Body)
	}
	a := msgs[0].Attributes
	if a["type"].StringValue != "order" || a["bin"].DataType != "Binary" || len(a) != 2 {
		t.Fatalf("attributes %+v", a)
	}
}

func TestTemplateBodyAndEntryFailuresRetryOnlyThose(t *testing.T) {
	srv := endpoint(t, sqsapi.OnEntry("SendMessageBatch", sqsapi.EntryFailure("InternalError", "try again", false)))
	url, _ := srv.CreateQueue("orders", nil)
	body, _ := template.Compile(`{"id": <$.value.order_id>, "at": "<topic>/<partition>/<offset>"}`, "p")
	tg, _ := sqs.New(sqs.Options{API: client(srv), QueueURL: url, Body: body})
	b := records(3)
	res, err := tg.Deliver(context.Background(), b)
	if err != nil || !res.Partial {
		t.Fatalf("every entry failed: want a partial result, got %v %+v", err, res)
	}
	for i, s := range b.Status {
		if s != pipeline.Failed {
			t.Fatalf("record %d status %v", i, s)
		}
	}
	ok := endpoint(t, nil)
	url, _ = ok.CreateQueue("orders", nil)
	tg, _ = sqs.New(sqs.Options{API: client(ok), QueueURL: url, Body: body})
	tg.Deliver(context.Background(), records(1))
	if m := ok.Messages("orders"); len(m) != 1 || m[0].Body != `{"id": "o-0", "at": "orders/1/0"}` {
		t.Fatalf("messages %+v", m)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	for _, c := range []struct {
		name      string
		fault     *sqsapi.Fault
		permanent bool
	}{
		{"throttled", sqsapi.Throttle(), false},
		{"internal", sqsapi.InternalError(), false},
		{"no queue", &sqsapi.Fault{Code: "QueueDoesNotExist"}, true},
		{"access denied", &sqsapi.Fault{Code: "AccessDenied", Status: 403, SenderFault: true}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := endpoint(t, sqsapi.OnCall("SendMessageBatch", c.fault))
			url, _ := srv.CreateQueue("orders", nil)
			tg, _ := sqs.New(sqs.Options{API: client(srv), QueueURL: url})
			_, err := tg.Deliver(context.Background(), records(2))
			var pe *pipeline.PermanentError
			if err == nil || pipeline.IsPermanent(err) != c.permanent || (c.permanent && (!errors.As(err, &pe) || pe.Reason != sqs.TargetConfigNotValid)) {
				t.Fatalf("error %v: permanent %v, want %v", err, pipeline.IsPermanent(err), c.permanent)
			}
		})
	}
}

// A 100,000-record run into a FIFO queue with 20% of the entries failing at
// random (and 2% of the entries stored but answered as failed, a lost
// acknowledgement) delivers every record, in per-key order, with no
// duplicate once the queue deduplicated by MessageDeduplicationId.
func TestFIFOQueueUnderRandomEntryFailures(t *testing.T) {
	const parts, keys = 8, 500
	total := 100_000
	if raceEnabled {
		total = 10_000 // the full run is the one without the race detector
	}
	c := kafkatest.Start(t, parts, "orders")
	recs := make([]*kgo.Record, total)
	for i := range recs {
		k := fmt.Sprintf("cust-%d", i%keys)
		h := fnv.New32a()
		h.Write([]byte(k))
		recs[i] = &kgo.Record{Topic: "orders", Partition: int32(h.Sum32() % parts), Key: []byte(k), Value: fmt.Appendf(nil, `{"seq":%d}`, i)}
	}
	kafkatest.ProduceSync(t, c.Producer(t), recs)

	srv := endpoint(t, sqsapi.Chain(
		sqsapi.Randomly(0.02, 7, sqsapi.OnEntry("SendMessageBatch", &sqsapi.Fault{Code: "InternalError", Commit: true})),
		sqsapi.Randomly(0.2, 11, sqsapi.OnEntry("SendMessageBatch", sqsapi.EntryFailure("InternalError", "random", false))),
	))
	url, err := srv.CreateQueue("orders.fifo", map[string]string{"FifoQueue": "true"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := template.Compile(`{"key": <key>, "seq": <$.value.seq>, "offset": <offset>}`, "p")
	tg, _ := sqs.New(sqs.Options{API: client(srv), QueueURL: url, Body: body})
	src, err := kafka.New(kafka.Config{Brokers: c.Addrs, Topic: "orders", Group: "g-fifo", StartingPosition: kafka.TrimHorizon, SessionTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Options{Name: "fifo", BatchSize: 100, BatchWindow: 20 * time.Millisecond, MaxRetryAttempts: -1,
		InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, src, pipeline.Stages{}, tg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	deadline := time.Now().Add(150 * time.Second)
	for {
		n := int64(0)
		for _, off := range p.Committed() {
			n += off
		}
		if n == int64(total) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("committed %d of %d", n, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	msgs := srv.Messages("orders.fifo")
	if len(msgs) != total {
		t.Fatalf("%d messages in the queue, want %d (one per record, duplicates dropped)", len(msgs), total)
	}
	last := map[string]int{}
	seen := make([]bool, total)
	dedup := map[string]bool{}
	for _, m := range msgs {
		var v struct {
			Key string
			Seq int
		}
		if err := json.Unmarshal([]byte(m.Body), &v); err != nil {
			t.Fatal(err)
		}
		if m.GroupID != v.Key {
			t.Fatalf("message group %q for key %q", m.GroupID, v.Key)
		}
		if prev, ok := last[v.Key]; ok && v.Seq <= prev {
			t.Fatalf("key %s: seq %d after %d: per-key order broken", v.Key, v.Seq, prev)
		}
		last[v.Key] = v.Seq
		if seen[v.Seq] || dedup[m.DeduplicationID] {
			t.Fatalf("duplicate message %s", m.Body)
		}
		seen[v.Seq], dedup[m.DeduplicationID] = true, true
		if !strings.HasPrefix(m.DeduplicationID, "orders-") {
			t.Fatalf("dedup id %q", m.DeduplicationID)
		}
	}
	t.Logf("%d SendMessageBatch requests for %d records", srv.Requests("SendMessageBatch"), total)
}
