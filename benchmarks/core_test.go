// Package benchmarks holds Penstock's end-to-end benchmark suites. Results
// and the commands that produced them are in README.md.
package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/penstock-dev/penstock/internal/memsource"
	"github.com/penstock-dev/penstock/pipeline"
)

// nopTarget accepts every batch.
type nopTarget struct{}

func (nopTarget) Deliver(context.Context, *pipeline.Batch) (pipeline.Result, error) {
	return pipeline.Result{}, nil
}
func (nopTarget) Close(context.Context) error { return nil }

// orderJSON is a realistic ~300-byte order record; orderJSONFR is the same
// order from France.
var (
	orderJSON   = []byte(`{"order_id":"ord-000123456","customer":{"id":"cus-98765","email":"jane.doe@example.com","country":"DE"},"amount":129.95,"currency":"EUR","items":[{"sku":"SKU-1234","qty":2,"price":39.99},{"sku":"SKU-5678","qty":1,"price":49.97}],"status":"paid","created_at":"2026-11-22T10:15:30Z"}`)
	orderJSONFR = bytes.Replace(orderJSON, []byte(`"DE"`), []byte(`"FR"`), 1)
)

// BenchmarkCore measures the batch core alone: records already in memory go
// through 8 lanes to a no-op target, with a commit per batch. One op is one
// record.
func BenchmarkCore(b *testing.B) {
	for _, size := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			const partitions = 8
			per := (b.N + partitions - 1) / partitions
			src := memsource.New("orders", partitions, per, orderJSON)
			p := pipeline.New(pipeline.Options{Name: "bench", BatchSize: size, BatchWindow: 0}, src, pipeline.Stages{}, nopTarget{})
			b.SetBytes(int64(len(orderJSON) + 3))
			b.ReportAllocs()
			b.ResetTimer()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			<-src.Done()
			b.StopTimer()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if got := p.Stats().Delivered; got != int64(per*partitions) {
				b.Fatalf("delivered %d, want %d", got, per*partitions)
			}
		})
	}
}
