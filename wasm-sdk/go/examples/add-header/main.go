// Command add-header appends a header x-fnv1a to every record: the 32-bit
// FNV-1a hash of the value (an absent value hashes as empty), as 8
// lowercase hex digits. Key, value and existing headers are kept.
package main

import penstock "github.com/penstock-dev/penstock/wasm-sdk/go"

func init() {
	penstock.Handle(func(config []byte) (penstock.Handler, error) {
		return &adder{}, nil
	})
}

func main() {}

// adder reuses its buffers: Emit copies what it is given.
type adder struct {
	headers []penstock.Header
	hex     [8]byte
}

func (a *adder) Enrich(r *penstock.Record, out *penstock.Emitter) {
	const digits = "0123456789abcdef"
	h := fnv1a(r.Value)
	for i := range a.hex {
		a.hex[i] = digits[h>>(28-4*i)&0xf]
	}
	a.headers = append(a.headers[:0], r.Headers...)
	a.headers = append(a.headers, penstock.Header{Name: "x-fnv1a", Value: a.hex[:]})
	rec := *r
	rec.Headers = a.headers
	out.Emit(r, rec)
}

// fnv1a returns the 32-bit FNV-1a hash of b.
func fnv1a(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}
