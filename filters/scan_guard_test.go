//go:build linux

package filters

import (
	"syscall"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

// TestScannerReadsNothingPastTheEnd places documents so that they end
// where a page the process may not read begins: a read past the end of a
// document (the scanner reads two bytes at once after strings, colons and
// commas, and the bitmap sixteen or thirty-two) faults and fails the test.
// Records handed to filters can end at the end of a mapping.
func TestScannerReadsNothingPastTheEnd(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	criteria := []*Criteria{
		mustCompile(t, Spec{Pattern: `{"value":{"amount":[{"numeric":[">",100]}],"customer":{"country":["DE","FR"]}}}`}),
		mustCompile(t, Spec{Expr: `value.status == "paid" && value.items[1].sku == "SKU-5678"`}),
		mustCompile(t, Spec{Pattern: `{"value":["b"]}`}),
	}
	docs := []string{orderValue, `["a","b","c"]`, `{"a":"b","c":"d"}`, `{"a" : "b" , "c":["d","e"]}`, `"b"`, `{"a":1,"b":"c"}`}
	for _, d := range docs {
		for n := 0; n <= len(d); n++ {
			b := mem[page-n : page : page]
			copy(b, d[:n])
			if got, want := validJSON(b), refValid(b); got != want {
				t.Fatalf("validJSON(%q) = %v, want %v", b, got, want)
			}
			r := &pipeline.Record{Value: b}
			for _, c := range criteria {
				c.Match(r)
			}
		}
	}
}
