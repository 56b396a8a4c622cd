// Package stdout is the stdout target: it writes the delivered records as
// JSON lines in the ESM record shape to standard output (or any writer).
package stdout

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/file"
)

// Target writes batches to a writer, one write per batch.
type Target struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// New returns a target writing to w, or to os.Stdout when w is nil.
func New(w io.Writer) *Target {
	if w == nil {
		w = os.Stdout
	}
	return &Target{w: w}
}

// Deliver implements pipeline.Target.
func (t *Target) Deliver(_ context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = file.AppendLines(t.buf[:0], b)
	if _, err := t.w.Write(t.buf); err != nil {
		return pipeline.Result{}, fmt.Errorf("stdout target: %w", err)
	}
	return pipeline.Result{}, nil
}

// Close implements pipeline.Target.
func (t *Target) Close(context.Context) error { return nil }
