package wasm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden outputs in wasm-sdk/testdata from the Go examples")

// goldenDir holds the golden input and outputs every SDK must reproduce.
const goldenDir = "../../wasm-sdk/testdata"

// sdkLanguages are the directories of testdata that hold the examples built
// with each SDK. A directory that is present must hold every example.
var sdkLanguages = []string{"go", "rust", "c", "assemblyscript"}

// examples are the SDK examples with the config the golden outputs use.
var examples = []struct {
	name   string
	config string
}{
	{"mask", `{"fields": ["customer.email", "card"]}`},
	{"add-header", `{}`},
	{"split", `{}`},
}

func readGoldenInput(t testing.TB) []pipeline.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(goldenDir, "golden-input.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []pipeline.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		r, err := esm.ParseRecord(sc.Bytes())
		if err != nil {
			t.Fatalf("golden-input.jsonl:%d: %v", n, err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// goldenBatch returns a batch of records (all of one partition).
func goldenBatch(recs []pipeline.Record) *pipeline.Batch {
	b := &pipeline.Batch{TopicPartition: pipeline.TopicPartition{Topic: recs[0].Topic, Partition: recs[0].Partition}}
	b.Records = append([]pipeline.Record(nil), recs...)
	b.Status = make([]pipeline.Status, len(recs))
	return b
}

// appendOutput appends the Active records of b as ESM lines.
func appendOutput(dst []byte, b *pipeline.Batch) []byte {
	for i := range b.Records {
		if b.Status[i] == pipeline.Active {
			dst = esm.AppendRecord(dst, &b.Records[i])
			dst = append(dst, '\n')
		}
	}
	return dst
}

// appendErrors appends the per-record errors of err as lines.
func appendErrors(dst []byte, err *RecordErrors) []byte {
	for _, re := range err.Errors {
		dst = append(dst, `{"offset":`...)
		dst = strconv.AppendInt(dst, re.Offset, 10)
		dst = append(dst, `,"error":`...)
		dst = esm.AppendString(dst, re.Message)
		dst = append(dst, "}\n"...)
	}
	return dst
}

// runGolden runs every input record as its own batch through e, on one
// instance, and returns the output lines.
func runGolden(t *testing.T, e *Enricher, recs []pipeline.Record) []byte {
	t.Helper()
	var out []byte
	for _, r := range recs {
		b := goldenBatch([]pipeline.Record{r})
		err := e.Enrich(context.Background(), b)
		var re *RecordErrors
		switch {
		case errors.As(err, &re):
			out = appendErrors(out, re)
		case err != nil:
			t.Fatalf("offset %d: %v", r.Offset, err)
		default:
			out = appendOutput(out, b)
		}
	}
	return out
}

// TestGolden runs each SDK's examples over golden-input.jsonl and compares
// their outputs with golden-<example>.jsonl byte for byte. With -update it
// rewrites the golden outputs from the Go examples.
func TestGolden(t *testing.T) {
	recs := readGoldenInput(t)
	found := 0
	for _, lang := range sdkLanguages {
		dir := filepath.Join("testdata", lang)
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			continue
		}
		found++
		for _, ex := range examples {
			t.Run(lang+"/"+ex.name, func(t *testing.T) {
				module := filepath.Join(lang, ex.name+".wasm")
				if _, err := os.Stat(filepath.Join("testdata", module)); err != nil {
					t.Fatalf("%s has no %s example: %v", dir, ex.name, err)
				}
				e, _ := load(t, module, Options{Config: []byte(ex.config)})
				got := runGolden(t, e, recs)
				golden := filepath.Join(goldenDir, "golden-"+ex.name+".jsonl")
				if *update && lang == "go" {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("output differs from %s:\n%s", golden, lineDiff(got, want))
				}

				// The records without errors, as one batch, give the same
				// records as one batch each.
				var ok []pipeline.Record
				var wantOK []byte
				for _, r := range recs {
					b := goldenBatch([]pipeline.Record{r})
					if e.Enrich(context.Background(), b) == nil {
						ok = append(ok, r)
						wantOK = appendOutput(wantOK, b)
					}
				}
				b := goldenBatch(ok)
				if err := e.Enrich(context.Background(), b); err != nil {
					t.Fatal(err)
				}
				if gotOK := appendOutput(nil, b); !bytes.Equal(gotOK, wantOK) {
					t.Fatalf("one batch differs from a batch per record:\n%s", lineDiff(gotOK, wantOK))
				}
			})
		}
	}
	if found == 0 {
		t.Fatal("no SDK examples under testdata")
	}
}

// lineDiff describes the first difference between two sets of lines.
func lineDiff(got, want []byte) string {
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "(no line differs)"
}
