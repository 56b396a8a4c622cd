// Package logtest holds what tests need to read what code logs.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is a log destination safe to write from any goroutine and to read
// from the test's.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
