package lambda_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/lambdaapi"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/sources/kafka"
	"github.com/penstock-dev/penstock/targets/file"
	"github.com/penstock-dev/penstock/targets/lambda"
)

// running is a pipeline from a kfake topic to a Lambda target.
type running struct {
	p    *pipeline.Pipeline
	stop context.CancelFunc
	done chan error
	once sync.Once
	err  error
}

// Stop stops the pipeline gracefully and returns what Run returned.
func (r *running) Stop(t *testing.T) error {
	t.Helper()
	r.once.Do(func() {
		r.stop()
		select {
		case r.err = <-r.done:
		case <-time.After(60 * time.Second):
			t.Fatal("pipeline did not stop")
		}
	})
	return r.err
}

func runPipeline(t *testing.T, c *kafkatest.Cluster, group string, opts pipeline.Options, stages pipeline.Stages, tg pipeline.Target) *running {
	t.Helper()
	src, err := kafka.New(kafka.Config{Brokers: c.Addrs, Topic: "orders", Group: group,
		StartingPosition: kafka.TrimHorizon, SessionTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Name == "" {
		opts.Name = "lambda-test"
	}
	if opts.InitialBackoff == 0 {
		opts.InitialBackoff, opts.MaxBackoff = time.Millisecond, 10*time.Millisecond
	}
	p := pipeline.New(opts, src, stages, tg)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{p: p, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// deliveries records, per partition, the offsets of every successful
// invocation in arrival order.
type deliveries struct {
	mu   sync.Mutex
	seen map[int32][]int64
	max  map[int32]int64 // highest offset delivered
}

func newDeliveries() *deliveries {
	return &deliveries{seen: map[int32][]int64{}, max: map[int32]int64{}}
}

func (d *deliveries) add(ev *events.KafkaEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, recs := range ev.Records {
		for _, r := range recs {
			p := int32(r.Partition)
			d.seen[p] = append(d.seen[p], r.Offset)
			if o, ok := d.max[p]; !ok || r.Offset > o {
				d.max[p] = r.Offset
			}
		}
	}
}

func (d *deliveries) delivered(p int32) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if o, ok := d.max[p]; ok {
		return o + 1
	}
	return 0
}

// With 30% of invocations failing at random, 100,000 records on 8
// partitions are all delivered, first deliveries in per-partition offset
// order, and no offset is committed before its record was delivered.
func TestRandomFailuresLoseNothingAndKeepOrder(t *testing.T) {
	const parts, total = 8, 100_000
	c := kafkatest.Start(t, parts, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), kafkatest.Numbered("orders", parts, 0, total, 300))

	d := newDeliveries()
	var calls, failures atomic.Int64
	srv := endpoint(t, lambdaapi.Randomly(0.3, 42,
		func(context.Context, *lambdaapi.Invocation) lambdaapi.Reply {
			failures.Add(1)
			return lambdaapi.Reply{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"random failure"}`)}
		},
		func(_ context.Context, inv *lambdaapi.Invocation) lambdaapi.Reply {
			var ev events.KafkaEvent
			if err := json.Unmarshal(inv.Payload, &ev); err != nil {
				t.Errorf("payload: %v", err)
			}
			d.add(&ev)
			return lambdaapi.Reply{Payload: []byte("null")}
		}))
	tg := target(t, srv, lambda.Options{})
	r := runPipeline(t, c, "g-random", pipeline.Options{BatchSize: 100, BatchWindow: 20 * time.Millisecond, MaxRetryAttempts: -1},
		pipeline.Stages{}, tg)

	// While it runs, no committed offset may be ahead of what was delivered.
	deadline := time.Now().Add(120 * time.Second)
	for {
		done := true
		for tp, next := range r.p.Committed() {
			if got := d.delivered(tp.Partition); next > got {
				t.Fatalf("partition %d committed %d but only delivered up to %d", tp.Partition, next, got)
			}
			if next < total/parts {
				done = false
			}
		}
		if done && len(r.p.Committed()) == parts {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all committed in time: %v", r.p.Committed())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := r.Stop(t); err != nil {
		t.Fatal(err)
	}
	calls.Store(srv.Invocations())
	for p := range int32(parts) {
		seen := d.seen[p]
		next := int64(0)
		for _, o := range seen {
			if o == next { // a first delivery must be the next offset
				next++
			} else if o > next {
				t.Fatalf("partition %d: offset %d delivered before %d", p, o, next)
			}
		}
		if next != total/parts {
			t.Fatalf("partition %d: delivered up to %d, want %d", p, next, total/parts)
		}
	}
	if f := failures.Load(); f < calls.Load()/5 {
		t.Fatalf("only %d of %d invocations failed; the test did not inject 30%%", f, calls.Load())
	}
	t.Logf("%d invocations, %d failed", calls.Load(), failures.Load())
}

// readFailures reads the on-failure records of a file destination.
func readFailures(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("on-failure line is not JSON: %v", err)
		}
		out = append(out, m)
	}
	return out
}

func field(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// A poison record in a 1,000-record batch is isolated by bisecting and sent
// to the on-failure destination with RetryAttemptsExhausted; the other 999
// records are delivered.
func TestBisectIsolatesPoisonRecordThroughLambda(t *testing.T) {
	c := kafkatest.Start(t, 1, "orders")
	recs := kafkatest.Numbered("orders", 1, 0, 1000, 300)
	recs[437].Value = []byte(`{"poison":true}`)
	kafkatest.ProduceSync(t, c.Producer(t), recs)

	d := newDeliveries()
	var failedSizes []int
	var mu sync.Mutex
	srv := endpoint(t, func(_ context.Context, inv *lambdaapi.Invocation) lambdaapi.Reply {
		var ev events.KafkaEvent
		json.Unmarshal(inv.Payload, &ev)
		n := 0
		for _, rs := range ev.Records {
			for _, r := range rs {
				n++
				if r.Value == "eyJwb2lzb24iOnRydWV9" { // {"poison":true}
					mu.Lock()
					failedSizes = append(failedSizes, len(rs))
					mu.Unlock()
					return lambdaapi.Reply{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"cannot parse order","errorType":"ValueError"}`)}
				}
			}
		}
		d.add(&ev)
		return lambdaapi.Reply{Payload: []byte("null")}
	})
	tg := target(t, srv, lambda.Options{Source: esm.Source{BootstrapServers: strings.Join(c.Addrs, ",")}})
	dest := filepath.Join(t.TempDir(), "failures.jsonl")
	fh, err := file.OpenFailures(dest, esm.NewFailureRecord(tg.ARN(), esm.Source{BootstrapServers: strings.Join(c.Addrs, ",")}, false))
	if err != nil {
		t.Fatal(err)
	}
	r := runPipeline(t, c, "g-bisect", pipeline.Options{BatchSize: 1000, BatchWindow: 2 * time.Second, MaxRetryAttempts: 2, BisectOnError: true},
		pipeline.Stages{OnFailure: fh}, tg)
	waitFor(t, 30*time.Second, "commit of the batch", func() bool {
		return r.p.Committed()[pipeline.TopicPartition{Topic: "orders"}] == 1000
	})
	if err := r.Stop(t); err != nil {
		t.Fatal(err)
	}
	if got := len(d.seen[0]); got != 999 {
		t.Fatalf("%d records delivered, want 999", got)
	}
	// Halvings: 1000 → 500 → … → 1 is 10 rounds; then the record alone is
	// retried twice.
	halvings := 0
	for i := 1; i < len(failedSizes); i++ {
		if failedSizes[i] < failedSizes[i-1] {
			halvings++
		}
	}
	if failedSizes[0] != 1000 || halvings > 11 || failedSizes[len(failedSizes)-1] != 1 {
		t.Fatalf("failed invocation sizes %v: want halving from 1000 to 1 in at most 11 rounds", failedSizes)
	}
	fs := readFailures(t, dest)
	if len(fs) != 1 {
		t.Fatalf("%d on-failure records, want 1", len(fs))
	}
	f := fs[0]
	if field(f, "requestContext.condition") != "RetryAttemptsExhausted" || field(f, "requestContext.approximateInvokeCount") != 3.0 ||
		field(f, "requestContext.functionArn") != fnARN || field(f, "KafkaBatchInfo.batchSize") != 1.0 ||
		field(f, "KafkaBatchInfo.recordsInfo.orders-0.firstRecordOffset") != "437" ||
		field(f, "responseContext.functionError") != "Unhandled" || field(f, "responseContext.statusCode") != 200.0 {
		t.Fatalf("on-failure record %v", f)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With unlimited retries, a graceful stop while a batch keeps failing
// commits nothing of it; after a restart it is delivered.
func TestInfiniteRetryStopsGracefullyAndResumes(t *testing.T) {
	c := kafkatest.Start(t, 1, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), kafkatest.Numbered("orders", 1, 0, 50, 100))
	down := endpoint(t, lambdaapi.ServerError())
	r := runPipeline(t, c, "g-infinite", pipeline.Options{BatchSize: 50, BatchWindow: time.Second, MaxRetryAttempts: -1, DrainTimeout: 2 * time.Second},
		pipeline.Stages{}, target(t, down, lambda.Options{}))
	waitFor(t, 20*time.Second, "retries", func() bool { return down.Invocations() >= 5 })
	if err := r.Stop(t); err != nil {
		t.Fatal(err)
	}
	if c, ok := r.p.Committed()[pipeline.TopicPartition{Topic: "orders"}]; ok {
		t.Fatalf("committed %d although nothing was delivered", c)
	}
	d := newDeliveries()
	up := endpoint(t, func(_ context.Context, inv *lambdaapi.Invocation) lambdaapi.Reply {
		var ev events.KafkaEvent
		json.Unmarshal(inv.Payload, &ev)
		d.add(&ev)
		return lambdaapi.Reply{Payload: []byte("null")}
	})
	r2 := runPipeline(t, c, "g-infinite", pipeline.Options{BatchSize: 50, BatchWindow: time.Second}, pipeline.Stages{}, target(t, up, lambda.Options{}))
	waitFor(t, 30*time.Second, "delivery after restart", func() bool { return d.delivered(0) == 50 })
	r2.Stop(t)
	if len(d.seen[0]) != 50 || d.seen[0][0] != 0 {
		t.Fatalf("after restart delivered %v", d.seen[0])
	}
}

