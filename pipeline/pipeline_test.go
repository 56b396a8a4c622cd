package pipeline_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/filters"
	"github.com/penstock-dev/penstock/internal/logtest"
	"github.com/penstock-dev/penstock/internal/memsource"
	"github.com/penstock-dev/penstock/pipeline"
)

// recTarget records what it delivers, per partition, and can fail or block.
type recTarget struct {
	mu       sync.Mutex
	got      map[int32][]int64
	attempts atomic.Int64
	// fail, when set, decides the outcome of an attempt.
	fail func(b *pipeline.Batch) error
	// gate, when set, blocks every attempt until it is closed or ctx ends.
	gate chan struct{}
}

func newRecTarget() *recTarget { return &recTarget{got: make(map[int32][]int64)} }

func (t *recTarget) Deliver(ctx context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	t.attempts.Add(1)
	if t.gate != nil {
		select {
		case <-t.gate:
		case <-ctx.Done():
			return pipeline.Result{}, ctx.Err()
		}
	}
	if t.fail != nil {
		if err := t.fail(b); err != nil {
			return pipeline.Result{}, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	partial := false
	for i := range b.Records {
		switch b.Status[i] {
		case pipeline.Active:
			t.got[b.Partition] = append(t.got[b.Partition], b.Records[i].Offset)
		case pipeline.Failed:
			partial = true
		}
	}
	return pipeline.Result{Partial: partial}, nil
}

func (t *recTarget) Close(context.Context) error { return nil }

func (t *recTarget) offsets(p int32) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]int64(nil), t.got[p]...)
}

func run(t *testing.T, p *pipeline.Pipeline) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("pipeline did not stop")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fast shortens the backoff and retries without limit (the ESM default);
// tests of the retry limit set MaxRetryAttempts after it.
func fast(o pipeline.Options) pipeline.Options {
	o.MaxRetryAttempts = -1
	if o.InitialBackoff == 0 {
		o.InitialBackoff = time.Millisecond
		o.MaxBackoff = 5 * time.Millisecond
	}
	return o
}

func TestEveryRecordDeliveredOnceInOrderAndCommitted(t *testing.T) {
	src := memsource.New("t", 8, 5000, []byte(`{"v":1}`))
	tgt := newRecTarget()
	p := pipeline.New(fast(pipeline.Options{BatchSize: 100, BatchWindow: 0}), src, pipeline.Stages{}, tgt)
	stop := run(t, p)
	<-src.Done()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for part := range int32(8) {
		offs := tgt.offsets(part)
		if len(offs) != 5000 {
			t.Fatalf("partition %d: %d records delivered, want 5000", part, len(offs))
		}
		for i, o := range offs {
			if o != int64(i) {
				t.Fatalf("partition %d: position %d holds offset %d", part, i, o)
			}
		}
		if c := src.Committed(int(part)); c != 5000 {
			t.Fatalf("partition %d committed %d, want 5000", part, c)
		}
	}
	s := p.Stats()
	if s.Delivered != 40000 || s.In != 40000 || s.Batches != 400 {
		t.Fatalf("stats = %+v", s)
	}
	if s.State != pipeline.StateDisabled {
		t.Fatalf("state after a graceful stop = %s", s.State)
	}
}

func TestFailedAttemptsRetryWholeBatchAndCommitOnlyAfterSuccess(t *testing.T) {
	src := memsource.New("t", 2, 300, []byte("x"))
	tgt := newRecTarget()
	var calls atomic.Int64
	var committedAtFailure []int64
	var mu sync.Mutex
	tgt.fail = func(b *pipeline.Batch) error {
		// Every other attempt fails; when one fails, nothing of that
		// batch may be committed yet.
		if calls.Add(1)%2 == 1 {
			mu.Lock()
			committedAtFailure = append(committedAtFailure, src.Committed(int(b.Partition))-b.FirstOffset())
			mu.Unlock()
			return errors.New("target unavailable")
		}
		return nil
	}
	p := pipeline.New(fast(pipeline.Options{BatchSize: 50, BatchWindow: 0}), src, pipeline.Stages{}, tgt)
	stop := run(t, p)
	<-src.Done()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for part := range int32(2) {
		offs := tgt.offsets(part)
		if len(offs) != 300 {
			t.Fatalf("partition %d: %d delivered, want 300 (each exactly once)", part, len(offs))
		}
		for i, o := range offs {
			if o != int64(i) {
				t.Fatalf("partition %d out of order at %d: %d", part, i, o)
			}
		}
	}
	for _, d := range committedAtFailure {
		if d > 0 {
			t.Fatalf("an offset of a failing batch was committed before it was delivered (%d ahead)", d)
		}
	}
	if s := p.Stats(); s.Retries != 12 {
		t.Fatalf("retries = %d, want 12 (one per batch)", s.Retries)
	}
}

