package filters

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file holds the JSON reader: allocation-free primitives that scan a
// document straight from the record's bytes. The walker (walk.go) and the
// scanner (scan.go) drive them to find only the paths a Criteria
// references, validating the rest of the document as they skip it, and
// the expression fallback decodes subtrees with them, so patterns, the
// expression fast path and the expression VM all agree on what is valid
// JSON and what a string or number decodes to. scan_test.go holds a plain
// byte-at-a-time reference reader that the tests and fuzz targets compare
// all of them with.

// maxDepth is the deepest nesting a document may have. A deeper document is
// treated as not JSON.
const maxDepth = 1000

// Kinds of JSON values, told by their first byte.
const (
	kAbsent uint8 = iota
	kString
	kNumber
	kTrue
	kFalse
	kNull
	kObject
	kArray
)

// String flags reported by scanString.
const (
	sEscape uint8 = 1 << iota // the string holds a backslash escape
)

// kindOf returns the kind of the value starting with c.
func kindOf(c byte) uint8 {
	switch c {
	case '"':
		return kString
	case '{':
		return kObject
	case '[':
		return kArray
	case 't':
		return kTrue
	case 'f':
		return kFalse
	case 'n':
		return kNull
	}
	return kNumber
}

// ws is skipWS with the common case, no whitespace, inlined.
func ws(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i
	}
	return skipWS(b, i)
}

// isWS reports whether c is JSON whitespace.
func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString validates the string whose opening quote is at b[i] and
// returns the index just past its closing quote (or -1), and whether the
// string holds escapes.
func scanString(b []byte, i int) (int, uint8) {
	i++
	var flags uint8
	for {
		// Eight bytes at a time: stop at a quote, a backslash or a
		// control character.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (ones * '"')
			s := x ^ (ones * '\\')
			m := (((q - ones) &^ q) | ((s - ones) &^ s) | ((x - ones*0x20) &^ x)) & highs
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto special
			}
			i += 8
		}
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1, 0
		}
	special:
		switch b[i] {
		case '"':
			return i + 1, flags
		case '\\':
			flags |= sEscape
			if i = escapeEnd(b, i); i < 0 {
				return -1, 0
			}
		default:
			return -1, 0 // a control character
		}
	}
}

// escapeEnd validates the escape sequence whose backslash is at b[i] and
// returns the index just past it, or -1.
func escapeEnd(b []byte, i int) int {
	if i+1 >= len(b) {
		return -1
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		if i+6 > len(b) || hexVal(b[i+2])|hexVal(b[i+3])|hexVal(b[i+4])|hexVal(b[i+5]) < 0 {
			return -1
		}
		return i + 6
	}
	return -1
}

// SWAR constants: a byte of ones, and the high bit of every byte.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// strPlain tells the bytes that may appear unescaped in a string.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// scanNumber validates the number starting at b[i] and returns the index
// just past it, or -1.
func scanNumber(b []byte, i int) int {
	// Fast path: an integer, or a number with a fraction and no exponent,
	// that ends within eight bytes (after the sign).
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	if j+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[j:])
		d := nonDigits(x)
		n := bits.TrailingZeros64(d) >> 3 // digits before the first other byte
		if n > 0 && n < 8 && (x&0xff != '0' || n == 1) {
			switch c := byte(x >> (8 * n & 63)); {
			case c == '.':
				// f: the digits after the point (counted past the word when
				// they fill it, which the test below rejects).
				f := bits.TrailingZeros64(d>>(8*n&63)>>8) >> 3
				if e := n + 1 + f; f > 0 && e < 8 && byte(x>>(8*e&63))|0x20 != 'e' {
					return j + e
				}
			case c|0x20 != 'e':
				return j + n
			}
		}
	}
	return scanNumberSlow(b, i)
}

// numberAt validates the number starting at b[i] and returns the index just
// past it (or -1) and its value, parseNumberAt's: on scanNumber's fast
// path the value is read from the same word.
func numberAt(b []byte, i int) (int, float64) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	if j+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[j:])
		d := nonDigits(x)
		n := bits.TrailingZeros64(d) >> 3 // digits before the first other byte
		if n > 0 && n < 8 && (x&0xff != '0' || n == 1) {
			e := n // the number's length after the sign
			switch c := byte(x >> (8 * n & 63)); {
			case c == '.':
				f := bits.TrailingZeros64(d>>(8*n&63)>>8) >> 3
				if e = n + 1 + f; f == 0 || e >= 8 || byte(x>>(8*e&63))|0x20 == 'e' {
					e = 0
				}
			case c|0x20 == 'e':
				e = 0
			}
			if e > 0 {
				// As parseNumberAt: the number in the top e bytes, '0's
				// below, the point dropped.
				sh := uint(64-8*e) & 63
				y := x<<sh | ones*'0'>>(8*uint(e)&63)
				var v float64
				if e == n {
					v = float64(int64(eightDigits(y)))
				} else {
					p := (sh + 8*uint(n)) & 63 // the point
					low := uint64(1)<<p - 1
					y = (y&low)<<8 | y&^(low<<8|0xff) | '0'
					v = float64(int64(eightDigits(y))) / pow10[(e-n-1)&31]
				}
				if j > i {
					v = -v
				}
				return j + e, v
			}
		}
	}
	end := scanNumberSlow(b, i)
	if end < 0 {
		return -1, 0
	}
	return end, parseNumberAt(b, i, end)
}