// Records past maximum_record_age go to the on-failure destination with
// RecordAgeExceeded, without an invocation; a record too large for the
// payload limit goes there with MaximumPayloadSizeExceeded and a null
// responseContext; the rest is delivered.
func TestRecordAgeAndPayloadSizeGoToOnFailure(t *testing.T) {
	c := kafkatest.Start(t, 1, "orders")
	old := time.Now().Add(-3 * time.Hour)
	var recs []*kgo.Record
	for i := range 10 {
		r := &kgo.Record{Topic: "orders", Value: []byte(`{"n":1}`), Timestamp: time.Now()}
		if i < 3 {
			r.Timestamp = old
		}
		if i == 6 {
			r.Value = []byte(strings.Repeat("x", 20_000))
		}
		recs = append(recs, r)
	}
	kafkatest.ProduceSync(t, c.Producer(t), recs)
	d := newDeliveries()
	srv := endpoint(t, func(_ context.Context, inv *lambdaapi.Invocation) lambdaapi.Reply {
		var ev events.KafkaEvent
		json.Unmarshal(inv.Payload, &ev)
		d.add(&ev)
		return lambdaapi.Reply{Payload: []byte("null")}
	})
	tg := target(t, srv, lambda.Options{PayloadLimit: 8 << 10})
	dest := filepath.Join(t.TempDir(), "failures.jsonl")
	fh, _ := file.OpenFailures(dest, esm.NewFailureRecord(tg.ARN(), esm.Source{BootstrapServers: "b"}, false))
	r := runPipeline(t, c, "g-age", pipeline.Options{BatchSize: 10, BatchWindow: time.Second, MaxRetryAttempts: -1, MaxRecordAge: time.Hour},
		pipeline.Stages{OnFailure: fh}, tg)
	waitFor(t, 20*time.Second, "commit", func() bool { return r.p.Committed()[pipeline.TopicPartition{Topic: "orders"}] == 10 })
	r.Stop(t)
	if got := d.seen[0]; len(got) != 6 || got[0] != 3 {
		t.Fatalf("delivered %v, want offsets 3,4,5,7,8,9", got)
	}
	fs := readFailures(t, dest)
	if len(fs) != 2 {
		t.Fatalf("%d on-failure records, want 2", len(fs))
	}
	if field(fs[0], "requestContext.condition") != "RecordAgeExceeded" || field(fs[0], "KafkaBatchInfo.batchSize") != 3.0 {
		t.Fatalf("first on-failure record %v", fs[0])
	}
	if field(fs[1], "requestContext.condition") != "MaximumPayloadSizeExceeded" || fs[1]["responseContext"] != nil ||
		field(fs[1], "KafkaBatchInfo.recordsInfo.orders-0.firstRecordOffset") != "6" {
		t.Fatalf("second on-failure record %v", fs[1])
	}
}

