package wasm

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sync"
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-src.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("records not all committed")
	}
	e.mu.RLock()
	instances := len(e.parts)
	e.mu.RUnlock()
	if instances != partitions {
		t.Fatalf("%d instances for %d partitions", instances, partitions)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-src.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("records not all committed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
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
