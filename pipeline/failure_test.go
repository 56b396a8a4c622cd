package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/memsource"
	"github.com/penstock-dev/penstock/pipeline"
)

// failureLog is an on-failure handler that records what it receives and can
// refuse records.
type failureLog struct {
	mu       sync.Mutex
	failures []failureCopy
	// refuse, when set, makes HandleFailure fail while it returns true.
	refuse func() bool
	calls  atomic.Int64
}

type failureCopy struct {
	tp        pipeline.TopicPartition
	offsets   []int64
	condition pipeline.Condition
	attempts  int
	err       error
	resp      *pipeline.Response
}

func (f *failureLog) HandleFailure(_ context.Context, fl *pipeline.Failure) error {
	f.calls.Add(1)
	if f.refuse != nil && f.refuse() {
		return errors.New("destination unavailable")
	}
	c := failureCopy{tp: fl.TopicPartition, condition: fl.Condition, attempts: fl.Attempts, err: fl.Err, resp: fl.Response}
	for i := range fl.Records {
		c.offsets = append(c.offsets, fl.Records[i].Offset)
	}
	f.mu.Lock()
	f.failures = append(f.failures, c)
	f.mu.Unlock()
	return nil
}

func (f *failureLog) Close(context.Context) error { return nil }

func (f *failureLog) all() []failureCopy {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.failures)
}

// poisonTarget fails, as a function error, every attempt whose active
// records include a poison offset, and records the sizes of the attempts.
type poisonTarget struct {
	*recTarget
	poison map[int64]bool
	mu     sync.Mutex
	sizes  []int
}

func newPoisonTarget(poison ...int64) *poisonTarget {
	t := &poisonTarget{recTarget: newRecTarget(), poison: map[int64]bool{}}
	for _, o := range poison {
		t.poison[o] = true
	}
	t.fail = func(b *pipeline.Batch) error {
		n := 0
		bad := false
		for i, s := range b.Status {
			if s == pipeline.Active {
				n++
				bad = bad || t.poison[b.Records[i].Offset]
			}
		}
		if bad {
			t.mu.Lock()
			t.sizes = append(t.sizes, n)
			t.mu.Unlock()
			return pipeline.BatchFault(errors.New("function error: Unhandled"))
		}
		return nil
	}
	return t
}

func TestBisectIsolatesPoisonRecordInThousandRecordBatch(t *testing.T) {
	src := memsource.New("t", 1, 1000, []byte("x"))
	src.Chunk = 1000
	tgt := newPoisonTarget(613)
	fl := &failureLog{}
	o := fast(pipeline.Options{BatchSize: 1000, BatchWindow: time.Second, BisectOnError: true})
	o.MaxRetryAttempts = 0
	p := pipeline.New(o, src, pipeline.Stages{OnFailure: fl}, tgt)
	stop := run(t, p)
	select {
	case <-src.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("batch was not committed")
	}
	_ = stop()

	got := tgt.offsets(0)
	if len(got) != 999 {
		t.Fatalf("delivered %d records, want the other 999", len(got))
	}
	for i, off := range got {
		want := int64(i)
		if i >= 613 {
			want++
		}
		if off != want {
			t.Fatalf("delivery %d is offset %d, want %d (order kept around the poison record)", i, off, want)
		}
	}
	fs := fl.all()
	if len(fs) != 1 || !slices.Equal(fs[0].offsets, []int64{613}) || fs[0].condition != pipeline.RetryAttemptsExhausted {
		t.Fatalf("on-failure got %+v, want only offset 613 with RetryAttemptsExhausted", fs)
	}
	// Rounds of halving: the sizes of the failed attempts, each of which
	// contained the poison record, go 1000, 500, 250, ... 1.
	tgt.mu.Lock()
	failing := slices.Clone(tgt.sizes)
	tgt.mu.Unlock()
	if failing[0] != 1000 || failing[len(failing)-1] != 1 {
		t.Fatalf("failed attempt sizes %v: want halving from 1000 down to 1", failing)
	}
	for i := 1; i < len(failing); i++ {
		if h := failing[i-1]; failing[i] != (h+1)/2 && failing[i] != h/2 {
			t.Fatalf("failed attempt sizes %v: not halving", failing)
		}
	}
	if rounds := len(failing) - 1; rounds > 11 { // ⌈log2(1000)⌉+1
		t.Fatalf("%d rounds of halving (sizes %v), want at most 11", rounds, failing)
	}
	if c := src.Committed(0); c != 1000 {
		t.Fatalf("committed %d, want 1000", c)
	}
	if s := p.Stats(); s.Rejected != 1 || s.Delivered != 999 {
		t.Fatalf("stats rejected %d delivered %d, want 1 and 999", s.Rejected, s.Delivered)
	}
}

