package wasm

import (
	"github.com/tetratelabs/wazero/experimental"
)

// linearMemory backs one instance's memory and enforces the memory limit
// itself, instead of wazero's WithMemoryLimitPages, so that a refused grow
// is known: a guest that then traps failed because of the limit, which the
// error says. Memory never shrinks, and bytes past the length are always
// zero (append clears what it adds), as memory.grow requires.
type linearMemory struct {
	buf   []byte
	limit uint64
	// refused is set when a grow past the limit was refused, until the host
	// clears it before its next call.
	refused bool
}

// Reallocate implements experimental.LinearMemory.
func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	m.buf = append(m.buf, make([]byte, size-uint64(len(m.buf)))...)
	return m.buf
}

// Free implements experimental.LinearMemory. The guest may still be running
// when a timeout closes its module, so the buffer is only let go, never
// reused.
func (m *linearMemory) Free() { m.buf = nil }

// memoryAllocator creates the memory of one instance.
type memoryAllocator struct {
	limit uint64
	mem   *linearMemory
}

// Allocate implements experimental.MemoryAllocator.
func (a *memoryAllocator) Allocate(_, maxBytes uint64) experimental.LinearMemory {
	a.mem = &linearMemory{limit: min(maxBytes, a.limit)}
	return a.mem
}
