package kafka

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/file"
)

// running is a pipeline started by a test: a real Kafka source (over TCP to
// kfake) delivering into a file target.
type running struct {
	p       *pipeline.Pipeline
	stop    context.CancelFunc
	done    chan error
	stopped bool
}

func startPipeline(t *testing.T, c *kafkatest.Cluster, cfg Config, out string, opts pipeline.Options) *running {
	t.Helper()
	cfg.Brokers = c.Addrs
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 3 * time.Second
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := file.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Name == "" {
		opts.Name = "test"
	}
	p := pipeline.New(opts, src, pipeline.Stages{}, tgt)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{p: p, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Stop stops the pipeline gracefully and waits for it.
func (r *running) Stop(t *testing.T) {
	t.Helper()
	if r.stopped {
		return
	}
	r.stopped = true
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("pipeline run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("pipeline did not stop within 60s")
	}
}

// waitDelivered waits until the pipeline reports at least n delivered records.
func waitDelivered(t *testing.T, r *running, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if r.p.Stats().Delivered >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("delivered %d of %d records within %s", r.p.Stats().Delivered, n, within)
}

type outRecord struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       []byte `json:"key"`
	Value     []byte `json:"value"`
}

// readOut parses a file target's output, in file order.
func readOut(t *testing.T, path string) []outRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []outRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r outRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad output line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkDelivery checks that out holds offsets [0, perPartition[p]) of every
// partition, each first delivered in offset order, and returns the number of
// duplicate deliveries per partition.
func checkDelivery(t *testing.T, out []outRecord, perPartition map[int32]int64) map[int32]int {
	t.Helper()
	seen := make(map[int32]map[int64]int)
	next := make(map[int32]int64) // next offset expected as a first delivery
	dups := make(map[int32]int)
	for _, r := range out {
		if seen[r.Partition] == nil {
			seen[r.Partition] = make(map[int64]int)
		}
		seen[r.Partition][r.Offset]++
		if seen[r.Partition][r.Offset] > 1 {
			dups[r.Partition]++
			continue
		}
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: first delivery of offset %d, expected offset %d (out of order or lost)", r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition]++
	}
	for p, n := range perPartition {
		if next[p] != n {
			t.Errorf("partition %d: delivered offsets [0,%d), want [0,%d)", p, next[p], n)
		}
	}
	for p := range seen {
		if _, ok := perPartition[p]; !ok {
			t.Errorf("unexpected partition %d in output", p)
		}
	}
	return dups
}