func TestRetriesExhaustedGoToOnFailureThenCommit(t *testing.T) {
	src := memsource.New("t", 1, 20, []byte("x"))
	tgt := newRecTarget()
	tgt.fail = func(b *pipeline.Batch) error {
		if b.FirstOffset() == 10 {
			return errors.New("function unreachable")
		}
		return nil
	}
	fl := &failureLog{}
	o := fast(pipeline.Options{BatchSize: 10, BatchWindow: time.Second})
	o.MaxRetryAttempts = 2
	p := pipeline.New(o, src, pipeline.Stages{OnFailure: fl}, tgt)
	stop := run(t, p)
	<-src.Done()
	_ = stop()
	fs := fl.all()
	if len(fs) != 1 {
		t.Fatalf("on-failure calls %d, want 1", len(fs))
	}
	f := fs[0]
	if f.condition != pipeline.RetryAttemptsExhausted || f.attempts != 3 || len(f.offsets) != 10 || f.offsets[0] != 10 || f.err == nil {
		t.Fatalf("failure = %+v, want offsets 10..19, 3 attempts, RetryAttemptsExhausted, with the error", f)
	}
	if got := tgt.offsets(0); len(got) != 10 {
		t.Fatalf("delivered %v, want offsets 0..9", got)
	}
	if tgt.attempts.Load() != 1+3 {
		t.Fatalf("attempts %d, want 1 + 3", tgt.attempts.Load())
	}
}

func TestUnlimitedRetriesWithOnFailureAreCappedAtTen(t *testing.T) {
	src := memsource.New("t", 1, 5, []byte("x"))
	tgt := newRecTarget()
	tgt.fail = func(*pipeline.Batch) error { return errors.New("down") }
	fl := &failureLog{}
	p := pipeline.New(fast(pipeline.Options{BatchSize: 5, BatchWindow: time.Second}), src, pipeline.Stages{OnFailure: fl}, tgt)
	stop := run(t, p)
	<-src.Done()
	_ = stop()
	if n := tgt.attempts.Load(); n != 11 {
		t.Fatalf("attempts %d, want 11 (first + 10 retries)", n)
	}
	if fs := fl.all(); len(fs) != 1 || fs[0].attempts != 11 {
		t.Fatalf("failures %+v", fs)
	}
}

func TestNothingCommittedUntilOnFailureDestinationAccepts(t *testing.T) {
	src := memsource.New("t", 1, 10, []byte("x"))
	tgt := newRecTarget()
	tgt.fail = func(*pipeline.Batch) error { return errors.New("down") }
	var open atomic.Bool
	fl := &failureLog{refuse: func() bool { return !open.Load() }}
	o := fast(pipeline.Options{BatchSize: 10, BatchWindow: time.Second})
	o.MaxRetryAttempts = 0
	p := pipeline.New(o, src, pipeline.Stages{OnFailure: fl}, tgt)
	stop := run(t, p)
	waitUntil(t, 5*time.Second, "destination retried", func() bool { return fl.calls.Load() >= 5 })
	if c := src.Committed(0); c > 0 {
		t.Fatalf("committed %d while the on-failure destination refuses the records", c)
	}
	open.Store(true)
	<-src.Done()
	_ = stop()
	if fs := fl.all(); len(fs) != 1 || len(fs[0].offsets) != 10 {
		t.Fatalf("failures %+v", fs)
	}
	if s := p.Stats(); s.FailureRetries < 5 {
		t.Fatalf("FailureRetries %d, want ≥ 5", s.FailureRetries)
	}
}