func TestPartialResultRetriesOnlyFailedRecords(t *testing.T) {
	src := memsource.New("t", 1, 10, []byte("x"))
	tgt := newRecTarget()
	var once atomic.Bool
	tgt.fail = func(b *pipeline.Batch) error {
		if once.CompareAndSwap(false, true) {
			// The target could not take records 3 and 7 this time.
			b.Status[3], b.Status[7] = pipeline.Failed, pipeline.Failed
		}
		return nil
	}
	p := pipeline.New(fast(pipeline.Options{BatchSize: 10, BatchWindow: time.Second}), src, pipeline.Stages{}, tgt)
	stop := run(t, p)
	<-src.Done()
	_ = stop()
	want := []int64{0, 1, 2, 4, 5, 6, 8, 9, 3, 7}
	got := tgt.offsets(0)
	if len(got) != len(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivered %v, want %v", got, want)
		}
	}
	if tgt.attempts.Load() != 2 {
		t.Fatalf("attempts = %d, want 2", tgt.attempts.Load())
	}
}

func TestPermanentErrorStopsPipelineWithoutCommit(t *testing.T) {
	src := memsource.New("t", 1, 100, []byte("x"))
	tgt := newRecTarget()
	tgt.fail = func(*pipeline.Batch) error { return pipeline.Permanent(errors.New("function not found")) }
	p := pipeline.New(fast(pipeline.Options{BatchSize: 10, BatchWindow: 0}), src, pipeline.Stages{}, tgt)
	ctx := context.Background()
	err := p.Run(ctx) // returns by itself: the pipeline fails
	if err == nil || !pipeline.IsPermanent(err) {
		t.Fatalf("Run = %v, want a permanent error", err)
	}
	if s := p.Stats(); s.State != pipeline.StateFailed || s.Reason == "" {
		t.Fatalf("state %s reason %q", s.State, s.Reason)
	}
	if c := src.Committed(0); c != 0 {
		t.Fatalf("committed %d after a permanent failure", c)
	}
	if n := tgt.attempts.Load(); n != 1 {
		t.Fatalf("a permanent error was retried: %d attempts", n)
	}
}

