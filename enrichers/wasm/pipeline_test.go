package wasm

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/memsource"
	"github.com/penstock-dev/penstock/pipeline"
)

// headerTarget checks and counts what it delivers.
type headerTarget struct {
	mu    sync.Mutex
	count map[int32]int
	err   error
}

func (t *headerTarget) Deliver(_ context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range b.Records {
		if b.Status[i] != pipeline.Active {
			continue
		}
		h := fnv.New32a()
		h.Write(r.Value)
		want := fmt.Sprintf("%08x", h.Sum32())
		if len(r.Headers) != 1 || r.Headers[0].Key != "x-fnv1a" || string(r.Headers[0].Value) != want {
			t.err = fmt.Errorf("offset %d: headers %v", r.Offset, r.Headers)
		}
		t.count[r.Partition]++
	}
	return pipeline.Result{}, nil
}

func (t *headerTarget) Close(context.Context) error { return nil }

// The enricher in a real pipeline: lanes of several partitions, batches cut
// by the lane, offsets committed after delivery.
func TestInPipeline(t *testing.T) {
	e, _ := load(t, "go/add-header.wasm", Options{})
	const partitions, perPartition = 4, 2000
	src := memsource.New("orders", partitions, perPartition, benchValue(1))
	tgt := &headerTarget{count: map[int32]int{}}
	p := pipeline.New(pipeline.Options{BatchSize: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		src, pipeline.Stages{Enrichers: []pipeline.Enricher{e}}, tgt)
	instances := 0
	runToEnd(t, p, src, func() {
		e.mu.RLock()
		instances = len(e.parts)
		e.mu.RUnlock()
	})
	if instances != partitions {
		t.Fatalf("%d instances for %d partitions", instances, partitions)
	}
	if tgt.err != nil {
		t.Fatal(tgt.err)
	}
	for part := range int32(partitions) {
		if tgt.count[part] != perPartition || src.Committed(int(part)) != perPartition {
			t.Fatalf("partition %d: %d delivered, %d committed", part, tgt.count[part], src.Committed(int(part)))
		}
	}
}

// oddFilter drops records at odd offsets.
type oddFilter struct{}

func (oddFilter) Match(r *pipeline.Record) bool { return r.Offset%2 == 0 }

// valueTarget counts the delivered values of each offset.
type valueTarget struct {
	mu  sync.Mutex
	got map[int32]map[int64][]string
}

func (t *valueTarget) Deliver(_ context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range b.Records {
		if b.Status[i] == pipeline.Active {
			m := t.got[r.Partition]
			if m == nil {
				m = map[int64][]string{}
				t.got[r.Partition] = m
			}
			m[r.Offset] = append(m[r.Offset], string(r.Value))
		}
	}
	return pipeline.Result{}, nil
}

func (t *valueTarget) Close(context.Context) error { return nil }

// Split records after a filter, in a real pipeline: the lane reuses the
// batch's statuses, which the enricher rewrote.
func TestSplitAfterFilterInPipeline(t *testing.T) {
	e, _ := load(t, "go/split.wasm", Options{})
	const partitions, perPartition = 3, 1000
	src := memsource.New("orders", partitions, perPartition, []byte(`[1, {"a":2}]`))
	tgt := &valueTarget{got: map[int32]map[int64][]string{}}
	p := pipeline.New(pipeline.Options{BatchSize: 64, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		src, pipeline.Stages{Filter: oddFilter{}, Enrichers: []pipeline.Enricher{e}}, tgt)
	runToEnd(t, p, src)
	for part := range int32(partitions) {
		got := tgt.got[part]
		if len(got) != perPartition/2 {
			t.Fatalf("partition %d: %d offsets delivered, want %d", part, len(got), perPartition/2)
		}
		for off, vs := range got {
			if off%2 != 0 || len(vs) != 2 || vs[0] != "1" || vs[1] != `{"a":2}` {
				t.Fatalf("partition %d offset %d: %q", part, off, vs)
			}
		}
		if c := src.Committed(int(part)); c != perPartition {
			t.Fatalf("partition %d: committed %d", part, c)
		}
	}
}

// failures records what reaches the on-failure handler.
type failures struct {
	mu   sync.Mutex
	got  map[int32][]int64
	errs []string
	cond []pipeline.Condition
}

func (f *failures) HandleFailure(_ context.Context, fl *pipeline.Failure) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range fl.Records {
		f.got[r.Partition] = append(f.got[r.Partition], r.Offset)
	}
	f.errs = append(f.errs, fl.Err.Error())
	f.cond = append(f.cond, fl.Condition)
	return nil
}

func (f *failures) Close(context.Context) error { return nil }

// Records the guest reports it cannot process go to the on-failure
// destination on their own once the retries are used up; the rest of their
// batches is enriched and delivered, in order, and everything is committed.
func TestRecordErrorsGoToOnFailureAlone(t *testing.T) {
	e, _ := load(t, "go/mask.wasm", Options{Config: []byte(`{"fields":["customer.email"]}`)})
	const partitions, perPartition = 2, 1000
	good := []byte(`{"customer":{"email":"jane@example.com","country":"DE"}}`)
	bad := []byte(`{"customer": not json`)
	isBad := func(p int32, off int64) bool { return off%97 == int64(p)+5 }
	src := memsource.New("orders", partitions, perPartition, nil)
	src.ValueOf = func(p int32, off int64) []byte {
		if isBad(p, off) {
			return bad
		}
		return good
	}
	tgt := &valueTarget{got: map[int32]map[int64][]string{}}
	fl := &failures{got: map[int32][]int64{}}
	p := pipeline.New(pipeline.Options{BatchSize: 100, MaxRetryAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		src, pipeline.Stages{Enrichers: []pipeline.Enricher{e}, OnFailure: fl}, tgt)
	runToEnd(t, p, src)
	for part := range int32(partitions) {
		var wantBad []int64
		for off := range int64(perPartition) {
			vs := tgt.got[part][off]
			switch {
			case isBad(part, off):
				wantBad = append(wantBad, off)
				if len(vs) != 0 {
					t.Fatalf("partition %d offset %d: a record the guest failed was delivered: %q", part, off, vs)
				}
			case len(vs) != 1 || vs[0] != `{"customer":{"email":"***","country":"DE"}}`:
				t.Fatalf("partition %d offset %d: delivered %q", part, off, vs)
			}
		}
		if got := fl.got[part]; !slices.Equal(got, wantBad) {
			t.Fatalf("partition %d: on-failure offsets %v, want %v", part, got, wantBad)
		}
		if c := src.Committed(int(part)); c != perPartition {
			t.Fatalf("partition %d: committed %d", part, c)
		}
	}
	for i, msg := range fl.errs {
		if fl.cond[i] != pipeline.RetryAttemptsExhausted || !strings.Contains(msg, "value is not JSON") {
			t.Fatalf("failure %d: %s: %s", i, fl.cond[i], msg)
		}
	}
}

// In a chain, a failed attempt starts the next one from the records as
// fetched: an enricher before the one that failed is not applied twice.
func TestChainRetryStartsFromTheFetchedRecords(t *testing.T) {
	add, _ := load(t, "go/add-header.wasm", Options{})
	faulty, _ := load(t, "wat/faulty.wasm", Options{})
	src := memsource.New("orders", 1, 10, []byte("keep"))
	var calls atomic.Int64
	flaky := flakyEnricher{Enricher: faulty, calls: &calls}
	tgt := &recordsTarget{}
	p := pipeline.New(pipeline.Options{BatchSize: 10, BatchWindow: time.Second, MaxRetryAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		src, pipeline.Stages{Enrichers: []pipeline.Enricher{add, flaky}}, tgt)
	runToEnd(t, p, src)
	if calls.Load() < 2 {
		t.Fatalf("the second enricher ran %d times, want a failure and a retry", calls.Load())
	}
	tgt.mu.Lock()
	defer tgt.mu.Unlock()
	if len(tgt.headers) != 10 {
		t.Fatalf("%d records delivered", len(tgt.headers))
	}
	for i, h := range tgt.headers {
		if h != 1 {
			t.Fatalf("record %d delivered with %d headers from the first enricher, want 1", i, h)
		}
	}
}

// flakyEnricher fails its first batch as a whole, then enriches as the
// enricher it wraps.
type flakyEnricher struct {
	*Enricher
	calls *atomic.Int64
}

func (f flakyEnricher) Enrich(ctx context.Context, b *pipeline.Batch) error {
	if f.calls.Add(1) == 1 {
		return errors.New("first attempt fails")
	}
	return f.Enricher.Enrich(ctx, b)
}

// recordsTarget counts the x-fnv1a headers of each delivered record.
type recordsTarget struct {
	mu      sync.Mutex
	headers []int
}

func (t *recordsTarget) Deliver(_ context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range b.Records {
		if b.Status[i] != pipeline.Active {
			continue
		}
		n := 0
		for _, h := range r.Headers {
			if h.Key == "x-fnv1a" {
				n++
			}
		}
		t.headers = append(t.headers, n)
	}
	return pipeline.Result{}, nil
}

func (t *recordsTarget) Close(context.Context) error { return nil }

// runToEnd runs p until src's records are all committed, calls each of
// before while the pipeline still runs, then stops it gracefully.
func runToEnd(t *testing.T, p *pipeline.Pipeline, src *memsource.Source, before ...func()) {
	t.Helper()
	// The pipeline, and its enrichers, stay up until before has run.
	src.UntilCanceled = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-src.Done():
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("records not all committed")
	}
	for _, f := range before {
		f()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