func TestRecordsPastMaximumAgeGoToOnFailure(t *testing.T) {
	src := memsource.New("t", 1, 10, []byte("x"))
	now := time.Now().UnixMilli()
	src.Timestamp = func(_ int32, off int64) int64 {
		if off < 4 {
			return now - int64(2*time.Hour/time.Millisecond)
		}
		return now
	}
	tgt := newRecTarget()
	fl := &failureLog{}
	o := fast(pipeline.Options{BatchSize: 10, BatchWindow: time.Second, MaxRecordAge: time.Hour})
	p := pipeline.New(o, src, pipeline.Stages{OnFailure: fl}, tgt)
	stop := run(t, p)
	<-src.Done()
	_ = stop()
	fs := fl.all()
	if len(fs) != 1 || fs[0].condition != pipeline.RecordAgeExceeded || !slices.Equal(fs[0].offsets, []int64{0, 1, 2, 3}) {
		t.Fatalf("failures %+v, want offsets 0..3 with RecordAgeExceeded", fs)
	}
	if got := tgt.offsets(0); !slices.Equal(got, []int64{4, 5, 6, 7, 8, 9}) {
		t.Fatalf("delivered %v", got)
	}
}

func TestOversizedRecordGoesToOnFailureWithoutAttempt(t *testing.T) {
	src := memsource.New("t", 1, 10, []byte("x"))
	tgt := newRecTarget()
	tgt.fail = func(b *pipeline.Batch) error {
		for i := range b.Records {
			if b.Records[i].Offset == 5 && b.Status[i] == pipeline.Active {
				b.Status[i] = pipeline.Oversized
			}
		}
		return nil
	}
	fl := &failureLog{}
	p := pipeline.New(fast(pipeline.Options{BatchSize: 10, BatchWindow: time.Second}), src, pipeline.Stages{OnFailure: fl}, tgt)
	stop := run(t, p)
	<-src.Done()
	_ = stop()
	fs := fl.all()
	if len(fs) != 1 || fs[0].condition != pipeline.MaximumPayloadSizeExceeded || !slices.Equal(fs[0].offsets, []int64{5}) || fs[0].resp != nil {
		t.Fatalf("failures %+v, want offset 5 with MaximumPayloadSizeExceeded and no response", fs)
	}
	if got := tgt.offsets(0); len(got) != 9 || slices.Contains(got, 5) {
		t.Fatalf("delivered %v", got)
	}
}

func TestBisectOnlyOnBatchFaults(t *testing.T) {
	src := memsource.New("t", 1, 8, []byte("x"))
	tgt := newRecTarget()
	var n atomic.Int64
	var sizes []int
	tgt.fail = func(b *pipeline.Batch) error {
		sizes = append(sizes, b.ActiveCount())
		if n.Add(1) <= 3 {
			return fmt.Errorf("throttled")
		}
		return nil
	}
	p := pipeline.New(fast(pipeline.Options{BatchSize: 8, BatchWindow: time.Second, BisectOnError: true}), src, pipeline.Stages{}, tgt)
	stop := run(t, p)
	<-src.Done()
	_ = stop()
	if !slices.Equal(sizes, []int{8, 8, 8, 8}) {
		t.Fatalf("attempt sizes %v: a throttle must retry the whole batch, not bisect it", sizes)
	}
}

func TestBisectKeepsOrderAcrossHalvesWithRetries(t *testing.T) {
	// Offsets 2 and 13 fail twice each, then succeed: every record is
	// delivered once, in offset order.
	src := memsource.New("t", 1, 16, []byte("x"))
	tgt := newRecTarget()
	left := map[int64]int{2: 2, 13: 2}
	var mu sync.Mutex
	tgt.fail = func(b *pipeline.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for i, s := range b.Status {
			if s == pipeline.Active && left[b.Records[i].Offset] > 0 {
				left[b.Records[i].Offset]--
				return pipeline.BatchFault(errors.New("function error"))
			}
		}
		return nil
	}
	p := pipeline.New(fast(pipeline.Options{BatchSize: 16, BatchWindow: time.Second, BisectOnError: true}), src, pipeline.Stages{}, tgt)
	stop := run(t, p)
	<-src.Done()
	_ = stop()
	got := tgt.offsets(0)
	for i, o := range got {
		if o != int64(i) {
			t.Fatalf("delivered %v: not each once in order", got)
		}
	}
	if len(got) != 16 {
		t.Fatalf("delivered %v", got)
	}
}