// nonDigits returns x (eight bytes of a document) with every byte that is
// an ASCII digit set to zero and every other byte nonzero, up to the first
// of them: a byte is a digit when its high nibble is 3 and adding 6 keeps
// it so; a carry out of a byte (0xfa and up, not a digit) only reaches the
// bytes after it.
func nonDigits(x uint64) uint64 {
	return (x&0xf0f0f0f0f0f0f0f0 ^ ones*0x30) | ((x+ones*6)&0xf0f0f0f0f0f0f0f0 ^ ones*0x30)
}

// scanNumberSlow is scanNumber for every number.
func scanNumberSlow(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return -1
	}
	if c := b[i]; c == '0' {
		i++
	} else if c-'1' < 9 {
		i++
		for i < len(b) && b[i]-'0' < 10 {
			i++
		}
	} else {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		n := digits(b, i+1)
		if n == 0 {
			return -1
		}
		i += 1 + n
	}
	if i < len(b) && b[i]|0x20 == 'e' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		n := digits(b, i)
		if n == 0 {
			return -1
		}
		i += n
	}
	return i
}

// digits returns the number of ASCII digits at the start of b[i:].
func digits(b []byte, i int) int {
	j := i
	for j+8 <= len(b) {
		if d := nonDigits(binary.LittleEndian.Uint64(b[j:])); d != 0 {
			return j + bits.TrailingZeros64(d)>>3 - i
		}
		j += 8
	}
	for j < len(b) && b[j]-'0' < 10 {
		j++
	}
	return j - i
}

// needsDecode reports whether a string's raw bytes differ from its decoded
// form: it holds escapes or bytes that are not valid UTF-8 (which decode to
// U+FFFD, as encoding/json does).
func needsDecode(raw []byte, flags uint8) bool {
	if flags&sEscape != 0 {
		return true
	}
	if len(raw) <= 8 { // short and ASCII, as most are: no call
		var or byte
		for _, c := range raw {
			or |= c
		}
		if or < utf8.RuneSelf {
			return false
		}
	}
	return !utf8.Valid(raw)
}

// appendString appends the decoded contents of a valid JSON string (raw is
// the bytes between the quotes). Invalid UTF-8 and lone surrogates become
// U+FFFD.
func appendString(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch raw[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := rune(hex4(raw[i+2:]))
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						r2 = rune(hex4(raw[i+2:]))
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // " \ /
				dst = append(dst, raw[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, raw[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}

func hex4(b []byte) int {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// parseNumberAt is parseNumber(b[start:end]) for a valid JSON number in a
// document b. A number of at most eight digits and a point (and a sign),
// as most are, is read as one word of b and its digits combined three
// multiplications at a time, with the same result: the same mantissa
// divided by the same power of ten.
func parseNumberAt(b []byte, start, end int) float64 {
	neg := false
	s := start
	if s < end && b[s] == '-' {
		neg = true
		s++
	}
	n := end - s
	if n < 1 || n > 8 {
		return parseNumber(b[start:end])
	}
	// x: the number's bytes in its top n bytes, the first at byte 8-n,
	// and '0's (leading zeros) below them.
	var x uint64
	switch {
	case s+8 <= len(b):
		x = binary.LittleEndian.Uint64(b[s:]) << ((64 - 8*uint(n)) & 63)
	case end >= 8 && end <= len(b):
		sh := (64 - 8*uint(n)) & 63
		x = binary.LittleEndian.Uint64(b[end-8:]) >> sh << sh
	default:
		return parseNumber(b[start:end])
	}
	if n < 8 {
		x |= ones * '0' >> (8 * uint(n) & 63)
	}
	if d := nonDigits(x); d != 0 {
		// One point, and no other byte that is not a digit (an exponent):
		// drop it, moving the digits before it up by one byte.
		p := uint(bits.TrailingZeros64(d)) & 56
		if byte(x>>p) != '.' || d>>p>>8 != 0 {
			return parseNumber(b[start:end])
		}
		low := uint64(1)<<(p&63) - 1
		x = (x&low)<<8 | x&^(low<<8|0xff) | '0'
		f := float64(int64(eightDigits(x))) / pow10[(56-p)>>3]
		if neg {
			f = -f
		}
		return f
	}
	f := float64(int64(eightDigits(x)))
	if neg {
		f = -f
	}
	return f
}

// eightDigits returns the value of the eight ASCII digits of x, the first
// (most significant) in the low byte.
func eightDigits(x uint64) uint64 {
	x -= ones * '0'
	x = x*10 + x>>8 // pairs of digits in bytes 0, 2, 4, 6
	return ((x&0x000000ff000000ff)*(100+1000000<<32) + (x>>16&0x000000ff000000ff)*(1+10000<<32)) >> 32
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber converts a valid JSON number to float64, correctly rounded.
// A number too large for float64 becomes ±Inf.
func parseNumber(b []byte) float64 {
	// Fast path: at most 15 digits (leading zeros included) and no more
	// than 22 after the point give an exact result from one division.
	i := 0
	neg := false
	if b[0] == '-' {
		neg = true
		i++
	}
	var mant uint64
	start := i
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	nd := i - start
	frac := 0
	if i < len(b) && b[i] == '.' {
		i++
		start = i
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
		frac = i - start
		nd += frac
	}
	if i == len(b) && nd <= 15 && frac <= 22 {
		f := float64(mant)
		if frac > 0 {
			f /= pow10[frac]
		}
		if neg {
			f = -f
		}
		return f
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN() // not reached for valid JSON numbers
	}
	return f
}

// bstr views b as a string without copying; the string must not outlive b.
func bstr(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// strBytes views s as bytes without copying; the bytes must not be written.
func strBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
