package wasm

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		module string
		opts   Options
		is     error
		want   string
	}{
		{name: "wrong ABI version", module: "wat/badversion.wasm", is: ErrABIVersion,
			want: `wasm enricher "badversion": unsupported ABI version: penstock_abi_version returned 2; this Penstock implements version 1`},
		{name: "missing export", module: "wat/noenrich.wasm", is: ErrMissingExport,
			want: `wasm enricher "noenrich": missing export: the module does not export penstock_enrich (i32, i32) -> (i64)`},
		{name: "init fails", module: "wat/initfail.wasm", is: ErrInit,
			want: `wasm enricher "initfail": init failed: config has no "fields"`},
		{name: "init loops", module: "wat/faulty.wasm", opts: Options{Config: []byte(`"loop"`), Timeout: 50 * time.Millisecond}, is: ErrTimeout,
			want: `wasm enricher "faulty": timed out: penstock_init ran longer than 50ms`},
		{name: "init traps", module: "wat/faulty.wasm", opts: Options{Config: []byte(`"trap"`)}, is: ErrTrap,
			want: `wasm enricher "faulty": trap: penstock_init: wasm error: unreachable`},
		{name: "Go init error", module: "go/mask.wasm", opts: Options{Config: []byte(`{"paths": []}`)}, is: ErrInit,
			want: `wasm enricher "mask": init failed: mask: config needs "fields", a list of dotted paths such as "customer.email"`},
		{name: "unknown import", module: "wat/badimport.wasm",
			want: `wasm enricher "badimport": imports env.now, which Penstock does not provide`},
		{name: "initial memory over the limit", module: "wat/noop.wasm", opts: Options{MemoryLimit: 64 << 10}, is: ErrMemoryLimit,
			want: `wasm enricher "noop": memory limit reached: the module starts with 128 KiB of memory`},
		{name: "config not JSON", module: "wat/noop.wasm", opts: Options{Config: []byte(`{fields}`)},
			want: `wasm enricher "noop": config is not valid JSON`},
		{name: "named module", module: "wat/noenrich.wasm", opts: Options{Name: "enrich-orders"}, is: ErrMissingExport,
			want: `wasm enricher "enrich-orders": missing export`},
		{name: "no such file", module: "wat/nothere.wasm",
			want: `wasm enricher "nothere": open testdata/wat/nothere.wasm: no such file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Module = filepath.Join("testdata", tt.module)
			o.CacheDir = cacheDir
			start := time.Now()
			e, err := New(context.Background(), o)
			if e != nil {
				e.Close(context.Background())
				t.Fatal("New succeeded")
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("took %v", took)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error\n %q\nwant it to start with\n %q", err, tt.want)
			}
			var we *Error
			if !errors.As(err, &we) || we.FirstOffset != -1 {
				t.Fatalf("error %#v is not a load-time *Error", err)
			}
		})
	}
}

func TestDefaultName(t *testing.T) {
	e, _ := load(t, "go/add-header.wasm", Options{})
	if e.name != "add-header" {
		t.Fatalf("name %q", e.name)
	}
}
