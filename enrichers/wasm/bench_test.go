package wasm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

// benchValue returns a JSON object of exactly 300 bytes.
func benchValue(i int) []byte {
	v := fmt.Sprintf(`{"id":%d,"customer":{"email":"someone%d@example.com","name":"Some One","address":{"city":"Berlin","zip":"10115"}},"card":"4111 1111 1111 1111","items":[{"sku":"A-1","qty":2,"price":12.5},{"sku":"B-22","qty":1,"price":99.99}],"note":""}`, i, i%1000)
	return []byte(v[:len(v)-2] + strings.Repeat("x", 300-len(v)) + `"}`)
}

// benchArray returns a JSON array of three objects in 300 bytes.
func benchArray(i int) []byte {
	e := fmt.Sprintf(`{"id":%d,"sku":"A-%03d","qty":2,"price":12.5,"note":""}`, i, i%1000)
	pad := (300-2-2)/3 - len(e)
	e = e[:len(e)-2] + strings.Repeat("y", pad) + `"}`
	v := "[" + e + "," + e + "," + e + "]"
	return []byte(v + strings.Repeat(" ", 300-len(v)))
}

// benchBatch returns a batch of n records with values from value.
func benchBatch(n int, value func(int) []byte) *pipeline.Batch {
	b := &pipeline.Batch{TopicPartition: pipeline.TopicPartition{Topic: "orders", Partition: 0}}
	for i := range n {
		b.Records = append(b.Records, pipeline.Record{
			Topic:     "orders",
			Offset:    int64(i),
			Timestamp: 1700000000000,
			Key:       []byte(fmt.Sprintf("customer-%d", i)),
			Value:     value(i),
			Headers:   []pipeline.Header{{Key: "trace", Value: []byte("0af7651916cd43dd8448eb211c80319c")}},
		})
		b.Status = append(b.Status, pipeline.Active)
	}
	return b
}

// runBatches enriches batches of size records until b.N records are done;
// one op is one record.
func runBatches(b *testing.B, e *Enricher, size int, value func(int) []byte) {
	batch := benchBatch(size, value)
	recs, status := batch.Records, batch.Status
	ctx := context.Background()
	reset := func() {
		batch.Records, batch.Status = recs, status
		for i := range status {
			status[i] = pipeline.Active
		}
		batch.Arena.Reset()
	}
	reset()
	if err := e.Enrich(ctx, batch); err != nil { // creates the instance
		b.Fatal(err)
	}
	b.SetBytes(int64(len(recs[0].Value)))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += size {
		reset()
		if err := e.Enrich(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWASMHost measures the host's cost per record: a guest that
// returns every record with keep flags (noop; the WAT one does nothing
// else, the Go one goes through the Go SDK). One op is one record of 300
// bytes.
func BenchmarkWASMHost(b *testing.B) {
	for _, module := range []string{"wat/noop.wasm", "go/noop.wasm"} {
		e, _ := load(b, module, Options{})
		for _, size := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", strings.TrimSuffix(module, ".wasm"), size), func(b *testing.B) {
				runBatches(b, e, size, benchValue)
			})
		}
	}
}

// BenchmarkWASMExamples runs the examples of each SDK (testdata/<lang>/,
// built from wasm-sdk/) on 300-byte JSON order records in batches of 100,
// split on arrays of three orders in 300 bytes. noop is each SDK's own cost
// per record: it keeps every record. One op is one input record.
func BenchmarkWASMExamples(b *testing.B) {
	for _, lang := range sdkLanguages {
		for _, ex := range append([]struct{ name, config string }{{"noop", "{}"}}, examples...) {
			module := filepath.Join(lang, ex.name+".wasm")
			if _, err := os.Stat(filepath.Join("testdata", module)); err != nil {
				b.Logf("skipped: %v", err)
				continue
			}
			value := benchValue
			if ex.name == "split" {
				value = benchArray
			}
			e, _ := load(b, module, Options{Config: []byte(ex.config)})
			b.Run(fmt.Sprintf("%s/%s/batch=100", lang, ex.name), func(b *testing.B) {
				runBatches(b, e, 100, value)
			})
		}
	}
}

// BenchmarkWASMLoad measures the instrumentation of a module, New (which
// instruments, compiles, checks and starts a first instance) with an empty
// compilation cache and with a warm one, and the start of one more instance
// (instantiate, _initialize, penstock_init).
func BenchmarkWASMLoad(b *testing.B) {
	ctx := context.Background()
	for _, module := range []string{"wat/noop.wasm", "go/noop.wasm", "go/mask.wasm"} {
		name := strings.TrimSuffix(module, ".wasm")
		o := Options{Module: filepath.Join("testdata", module), Config: []byte(`{"fields":["customer.email","card"]}`)}
		b.Run(name+"/instrument", func(b *testing.B) {
			bin, err := os.ReadFile(o.Module)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := instrument(bin); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/compile-cold", func(b *testing.B) {
			for b.Loop() {
				o := o
				o.CacheDir = b.TempDir()
				e, err := New(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				e.Close(ctx)
			}
		})
		b.Run(name+"/compile-cached", func(b *testing.B) {
			o := o
			o.CacheDir = b.TempDir()
			e, err := New(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			e.Close(ctx)
			for b.Loop() {
				e, err := New(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				e.Close(ctx)
			}
		})
		b.Run(name+"/instance", func(b *testing.B) {
			o := o
			o.CacheDir = cacheDir
			e, err := New(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			for b.Loop() {
				in, err := e.newInstance(ctx, "orders-0")
				if err != nil {
					b.Fatal(err)
				}
				in.close()
			}
		})
	}
}

// BenchmarkWASMHostCopyFloor copies the bytes of the records of
// BenchmarkWASMHost (key, value, header name and value) into one buffer,
// the least any host must do to hand a batch to a guest: a floor for the
// host's cost per record on the machine at hand. Guest memory is a Go byte
// slice too (memoryAllocator), so the floor copies into the same kind of
// memory as the host does.
func BenchmarkWASMHostCopyFloor(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			batch := benchBatch(size, benchValue)
			_, n := inputSize(batch)
			buf := make([]byte, n)
			b.SetBytes(int64(len(batch.Records[0].Value)))
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += size {
				o := 0
				for i := range batch.Records {
					r := &batch.Records[i]
					o += copy(buf[o:], r.Key)
					o += copy(buf[o:], r.Value)
					for _, h := range r.Headers {
						o += copy(buf[o:], h.Key)
						o += copy(buf[o:], h.Value)
					}
				}
			}
		})
	}
}

// BenchmarkWASMHostEncode measures the host's writing of an input batch
// (inputSize and encodeInput) alone, into a buffer as in
// BenchmarkWASMHostCopyFloor: the copy plus the fixed fields of ABI.md
// section 3. The rest of BenchmarkWASMHost is the calls into the guest, the
// guest, and reading its output.
func BenchmarkWASMHostEncode(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			batch := benchBatch(size, benchValue)
			_, n := inputSize(batch)
			buf := make([]byte, n)
			b.SetBytes(int64(len(batch.Records[0].Value)))
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += size {
				count, n := inputSize(batch)
				encodeInput(buf[:n], batch, count)
			}
		})
	}
}
