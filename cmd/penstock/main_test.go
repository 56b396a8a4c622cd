package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the penstock command built once for the tests that run it as a
// separate process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "penstock-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "penstock")
	// -pgo=off: the tests need the command's behaviour, which the
	// profile-guided build (default.pgo) does not change, not its speed.
	out, err := exec.Command("go", "build", "-pgo=off", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// writeConfig writes a one-pipeline config reading topic from brokers into
// out, with extra YAML lines appended to the pipeline.
func writeConfig(t *testing.T, brokers, topic, group, out string, extra ...string) string {
	t.Helper()
	cfg := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source:
      kafka:
        bootstrap_servers: [%q]
        topic: %s
        consumer_group_id: %s
        starting_position: TRIM_HORIZON
        session_timeout: 2s
    batch: { size: 100, window: 50ms }
    target:
      file: { path: %q }
`, brokers, topic, group, out)
	for _, e := range extra {
		cfg += e + "\n"
	}
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// countLines counts complete lines in path (0 if it does not exist).
func countLines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte{'\n'})
}

type outRec struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Value     []byte `json:"value"`
}

// readOut parses the complete lines of path. A last line without its
// newline is a write in progress (or the torn tail of a killed process,
// which the next start truncates) and is left out.
func readOut(t *testing.T, path string) []outRec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	var out []outRec
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r outRec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("corrupt output line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestValidateReportsEveryErrorAndExitsOne(t *testing.T) {
	code, _, stderr := runCLI("validate", "../../pipeline/config/testdata/errors/many-errors.yaml")
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	golden, err := os.ReadFile("../../pipeline/config/testdata/errors/many-errors.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(golden)), "\n") {
		line = strings.Replace(line, "testdata/errors/", "../../pipeline/config/testdata/errors/", 1)
		if !strings.Contains(stderr, line) {
			t.Errorf("validate output lacks %q\noutput:\n%s", line, stderr)
		}
	}
	if !strings.Contains(stderr, "12 error(s)") {
		t.Errorf("validate output lacks the error count:\n%s", stderr)
	}
}

func TestValidateAcceptsTheExampleFile(t *testing.T) {
	code, stdout, stderr := runCLI("validate", "../../pipelines.yaml")
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "valid, 1 pipeline(s), 1 enabled") {
		t.Fatalf("stdout = %q", stdout)
	}
}

func TestValidateMissingFile(t *testing.T) {
	code, _, stderr := runCLI("validate", "does-not-exist.yaml")
	if code != 1 || !strings.Contains(stderr, "does-not-exist.yaml") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

func TestUnknownCommandAndUsage(t *testing.T) {
	if code, _, stderr := runCLI("frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if code, _, _ := runCLI(); code != 2 {
		t.Fatalf("no arguments: code %d, want 2", code)
	}
	if code, stdout, _ := runCLI("version"); code != 0 || !strings.HasPrefix(stdout, "penstock ") {
		t.Fatalf("version: code %d stdout %q", code, stdout)
	}
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