// A partition whose batches keep failing does not hold up the others; its
// retries and lag show in the pipeline's stats.
func TestStuckPartitionDoesNotBlockOthers(t *testing.T) {
	const parts, per = 4, 500
	c := kafkatest.Start(t, parts, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), kafkatest.Numbered("orders", parts, 0, parts*per, 200))
	d := newDeliveries()
	srv := endpoint(t, func(_ context.Context, inv *lambdaapi.Invocation) lambdaapi.Reply {
		var ev events.KafkaEvent
		json.Unmarshal(inv.Payload, &ev)
		if _, stuck := ev.Records["orders-2"]; stuck {
			return lambdaapi.Reply{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"downstream of partition 2 is down"}`)}
		}
		d.add(&ev)
		return lambdaapi.Reply{Payload: []byte("null")}
	})
	r := runPipeline(t, c, "g-stuck", pipeline.Options{BatchSize: 100, BatchWindow: 50 * time.Millisecond, MaxRetryAttempts: -1},
		pipeline.Stages{}, target(t, srv, lambda.Options{}))
	waitFor(t, 30*time.Second, "the healthy partitions", func() bool {
		for _, p := range []int32{0, 1, 3} {
			if d.delivered(p) != per {
				return false
			}
		}
		return true
	})
	s := r.p.Stats()
	for _, ps := range s.Partitions {
		if ps.Partition == 2 && (ps.Retrying == 0 || ps.Lag() == 0) {
			t.Fatalf("stuck partition stats %+v: want retries and lag visible", ps)
		}
		if ps.Partition != 2 && ps.Retrying != 0 {
			t.Fatalf("healthy partition %d retrying", ps.Partition)
		}
	}
	r.Stop(t)
}

// The same with far more data than the pipeline's in-flight bound: the
// stuck partition is paused once it holds its share, so its backlog does
// not take the memory the other partitions need.
func TestStuckPartitionDoesNotBlockOthersUnderMemoryBound(t *testing.T) {
	const parts, per = 4, 8000 // 4 × 8000 × ~600 B ≈ 19 MB through a 2 MiB bound
	c := kafkatest.Start(t, parts, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), kafkatest.Numbered("orders", parts, 0, parts*per, 600))
	d := newDeliveries()
	srv := endpoint(t, func(_ context.Context, inv *lambdaapi.Invocation) lambdaapi.Reply {
		var ev events.KafkaEvent
		json.Unmarshal(inv.Payload, &ev)
		if _, stuck := ev.Records["orders-1"]; stuck {
			return lambdaapi.Reply{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"stuck"}`)}
		}
		d.add(&ev)
		return lambdaapi.Reply{Payload: []byte("null")}
	})
	r := runPipeline(t, c, "g-stuck-mem", pipeline.Options{BatchSize: 100, BatchWindow: 20 * time.Millisecond, MaxRetryAttempts: -1,
		MaxInflightBytes: 2 << 20, BatchMaxBytes: 256 << 10}, pipeline.Stages{}, target(t, srv, lambda.Options{}))
	deadline := time.Now().Add(60 * time.Second)
	for d.delivered(0) != per || d.delivered(2) != per || d.delivered(3) != per {
		if time.Now().After(deadline) {
			s := r.p.Stats()
			t.Fatalf("healthy partitions blocked: delivered %d %d %d of %d; in flight %d bytes; partitions %+v",
				d.delivered(0), d.delivered(2), d.delivered(3), per, s.InflightBytes, fmt.Sprintf("%#v", s.Partitions))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := r.p.Stats(); s.InflightBytes > 4<<20 {
		t.Fatalf("pipeline holds %d bytes, bound 2 MiB", s.InflightBytes)
	}
	r.Stop(t)
}

// A slow function delays delivery but loses nothing; a stop while an
// invocation outlasts the drain timeout abandons that batch uncommitted, and
// the next run delivers it.
func TestSlowFunctionAndDrainTimeout(t *testing.T) {
	c := kafkatest.Start(t, 1, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), kafkatest.Numbered("orders", 1, 0, 20, 100))
	d := newDeliveries()
	record := func(_ context.Context, inv *lambdaapi.Invocation) lambdaapi.Reply {
		var ev events.KafkaEvent
		json.Unmarshal(inv.Payload, &ev)
		d.add(&ev)
		return lambdaapi.Reply{Payload: []byte("null")}
	}
	slow := endpoint(t, lambdaapi.Slow(150*time.Millisecond, record))
	r := runPipeline(t, c, "g-slow", pipeline.Options{BatchSize: 10, BatchWindow: 10 * time.Millisecond}, pipeline.Stages{}, target(t, slow, lambda.Options{}))
	waitFor(t, 20*time.Second, "slow deliveries", func() bool { return r.p.Committed()[pipeline.TopicPartition{Topic: "orders"}] == 20 })
	r.Stop(t)

	kafkatest.ProduceSync(t, c.Producer(t), kafkatest.Numbered("orders", 1, 20, 10, 100))
	stuck := endpoint(t, lambdaapi.Slow(time.Minute, record))
	r2 := runPipeline(t, c, "g-slow", pipeline.Options{BatchSize: 10, BatchWindow: 10 * time.Millisecond, DrainTimeout: 200 * time.Millisecond},
		pipeline.Stages{}, target(t, stuck, lambda.Options{}))
	waitFor(t, 20*time.Second, "the hanging invocation", func() bool { return stuck.Invocations() == 1 })
	start := time.Now()
	r2.Stop(t)
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("stop took %v with a 200ms drain timeout", el)
	}
	if got := r2.p.Committed()[pipeline.TopicPartition{Topic: "orders"}]; got > 20 {
		t.Fatalf("committed %d: the abandoned batch must not be committed", got)
	}
	r3 := runPipeline(t, c, "g-slow", pipeline.Options{BatchSize: 10, BatchWindow: 10 * time.Millisecond}, pipeline.Stages{}, target(t, endpoint(t, record), lambda.Options{}))
	waitFor(t, 20*time.Second, "delivery after restart", func() bool { return r3.p.Committed()[pipeline.TopicPartition{Topic: "orders"}] == 30 })
	r3.Stop(t)
	if d.delivered(0) != 30 {
		t.Fatalf("delivered up to %d, want 30", d.delivered(0))
	}
}
