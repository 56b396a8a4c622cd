package wasm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/pipeline"
)

func TestOnlyActiveRecordsAreSentAndOthersKeepTheirPlace(t *testing.T) {
	e, _ := load(t, "go/split.wasm", Options{})
	b := batch(0, `[1,2]`, `[3]`, `[]`, `[4,5]`, `{"x":1}`, `[6]`)
	b.Status[1] = pipeline.Filtered
	b.Status[5] = pipeline.Delivered
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want := `0:1 0:2 1:[3](filtered) 2:[](filtered) 3:4 3:5 4:{"x":1} 5:[6](delivered)`
	if got := values(b); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	for _, r := range b.Records {
		if string(r.Key) != fmt.Sprintf("k%d", r.Offset) || r.Timestamp != 1700000000000+r.Offset || len(r.Headers) != 1 {
			t.Fatalf("record %+v lost its input's key, timestamp or headers", r)
		}
	}
}

// A lane reuses the batch's status slice for its next batch (reset keeps
// Status[:0]), which after a rewrite is the enricher's: the next rewrite
// must not write over the statuses it reads.
func TestLaneReusesRewrittenStatus(t *testing.T) {
	e, _ := load(t, "go/split.wasm", Options{})
	b := batch(0, `[1,2]`)
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	for round := range 4 {
		// What Lane.take does after Batch.reset.
		next := batch(int64(10*round), `[1,2,3]`, `[4]`, `[5]`, `[6,7]`)
		b.Records = next.Records
		b.Status = b.Status[:0]
		for range next.Records {
			b.Status = append(b.Status, pipeline.Active)
		}
		b.Status[1] = pipeline.Filtered
		b.Status[2] = pipeline.Delivered
		if err := e.Enrich(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		o := 10 * round
		want := fmt.Sprintf(`%d:1 %d:2 %d:3 %d:[4](filtered) %d:[5](delivered) %d:6 %d:7`, o, o, o, o+1, o+2, o+3, o+3)
		if got := values(b); got != want {
			t.Fatalf("round %d:\n got %s\nwant %s", round, got, want)
		}
	}
}

func TestKeptBytesAreNotCopied(t *testing.T) {
	e, _ := load(t, "go/add-header.wasm", Options{})
	b := batch(0, `{"a":1}`, ``)
	b.Records[1].Value = nil
	in := append([]pipeline.Record(nil), b.Records...)
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	for i, r := range b.Records {
		if &r.Key[0] != &in[i].Key[0] {
			t.Fatalf("record %d: key copied", i)
		}
		if h := r.Headers[0]; &h.Value[0] != &in[i].Headers[0].Value[0] {
			t.Fatalf("record %d: unchanged header value copied", i)
		}
		if got := r.Headers[1]; got.Key != "x-fnv1a" {
			t.Fatalf("record %d: headers %v", i, r.Headers)
		}
	}
	if &b.Records[0].Value[0] != &in[0].Value[0] {
		t.Fatal("value copied")
	}
	if b.Records[1].Value != nil {
		t.Fatal("absent value became present")
	}
	if got := string(b.Records[1].Headers[1].Value); got != "811c9dc5" {
		t.Fatalf("hash of an absent value %q", got)
	}
}

// An enricher that runs again on a batch it rewrote (a later enricher
// failed) reads its own output without corrupting it.
func TestEnrichAgainOnOwnOutput(t *testing.T) {
	e, _ := load(t, "go/add-header.wasm", Options{})
	b := batch(0, "a", "b", "c")
	for range 3 {
		if err := e.Enrich(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range b.Records {
		if len(r.Headers) != 4 || r.Headers[0].Key != "h" {
			t.Fatalf("headers %v", r.Headers)
		}
		for _, h := range r.Headers[1:] {
			if h.Key != "x-fnv1a" || string(h.Value) != string(r.Headers[1].Value) {
				t.Fatalf("headers %v", r.Headers)
			}
		}
	}
}

func TestRecordErrorsFailTheBatchAndKeepTheInstance(t *testing.T) {
	e, _ := load(t, "go/mask.wasm", Options{Config: []byte(`{"fields":["a"]}`)})
	b := batch(7, `{"a":"x"}`, `nope`, `{"a":1}`, `[`)
	err := e.Enrich(context.Background(), b)
	var re *RecordErrors
	if !errors.As(err, &re) {
		t.Fatalf("error %v", err)
	}
	want := `wasm enricher "mask": offsets 7..10: 2 record(s) failed: offset 8: value is not JSON; offset 10: value is not JSON`
	if err.Error() != want {
		t.Fatalf("error\n %s\nwant\n %s", err, want)
	}
	if values(b) != `7:{"a":"x"} 8:nope 9:{"a":1} 10:[` {
		t.Fatalf("batch changed: %s", values(b))
	}
	in := e.parts[b.TopicPartition].inst
	b = batch(11, `{"a":"secret"}`)
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if values(b) != `11:{"a":"***"}` || e.parts[b.TopicPartition].inst != in {
		t.Fatalf("%s (instance replaced: %v)", values(b), e.parts[b.TopicPartition].inst != in)
	}
}

func TestDropEveryRecord(t *testing.T) {
	e, _ := load(t, "wat/faulty.wasm", Options{})
	b := batch(0, "drop", "x")
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if values(b) != "0:drop(filtered) 1:x(filtered)" {
		t.Fatal(values(b))
	}
}

func TestRecordErrorsFromWAT(t *testing.T) {
	e, _ := load(t, "wat/faulty.wasm", Options{})
	err := e.Enrich(context.Background(), batch(3, "error", "x"))
	var re *RecordErrors
	if !errors.As(err, &re) || len(re.Errors) != 2 || re.Errors[1] != (RecordError{Offset: 4, Message: "bad record"}) {
		t.Fatalf("error %v", err)
	}
}

func TestLogSpamIsRateLimited(t *testing.T) {
	e, logs := load(t, "wat/faulty.wasm", Options{})
	start := time.Now()
	if err := e.Enrich(context.Background(), batch(0, "spam")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("20000 lines took %v", took)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	fromLog, fromStdout := logs.count("spam from log"), logs.count("spam from stdout")
	if fromLog+fromStdout != logLinesPerSecond {
		t.Fatalf("%d + %d lines logged, want %d", fromLog, fromStdout, logLinesPerSecond)
	}
	want := fmt.Sprintf("… suppressed %d log lines (more than %d a second)", 20000-logLinesPerSecond, logLinesPerSecond)
	var found bool
	for _, l := range logs.all() {
		if l.msg == "spam from log" && (l.attrs["module"] != "faulty" || l.attrs["partition"] != "t-0" || l.attrs["stream"] != "log" || l.level != slog.LevelInfo) {
			t.Fatalf("line %+v", l)
		}
		if l.msg == "spam from stdout" && l.attrs["stream"] != "stdout" {
			t.Fatalf("line %+v", l)
		}
		found = found || l.msg == want && l.attrs["module"] == "faulty"
	}
	if !found {
		t.Fatalf("no line %q in %d lines", want, len(logs.all()))
	}
}

func TestGoGuestLogs(t *testing.T) {
	_, logs := load(t, "go/noop.wasm", Options{})
	for _, l := range logs.all() {
		if l.msg == "noop enricher ready" && l.level == slog.LevelDebug && l.attrs["module"] == "noop" {
			return
		}
	}
	t.Fatalf("no log line from the guest: %+v", logs.all())
}

func TestLineWriterSplitsAndJoins(t *testing.T) {
	logs := &logLines{}
	g := newGuestLog(slog.New(logs))
	g.stdout.Write([]byte("one\ntw"))
	g.stdout.Write([]byte("o\r\nthree"))
	g.stdout.Write([]byte(strings.Repeat("x", maxLogLine+1) + "\n"))
	g.close()
	var got []string
	for _, l := range logs.all() {
		got = append(got, fmt.Sprintf("%d", len(l.msg)))
	}
	want := []string{"3", "3", fmt.Sprint(maxLogLine), fmt.Sprint(5 + 1)}
	if msgs := logs.all(); msgs[0].msg != "one" || msgs[1].msg != "two" || !strings.HasPrefix(msgs[2].msg, "threexx") || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("lines of length %v, want %v", got, want)
	}
}

func TestContextCancelInterruptsCall(t *testing.T) {
	e, _ := load(t, "wat/faulty.wasm", Options{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := e.Enrich(ctx, batch(0, "loop"))
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("error %v after %v", err, time.Since(start))
	}
	if err := e.Enrich(context.Background(), batch(1, "ok")); err != nil {
		t.Fatal(err)
	}
}

func TestEnrichAfterClose(t *testing.T) {
	e, _ := load(t, "wat/noop.wasm", Options{})
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Enrich(context.Background(), batch(0, "x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("error %v", err)
	}
}

func TestCloseStopsCallsInProgress(t *testing.T) {
	e, _ := load(t, "wat/faulty.wasm", Options{Timeout: time.Minute})
	errc := make(chan error, 1)
	go func() { errc <- e.Enrich(context.Background(), batch(0, "loop")) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) || time.Since(start) > 5*time.Second {
		t.Fatalf("error %v after %v", err, time.Since(start))
	}
}

func TestNoActiveRecordsIsNotSent(t *testing.T) {
	e, _ := load(t, "wat/faulty.wasm", Options{})
	b := batch(0, "trap")
	b.Status[0] = pipeline.Filtered
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if len(e.parts) != 0 {
		t.Fatal("an instance was created for nothing")
	}
}

func TestOneInstancePerPartitionConcurrently(t *testing.T) {
	e, _ := load(t, "go/add-header.wasm", Options{})
	const partitions, batches = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, partitions)
	for p := range int32(partitions) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				b := batch(int64(i*3), "a", "b", "c")
				b.Partition = p
				if err := e.Enrich(context.Background(), b); err != nil {
					errs <- err
					return
				}
				if got := string(b.Records[2].Headers[1].Value); got != "e60c2c52" {
					errs <- fmt.Errorf("partition %d: hash %q", p, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[*instance]bool{}
	for tp, p := range e.parts {
		if p.inst == nil || seen[p.inst] {
			t.Fatalf("partition %v: instance %p", tp, p.inst)
		}
		seen[p.inst] = true
	}
	if len(seen) != partitions {
		t.Fatalf("%d instances", len(seen))
	}
}

func TestIdleInstancesAreClosed(t *testing.T) {
	e, _ := load(t, "wat/noop.wasm", Options{})
	b := batch(0, "x")
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	old := e.parts[b.TopicPartition]
	// Pretend idleAfter has passed.
	e.epoch = e.epoch.Add(-idleAfter - time.Second)
	b = batch(0, "y")
	b.Partition = 1
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.parts[pipeline.TopicPartition{Topic: "t"}]; ok || !old.dead || old.inst != nil {
		t.Fatal("idle partition kept")
	}
	if len(e.parts) != 1 {
		t.Fatalf("%d partitions", len(e.parts))
	}
	// The partition comes back with a fresh instance.
	if err := e.Enrich(context.Background(), batch(1, "z")); err != nil {
		t.Fatal(err)
	}
}

// Steady-state batches allocate nothing.
func TestSteadyStateAllocations(t *testing.T) {
	for _, module := range []string{"wat/noop.wasm", "go/noop.wasm", "go/add-header.wasm", "go/split.wasm"} {
		t.Run(module, func(t *testing.T) {
			e, _ := load(t, module, Options{})
			values := make([]string, 100)
			for i := range values {
				values[i] = fmt.Sprintf(`[{"id":%d,"name":"x"},{"id":%d}]`, i, i+1)
			}
			b := batch(0, values...)
			recs, status := b.Records, b.Status
			run := func() {
				b.Records, b.Status = recs, status[:len(recs)]
				for i := range b.Status {
					b.Status[i] = pipeline.Active
				}
				b.Arena.Reset()
				if err := e.Enrich(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}
			run()
			allocs := testing.AllocsPerRun(50, run)
			if allocs > 0 {
				t.Fatalf("%.1f allocations per batch of 100", allocs)
			}
		})
	}
}
