package filters

import (
	"sync"
	"testing"
)

func TestMatchAllocatesNothing(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts")
	}
	r := orderRecord()
	for _, bc := range benchCases {
		if bc.name == "expr/fallback-vm" {
			continue // expr's VM allocates
		}
		c := mustCompile(t, bc.specs...)
		c.Match(r)
		if n := testing.AllocsPerRun(200, func() { c.Match(r) }); n != 0 {
			t.Errorf("%s: %v allocations per record", bc.name, n)
		}
	}
	// Escaped strings, plain values and headers too.
	c := mustCompile(t,
		Spec{Pattern: `{"value":{"s":[{"equals-ignore-case":"CAFÉ"}]},"headers":{"type":["order"]}}`},
		Spec{Pattern: `{"value":[{"prefix":"ERR"}]}`},
		Spec{Expr: `lower(value.s) == "café" && headers.type == "order"`},
	)
	// Arithmetic, len and joined strings (in the scratch buffer).
	x := mustCompile(t, Spec{Expr: `len(upper(value.s) + "!") > 9 || value.n * 2 / 3 > 5 || offset % 7 == 9 || len(value.a) < 0`})
	for _, v := range []string{`{"s":"caf\u00e9"}`, `ERR disk`, `{"s":"x"}`, `{"s":"","n":3,"a":[1,[2],{"b":"]"}]}`} {
		r := val(sp(v))
		for _, c := range []*Criteria{c, x} {
			c.Match(r)
			if n := testing.AllocsPerRun(200, func() { c.Match(r) }); n != 0 {
				t.Errorf("%s: %v allocations per record", v, n)
			}
		}
	}
}

func TestMatchConcurrent(t *testing.T) {
	c := mustCompile(t,
		Spec{Pattern: `{"value":{"amount":[{"numeric":[">",100]}],"customer":{"country":["DE","FR"]}}}`},
		Spec{Expr: `value.items[0].sku == "SKU-1234" && len(value.items) == 2`},
	)
	yes, no := orderRecord(), val(sp(`{"amount":5}`))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if !c.Match(yes) || c.Match(no) {
					t.Error("wrong result under concurrency")
					return
				}
			}
		}()
	}
	wg.Wait()
}
