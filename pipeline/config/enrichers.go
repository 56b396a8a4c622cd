package config

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Enricher is one enrichment step of a pipeline; exactly one kind is set.
// Enrichers run in order, after the filters and before the target.
type Enricher struct {
	// WASM runs a WebAssembly module in-process (see wasm-sdk/ABI.md).
	WASM *WASMEnricher
	// Path is the enricher's field path, for errors found when it is built.
	Path string
}

// WASMEnricher configures a WebAssembly enricher.
type WASMEnricher struct {
	// Module is the path of the .wasm file; required. A relative path is
	// resolved against the directory of the config file.
	Module string
	// Config is passed to the module's penstock_init as JSON; default {}.
	// In the file it may be any YAML value.
	Config string
	// Timeout bounds each call into the module; default 2s, 1ms to 14m.
	Timeout time.Duration
	// MemoryLimit caps the module's memory; default 64MiB, 64KiB to 4GiB.
	MemoryLimit int64
	// MaxOutput caps one output batch; default 64MiB, 1KiB to 1GiB.
	MaxOutput int64
}

// Defaults and bounds of WASM enricher settings.
const (
	DefaultWASMTimeout     = 2 * time.Second
	MinWASMTimeout         = time.Millisecond
	MaxWASMTimeout         = 14 * time.Minute
	DefaultWASMMemoryLimit = 64 << 20
	MinWASMMemoryLimit     = 64 << 10
	MaxWASMMemoryLimit     = 4 << 30
	DefaultWASMMaxOutput   = 64 << 20
	MinWASMMaxOutput       = 1 << 10
	MaxWASMMaxOutput       = 1 << 30
)

func enrichersField(dst *[]Enricher) field {
	return field{key: "enrichers", decode: func(w *walker, n *yaml.Node, path string) bool {
		items, ok := w.list(n, path, "a list of enrichers")
		if !ok {
			return false
		}
		all := true
		for i, item := range items {
			p := index(path, i)
			e := Enricher{Path: p}
			kind := w.oneOf(item, p, "enricher", []field{
				{key: "wasm", decode: func(w *walker, n *yaml.Node, path string) bool {
					we := &WASMEnricher{Config: "{}", Timeout: DefaultWASMTimeout, MemoryLimit: DefaultWASMMemoryLimit, MaxOutput: DefaultWASMMaxOutput}
					b := w.mapping(n, path, []field{
						required(stringField("module", &we.Module, "a .wasm file path", checkFilePath)),
						{key: "config", decode: func(w *walker, n *yaml.Node, path string) bool {
							v := resolve(n)
							if isNull(v) {
								return true
							}
							js, err := nodeJSON(nil, v, 0)
							if err != nil {
								w.errorf(n, path, "%v", err)
								return false
							}
							we.Config = string(js)
							return true
						}},
						durationField("timeout", &we.Timeout, MinWASMTimeout, MaxWASMTimeout),
						sizeField("memory_limit", &we.MemoryLimit, MinWASMMemoryLimit, MaxWASMMemoryLimit),
						sizeField("max_output", &we.MaxOutput, MinWASMMaxOutput, MaxWASMMaxOutput),
					})
					if !b.ok || !b.valid("module") {
						return false
					}
					we.Module = w.resolvePath(we.Module)
					e.WASM = we
					return b.ok
				}},
			})
			if e.WASM == nil || kind == "" {
				all = false
				continue
			}
			e.Path = join(p, kind)
			*dst = append(*dst, e)
		}
		return all
	}}
}
