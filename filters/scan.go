package filters

import (
	"encoding/binary"
	"math/bits"
)

// The scanner validates and skips JSON values for the walker, in one pass
// with it. Profiling showed the cost of a filter on a typical record is
// that of validating the whole value (a value that is not JSON is a plain
// string, and must not match patterns on its fields), and that this cost
// was the chain of dependent steps a byte-at-a-time scan makes: the end of
// each string had to be found before the next could be looked at.
//
// So the scanner finds the ends of strings in a bitmap of the document's
// special bytes (quotes, backslashes and control bytes, see specials.go),
// computed in bulk 64 bytes at a time, with SIMD on amd64. Walking through
// a run of strings then only takes the next bits of the bitmap (cursor),
// whatever the strings' lengths, and a string with no special byte inside
// is valid by construction. Strings with escapes, control bytes or more
// than 64 bytes take the general path (strFrom), as do numbers, literals
// and the structure, which are checked byte by byte (numbers eight bytes
// at a time where they can be, see scanNumber).
//
// Skipping a value validates it entirely, with the same rules as the rest
// of the reader: a skipped value that is not JSON makes the whole document
// not JSON. The tests compare the scanner with a plain reference reader
// (scan_test.go) and with encoding/json.

// blockShift is log2(blockSize).
const blockShift = 6

// winBlocks is the number of blocks whose bitmap the scanner holds: a
// document of up to 4 KiB is mapped at once when it is loaded, a longer
// one a window at a time as the walk reaches it.
const winBlocks = 64

// scanner holds a document and the bitmap of its special bytes for the
// window of blocks [lo, lo+n), and in win[n] the bitmap of the block after
// the window (zero past the end of the document), so that the 64 bits from
// any position in the window can be read at once.
type scanner struct {
	b   []byte
	cur cursor // see cursor; the loops keep it in a register meanwhile
	lo  int
	n   int
	win [winBlocks + 1]uint64
}

// load makes b the scanner's document.
func (sc *scanner) load(b []byte) {
	sc.b = b
	sc.cur = cursor{}
	sc.mapWindow(0)
}

// mapWindow computes the bitmap of the window starting at block k.
func (sc *scanner) mapWindow(k int) {
	b := sc.b
	src := b[min(k<<blockShift, len(b)):min((k+winBlocks+1)<<blockShift, len(b))]
	m := (len(src) + blockSize - 1) >> blockShift // at most winBlocks+1
	fillSpecials(sc.win[:m], src)
	if m <= winBlocks {
		sc.win[m] = 0
	}
	sc.lo = k
	sc.n = min(m, winBlocks)
}

// bitsAt returns the bitmap of the 64 bytes from p, whose block must be
// in the window (j = p's block - lo, j < n).
func (sc *scanner) bitsAt(j uint, p int) uint64 {
	j %= winBlocks // j < n <= winBlocks: no bounds checks
	s := uint(p) % blockSize
	return sc.win[j]>>s | sc.win[j+1]<<1<<(63-s) // the second word shifted by 64-s
}

// special returns the index of the first special byte at or after p, or
// len(b) when there is none.
func (sc *scanner) special(p int) int {
	for p < len(sc.b) {
		j := uint(p>>blockShift - sc.lo)
		if j >= uint(sc.n) {
			sc.mapWindow(p >> blockShift)
			j = 0
		}
		if m := sc.bitsAt(j, p); m != 0 {
			return p + bits.TrailingZeros64(m)
		}
		p += blockSize
	}
	return len(sc.b)
}

// str validates the string whose opening quote is at b[i] and returns the
// index just past its closing quote (or -1), and whether it holds escapes.
func (sc *scanner) str(i int) (int, uint8) {
	if e := sc.cur.strEnd(sc.b, i); e > 0 {
		return e, 0
	}
	end, flags, cur := sc.strLoad(i)
	sc.cur = cur
	return end, flags
}

// A cursor walks the special bytes of a 64-byte stretch of the document in
// order: bits holds those of [base, base+64) not yet consumed, so its
// lowest bit is the first of them. The loops keep one in registers while
// they go through a run of strings: in compact JSON the specials are then
// just the quotes, and the next string's opening and closing quotes are
// the next two bits (strEnd). Only the lowest bit is ever consumed, which
// is what makes strEnd right even after other code moved past some bytes:
// when the lowest bit left is at i, the bits left are all the specials in
// [i, base+64).
type cursor struct {
	base int
	bits uint64
}

// strEnd returns the index just past the string whose opening quote is at
// b[i] if the cursor holds that quote and the string's closing quote, and
// consumes both; else 0 (then strLoad scans the string and reloads the
// cursor).
func (c *cursor) strEnd(b []byte, i int) int {
	if c.base+bits.TrailingZeros64(c.bits) == i {
		m := c.bits & (c.bits - 1)
		if m != 0 {
			// p < len(b): the bitmap has no bits past the end.
			if p := c.base + bits.TrailingZeros64(m); b[p] == '"' {
				c.bits = m & (m - 1)
				return p + 1
			}
		}
	}
	return 0
}

// strLoad validates the string whose opening quote is at b[i] and returns
// the index just past it (or -1), whether it holds escapes, and a cursor
// on the specials after its closing quote (empty where that quote is not
// the first special byte of the string, within 64 bytes).
func (sc *scanner) strLoad(i int) (int, uint8, cursor) {
	p := i + 1
	if j := uint(p>>blockShift - sc.lo); j < uint(sc.n) {
		if m := sc.bitsAt(j, p); m != 0 {
			// q < len(b): the bitmap has no bits past the end.
			if q := p + bits.TrailingZeros64(m); sc.b[q] == '"' {
				return q + 1, 0, cursor{base: p, bits: m & (m - 1)}
			}
		}
	}
	end, flags := sc.strFrom(p)
	return end, flags, cursor{}
}

