package wasm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNoopKeepsBatchUnchanged(t *testing.T) {
	e, _ := load(t, "wat/noop.wasm", Options{})
	b := batch(10, `{"a":1}`, `{"b":2}`)
	recs := b.Records
	if err := e.Enrich(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if &b.Records[0] != &recs[0] || values(b) != `10:{"a":1} 11:{"b":2}` {
		t.Fatalf("batch changed: %s", values(b))
	}
}

func TestFaultyGuests(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		opts    Options
		is      error
		want    string
		keepsIt bool // the instance survives
	}{
		{name: "trap", value: "trap", is: ErrTrap, want: "unreachable"},
		{name: "infinite loop", value: "loop", opts: Options{Timeout: 100 * time.Millisecond}, is: ErrTimeout, want: "penstock_enrich ran longer than 100ms"},
		{name: "runaway recursion", value: "recurse", opts: Options{Timeout: 100 * time.Millisecond}, is: ErrTimeout, want: "penstock_enrich ran longer than 100ms"},
		{name: "memory bomb", value: "memory", opts: Options{MemoryLimit: 1 << 20}, is: ErrMemoryLimit, want: "needed more than 1 MiB of memory"},
		{name: "lying length", value: "bad", is: ErrMalformedOutput, want: "value of 1048576 bytes runs past the output"},
		{name: "index out of range", value: "x", is: ErrMalformedOutput, want: "output 0 names input 3 of 3"},
		{name: "zero result", value: "zero", is: ErrMalformedOutput, want: "penstock_enrich returned 0"},
		{name: "huge output", value: "huge", is: ErrMalformedOutput, want: "over the limit"},
		{name: "batch failure", value: "fail", is: ErrBatchFailed, want: "batch failed: guest says no", keepsIt: true},
		{name: "record errors", value: "error", want: "3 record(s) failed: offset 100: bad record; offset 101: bad record; offset 102: bad record", keepsIt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := load(t, "wat/faulty.wasm", tt.opts)
			b := batch(100, tt.value, "x", "y")
			start := time.Now()
			err := e.Enrich(context.Background(), b)
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("took %v", took)
			}
			if tt.is != nil && !errors.Is(err, tt.is) || err == nil {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, `wasm enricher "faulty": offsets 100..102: `) || !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q does not name the module, the offsets and %q", msg, tt.want)
			}
			if values(b) != "100:"+tt.value+" 101:x 102:y" {
				t.Fatalf("failed batch changed: %s", values(b))
			}
			p := e.parts[b.TopicPartition]
			if (p.inst != nil) != tt.keepsIt {
				t.Fatalf("instance kept: %v, want %v", p.inst != nil, tt.keepsIt)
			}
			// The next batch runs on a healthy (fresh) instance.
			b = batch(103, "ok", "fine")
			if err := e.Enrich(context.Background(), b); err != nil {
				t.Fatalf("next batch: %v", err)
			}
			if values(b) != "103:ok 104:fine" {
				t.Fatalf("next batch: %s", values(b))
			}
		})
	}
}

// TestTimeoutAfterEarlierCalls checks the watchdog's timer, which calls
// leave armed: a call that starts while the timer is armed for an earlier
// call still gets its whole timeout, and a call after the timer has fired
// on an idle instance is still stopped.
func TestTimeoutAfterEarlierCalls(t *testing.T) {
	const timeout = 200 * time.Millisecond
	e, _ := load(t, "wat/faulty.wasm", Options{Timeout: timeout})
	for i, idle := range []time.Duration{timeout / 2, 2 * timeout} {
		if err := e.Enrich(context.Background(), batch(int64(10*i), "ok")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(idle)
		start := time.Now()
		err := e.Enrich(context.Background(), batch(int64(10*i+1), "loop"))
		took := time.Since(start)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("after %v idle: error %v", idle, err)
		}
		if took < timeout || took > 5*time.Second {
			t.Fatalf("after %v idle: stopped after %v, want %v", idle, took, timeout)
		}
	}
}
