package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/penstock-dev/penstock/filters"
	"github.com/penstock-dev/penstock/internal/engine"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/pipeline/config"
)

const testUsage = `Usage:
  penstock test filter (--pattern JSON | --expr EXPR | --criteria FILE) [--input FILE] [--raw]
      prints the input records that pass, unchanged, one per line; a summary goes to stderr
  penstock test enrich --module M.wasm [--config JSON] [--input FILE] [--raw]
      runs a WASM enricher over the input records and prints its outputs
  penstock test FILE
      runs the tests: blocks of a pipelines file

Input records are JSON lines in the ESM record shape (as the file target writes
them: base64 key and value); with --raw, each input line is a plain record value.
`

func cmdTest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, testUsage)
		return 2
	}
	if args[0] == "filter" {
		return cmdTestFilter(args[1:], stdin, stdout, stderr)
	}
	if args[0] == "enrich" {
		return cmdTestEnrich(context.Background(), args[1:], stdin, stdout, stderr)
	}
	if len(args) != 1 {
		fmt.Fprint(stderr, testUsage)
		return 2
	}
	return cmdTestFile(args[0], stdout, stderr)
}

func cmdTestFilter(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test filter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pattern := fs.String("pattern", "", "a filter pattern (JSON)")
	expr := fs.String("expr", "", "an expr expression")
	criteria := fs.String("criteria", "", "a file holding Lambda FilterCriteria JSON: {\"Filters\":[{\"Pattern\":\"…\"}]}")
	input := fs.String("input", "", "input file (default: standard input)")
	raw := fs.Bool("raw", false, "each input line is a plain record value, not an ESM record")
	fs.Usage = func() { fmt.Fprint(stderr, testUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var specs []filters.Spec
	set := 0
	if *pattern != "" {
		specs = append(specs, filters.Spec{Pattern: *pattern})
		set++
	}
	if *expr != "" {
		specs = append(specs, filters.Spec{Expr: *expr})
		set++
	}
	if *criteria != "" {
		data, err := os.ReadFile(*criteria)
		if err != nil {
			fmt.Fprintf(stderr, "penstock: %v\n", err)
			return 1
		}
		s, err := filters.ParseESM(string(data))
		if err != nil {
			fmt.Fprintf(stderr, "penstock: %s: %v\n", *criteria, err)
			return 1
		}
		specs = append(specs, s...)
		set++
	}
	if set != 1 || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "penstock test filter: give exactly one of --pattern, --expr and --criteria")
		return 2
	}
	crit, err := filters.Compile(specs)
	if err != nil {
		fmt.Fprintf(stderr, "penstock: invalid filter: %v\n", err)
		return 1
	}
	in := stdin
	if *input != "" {
		f, err := os.Open(*input)
		if err != nil {
			fmt.Fprintf(stderr, "penstock: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var n, matched, bad int
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes()
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		var r pipeline.Record
		if *raw {
			r = pipeline.Record{Topic: "test", Value: text}
		} else if r, err = esm.ParseRecord(text); err != nil {
			fmt.Fprintf(stderr, "input line %d: %v\n", line, err)
			bad++
			continue
		}
		n++
		if crit.Match(&r) {
			matched++
			w.Write(text)
			w.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(stderr, "penstock: reading input: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "%d records: %d matched, %d filtered out", n, matched, n-matched)
	if e := crit.Stats().ExprErrors; e > 0 {
		fmt.Fprintf(stderr, " (%d expression errors, counted as not matching)", e)
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "; %d unreadable input lines", bad)
	}
	fmt.Fprintln(stderr)
	if last := crit.Stats().LastExprError; last != "" {
		fmt.Fprintf(stderr, "expression error: %s\n", last)
	}
	if bad > 0 {
		return 1
	}
	return 0
}

func cmdTestFile(path string, stdout, stderr io.Writer) int {
	f, ok := load(path, stderr)
	if !ok {
		return 1
	}
	if len(f.Tests) == 0 {
		fmt.Fprintf(stderr, "%s: no tests: blocks\n", path)
		return 1
	}
	failed := 0
	for _, t := range f.Tests {
		var pc *config.Pipeline
		for i := range f.Pipelines {
			if f.Pipelines[i].Name == t.Pipeline {
				pc = &f.Pipelines[i]
			}
		}
		problems := runTest(f, pc, &t)
		if len(problems) == 0 {
			fmt.Fprintf(stdout, "PASS  %s\n", t.Name)
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL  %s (%s)\n", t.Name, t.Path)
		for _, p := range problems {
			fmt.Fprintf(stdout, "      %s\n", p)
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", len(f.Tests)-failed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// runTest feeds t's input through pc's filters and compares the records that
// pass with t's expectations. It returns what differs.
func runTest(f *config.File, pc *config.Pipeline, t *config.Test) []string {
	crit, err := engine.BuildFilter(f, pc)
	if err != nil {
		return []string{err.Error()}
	}
	var out []pipeline.Record
	for i := range t.Input {
		r := testRecord(&t.Input[i], pc)
		if crit == nil || crit.Match(&r) {
			out = append(out, r)
		}
	}
	var problems []string
	if len(out) != len(t.Expect) {
		problems = append(problems, fmt.Sprintf("%d records came out, %d expected", len(out), len(t.Expect)))
	}
	for i := 0; i < len(out) && i < len(t.Expect); i++ {
		if d := diffRecord(&out[i], &t.Expect[i]); d != "" {
			problems = append(problems, fmt.Sprintf("record %d (%s): %s", i, t.Expect[i].Path, d))
		}
	}
	for i := len(t.Expect); i < len(out); i++ {
		problems = append(problems, fmt.Sprintf("unexpected record %d: value %s", i, show(out[i].Value)))
	}
	if crit != nil && len(problems) > 0 {
		if s := crit.Stats(); s.ExprErrors > 0 {
			problems = append(problems, fmt.Sprintf("%d expression errors (those records did not match that filter), such as %s", s.ExprErrors, s.LastExprError))
		}
	}
	return problems
}

func testRecord(tr *config.TestRecord, pc *config.Pipeline) pipeline.Record {
	r := pipeline.Record{Topic: tr.Topic, Partition: int32(tr.Partition), Offset: int64(tr.Offset)}
	if r.Topic == "" && pc.Source.Kafka != nil {
		r.Topic = pc.Source.Kafka.Topic
	}
	if !tr.Timestamp.IsZero() {
		r.Timestamp = tr.Timestamp.UnixMilli()
	}
	if tr.Key != nil {
		r.Key = []byte(*tr.Key)
	}
	if tr.Value != nil {
		r.Value = []byte(*tr.Value)
	}
	for _, k := range sortedKeys(tr.Headers) {
		r.Headers = append(r.Headers, pipeline.Header{Key: k, Value: []byte(tr.Headers[k])})
	}
	return r
}

// diffRecord compares a record that came out with an expected one: values
// as JSON when both are JSON, else byte for byte; the key when the
// expectation names one; the headers the expectation names.
func diffRecord(got *pipeline.Record, want *config.TestRecord) string {
	var d []string
	switch {
	case want.Value == nil && got.Value != nil:
		d = append(d, fmt.Sprintf("value %s, expected null", show(got.Value)))
	case want.Value != nil && !sameValue(got.Value, []byte(*want.Value)):
		d = append(d, fmt.Sprintf("value %s, expected %s", show(got.Value), show([]byte(*want.Value))))
	}
	if want.Key != nil && string(got.Key) != *want.Key {
		d = append(d, fmt.Sprintf("key %q, expected %q", got.Key, *want.Key))
	}
	for _, k := range sortedKeys(want.Headers) {
		found := false
		for _, h := range got.Headers {
			if h.Key == k && string(h.Value) == want.Headers[k] {
				found = true
			}
		}
		if !found {
			d = append(d, fmt.Sprintf("header %q is not %q", k, want.Headers[k]))
		}
	}
	return strings.Join(d, "; ")
}

func sameValue(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil {
		xa, _ := json.Marshal(x)
		ya, _ := json.Marshal(y)
		return bytes.Equal(xa, ya)
	}
	return bytes.Equal(a, b)
}

func show(v []byte) string {
	if v == nil {
		return "null"
	}
	if len(v) > 200 {
		return fmt.Sprintf("%q…", v[:200])
	}
	return fmt.Sprintf("%q", v)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