// strFrom finishes the scan of a string whose contents start at b[p].
func (sc *scanner) strFrom(p int) (int, uint8) {
	b := sc.b
	var flags uint8
	for {
		if p = sc.special(p); p >= len(b) {
			return -1, 0
		}
		switch b[p] {
		case '"':
			return p + 1, flags
		case '\\':
			flags |= sEscape
			if p = escapeEnd(b, p); p < 0 {
				return -1, 0
			}
		default:
			return -1, 0 // a control byte
		}
	}
}

// The literals as little-endian words, for comparing four bytes at once
// ("false" is compared from its second byte).
const (
	litTrue = 't' | 'r'<<8 | 'u'<<16 | 'e'<<24
	litAlse = 'a' | 'l'<<8 | 's'<<16 | 'e'<<24
	litNull = 'n' | 'u'<<8 | 'l'<<16 | 'l'<<24
)

// scalarEnd validates the string, number or literal at b[i] and returns
// the index just past it (or -1), and for a string its flags.
func (sc *scanner) scalarEnd(i int) (int, uint8) {
	b := sc.b
	switch b[i] {
	case '"':
		return sc.str(i)
	case 't':
		if len(b)-i >= 4 && binary.LittleEndian.Uint32(b[i:]) == litTrue {
			return i + 4, 0
		}
		return -1, 0
	case 'f':
		if len(b)-i >= 5 && binary.LittleEndian.Uint32(b[i+1:]) == litAlse {
			return i + 5, 0
		}
		return -1, 0
	case 'n':
		if len(b)-i >= 4 && binary.LittleEndian.Uint32(b[i:]) == litNull {
			return i + 4, 0
		}
		return -1, 0
	}
	return scanNumber(b, i), 0
}

// skip validates the value at b[i] and returns the index just past it, or
// -1. depth is the number of containers around the value.
//
// skip is the validator's inner loop, so it is one function without calls
// on its common paths: the containers it is in are a stack of bits (one
// per container, set for an object) rather than recursion, with a new
// stack (one recursive call) every 64 levels; compact JSON is tested for
// first, whitespace where it is allowed is a case of its own; and the
// scanner's cursor finds the ends of strings.
func (sc *scanner) skip(i, depth int) int {
	b := sc.b
	var stack uint64 // bit 0: the innermost open container is an object
	d := 0           // open containers, at most 64
	cur := sc.cur
	var c byte
value:
	if uint(i) >= uint(len(b)) {
		return -1
	}
	if c = b[i]; c == '"' {
		if e := cur.strEnd(b, i); e > 0 {
			i = e
		} else if i, _, cur = sc.strLoad(i); i < 0 {
			return -1
		}
		goto next
	}
	switch c {
	case '{', '[':
		if depth+d >= maxDepth {
			return -1
		}
		if d == 64 {
			sc.cur = cur
			if i = sc.skip(i, depth+d); i < 0 {
				return -1
			}
			cur = sc.cur
			goto next
		}
		if i = ws(b, i+1); uint(i) < uint(len(b)) && b[i] == c+2 { // '}' or ']'
			i++
			goto next
		}
		d++
		stack = stack<<1 | uint64(c>>5&1) // '{' has bit 5 set, '[' not
		if c == '{' {
			goto key
		}
		goto value
	case 't':
		if len(b)-i < 4 || binary.LittleEndian.Uint32(b[i:]) != litTrue {
			return -1
		}
		i += 4
	case 'f':
		if len(b)-i < 5 || binary.LittleEndian.Uint32(b[i+1:]) != litAlse {
			return -1
		}
		i += 5
	case 'n':
		if len(b)-i < 4 || binary.LittleEndian.Uint32(b[i:]) != litNull {
			return -1
		}
		i += 4
	case ' ', '\t', '\n', '\r':
		i = skipWS(b, i+1)
		goto value
	default:
		if i = scanNumber(b, i); i < 0 {
			return -1
		}
	}
next: // after a value
	if d == 0 {
		sc.cur = cur
		return i
	}
	if uint(i) >= uint(len(b)) {
		return -1
	}
	if c = b[i]; c == ',' {
		i++
		if stack&1 == 0 {
			goto value
		}
		goto key
	}
	if c == ']'|byte(stack&1)<<5 { // the closing bracket: '}' is ']'|0x20
		i++
		stack >>= 1
		d--
		goto next
	}
	if c <= ' ' && isWS(c) {
		i = skipWS(b, i+1)
		goto next
	}
	return -1
key: // in an object, where a key must come
	if uint(i) >= uint(len(b)) {
		return -1
	}
	if b[i] != '"' {
		if i = skipWS(b, i); uint(i) >= uint(len(b)) || b[i] != '"' {
			return -1
		}
	}
	if e := cur.strEnd(b, i); e > 0 {
		i = e
	} else if i, _, cur = sc.strLoad(i); i < 0 {
		return -1
	}
	if uint(i) < uint(len(b)) && b[i] == ':' {
		i++
		goto value
	}
	if i = skipWS(b, i); uint(i) >= uint(len(b)) || b[i] != ':' {
		return -1
	}
	i++
	goto value
}

// valid reports whether the document is one JSON value.
func (sc *scanner) valid() bool {
	i := sc.skip(skipWS(sc.b, 0), 0)
	return i >= 0 && skipWS(sc.b, i) == len(sc.b)
}

// validJSON reports whether b is one JSON document.
func validJSON(b []byte) bool {
	var sc scanner
	sc.load(b)
	return sc.valid()
}
