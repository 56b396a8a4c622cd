// Package file is the file target: it appends the delivered records as JSON
// lines in the ESM record shape and syncs the file once per batch, before the
// batch's offsets are committed.
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

// Target appends records to one file. It is safe for concurrent use by the
// lanes of a pipeline; each batch is written with one write and one sync.
type Target struct {
	path string
	mu   sync.Mutex
	f    *os.File
	size int64
	bufs sync.Pool
}

// Open opens (creating if needed) the file at path for appending. A last
// line without its newline, left by a process killed in the middle of a
// write, is cut off: its batch was never committed and will be delivered
// again.
func Open(path string) (*Target, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("file target: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("file target: %w", err)
	}
	size, err := repairTail(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("file target %s: %w", path, err)
	}
	return &Target{path: path, f: f, size: size}, nil
}

// repairTail truncates f after its last newline and returns the new size.
func repairTail(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end != size {
		if err := f.Truncate(end); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// Deliver implements pipeline.Target.
func (t *Target) Deliver(_ context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	bp, _ := t.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := AppendLines((*bp)[:0], b)
	err := t.write(buf)
	*bp = buf
	t.bufs.Put(bp)
	return pipeline.Result{}, err
}

// write appends buf to the file with one write and one sync. On failure the
// file is cut back, so no partial write is left for the retry to follow.
func (t *Target) write(buf []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return fmt.Errorf("file target %s: closed", t.path)
	}
	n, err := t.f.WriteAt(buf, t.size)
	if err == nil {
		err = t.f.Sync()
	}
	if err != nil {
		_ = t.f.Truncate(t.size)
		return fmt.Errorf("file target %s: %w", t.path, err)
	}
	t.size += int64(n)
	return nil
}

// Close implements pipeline.Target.
func (t *Target) Close(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}

// AppendLines appends the batch's Active records as ESM JSON lines.
func AppendLines(dst []byte, b *pipeline.Batch) []byte {
	for i := range b.Records {
		if b.Status[i] != pipeline.Active {
			continue
		}
		dst = esm.AppendRecord(dst, &b.Records[i])
		dst = append(dst, '\n')
	}
	return dst
}
