package wasm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// testModules returns the paths of every .wasm file under testdata.
func testModules(t testing.TB) []string {
	t.Helper()
	var paths []string
	for _, pattern := range []string{"testdata/*/*.wasm"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) < 10 {
		t.Fatalf("only %d test modules", len(paths))
	}
	return paths
}

func TestInstrumentedModulesCompile(t *testing.T) {
	ctx := context.Background()
	// The interpreter validates as the compiler does, faster.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	for _, path := range testModules(t) {
		t.Run(path, func(t *testing.T) {
			bin, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rt.CompileModule(ctx, bin); err != nil {
				t.Skipf("not a valid module: %v", err)
			}
			out, err := instrument(bin)
			switch {
			case strings.HasSuffix(path, "exports-stop.wasm"):
				if err == nil || !strings.Contains(err.Error(), "exports __penstock_stop, a name Penstock reserves") {
					t.Fatalf("error %v", err)
				}
				return
			case strings.HasSuffix(path, "env.wasm"):
				if err == nil || err.Error() != "the module has no memory" {
					t.Fatalf("error %v", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if _, err := rt.CompileModule(ctx, out); err != nil {
				t.Fatalf("instrumented module does not compile: %v", err)
			}
		})
	}
}

// Instrumentation keeps every index of a module with imported and defined
// globals, a table, a start function and data, and its stop flag stops it.
func TestInstrumentKeepsBehaviour(t *testing.T) {
	ctx := context.Background()
	run := func(bin []byte, stop bool) (uint64, error) {
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		env, _ := os.ReadFile("testdata/wat/env.wasm")
		if _, err := rt.InstantiateWithConfig(ctx, env, wazero.NewModuleConfig().WithName("env")); err != nil {
			t.Fatal(err)
		}
		m, err := rt.Instantiate(ctx, bin)
		if err != nil {
			t.Fatal(err)
		}
		n := uint64(3)
		if stop {
			m.ExportedGlobal(stopExport).(api.MutableGlobal).Set(1)
			n = 1 << 31
		}
		r, err := m.ExportedFunction("loops").Call(ctx, n)
		if err != nil {
			return 0, err
		}
		return r[0], nil
	}
	bin, err := os.ReadFile("testdata/wat/sections.wasm")
	if err != nil {
		t.Fatal(err)
	}
	out, err := instrument(bin)
	if err != nil {
		t.Fatal(err)
	}
	want, err := run(bin, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := run(out, false)
	if err != nil || got != want || want != 9+3+3+5+9 {
		t.Fatalf("instrumented: %d %v; original: %d", got, err, want)
	}
	if _, err := run(out, true); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("stop flag set: %v", err)
	}
}

func TestInstrumentDropsDWARF(t *testing.T) {
	bin, err := os.ReadFile("testdata/wat/noop.wasm")
	if err != nil {
		t.Fatal(err)
	}
	custom := func(name, body string) []byte {
		payload := appendName(nil, name)
		payload = append(payload, body...)
		return append(appendU32([]byte{secCustom}, uint32(len(payload))), payload...)
	}
	bin = append(bin, custom(".debug_info", "offsets")...)
	bin = append(bin, custom("producers", "kept")...)
	out, err := instrument(bin)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), ".debug_info") || !strings.Contains(string(out), "producers") {
		t.Fatal("DWARF kept or other custom section dropped")
	}
}

func TestInstrumentRejects(t *testing.T) {
	for _, tt := range []struct{ bin, want string }{
		{"", "not a WebAssembly module"},
		{"\x00asm\x02\x00\x00\x00", "not a WebAssembly 1.0 binary"},
		{"\x00asm\x01\x00\x00\x00", "the module has no memory"},
		{"\x00asm\x01\x00\x00\x00\x05\x09", "section 5: truncated"},
	} {
		if _, err := instrument([]byte(tt.bin)); err == nil || err.Error() != tt.want {
			t.Errorf("%q: error %v, want %q", tt.bin, err, tt.want)
		}
	}
}

// FuzzInstrument checks that instrument never panics, and that a module
// wazero compiles still compiles once instrumented.
func FuzzInstrument(f *testing.F) {
	for _, path := range testModules(f) {
		if strings.HasPrefix(path, "testdata/wat/") {
			bin, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(bin)
		}
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Fuzz(func(t *testing.T, bin []byte) {
		out, err := instrument(bin)
		if err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, bin); err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("valid module fails to compile once instrumented: %v", err)
		}
	})
}
