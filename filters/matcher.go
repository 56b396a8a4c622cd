package filters

import (
	"bytes"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Matcher operators.
const (
	mString     uint8 = iota // exact string (also "")
	mNumber                  // numeric equality
	mTrue                    // true
	mFalse                   // false
	mNull                    // null
	mAny                     // {"exists": true}: any leaf value
	mPrefix                  // {"prefix": s}
	mSuffix                  // {"suffix": s}
	mPrefixFold              // {"prefix": {"equals-ignore-case": s}}
	mSuffixFold              // {"suffix": {"equals-ignore-case": s}}
	mFold                    // {"equals-ignore-case": s}
	mWildcard                // {"wildcard": s}
	mNumeric                 // {"numeric": [...]}
	mCIDR                    // {"cidr": s}
	mBut                     // {"anything-but": ...}: no inner matcher matches
)

// Numbers are compared as EventBridge does: values in [-5e9, 5e9] with six
// digits after the decimal point. Inside that range a number is reduced to
// an integer key, floor(1e6 * (5e9 + f)); two numbers in range are equal
// when their keys are. Numbers outside it are compared as float64 for
// equality and never match a numeric range.
const numLimit = 5e9

type num struct {
	f   float64
	key int64
	in  bool
}

func mkNum(f float64) num {
	n := num{f: f}
	if f >= -numLimit && f <= numLimit {
		n.in = true
		n.key = int64(1e6 * (numLimit + f))
	}
	return n
}

func (a num) eq(b num) bool {
	if a.in && b.in {
		return a.key == b.key
	}
	return a.f == b.f
}

// matcher is one compiled matcher of a pattern's list.
type matcher struct {
	op     uint8
	str    string
	num    num
	lo, hi num
	loOp   uint8 // 0: unbounded, 1: >, 2: >=
	hiOp   uint8 // 0: unbounded, 1: <, 2: <=
	wild   []string
	wildLo bool // the pattern starts with *
	wildHi bool // the pattern ends with *
	pfx    netip.Prefix
	inner  []matcher
	wide   bool // compare as float64, without the EventBridge range
	// rawOK: str holds no U+FFFD, so a string without escapes matches it
	// exactly, as a prefix or as a suffix if and only if its raw bytes do
	// (see match). Set by prepare.
	rawOK bool
}

// prepare sets what match precomputes, here and in the inner matchers.
func (m *matcher) prepare() {
	m.rawOK = !strings.ContainsRune(m.str, utf8.RuneError)
	for i := range m.inner {
		m.inner[i].prepare()
	}
}

// scalar is one leaf value of the data, read lazily.
type scalar struct {
	kind  uint8
	flags uint8
	raw   []byte // string contents between the quotes, or number text
	at    int    // a number's start in the document (st.b)
	str   []byte
	n     num
	done  uint8 // 1: str decoded, 2: n parsed
}

// rawString returns the scalar for a string whose bytes are its value.
func rawString(b []byte) *scalar {
	s := new(scalar) // does not escape: scalar and match keep no pointer to it
	s.kind = kString
	s.flags = sRaw
	s.raw = b
	return s
}

// numScalar returns the scalar for a number of the record's metadata.
func numScalar(f float64) *scalar {
	s := new(scalar)
	s.kind = kNumber
	s.n = mkNum(f)
	s.done = 2
	return s
}

// sRaw marks a string whose raw bytes are its value (a plain-string record
// value, a header value, the topic): nothing to decode.
const sRaw uint8 = 1 << 7

func (s *scalar) text(st *state) []byte {
	if s.done&1 == 0 {
		s.decode(st)
	}
	return s.str
}

// decode sets s.str for text, out of line so that text inlines.
func (s *scalar) decode(st *state) {
	s.done |= 1
	s.str = s.raw
	if s.flags&sRaw == 0 {
		s.str = st.decoded(s.raw, s.flags)
	}
}

// decoded returns the raw contents of a JSON string (flags from its scan)
// decoded: the raw bytes themselves when they need no decoding, else the
// decoded string in the scratch buffer.
func (st *state) decoded(raw []byte, flags uint8) []byte {
	if !needsDecode(raw, flags) {
		return raw
	}
	start := len(st.buf)
	st.buf = appendString(st.buf, raw)
	return st.buf[start:len(st.buf):len(st.buf)]
}

// number returns the number; b is the document the scalar is in.
func (s *scalar) number(b []byte) num {
	if s.done&2 == 0 {
		s.done |= 2
		s.n = mkNum(parseNumberAt(b, s.at, s.at+len(s.raw)))
	}
	return s.n
}

// match reports whether the matcher accepts the leaf value s.
func (m *matcher) match(st *state, s *scalar) bool {
	switch m.op {
	case mAny:
		return true
	case mTrue:
		return s.kind == kTrue
	case mFalse:
		return s.kind == kFalse
	case mNull:
		return s.kind == kNull
	case mNumber:
		return s.kind == kNumber && s.number(st.b).eq(m.num)
	case mNumeric:
		if s.kind != kNumber {
			return false
		}
		n := s.number(st.b)
		if m.wide {
			return m.wideMatch(n.f)
		}
		return m.numericMatch(n)
	case mBut:
		for i := range m.inner {
			if m.inner[i].match(st, s) {
				return false
			}
		}
		return true
	}
	return m.stringMatch(st, s)
}

// numericMatch is numeric matching on the EventBridge scale.
func (m *matcher) numericMatch(n num) bool {
	if !n.in {
		return false
	}
	switch m.loOp {
	case 1:
		if n.key <= m.lo.key {
			return false
		}
	case 2:
		if n.key < m.lo.key {
			return false
		}
	}
	switch m.hiOp {
	case 1:
		if n.key >= m.hi.key {
			return false
		}
	case 2:
		if n.key > m.hi.key {
			return false
		}
	}
	return true
}

// stringMatch is match for the string operators.
func (m *matcher) stringMatch(st *state, s *scalar) bool {
	if s.kind != kString {
		return false
	}
	if m.rawOK && s.flags&sEscape == 0 {
		// The decoded string is the raw bytes with every byte that is not
		// UTF-8 replaced by U+FFFD. str is UTF-8 without U+FFFD, so the
		// decoded string equals str, or starts or ends with it, exactly
		// when the raw bytes do: a replacement would put a U+FFFD in str,
		// and UTF-8 decoding never joins bytes across the start or the end
		// of a valid string. No need to decode, or even to check UTF-8.
		switch m.op {
		case mString:
			return string(s.raw) == m.str
		case mPrefix:
			return len(s.raw) >= len(m.str) && string(s.raw[:len(m.str)]) == m.str
		case mSuffix:
			return len(s.raw) >= len(m.str) && string(s.raw[len(s.raw)-len(m.str):]) == m.str
		}
	}
	t := s.text(st)
	switch m.op {
	case mString:
		return string(t) == m.str
	case mPrefix:
		return len(t) >= len(m.str) && string(t[:len(m.str)]) == m.str
	case mSuffix:
		return len(t) >= len(m.str) && string(t[len(t)-len(m.str):]) == m.str
	case mFold:
		return strings.EqualFold(bstr(t), m.str)
	case mPrefixFold:
		return hasPrefixFold(t, m.str)
	case mSuffixFold:
		return hasSuffixFold(t, m.str)
	case mWildcard:
		return m.wildMatch(t)
	case mCIDR:
		if bytes.IndexByte(t, '%') >= 0 {
			return false
		}
		a, err := netip.ParseAddr(bstr(t))
		return err == nil && m.pfx.Contains(a)
	}
	return false
}

// foldRune reports whether r and q are equal under Unicode simple case
// folding.
func foldRune(r, q rune) bool {
	if r == q {
		return true
	}
	if r < utf8.RuneSelf && q < utf8.RuneSelf {
		return 'A' <= r && r <= 'Z' && r+'a'-'A' == q || 'A' <= q && q <= 'Z' && q+'a'-'A' == r
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f == q {
			return true
		}
	}
	return false
}

func hasPrefixFold(t []byte, p string) bool {
	for p != "" {
		if len(t) == 0 {
			return false
		}
		r, n := utf8.DecodeRune(t)
		q, m := utf8.DecodeRuneInString(p)
		if !foldRune(r, q) {
			return false
		}
		t, p = t[n:], p[m:]
	}
	return true
}

func hasSuffixFold(t []byte, p string) bool {
	for p != "" {
		if len(t) == 0 {
			return false
		}
		r, n := utf8.DecodeLastRune(t)
		q, m := utf8.DecodeLastRuneInString(p)
		if !foldRune(r, q) {
			return false
		}
		t, p = t[:len(t)-n], p[:len(p)-m]
	}
	return true
}

// wildMatch matches a pattern whose only operator is *: the text between
// stars must appear in order, the first piece at the start (unless the
// pattern starts with *) and the last at the end (unless it ends with *).
func (m *matcher) wildMatch(t []byte) bool {
	segs := m.wild
	if len(segs) == 1 && !m.wildLo && !m.wildHi {
		return string(t) == segs[0]
	}
	if !m.wildLo {
		s := segs[0]
		if len(t) < len(s) || string(t[:len(s)]) != s {
			return false
		}
		t = t[len(s):]
		segs = segs[1:]
	}
	if !m.wildHi && len(segs) > 0 {
		s := segs[len(segs)-1]
		if len(t) < len(s) || string(t[len(t)-len(s):]) != s {
			return false
		}
		t = t[:len(t)-len(s)]
		segs = segs[:len(segs)-1]
	}
	for _, s := range segs {
		i := strings.Index(bstr(t), s)
		if i < 0 {
			return false
		}
		t = t[i+len(s):]
	}
	return true
}

// wideMatch is numeric matching on a float64, for record metadata.
func (m *matcher) wideMatch(f float64) bool {
	switch m.loOp {
	case 1:
		if !(f > m.lo.f) {
			return false
		}
	case 2:
		if !(f >= m.lo.f) {
			return false
		}
	}
	switch m.hiOp {
	case 1:
		return f < m.hi.f
	case 2:
		return f <= m.hi.f
	}
	return true
}
