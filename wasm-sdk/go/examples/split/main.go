// Command split turns a record whose value is a JSON array into one record
// per element.
//
// When the value, after leading whitespace, is a JSON array, each element
// becomes a record whose value is the element's bytes exactly as in the
// input, without the whitespace around it; key and headers are kept. An
// empty array drops the record. Any other JSON value passes unchanged. A
// value that is not JSON (or absent) is reported as a record error "value
// is not JSON".
//
// The scanner follows RFC 8259 with these choices, shared by the Penstock
// SDKs of every language: bytes of 0x80 and above are not checked as UTF-8;
// more than 1000 nested arrays and objects make a value "not JSON".
package main

import (
	penstock "github.com/penstock-dev/penstock/wasm-sdk/go"
	"github.com/penstock-dev/penstock/wasm-sdk/go/jsonscan"
)

func init() {
	penstock.Handle(func(config []byte) (penstock.Handler, error) {
		return &splitter{}, nil
	})
}

func main() {}

type splitter struct {
	sc scanner
}

func (s *splitter) Enrich(r *penstock.Record, out *penstock.Emitter) {
	if r.Value == nil {
		out.Error(r, "value is not JSON")
		return
	}
	elems, isArray, ok := s.sc.scan(r.Value)
	switch {
	case !ok:
		out.Error(r, "value is not JSON")
	case !isArray:
		out.Keep(r)
	case len(elems) == 0:
		out.Drop(r)
	default:
		for _, e := range elems {
			rec := *r
			rec.Value = r.Value[e.start:e.end:e.end]
			out.Emit(r, rec)
		}
	}
}

// span is the byte range [start, end) of an array element.
type span struct{ start, end int }

// scanner validates a JSON text and finds the elements of a top-level
// array.
type scanner struct {
	data  []byte
	depth int
	elems []span
}

// scan reports whether data is one JSON value, whether it is an array, and
// the array's elements.
func (s *scanner) scan(data []byte) (elems []span, isArray, ok bool) {
	s.data, s.depth, s.elems = data, 0, s.elems[:0]
	i := jsonscan.Space(s.data, 0)
	isArray = i < len(data) && data[i] == '['
	var end int
	if isArray {
		end, ok = s.array(i, true)
	} else {
		end, ok = s.value(i)
	}
	if !ok || jsonscan.Space(s.data, end) != len(data) {
		return nil, false, false
	}
	return s.elems, isArray, true
}

// value scans the value at i and returns the index after it.
func (s *scanner) value(i int) (int, bool) {
	d := s.data
	if i >= len(d) {
		return i, false
	}
	switch c := d[i]; {
	case c == '{':
		return s.object(i)
	case c == '[':
		return s.array(i, false)
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

func (s *scanner) object(i int) (int, bool) {
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
		var ok bool
		if i, ok = jsonscan.String(s.data, i); !ok {
			return i, false
		}
		i = jsonscan.Space(s.data, i)
		if i >= len(d) || d[i] != ':' {
			return i, false
		}
		if i, ok = s.value(jsonscan.Space(s.data, i+1)); !ok {
			return i, false
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

// array scans the array at i; top says to record its elements.
func (s *scanner) array(i int, top bool) (int, bool) {
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
		start := i
		var ok bool
		if i, ok = s.value(i); !ok {
			return i, false
		}
		if top {
			s.elems = append(s.elems, span{start, i})
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
