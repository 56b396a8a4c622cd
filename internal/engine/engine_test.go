package engine

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/logtest"
	"github.com/penstock-dev/penstock/pipeline/config"
)

func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte{'\n'})
}

// Pipelines of one process start and stop independently: stopping one
// leaves the other delivering.
func TestPipelinesStopIndependently(t *testing.T) {
	c := kafkatest.Start(t, 2, "a", "b")
	dir := t.TempDir()
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: pa
    source: {kafka: {bootstrap_servers: [%[1]q], topic: a, starting_position: TRIM_HORIZON, session_timeout: 2s}}
    batch: {window: 10ms}
    target: {file: {path: %[2]q}}
  - name: pb
    source: {kafka: {bootstrap_servers: [%[1]q], topic: b, starting_position: TRIM_HORIZON, session_timeout: 2s}}
    batch: {window: 10ms}
    target: {file: {path: %[3]q}}
`, c.Addrs[0], filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"))
	e := startYAML(t, dir, yaml, nil, Overrides{})
	prod := c.Producer(t)
	kafkatest.ProduceSync(t, prod, kafkatest.Numbered("a", 2, 0, 100, 50))
	kafkatest.ProduceSync(t, prod, kafkatest.Numbered("b", 2, 0, 100, 50))
	waitLines(t, filepath.Join(dir, "a.jsonl"), 100)
	waitLines(t, filepath.Join(dir, "b.jsonl"), 100)

	if err := e.StopPipeline("pa"); err != nil {
		t.Fatal(err)
	}
	kafkatest.ProduceSync(t, prod, kafkatest.Numbered("a", 2, 100, 100, 50))
	kafkatest.ProduceSync(t, prod, kafkatest.Numbered("b", 2, 100, 100, 50))
	waitLines(t, filepath.Join(dir, "b.jsonl"), 200)
	time.Sleep(200 * time.Millisecond)
	if n := lines(filepath.Join(dir, "a.jsonl")); n != 100 {
		t.Fatalf("the stopped pipeline delivered %d records, want 100", n)
	}
	if err := e.StopPipeline("nope"); err == nil {
		t.Fatal("stopping an unknown pipeline is not an error")
	}
}

func waitLines(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for lines(path) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d lines, want %d", path, lines(path), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startYAML parses yaml as dir/pipelines.yaml and starts its pipelines on
// an engine logging to logs (nil discards the log); the engine is stopped
// when the test ends.
func startYAML(t *testing.T, dir, yaml string, logs *logtest.Buffer, ov Overrides) *Engine {
	t.Helper()
	f, err := config.Parse(filepath.Join(dir, "pipelines.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	h := slog.DiscardHandler
	if logs != nil {
		h = slog.NewTextHandler(logs, nil)
	}
	e := New(slog.New(h), ov)
	if err := e.Start(f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.StopAll() })
	return e
}
