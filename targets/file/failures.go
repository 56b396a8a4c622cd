package file

import (
	"context"
	"sync"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

// Failures is an on-failure destination that appends the ESM's on-failure
// record (SPEC §6) of every failure as one JSON line, synced before the
// failed records' offsets are committed.
type Failures struct {
	t   *Target
	rec *esm.FailureRecord
	mu  sync.Mutex
	buf []byte
	ev  []byte
}

// OpenFailures opens (creating if needed) the file at path for on-failure
// records written by rec.
func OpenFailures(path string, rec *esm.FailureRecord) (*Failures, error) {
	t, err := Open(path)
	if err != nil {
		return nil, err
	}
	return &Failures{t: t, rec: rec}, nil
}

// HandleFailure implements pipeline.FailureHandler.
func (f *Failures) HandleFailure(_ context.Context, fl *pipeline.Failure) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf, f.ev = f.rec.Append(f.buf[:0], f.ev, fl)
	f.buf = append(f.buf, '\n')
	return f.t.write(f.buf)
}

// Close implements pipeline.FailureHandler.
func (f *Failures) Close(ctx context.Context) error { return f.t.Close(ctx) }
