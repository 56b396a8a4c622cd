package filters

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

// orderValue is a typical ~300-byte order record.
const orderValue = `{"order_id":"ord-000123456","customer":{"id":"cus-98765","email":"jane.doe@example.com","country":"DE"},"amount":129.95,"currency":"EUR","items":[{"sku":"SKU-1234","qty":2,"price":39.99},{"sku":"SKU-5678","qty":1,"price":49.97}],"status":"paid","created_at":"2026-11-22T10:15:30Z"}`

func orderRecord() *pipeline.Record {
	return &pipeline.Record{
		Key:       []byte("ord-000123456"),
		Value:     []byte(orderValue),
		Topic:     "orders",
		Partition: 3,
		Offset:    42,
		Timestamp: 1795342530000,
		Headers:   []pipeline.Header{{Key: "type", Value: []byte("order")}},
	}
}

// benchCases are the BenchmarkFilter sub-benchmarks; each must match the
// order record.
var benchCases = []struct {
	name  string
	specs []Spec
}{
	{"pattern/two-field", []Spec{{Pattern: `{"value":{"amount":[{"numeric":[">",100]}],"customer":{"country":["DE","FR"]}}}`}}},
	{"expr/two-field", []Spec{{Expr: `value.amount > 100 && value.customer.country in ["DE","FR"]`}}},
	{"pattern/nested-path", []Spec{{Pattern: `{"value":{"customer":{"email":[{"suffix":"@example.com"}]}}}`}}},
	{"expr/nested-path", []Spec{{Expr: `value.customer.email endsWith "@example.com"`}}},
	{"pattern/array-field", []Spec{{Pattern: `{"value":{"items":{"sku":["SKU-5678"]}}}`}}},
	{"expr/array-field", []Spec{{Expr: `value.items[1].sku == "SKU-5678"`}}},
	{"pattern/10-filters", tenPatterns()},
	{"expr/10-filters", tenExprs()},
	{"expr/optional", []Spec{{Expr: `(value?.amount ?? 0) > 100 && value?.customer?.country in ["DE","FR"]`}}},
	{"expr/arithmetic", []Spec{{Expr: `len(value.items) == 2 && value.amount * 2 > 200`}}},
	{"expr/closure", []Spec{{Expr: `any(value.items, .qty > 1) && value.amount > 100`}}},
	{"expr/fallback-vm", []Spec{{Expr: `sum(map(value.items, .qty)) == 3 && value.amount > 100`}}},
}

// tenPatterns are ten filters of which only the last matches.
func tenPatterns() []Spec {
	var s []Spec
	for i := 0; i < 9; i++ {
		s = append(s, Spec{Pattern: fmt.Sprintf(`{"value":{"status":["state-%d"],"amount":[{"numeric":[">",%d]}]}}`, i, i*10)})
	}
	return append(s, Spec{Pattern: `{"value":{"status":["paid"],"customer":{"country":["DE"]}}}`})
}

func tenExprs() []Spec {
	var s []Spec
	for i := 0; i < 9; i++ {
		s = append(s, Spec{Expr: fmt.Sprintf(`value.status == "state-%d" && value.amount > %d`, i, i*10)})
	}
	return append(s, Spec{Expr: `value.status == "paid" && value.customer.country == "DE"`})
}

func BenchmarkFilter(b *testing.B) {
	r := orderRecord()
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			c, err := Compile(bc.specs)
			if err != nil {
				b.Fatal(err)
			}
			if !c.Match(r) {
				b.Fatal("the benchmark record does not match")
			}
			b.SetBytes(int64(len(r.Value)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if !c.Match(r) {
					b.Fatal("no match")
				}
			}
		})
	}
}

// BenchmarkFilterBatch runs the same cases the way a pipeline filters:
// FilterBatch on batches of 100 records (one reader state per batch instead
// of a pool round trip per record). One op is one record.
func BenchmarkFilterBatch(b *testing.B) {
	const size = 100
	recs := make([]pipeline.Record, size)
	status := make([]pipeline.Status, size)
	for i := range recs {
		recs[i] = *orderRecord()
	}
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			c, err := Compile(bc.specs)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(orderValue)))
			b.ReportAllocs()
			bt := &pipeline.Batch{}
			for i := 0; i < b.N; i += size {
				n := min(size, b.N-i)
				bt.Records, bt.Status = recs[:n], status[:n]
				c.FilterBatch(bt)
			}
			b.StopTimer()
			for _, st := range status {
				if st != pipeline.Active {
					b.Fatal("the benchmark record was filtered out")
				}
			}
		})
	}
}

// BenchmarkReader measures the floor under every filter that reads the
// value: checking that the whole record value is JSON (a value that is not
// is a plain string, and must not match patterns on its fields).
func BenchmarkReader(b *testing.B) {
	v := []byte(orderValue)
	b.Run("validate", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !validJSON(v) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json-valid", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !json.Valid(v) {
				b.Fatal("invalid")
			}
		}
	})
}

// FilterBatch marks exactly the Active records Match refuses, and leaves
// records that are not Active as they are.
func TestFilterBatchAgreesWithMatch(t *testing.T) {
	other := *orderRecord()
	other.Value = []byte(`{"customer":{"country":"US"},"amount":5}`)
	plain := *orderRecord()
	plain.Value = []byte(`not json`)
	for _, bc := range benchCases {
		c, err := Compile(bc.specs)
		if err != nil {
			t.Fatal(err)
		}
		b := &pipeline.Batch{}
		for i, r := range []pipeline.Record{*orderRecord(), other, plain, *orderRecord(), other} {
			b.Records = append(b.Records, r)
			st := pipeline.Active
			if i == 4 {
				st = pipeline.Rejected
			}
			b.Status = append(b.Status, st)
		}
		c.FilterBatch(b)
		for i := range b.Records {
			want := pipeline.Active
			switch {
			case i == 4:
				want = pipeline.Rejected
			case !c.Match(&b.Records[i]):
				want = pipeline.Filtered
			}
			if b.Status[i] != want {
				t.Fatalf("%s: record %d: status %v, want %v", bc.name, i, b.Status[i], want)
			}
		}
		if b.Status[0] != pipeline.Active || b.Status[2] != pipeline.Filtered {
			t.Fatalf("%s: the order record or the plain string: %v", bc.name, b.Status)
		}
	}
}
