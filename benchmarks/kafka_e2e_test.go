package benchmarks

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/enrichers/wasm"
	"github.com/penstock-dev/penstock/filters"
	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/sources/kafka"
)

const (
	e2eTopic      = "orders"
	e2ePartitions = 8
	e2eRecords    = 1_000_000
)

var pipelineStagesNone = pipeline.Stages{}

var (
	e2eOnce    sync.Once
	e2eCluster *kafkatest.Cluster
	e2eErr     error
	groupSeq   atomic.Int64
)

// e2eSetup starts one kfake broker for the whole benchmark binary and fills
// its topic with 1,000,000 JSON order records of about 300 bytes.
func e2eSetup(b *testing.B) *kafkatest.Cluster {
	e2eOnce.Do(func() {
		e2eCluster = kafkatest.StartShared(e2ePartitions, e2eTopic)
		cl, err := kgo.NewClient(kgo.SeedBrokers(e2eCluster.Addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
		if err != nil {
			e2eErr = err
			return
		}
		defer cl.Close()
		var wg sync.WaitGroup
		var perr atomic.Value
		for i := range e2eRecords {
			// Half the orders are from DE, half from FR (filter benchmarks
			// keep one country).
			src := orderJSON
			if i%2 == 1 {
				src = orderJSONFR
			}
			v := make([]byte, 0, len(src)+16)
			v = append(v, src[:len(src)-1]...)
			v = fmt.Appendf(v, `,"seq":%d}`, i)
			wg.Add(1)
			cl.Produce(context.Background(), &kgo.Record{Topic: e2eTopic, Partition: int32(i % e2ePartitions), Value: v},
				func(_ *kgo.Record, err error) {
					if err != nil {
						perr.Store(err)
					}
					wg.Done()
				})
		}
		wg.Wait()
		if err, ok := perr.Load().(error); ok {
			e2eErr = err
		}
	})
	if e2eErr != nil {
		b.Fatal(e2eErr)
	}
	return e2eCluster
}

// plainFranz consumes the whole topic with a plain franz-go group consumer
// (the baseline) and returns how long it took. It reads every record's key
// and value length, the least a consumer that uses its records does.
func plainFranz(b *testing.B, c *kafkatest.Cluster) run {
	group := fmt.Sprintf("plain-%d", groupSeq.Add(1))
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(e2eTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	runtime.GC()
	start := usageNow()
	n, bytes := 0, 0
	for n < e2eRecords {
		fs := cl.PollFetches(context.Background())
		if errs := fs.Errors(); len(errs) > 0 {
			b.Fatal(errs[0].Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			bytes += len(r.Key) + len(r.Value)
		})
	}
	if bytes == 0 {
		b.Fatal("read no bytes")
	}
	if err := cl.CommitUncommittedOffsets(context.Background()); err != nil {
		b.Fatal(err)
	}
	return start.since()
}

// run is how long one read of the topic took, and the CPU time the
// process (client, pipeline and the in-process broker) used meanwhile, the
// bytes it allocated and the garbage collections it ran.
type run struct {
	wall, cpu time.Duration
	alloc     uint64
	gcs       uint32
}

// usage is a point in time, CPU time and allocation counters.
type usage struct {
	at    time.Time
	cpu   time.Duration
	alloc uint64
	gcs   uint32
}

func usageNow() usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return usage{at: time.Now(), cpu: cpuTime(), alloc: ms.TotalAlloc, gcs: ms.NumGC}
}

// since is the run from u until now.
func (u usage) since() run {
	n := usageNow()
	return run{wall: n.at.Sub(u.at), cpu: n.cpu - u.cpu, alloc: n.alloc - u.alloc, gcs: n.gcs - u.gcs}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// penstockRun consumes the whole topic through a Penstock pipeline (Kafka
// source, lanes, per-batch commits) into target and returns how long it took.
func penstockRun(b *testing.B, c *kafkatest.Cluster, stages pipeline.Stages, target pipeline.Target, want int64) run {
	group := fmt.Sprintf("penstock-%d", groupSeq.Add(1))
	quiet := slog.New(slog.DiscardHandler)
	src, err := kafka.New(kafka.Config{Brokers: c.Addrs, Topic: e2eTopic, Group: group, StartingPosition: kafka.TrimHorizon, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	// Errors only: a benchmark that gives records up must say why.
	errLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	p := pipeline.New(pipeline.Options{Name: "bench", BatchSize: 100, BatchWindow: 500 * time.Millisecond, Logger: errLog}, src, stages, target)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	runtime.GC()
	start := usageNow()
	go func() { done <- p.Run(ctx) }()
	var s pipeline.Stats
	for {
		s = p.Stats()
		if s.Delivered+s.Filtered+s.Rejected >= want {
			break
		}
		select {
		case err := <-done:
			b.Fatalf("the pipeline stopped: %v (%+v)", err, s)
		case <-time.After(time.Millisecond):
		}
	}
	elapsed := start.since()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if s.Rejected > 0 {
		b.Fatalf("%d records given up: %s", s.Rejected, s.LastError)
	}
	return elapsed
}

// BenchmarkKafkaE2E compares Penstock with a plain franz-go consumer reading
// the same 1,000,000-record topic from the same broker in the same run. One
// op is one full read of the topic by each; x-vs-franz is Penstock's
// records/s divided by franz-go's.
func BenchmarkKafkaE2E(b *testing.B) {
	c := e2eSetup(b)
	b.Run("nop-target", func(b *testing.B) {
		benchE2E(b, c, func() pipeline.Stages { return pipeline.Stages{} }, nopTarget{}, e2eRecords)
	})
	// A filter that keeps the German half of the orders.
	for _, f := range []struct{ name, pattern, expr string }{
		{name: "filter-half-pattern", pattern: `{"value":{"customer":{"country":["DE"]}}}`},
		{name: "filter-half-expr", expr: `value.customer.country == "DE"`},
	} {
		b.Run(f.name, func(b *testing.B) {
			crit, err := filters.Compile([]filters.Spec{{Pattern: f.pattern, Expr: f.expr}})
			if err != nil {
				b.Fatal(err)
			}
			benchE2E(b, c, func() pipeline.Stages { return pipeline.Stages{Filter: crit} }, nopTarget{}, e2eRecords)
			if got := crit.Stats().ExprErrors; got != 0 {
				b.Fatalf("%d expression errors", got)
			}
		})
	}
	// The same filter, then the Go SDK's masking example (compiled from
	// wasm-sdk/go/examples/mask) on the records it keeps.
	b.Run("filter-half-wasm-go-mask", func(b *testing.B) {
		crit, err := filters.Compile([]filters.Spec{{Pattern: `{"value":{"customer":{"country":["DE"]}}}`}})
		if err != nil {
			b.Fatal(err)
		}
		// A pipeline closes its enrichers when it stops: one per run.
		stages := func() pipeline.Stages {
			mask, err := wasm.New(context.Background(), wasm.Options{Module: "../enrichers/wasm/testdata/go/mask.wasm",
				Config: []byte(`{"fields":["customer.email","card"]}`), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			return pipeline.Stages{Filter: crit, Enrichers: []pipeline.Enricher{mask}}
		}
		benchE2E(b, c, stages, nopTarget{}, e2eRecords)
	})
}

func benchE2E(b *testing.B, c *kafkatest.Cluster, stages func() pipeline.Stages, target pipeline.Target, want int64) {
	var franz, pen run
	add := func(t *run, r run) { t.wall += r.wall; t.cpu += r.cpu; t.alloc += r.alloc; t.gcs += r.gcs }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			add(&franz, plainFranz(b, c))
			add(&pen, penstockRun(b, c, stages(), target, want))
		} else {
			add(&pen, penstockRun(b, c, stages(), target, want))
			add(&franz, plainFranz(b, c))
		}
	}
	b.StopTimer()
	franzRate := float64(e2eRecords*b.N) / franz.wall.Seconds()
	penRate := float64(e2eRecords*b.N) / pen.wall.Seconds()
	b.ReportMetric(penRate, "penstock-rec/s")
	b.ReportMetric(franzRate, "franz-rec/s")
	b.ReportMetric(penRate/franzRate, "x-vs-franz")
	// Processors busy on average (broker included): how close each side
	// is to the machine's limit.
	b.ReportMetric(pen.cpu.Seconds()/pen.wall.Seconds(), "penstock-cores")
	b.ReportMetric(franz.cpu.Seconds()/franz.wall.Seconds(), "franz-cores")
	// CPU per record, broker included.
	b.ReportMetric(float64(pen.cpu.Nanoseconds())/float64(e2eRecords*b.N), "penstock-cpu-ns/rec")
	b.ReportMetric(float64(franz.cpu.Nanoseconds())/float64(e2eRecords*b.N), "franz-cpu-ns/rec")
	// Heap bytes allocated per record (broker included) and collections
	// per read of the topic: the garbage each side makes.
	b.ReportMetric(float64(pen.alloc)/float64(e2eRecords*b.N), "penstock-alloc-B/rec")
	b.ReportMetric(float64(franz.alloc)/float64(e2eRecords*b.N), "franz-alloc-B/rec")
	b.ReportMetric(float64(pen.gcs)/float64(b.N), "penstock-gcs/op")
	b.ReportMetric(float64(franz.gcs)/float64(b.N), "franz-gcs/op")
}
