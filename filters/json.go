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
// document straight from the record's bytes. The walker (walk.go) drives
// them to find only the paths a Criteria references, and the expression
// fallback decodes subtrees with them, so patterns, the expression fast
// path and the expression VM all agree on what is valid JSON and what a
// string or number decodes to.

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
			if i+1 >= len(b) {
				return -1, 0
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hexVal(b[i+2])|hexVal(b[i+3])|hexVal(b[i+4])|hexVal(b[i+5]) < 0 {
					return -1, 0
				}
				i += 6
			default:
				return -1, 0
			}
		default:
			return -1, 0 // a control character
		}
	}
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
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return -1
	}
	if b[i] == '0' {
		i++
	} else if '1' <= b[i] && b[i] <= '9' {
		i++
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	} else {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == s {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == s {
			return -1
		}
	}
	return i
}

// scanLiteral validates true, false or null at b[i].
func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanScalar validates the non-container value at b[i] and returns its end
// and, for strings, its flags.
func scanScalar(b []byte, i int) (int, uint8) {
	switch b[i] {
	case '"':
		return scanString(b, i)
	case 't':
		return scanLiteral(b, i, "true"), 0
	case 'f':
		return scanLiteral(b, i, "false"), 0
	case 'n':
		return scanLiteral(b, i, "null"), 0
	}
	return scanNumber(b, i), 0
}

// skipValue validates the value at b[i] and returns the index just past
// it, or -1. depth is the number of containers around the value.
func skipValue(b []byte, i int, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		i, _ = scanString(b, i)
		return i
	case '{':
		if depth >= maxDepth {
			return -1
		}
		i++
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i, _ = scanString(b, i); i < 0 {
				return -1
			}
			if i < len(b) && b[i] <= ' ' {
				i = skipWS(b, i)
			}
			if i >= len(b) || b[i] != ':' {
				return -1
			}
			i++
			if i < len(b) && b[i] <= ' ' {
				i = skipWS(b, i)
			}
			if i = skipValue(b, i, depth+1); i < 0 {
				return -1
			}
			if i < len(b) && b[i] <= ' ' {
				i = skipWS(b, i)
			}
			if i >= len(b) {
				return -1
			}
			if b[i] == ',' {
				i++
				if i < len(b) && b[i] <= ' ' {
					i = skipWS(b, i)
				}
				continue
			}
			if b[i] == '}' {
				return i + 1
			}
			return -1
		}
	case '[':
		if depth >= maxDepth {
			return -1
		}
		i++
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = skipValue(b, i, depth+1); i < 0 {
				return -1
			}
			if i < len(b) && b[i] <= ' ' {
				i = skipWS(b, i)
			}
			if i >= len(b) {
				return -1
			}
			if b[i] == ',' {
				i++
				if i < len(b) && b[i] <= ' ' {
					i = skipWS(b, i)
				}
				continue
			}
			if b[i] == ']' {
				return i + 1
			}
			return -1
		}
	case 't':
		return scanLiteral(b, i, "true")
	case 'f':
		return scanLiteral(b, i, "false")
	case 'n':
		return scanLiteral(b, i, "null")
	}
	return scanNumber(b, i)
}

// objectKey validates `"key" :` at b[i] and returns the index after the colon.
func objectKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	i, _ = scanString(b, i)
	if i < 0 {
		return -1
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return i + 1
}

// validJSON reports whether b is one JSON document.
func validJSON(b []byte) bool {
	i := skipValue(b, skipWS(b, 0), 0)
	return i >= 0 && skipWS(b, i) == len(b)
}

// needsDecode reports whether a string's raw bytes differ from its decoded
// form: it holds escapes or bytes that are not valid UTF-8 (which decode to
// U+FFFD, as encoding/json does).
func needsDecode(raw []byte, flags uint8) bool {
	return flags&sEscape != 0 || !utf8.Valid(raw)
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

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber converts a valid JSON number to float64, correctly rounded.
// A number too large for float64 becomes ±Inf.
func parseNumber(b []byte) float64 {
	// Fast path: at most 15 significant digits and a small exponent give
	// an exact result from one multiplication or division.
	i := 0
	neg := false
	if b[0] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits := 0
	exp := 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		mant = mant*10 + uint64(b[i]-'0')
		if mant != 0 {
			digits++
		}
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			mant = mant*10 + uint64(b[i]-'0')
			if mant != 0 {
				digits++
			}
			exp--
		}
	}
	if i == len(b) && digits <= 15 && exp >= -22 {
		f := float64(mant)
		if exp < 0 {
			f /= pow10[-exp]
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
