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
// not JSON. The walker also leaves to the scanner the members of an object
// whose keys the plan cannot name (members): most keys are told apart by
// their first and last bytes and length (keySig), so the walker only sees
// the few members it looks up. The loop that does both, scanFast, makes no
// calls, so that its state stays in registers: it is in assembly on amd64
// (scanFastGo elsewhere), and it hands the rare cases (escapes, long
// strings, long numbers, deep nesting) to scan. The tests compare the
// scanner with a plain reference reader (scan_test.go) and with
// encoding/json, and scanFast with scanFastGo.

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
	// scanFast's state (see scanFast): the position, the open
	// containers and where to start or why it stopped; the containers it
	// may open (maxDepth - depth), the keys members stops at and whether
	// it walks members; and the key where it stopped.
	ri, rd   int
	rstack   uint64
	rat      int
	rlimit   int
	rbloom   uint64
	rmembers bool
	ks, ke   int
	ksig     uint
	kflags   uint8
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
	if e, cur := sc.windowEnd(i); e > 0 {
		return e, 0, cur
	}
	end, flags := sc.strFrom(i + 1)
	return end, flags, cursor{}
}

// windowEnd returns the index just past the string whose opening quote is
// at b[i], and a cursor on the specials after its closing quote, when the
// first special byte after the opening quote is that closing quote and
// the window holds it (within 64 bytes); else 0.
func (sc *scanner) windowEnd(i int) (int, cursor) {
	p := i + 1
	if j := uint(p>>blockShift - sc.lo); j < uint(sc.n) {
		if m := sc.bitsAt(j, p); m != 0 {
			// q < len(b): the bitmap has no bits past the end.
			if q := p + bits.TrailingZeros64(m); sc.b[q] == '"' {
				return q + 1, cursor{base: p, bits: m & (m - 1)}
			}
		}
	}
	return 0, cursor{}
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
func (sc *scanner) skip(i, depth int) int {
	sc.ri, sc.rd, sc.rstack, sc.rat = i, 0, 0, atValue
	sc.rlimit, sc.rmembers = maxDepth-depth, false
	if scanFast(sc); sc.rat == stopDone {
		return sc.ri
	}
	e, _, _, _ := sc.scan(depth, false, 0)
	return e
}

// members validates the members of an object from b[i], where a key (or
// whitespace before it) must come, up to the first member whose key may
// be one of the keys of bloom (see pnode.kbloom) or holds escapes. It
// returns the index of that member's value and its key's bounds and flags
// (ks < 0 at the end of the object: end is then just past its '}'), or
// end = -1. depth is the number of containers around the object.
func (sc *scanner) members(i, depth int, bloom uint64) (end, ks, ke int, flags uint8) {
	sc.ri, sc.rd, sc.rstack, sc.rat = i, 1, 1, atKey
	sc.rlimit, sc.rbloom, sc.rmembers = maxDepth-depth, bloom, true
	switch scanFast(sc); sc.rat {
	case stopHit:
		return sc.ri, sc.ks, sc.ke, 0
	case stopDone:
		return sc.ri, -1, 0, 0
	}
	return sc.scan(depth, true, bloom)
}

// Where scanFast starts, and why it stops.
const (
	atValue    = iota // where a value must come
	atKey             // in an object, where a key must come
	atNext            // after a value
	stopDone          // the value, or the members' object, ended
	stopFail          // not JSON
	stopHit           // at the value of a member whose key may be named (see members)
	stopString        // a string the cursor and the window do not tell
	stopKey           // a key the cursor and the window do not tell
	stopNumber        // a number off scanNumber's fast path
	stopDeep          // a container 64 levels down
)

// scan is the rest of skip and members: scanFast stopped (sc.rat) where it
// leaves the work to scan, which does it and resumes scanFast, until the
// value or the members end. Such stops are rare in most documents.
func (sc *scanner) scan(depth int, members bool, bloom uint64) (int, int, int, uint8) {
	b := sc.b
	i, d, stack, at := sc.ri, sc.rd, sc.rstack, sc.rat
	for {
		switch at {
		case stopDone:
			return i, -1, 0, 0
		case stopHit:
			return i, sc.ks, sc.ke, 0
		case stopString:
			var cur cursor
			if i, _, cur = sc.strLoad(i); i < 0 {
				return -1, -1, 0, 0
			}
			sc.cur, at = cur, atNext
		case stopKey:
			ks := i + 1
			var cur cursor
			var flags uint8
			if i, flags, cur = sc.strLoad(i); i < 0 {
				return -1, -1, 0, 0
			}
			sc.cur = cur
			if ke := i - 1; members && d == 1 {
				if sc.ksig = keySig(b[ks], b[ke-1], ke-ks); flags != 0 || bloom&(1<<sc.ksig) != 0 {
					if i = colonValue(b, i); i < 0 {
						return -1, -1, 0, 0
					}
					return i, ks, ke, flags
				}
			}
			if i = skipWS(b, i); uint(i) >= uint(len(b)) || b[i] != ':' {
				return -1, -1, 0, 0
			}
			i++
			at = atValue
		case stopNumber:
			if i = scanNumberSlow(b, i); i < 0 {
				return -1, -1, 0, 0
			}
			at = atNext
		case stopDeep:
			if i = sc.skip(i, depth+d); i < 0 {
				return -1, -1, 0, 0
			}
			at = atNext
		default:
			return -1, -1, 0, 0
		}
		sc.ri, sc.rd, sc.rstack, sc.rat = i, d, stack, at
		sc.rlimit, sc.rbloom, sc.rmembers = maxDepth-depth, bloom, members
		scanFast(sc)
		i, d, stack, at = sc.ri, sc.rd, sc.rstack, sc.rat
	}
}

// scanFastGo is scanFast in Go: it validates JSON from b[sc.ri], starting
// at sc.rat (atValue, atKey or atNext) with sc.rd open containers
// (sc.rstack: which are objects) and the scanner's cursor, and stops where
// scan must take over; it leaves the position, the state and why it
// stopped (in sc.rat) in the scanner. With stopHit the member's key is in
// sc.ks, sc.ke, sc.ksig (its keySig) and sc.kflags, and the position is
// its value's. Strings are found with the cursor (strEnd, inlined) or else
// the window (windowEnd); short numbers take scanNumber's word-at-a-time
// path, inlined. In compact JSON most strings follow a string's closing
// quote or a key's with one byte between, a comma or a colon: those two
// bytes are read at once (nextString, and after colon), and the string's
// opening quote is then the cursor's lowest bit if it has any, without
// strEnd's test (keySynced, valueSynced).
func scanFastGo(sc *scanner) {
	b := sc.b
	i, d, stack, cb, cbits := sc.ri, sc.rd, sc.rstack, sc.cur.base, sc.cur.bits
	limit, bloom, members := sc.rlimit, sc.rbloom, sc.rmembers
	var c byte
	var why, ks int
	switch sc.rat {
	case atKey:
		goto key
	case atNext:
		goto next
	}
value:
	if uint(i) >= uint(len(b)) {
		why = stopFail
		goto out
	}
	if c = b[i]; c == '"' {
		// strEnd: the lowest bit left is this quote and the next one the
		// closing quote.
		if cb+bits.TrailingZeros64(cbits|1<<63) == i {
			if m := cbits & (cbits - 1); m != 0 {
				if p := cb + bits.TrailingZeros64(m); b[p] == '"' {
					cbits = m & (m - 1)
					i = p + 1
					goto nextString
				}
			}
		}
		goto valueLoad
	}
	switch c {
	case '{', '[':
		if d >= limit {
			why = stopFail
			goto out
		}
		if d == 64 {
			why = stopDeep
			goto out
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
			why = stopFail
			goto out
		}
		i += 4
	case 'f':
		if len(b)-i < 5 || binary.LittleEndian.Uint32(b[i+1:]) != litAlse {
			why = stopFail
			goto out
		}
		i += 5
	case 'n':
		if len(b)-i < 4 || binary.LittleEndian.Uint32(b[i:]) != litNull {
			why = stopFail
			goto out
		}
		i += 4
	case ' ', '\t', '\n', '\r':
		i = skipWS(b, i+1)
		goto value
	default:
		// scanNumber's fast path.
		j := i
		if c == '-' {
			j++
		}
		if j+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[j:])
			if nd := nonDigits(x); nd != 0 {
				n := bits.TrailingZeros64(nd) >> 3 // digits before the first other byte
				if n > 0 && (x&0xff != '0' || n == 1) {
					switch t := byte(x >> (8 * n & 63)); {
					case t == '.':
						f := bits.TrailingZeros64(nd>>(8*n&63)>>8) >> 3
						if e := n + 1 + f; f > 0 && e < 8 && byte(x>>(8*e&63))|0x20 != 'e' {
							i = j + e
							goto next
						}
					case t|0x20 != 'e':
						i = j + n
						goto next
					}
				}
			}
		}
		why = stopNumber
		goto out
	}
	goto next
