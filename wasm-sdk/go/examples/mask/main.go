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

	penstock "github.com/penstock-dev/penstock/wasm-sdk/go"
	"github.com/penstock-dev/penstock/wasm-sdk/go/jsonscan"
)

func init() {
	penstock.Handle(newMasker)
}

func main() {}

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
	i, ok := s.value(jsonscan.Space(s.data, 0), 0, paths)
	if !ok || jsonscan.Space(s.data, i) != len(data) {
		return nil, false
	}
	return s.spans, true
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
		return jsonscan.String(s.data, i)
	case c == 't':
		return jsonscan.Literal(s.data, i, "true")
	case c == 'f':
		return jsonscan.Literal(s.data, i, "false")
	case c == 'n':
		return jsonscan.Literal(s.data, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return jsonscan.Number(s.data, i)
	}
	return i, false
}

func (s *scanner) object(i, level int, active []int) (int, bool) {
	d := s.data
	if s.depth++; s.depth > jsonscan.MaxDepth {
		return i, false
	}
	i = jsonscan.Space(s.data, i+1)
	if i < len(d) && d[i] == '}' {
		s.depth--
		return i + 1, true
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return i, false
		}
		kstart := i
		end, ok := jsonscan.String(s.data, i)
		if !ok {
			return end, false
		}
		i = jsonscan.Space(s.data, end)
		if i >= len(d) || d[i] != ':' {
			return i, false
		}
		i = jsonscan.Space(s.data, i+1)
		terminal, next := s.match(d[kstart+1:end-1], level, active)
		vstart := i
		if i, ok = s.value(i, level+1, next); !ok {
			return i, false
		}
		if terminal && d[vstart] == '"' {
			s.spans = append(s.spans, span{vstart, i})
		}
		i = jsonscan.Space(s.data, i)
		if i >= len(d) {
			return i, false
		}
		switch d[i] {
		case ',':
			i = jsonscan.Space(s.data, i+1)
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
			s.key = jsonscan.AppendUnescaped(s.key[:0], raw)
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
	if s.depth++; s.depth > jsonscan.MaxDepth {
		return i, false
	}
	i = jsonscan.Space(s.data, i+1)
	if i < len(d) && d[i] == ']' {
		s.depth--
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = s.value(i, 0, nil); !ok {
			return i, false
		}
		i = jsonscan.Space(s.data, i)
		if i >= len(d) {
			return i, false
		}
		switch d[i] {
		case ',':
			i = jsonscan.Space(s.data, i+1)
		case ']':
			s.depth--
			return i + 1, true
		default:
			return i, false
		}
	}
}
