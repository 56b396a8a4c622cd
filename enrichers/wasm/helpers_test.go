package wasm

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

// cacheDir is the compilation cache the tests of a run share, so that each
// module compiles once.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "penstock-wasm-test-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logLines records what enrichers log.
type logLines struct {
	mu    sync.Mutex
	lines []logLine
}

type logLine struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) WithGroup(string) slog.Handler            { return l }
func (l *logLines) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrHandler{l: l, attrs: as}
}
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	return l.handle(nil, r)
}

func (l *logLines) handle(pre []slog.Attr, r slog.Record) error {
	line := logLine{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range pre {
		line.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		line.attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return nil
}

func (l *logLines) all() []logLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logLine(nil), l.lines...)
}

// count returns how many lines have msg.
func (l *logLines) count(msg string) int {
	n := 0
	for _, line := range l.all() {
		if line.msg == msg {
			n++
		}
	}
	return n
}

type attrHandler struct {
	l     *logLines
	attrs []slog.Attr
}

func (h *attrHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *attrHandler) WithGroup(string) slog.Handler            { return h }
func (h *attrHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrHandler{l: h.l, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}
func (h *attrHandler) Handle(_ context.Context, r slog.Record) error { return h.l.handle(h.attrs, r) }

// load creates an enricher for a test module (a path under testdata) and
// closes it when the test ends.
func load(t testing.TB, module string, o Options) (*Enricher, *logLines) {
	t.Helper()
	logs := &logLines{}
	o.Module = filepath.Join("testdata", module)
	if o.CacheDir == "" {
		o.CacheDir = cacheDir
	}
	if o.Logger == nil {
		o.Logger = slog.New(logs)
	}
	e, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return e, logs
}

// batch returns a batch of partition 0 of topic "t" with the given values
// at offsets from first on.
func batch(first int64, values ...string) *pipeline.Batch {
	b := &pipeline.Batch{TopicPartition: pipeline.TopicPartition{Topic: "t", Partition: 0}}
	for i, v := range values {
		b.Records = append(b.Records, pipeline.Record{
			Topic:     "t",
			Offset:    first + int64(i),
			Timestamp: 1700000000000 + int64(i),
			Key:       []byte(fmt.Sprintf("k%d", i)),
			Value:     []byte(v),
			Headers:   []pipeline.Header{{Key: "h", Value: []byte("v")}},
		})
		b.Status = append(b.Status, pipeline.Active)
	}
	return b
}

// values returns the values of b's records with their status.
func values(b *pipeline.Batch) string {
	var sb strings.Builder
	for i, r := range b.Records {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%d:%s", r.Offset, r.Value)
		switch b.Status[i] {
		case pipeline.Filtered:
			sb.WriteString("(filtered)")
		case pipeline.Delivered:
			sb.WriteString("(delivered)")
		case pipeline.Failed:
			sb.WriteString("(failed)")
		}
	}
	return sb.String()
}