valueSynced:
	// A string value whose opening quote, at b[i], is the cursor's lowest
	// bit if it has bits left: the cursor holds the specials from the
	// last one consumed, and none lies between it and b[i]. Its closing
	// quote is then the next bit.
	if m := cbits & (cbits - 1); m != 0 {
		if p := cb + bits.TrailingZeros64(m); b[p] == '"' {
			cbits = m & (m - 1)
			i = p + 1
			goto nextString
		}
	}
valueLoad:
	// strLoad's first case.
	if e, cur := sc.windowEnd(i); e > 0 {
		cb, cbits, i = cur.base, cur.bits, e
		goto nextString
	}
	why = stopString
	goto out
nextString: // after a string, whose closing quote the cursor consumed
	if d == 0 {
		why = stopDone
		goto out
	}
	// A comma and a quote: the next key, or the next element, is a string
	// whose opening quote is the cursor's lowest bit (if any is left).
	if i+2 <= len(b) && binary.LittleEndian.Uint16(b[i:]) == ','|'"'<<8 {
		i++
		if stack&1 == 0 {
			goto valueSynced
		}
		goto keySynced
	}
next: // after a value
	if d == 0 {
		why = stopDone
		goto out
	}
	if uint(i) >= uint(len(b)) {
		why = stopFail
		goto out
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
	why = stopFail
	goto out
key: // in an object, where a key must come
	if uint(i) >= uint(len(b)) {
		why = stopFail
		goto out
	}
	if b[i] != '"' {
		if i = skipWS(b, i); uint(i) >= uint(len(b)) || b[i] != '"' {
			why = stopFail
			goto out
		}
	}
	if cb+bits.TrailingZeros64(cbits|1<<63) != i {
		goto keyLoad
	}
keySynced: // the key's opening quote, at b[i], is the cursor's lowest bit if any is left
	ks = i + 1
	if m := cbits & (cbits - 1); m != 0 {
		if p := cb + bits.TrailingZeros64(m); b[p] == '"' {
			cbits = m & (m - 1)
			i = p + 1
			goto colon
		}
	}
keyLoad:
	ks = i + 1
	if e, cur := sc.windowEnd(i); e > 0 {
		cb, cbits, i = cur.base, cur.bits, e
		goto colon
	}
	why = stopKey
	goto out
colon:
	if members && d == 1 {
		ke := i - 1
		if sig := keySig(b[ks], b[ke-1], ke-ks); bloom&(1<<sig) != 0 {
			// Stop at the value, after the colon.
			sc.ks, sc.ke, sc.ksig, sc.kflags = ks, ke, sig, 0
			if uint(i) < uint(len(b)) && b[i] == ':' {
				i++
			} else if i = skipWS(b, i); uint(i) < uint(len(b)) && b[i] == ':' {
				i++
			} else {
				why = stopFail
				goto out
			}
			i = ws(b, i)
			why = stopHit
			if uint(i) >= uint(len(b)) {
				why = stopFail
			}
			goto out
		}
	}
	// A colon and a quote: the value is a string whose opening quote is
	// the cursor's lowest bit (if any is left), since the cursor consumed
	// the key's closing quote.
	if i+2 <= len(b) && binary.LittleEndian.Uint16(b[i:]) == ':'|'"'<<8 {
		i++
		goto valueSynced
	}
	if uint(i) < uint(len(b)) && b[i] == ':' {
		i++
		goto value
	}
	if i = skipWS(b, i); uint(i) >= uint(len(b)) || b[i] != ':' {
		why = stopFail
		goto out
	}
	i++
	goto value
out:
	sc.ri, sc.rd, sc.rstack, sc.cur, sc.rat = i, d, stack, cursor{cb, cbits}, why
}

// colonValue reads the colon after a key that ends just before b[i] and
// returns the index of the value after it, or -1.
func colonValue(b []byte, i int) int {
	if uint(i) < uint(len(b)) && b[i] == ':' {
		i++
	} else if i = skipWS(b, i); uint(i) < uint(len(b)) && b[i] == ':' {
		i++
	} else {
		return -1
	}
	if i = ws(b, i); uint(i) >= uint(len(b)) {
		return -1
	}
	return i
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
