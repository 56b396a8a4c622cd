// Command noop is the smallest enricher: it passes every record on
// unchanged. Penstock's benchmarks use it to measure the host.
package main

import penstock "github.com/penstock-dev/penstock/wasm-sdk/go"

func init() {
	penstock.Handle(func(config []byte) (penstock.Handler, error) {
		penstock.Log(penstock.LevelDebug, "noop enricher ready")
		return penstock.HandlerFunc(func(r *penstock.Record, out *penstock.Emitter) {
			out.Keep(r)
		}), nil
	})
}

func main() {}
