package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

func runWithStdin(in string, args ...string) (code int, stdout, stderr string) {
	old := stdin
	stdin = strings.NewReader(in)
	defer func() { stdin = old }()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func esmLine(value string) string {
	r := pipeline.Record{Topic: "orders", Offset: 1, Value: []byte(value)}
	return string(esm.AppendRecord(nil, &r))
}

func TestTestFilterPrintsMatchingLinesUnchanged(t *testing.T) {
	in := strings.Join([]string{
		esmLine(`{"amount": 150, "customer": {"country": "DE"}}`),
		esmLine(`{"amount": 15, "customer": {"country": "DE"}}`),
		esmLine(`{"amount": 500, "customer": {"country": "US"}}`),
		esmLine(`{"amount": 101, "customer": {"country": "FR"}}`),
	}, "\n") + "\n"
	lines := strings.Split(in, "\n")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"pattern", []string{"--pattern", `{"value":{"amount":[{"numeric":[">",100]}],"customer":{"country":["DE","FR"]}}}`}},
		{"expr", []string{"--expr", `value.amount > 100 && value.customer.country in ["DE","FR"]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runWithStdin(in, append([]string{"test", "filter"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			want := lines[0] + "\n" + lines[3] + "\n"
			if stdout != want {
				t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want)
			}
			if !strings.Contains(stderr, "4 records: 2 matched, 2 filtered out") {
				t.Fatalf("summary: %q", stderr)
			}
		})
	}
}

// Records an expression fails on are filtered out and counted, and the
// summary says what failed.
func TestTestFilterReportsExpressionErrors(t *testing.T) {
	in := esmLine(`{"amount": 150}`) + "\n" + esmLine(`{"total": 150}`) + "\n"
	code, stdout, stderr := runWithStdin(in, "test", "filter", "--expr", `value.amount > 100`)
	if code != 0 || stdout != strings.SplitAfter(in, "\n")[0] {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	want := "2 records: 1 matched, 1 filtered out (1 expression errors, counted as not matching)\n" +
		"expression error: filter 0 (value.amount > 100) on orders[0] offset 1: invalid operation: <nil> > int (1:14)\n"
	if stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
}

func TestTestFilterCriteriaFileAndRawInput(t *testing.T) {
	crit := filepath.Join(t.TempDir(), "criteria.json")
	pattern := `{"value":{"status":["paid"]}}`
	body := fmt.Sprintf(`{"Filters":[{"Pattern":%q}]}`, pattern)
	if err := os.WriteFile(crit, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	in := "{\"status\":\"paid\"}\n{\"status\":\"open\"}\nplain text\n"
	code, stdout, stderr := runWithStdin(in, "test", "filter", "--criteria", crit, "--raw")
	if code != 0 || stdout != "{\"status\":\"paid\"}\n" {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestTestFilterRejectsBadInputAndFlags(t *testing.T) {
	if code, _, stderr := runWithStdin("", "test", "filter"); code != 2 || !strings.Contains(stderr, "exactly one of") {
		t.Fatalf("no filter: code %d %q", code, stderr)
	}
	if code, _, stderr := runWithStdin("", "test", "filter", "--pattern", `{"value":{"a":[{"nope":1}]}}`); code != 1 || !strings.Contains(stderr, "nope") {
		t.Fatalf("bad pattern: code %d %q", code, stderr)
	}
	bad := `{"topic":"t","value":"` + base64.StdEncoding.EncodeToString([]byte(`{}`)) + `"}` + "\nnot an esm record\n"
	code, _, stderr := runWithStdin(bad, "test", "filter", "--pattern", `{"value":{"a":[1]}}`)
	if code != 1 || !strings.Contains(stderr, "input line 2") {
		t.Fatalf("unreadable input: code %d %q", code, stderr)
	}
}

func TestTestFileRunsTestsBlocks(t *testing.T) {
	code, stdout, _ := runCLI("test", "testdata/tested.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (one test fails on purpose)\n%s", code, stdout)
	}
	for _, want := range []string{
		"PASS  large European orders and priority orders pass",
		"FAIL  this expectation is wrong on purpose (tests[1])",
		"0 records came out, 1 expected",
		"1 passed, 1 failed",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// A failing test whose records an expression failed on says so, with
// the error.
func TestTestFileReportsExpressionErrors(t *testing.T) {
	code, stdout, _ := runCLI("test", "testdata/tested-errors.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	want := "FAIL  orders named total are expected to pass (tests[0])\n" +
		"      0 records came out, 1 expected\n" +
		"      1 expression errors (those records did not match that filter), such as filter 0 (value.amount > 100) on orders[0] offset 7: invalid operation: <nil> > int (1:14)\n"
	if !strings.Contains(stdout, want) {
		t.Errorf("output:\n%s\nwant it to contain:\n%s", stdout, want)
	}
}

func TestValidateReportsFilterCompileErrorsAtTheirLines(t *testing.T) {
	code, _, stderr := runCLI("validate", "testdata/bad-filters.yaml")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"testdata/bad-filters.yaml:7:18: pipelines[0].filters[0].pattern: at value.amount[0].numerc: unknown operator",
		"testdata/bad-filters.yaml:8:15: pipelines[0].filters[1].expr: expression line 1, column",
		"testdata/bad-filters.yaml:9:18: pipelines[0].filters[2].pattern: at value.a:",
		"testdata/bad-filters.yaml:10:22: pipelines[0].filter_criteria.Filters[0].Pattern: at value.a[0].wildcard:",
		"4 error(s)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stderr)
		}
	}
}

func TestTestEnrichRunsAModule(t *testing.T) {
	in := `{"customer":{"email":"ann@example.com","country":"DE"},"card":"4111"}` + "\n" + `[1,2]` + "\n"
	for _, lang := range []string{"go", "rust", "c", "assemblyscript"} {
		t.Run(lang, func(t *testing.T) {
			module := filepath.Join("..", "..", "enrichers", "wasm", "testdata", lang, "mask.wasm")
			code, stdout, stderr := runWithStdin(in, "test", "enrich", "--module", module, "--raw",
				"--config", `{"fields":["customer.email","card"]}`)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d output lines, want 2:\n%s", len(lines), stdout)
			}
			r, err := esm.ParseRecord([]byte(lines[0]))
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"customer":{"email":"***","country":"DE"},"card":"***"}`; string(r.Value) != want {
				t.Fatalf("masked value %s, want %s", r.Value, want)
			}
			if !strings.Contains(stderr, "2 records in, 2 out") {
				t.Fatalf("summary: %q", stderr)
			}
		})
	}
	if code, _, stderr := runWithStdin("", "test", "enrich", "--module", "missing.wasm"); code != 1 || !strings.Contains(stderr, "missing.wasm") {
		t.Fatalf("missing module: code %d %q", code, stderr)
	}
}
