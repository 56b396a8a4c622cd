package filters

import "encoding/binary"

// The special bytes of a JSON document are the bytes a string scan must
// stop at: the quote, the backslash and the control bytes (0x00–0x1f, which
// JSON forbids inside strings). The scanner (scan.go) finds the end of a
// string by looking the next special byte up in a bitmap of them instead of
// testing the string's bytes one by one: bit j of word k of the bitmap is
// set when byte 64k+j is special.
//
// fillSpecials computes the bitmap on amd64 with AVX-512 (F and BW) or
// AVX2 where the CPU has them and SSE2 otherwise (specials_amd64.s; the
// purego build tag turns them off), and with specialsGo everywhere else. The tests and FuzzJSONReader
// check every version the CPU runs against the definition of a special
// byte (checkReader in scan_test.go).

// blockSize is the number of bytes one bitmap word covers.
const blockSize = 64

// specialsGo sets dst[k] to the bitmap of the special bytes of
// src[64k:64k+64], for every block of src (the last one may be short: bits
// past the end of src are zero). It is the portable version of
// fillSpecials: eight bytes at a time with word arithmetic.
func specialsGo(dst []uint64, src []byte) {
	n := len(src) / blockSize
	for k := 0; k < n; k++ {
		dst[k] = specialsBlock((*[blockSize]byte)(src[k*blockSize:]))
	}
	if r := len(src) % blockSize; r > 0 {
		t := padBlock // the tail, padded with a byte that is not special
		copy(t[:], src[n*blockSize:])
		dst[n] = specialsBlock(&t)
	}
}

// specialsBlock returns the bitmap of the special bytes of one block.
func specialsBlock(p *[blockSize]byte) uint64 {
	le := binary.LittleEndian
	return packHighs(specialWord(le.Uint64(p[0:]))) |
		packHighs(specialWord(le.Uint64(p[8:])))<<8 |
		packHighs(specialWord(le.Uint64(p[16:])))<<16 |
		packHighs(specialWord(le.Uint64(p[24:])))<<24 |
		packHighs(specialWord(le.Uint64(p[32:])))<<32 |
		packHighs(specialWord(le.Uint64(p[40:])))<<40 |
		packHighs(specialWord(le.Uint64(p[48:])))<<48 |
		packHighs(specialWord(le.Uint64(p[56:])))<<56
}

// padBlock is a block of a byte that is not special.
var padBlock = func() (t [blockSize]byte) {
	for i := range t {
		t[i] = 'a'
	}
	return t
}()

// specialWord returns x (eight bytes, the first in the low bits) with the
// high bit of each byte set when that byte is special, and every other bit
// clear. A control byte or a quote is a byte c with c^0x02 <= 0x20; the
// tests are exact per byte: no carry crosses a byte.
func specialWord(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	t := x ^ (ones * 0x02)
	s := x ^ (ones * '\\')
	above := ((t & low7) + ones*(0x80-0x21)) | t // high bit: c^0x02 > 0x20
	notBackslash := ((s & low7) + low7) | s      // high bit: c != '\\'
	return ^(above & notBackslash) & highs
}

// packHighs gathers the high bits of the eight bytes of h (all its other
// bits clear) into the low eight bits, the first byte's in bit 0.
func packHighs(h uint64) uint64 {
	// (h>>7) holds one bit per byte, at bits 8j; the multiplication moves
	// the bit of byte j to bit 56+j, and no two partial products overlap.
	return (h >> 7) * 0x0102040810204080 >> 56
}