func TestGracefulStopWhileRetryingCommitsNothingOfTheBatch(t *testing.T) {
	src := memsource.New("t", 1, 20, []byte("x"))
	tgt := newRecTarget()
	var fail atomic.Bool
	tgt.fail = func(b *pipeline.Batch) error {
		if b.FirstOffset() >= 10 && fail.Load() {
			return errors.New("down")
		}
		return nil
	}
	fail.Store(true)
	p := pipeline.New(fast(pipeline.Options{BatchSize: 10, BatchWindow: 0, MaxBackoff: 5 * time.Millisecond, InitialBackoff: time.Millisecond}), src, pipeline.Stages{}, tgt)
	stop := run(t, p)
	waitUntil(t, 5*time.Second, "retries of the second batch", func() bool { return p.Stats().Retries >= 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if c := src.Committed(0); c != 10 {
		t.Fatalf("committed %d, want 10: the failing batch must stay uncommitted", c)
	}
}

func TestDrainTimeoutAbandonsStuckBatch(t *testing.T) {
	src := memsource.New("t", 1, 10, []byte("x"))
	tgt := newRecTarget()
	tgt.gate = make(chan struct{}) // never opens
	p := pipeline.New(fast(pipeline.Options{BatchSize: 10, BatchWindow: 0, DrainTimeout: 100 * time.Millisecond}), src, pipeline.Stages{}, tgt)
	stop := run(t, p)
	waitUntil(t, 5*time.Second, "the first attempt", func() bool { return tgt.attempts.Load() > 0 })
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("stop took %s with a 100ms drain timeout", el)
	}
	if c := src.Committed(0); c != 0 {
		t.Fatalf("committed %d for a batch that was never delivered", c)
	}
}

func TestBackPressureBoundsInflightAndPausesFullLanes(t *testing.T) {
	const value = 1000
	src := memsource.New("t", 4, 100_000, make([]byte, value))
	src.Chunk = 100
	tgt := newRecTarget()
	tgt.gate = make(chan struct{})
	const bound = 1 << 20
	// Small batches: the blocked in-flight batch of each lane is a small
	// part of its share, so the queued records alone fill the lane.
	p := pipeline.New(fast(pipeline.Options{BatchSize: 10, BatchWindow: 0, MaxInflightBytes: bound}), src, pipeline.Stages{}, tgt)
	stop := run(t, p)
	waitUntil(t, 5*time.Second, "the pipeline to fill up", func() bool { return p.Stats().InflightBytes >= bound })
	time.Sleep(100 * time.Millisecond)
	s := p.Stats()
	// The source checks for room once per poll; one poll (a chunk of 100
	// records of ~1 KB on each of the 4 partitions) may overshoot.
	if s.InflightBytes > bound+4*100*(value+3) {
		close(tgt.gate)
		t.Fatalf("in-flight bytes %d exceed the bound %d by more than one poll", s.InflightBytes, bound)
	}
	if src.Pauses.Load() == 0 {
		close(tgt.gate)
		t.Fatal("no partition was paused although every lane is full")
	}
	close(tgt.gate)
	waitUntil(t, 30*time.Second, "delivery to resume", func() bool { return p.Stats().Delivered > 10_000 })
	if src.Resumes.Load() == 0 {
		t.Fatal("paused partitions were never resumed")
	}
	_ = stop()
}

func TestBatchCutByWindowAndBytes(t *testing.T) {
	t.Run("window", func(t *testing.T) {
		src := memsource.New("t", 1, 7, []byte("x"))
		tgt := newRecTarget()
		p := pipeline.New(fast(pipeline.Options{BatchSize: 100, BatchWindow: 150 * time.Millisecond}), src, pipeline.Stages{}, tgt)
		start := time.Now()
		stop := run(t, p)
		<-src.Done()
		el := time.Since(start)
		_ = stop()
		if el < 150*time.Millisecond {
			t.Fatalf("a 7-record batch went after %s, before the 150ms window", el)
		}
		if n := len(tgt.offsets(0)); n != 7 || tgt.attempts.Load() != 1 {
			t.Fatalf("%d records in %d batches, want 7 in 1", n, tgt.attempts.Load())
		}
	})
	t.Run("max_bytes", func(t *testing.T) {
		src := memsource.New("t", 1, 100, make([]byte, 1000))
		tgt := newRecTarget()
		var sizes []int
		var mu sync.Mutex
		tgt.fail = func(b *pipeline.Batch) error {
			mu.Lock()
			sizes = append(sizes, b.Len())
			mu.Unlock()
			if b.Bytes() > 10_000 {
				return pipeline.Permanent(errors.New("batch over max_bytes"))
			}
			return nil
		}
		p := pipeline.New(fast(pipeline.Options{BatchSize: 100, BatchWindow: 20 * time.Millisecond, BatchMaxBytes: 10_000}), src, pipeline.Stages{}, tgt)
		stop := run(t, p)
		<-src.Done()
		_ = stop()
		if len(tgt.offsets(0)) != 100 {
			t.Fatalf("delivered %d of 100", len(tgt.offsets(0)))
		}
		for _, n := range sizes {
			if n > 9 { // 9 records of 1003 bytes fit in 10,000
				t.Fatalf("batch of %d records over max_bytes: sizes %v", n, sizes)
			}
		}
	})
}

func TestFilterMarksRecordsAndCommitsThem(t *testing.T) {
	src := memsource.New("t", 1, 100, []byte("x"))
	tgt := newRecTarget()
	p := pipeline.New(fast(pipeline.Options{BatchSize: 10, BatchWindow: 0}), src, pipeline.Stages{Filter: evenOffsets{}}, tgt)
	stop := run(t, p)
	<-src.Done()
	_ = stop()
	got := tgt.offsets(0)
	if len(got) != 50 {
		t.Fatalf("delivered %d, want the 50 even offsets", len(got))
	}
	for _, o := range got {
		if o%2 != 0 {
			t.Fatalf("filtered record %d reached the target", o)
		}
	}
	if s := p.Stats(); s.Filtered != 50 || s.Delivered != 50 || src.Committed(0) != 100 {
		t.Fatalf("filtered %d delivered %d committed %d", s.Filtered, s.Delivered, src.Committed(0))
	}
}

// Records an expression fails on do not match it: they are filtered and
// committed like the others, counted in Stats with a recent error, and
// logged once (at most once per interval), never stopping the pipeline.
func TestFilterErrorsCountedAndLogged(t *testing.T) {
	src := memsource.New("t", 1, 100, []byte("x")) // a plain string: value.amount fails
	tgt := newRecTarget()
	crit, err := filters.Compile([]filters.Spec{{Expr: `value.amount > 100`}, {Expr: `offset % 2 == 0`}})
	if err != nil {
		t.Fatal(err)
	}
	var logs logtest.Buffer
	opts := fast(pipeline.Options{BatchSize: 10, BatchWindow: 0, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	p := pipeline.New(opts, src, pipeline.Stages{Filter: crit}, tgt)
	stop := run(t, p)
	<-src.Done()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	if s.Delivered != 50 || s.Filtered != 50 || src.Committed(0) != 100 {
		t.Errorf("delivered %d filtered %d committed %d", s.Delivered, s.Filtered, src.Committed(0))
	}
	const last = "filter 0 (value.amount > 100) on t[0] offset "
	if s.FilterErrors != 100 || !strings.HasPrefix(s.LastFilterError, last) {
		t.Errorf("FilterErrors %d, LastFilterError %q (want 100, %q...)", s.FilterErrors, s.LastFilterError, last)
	}
	out := logs.String()
	if n := strings.Count(out, "the filter failed on records"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, `last="`+last) {
		t.Errorf("warning without the error:\n%s", out)
	}
}

type evenOffsets struct{}

func (evenOffsets) Match(r *pipeline.Record) bool { return r.Offset%2 == 0 }
