// Command mask replaces sensitive strings in JSON values with "***".
//
// Config: {"fields": ["customer.email", "card"]}, dotted paths of object
// member names from the top-level object. Where a path leads to a JSON
// string, that string token (quotes included) becomes "***"; every other
// byte of the value stays as it was. Paths that lead to anything but a
// string, or nowhere, change nothing. A value that is not JSON (or absent)
// is reported as a record error "value is not JSON". Key and headers are
// kept.
//
// The scanner follows RFC 8259 with these choices, shared by the Penstock
// SDKs of every language: member names are compared after decoding their
// escapes (a lone surrogate decodes to U+FFFD); every member with a
// matching name is followed, duplicates included; arrays are not entered;
// bytes of 0x80 and above are not checked as UTF-8; more than 1000 nested
// arrays and objects make a value "not JSON".
package main

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	penstock "github.com/penstock-dev/penstock/wasm-sdk/go"
)

func init() {
	penstock.Handle(newMasker)
}

func main() {}

const maxDepth = 1000

// masker holds the parsed paths and buffers reused for every record.
type masker struct {
	paths [][]string // each path split at '.'
	all   []int      // indexes of all paths
	sc    scanner
	out   []byte
}

func newMasker(config []byte) (penstock.Handler, error) {
	var c struct {
		Fields *[]string `json:"fields"`
	}
	if err := json.Unmarshal(config, &c); err != nil {
		return nil, errors.New(`mask: config must be {"fields": ["path", ...]}: ` + err.Error())
	}
	if c.Fields == nil {
		return nil, errors.New(`mask: config needs "fields", a list of dotted paths such as "customer.email"`)
	}
	m := &masker{}
	for i, f := range *c.Fields {
		m.paths = append(m.paths, strings.Split(f, "."))
		m.all = append(m.all, i)
	}
	m.sc.paths = m.paths
	return m, nil
}

func (m *masker) Enrich(r *penstock.Record, out *penstock.Emitter) {
	if r.Value == nil {
		out.Error(r, "value is not JSON")
		return
	}
	spans, ok := m.sc.scan(r.Value, m.all)
	if !ok {
		out.Error(r, "value is not JSON")
		return
	}
	if len(spans) == 0 {
		out.Keep(r)
		return
	}
	m.out = m.out[:0]
	at := 0
	for _, s := range spans {
		m.out = append(m.out, r.Value[at:s.start]...)
		m.out = append(m.out, `"***"`...)
		at = s.end
	}
	m.out = append(m.out, r.Value[at:]...)
	rec := *r
	rec.Value = m.out
	out.Emit(r, rec)
}

// span is the byte range [start, end) of a string token to mask.
type span struct{ start, end int }

// scanner validates a JSON text and finds the string tokens at the paths.
type scanner struct {
	paths [][]string
	data  []byte
	depth int
	spans []span
	sets  [][]int // sets[l]: paths still matching at nesting level l
	key   []byte  // a decoded member name
}

// scan returns the spans to mask in data, in order, and whether data is
// one JSON value.
func (s *scanner) scan(data []byte, paths []int) ([]span, bool) {
	s.data, s.depth, s.spans = data, 0, s.spans[:0]
	i, ok := s.value(s.ws(0), 0, paths)
	if !ok || s.ws(i) != len(data) {
		return nil, false
	}
	return s.spans, true
}

func (s *scanner) ws(i int) int {
	for i < len(s.data) {
		switch s.data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value scans the value at i and returns the index after it. active are
// the paths whose first level segments lead to this value.
func (s *scanner) value(i, level int, active []int) (int, bool) {
	d := s.data
	if i >= len(d) {
		return i, false
	}
	switch c := d[i]; {
	case c == '{':
		return s.object(i, level, active)
	case c == '[':
		return s.array(i)
	case c == '"':
		return s.str(i)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number(i)
	}
	return i, false
}

func (s *scanner) object(i, level int, active []int) (int, bool) {
	d := s.data
	if s.depth++; s.depth > maxDepth {
		return i, false
	}
	i = s.ws(i + 1)
	if i < len(d) && d[i] == '}' {
		s.depth--
		return i + 1, true
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return i, false
		}
		kstart := i
		end, ok := s.str(i)
		if !ok {
			return end, false
		}
		i = s.ws(end)
		if i >= len(d) || d[i] != ':' {
			return i, false
		}
		i = s.ws(i + 1)
		terminal, next := s.match(d[kstart+1:end-1], level, active)
		vstart := i
		if i, ok = s.value(i, level+1, next); !ok {
			return i, false
		}
		if terminal && d[vstart] == '"' {
			s.spans = append(s.spans, span{vstart, i})
		}
		i = s.ws(i)
		if i >= len(d) {
			return i, false
		}
		switch d[i] {
		case ',':
			i = s.ws(i + 1)
		case '}':
			s.depth--
			return i + 1, true
		default:
			return i, false
		}
	}
}

// match compares the raw member name (escapes undecoded) with segment
// level of the active paths: terminal says whether a path ends at this
// member, next lists the paths that go on into its value.
func (s *scanner) match(raw []byte, level int, active []int) (terminal bool, next []int) {
	if len(active) == 0 {
		return false, nil
	}
	name := raw
	for _, c := range raw {
		if c == '\\' {
			s.key = decode(s.key[:0], raw)
			name = s.key
			break
		}
	}
	for len(s.sets) <= level+1 {
		s.sets = append(s.sets, nil)
	}
	next = s.sets[level+1][:0]
	for _, p := range active {
		path := s.paths[p]
		if path[level] != string(name) {
			continue
		}
		if level+1 == len(path) {
			terminal = true
		} else {
			next = append(next, p)
		}
	}
	s.sets[level+1] = next
	return terminal, next
}

func (s *scanner) array(i int) (int, bool) {
	d := s.data
	if s.depth++; s.depth > maxDepth {
		return i, false
	}
	i = s.ws(i + 1)
	if i < len(d) && d[i] == ']' {
		s.depth--
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = s.value(i, 0, nil); !ok {
			return i, false
		}
		i = s.ws(i)
		if i >= len(d) {
			return i, false
		}
		switch d[i] {
		case ',':
			i = s.ws(i + 1)
		case ']':
			s.depth--
			return i + 1, true
		default:
			return i, false
		}
	}
}

// str scans the string token at i and returns the index after its closing
// quote.
func (s *scanner) str(i int) (int, bool) {
	d := s.data
	for i++; i < len(d); {
		switch c := d[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(d) {
				return i, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		case c < 0x20:
			return i, false
		default:
			i++
		}
	}
	return i, false
}

func (s *scanner) literal(i int, lit string) (int, bool) {
	if len(s.data)-i < len(lit) || string(s.data[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

func (s *scanner) number(i int) (int, bool) {
	d := s.data
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) rune {
	switch {
	case c <= '9':
		return rune(c - '0')
	case c >= 'a':
		return rune(c - 'a' + 10)
	}
	return rune(c - 'A' + 10)
}

// decode appends the member name raw (a valid string body) with its
// escapes decoded to dst.
func decode(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
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
			r := u4(raw[i+2:])
			i += 6
			if r >= 0xd800 && r < 0xdc00 && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
				if lo := u4(raw[i+2:]); lo >= 0xdc00 && lo < 0xe000 {
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
					i += 6
				}
			}
			if r >= 0xd800 && r < 0xe000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func u4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}
