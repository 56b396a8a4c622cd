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

import penstock "github.com/penstock-dev/penstock/wasm-sdk/go"

func init() {
	penstock.Handle(func(config []byte) (penstock.Handler, error) {
		return &splitter{}, nil
	})
}

func main() {}

const maxDepth = 1000

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
	i := s.ws(0)
	isArray = i < len(data) && data[i] == '['
	var end int
	if isArray {
		end, ok = s.array(i, true)
	} else {
		end, ok = s.value(i)
	}
	if !ok || s.ws(end) != len(data) {
		return nil, false, false
	}
	return s.elems, isArray, true
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

func (s *scanner) object(i int) (int, bool) {
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
		var ok bool
		if i, ok = s.str(i); !ok {
			return i, false
		}
		i = s.ws(i)
		if i >= len(d) || d[i] != ':' {
			return i, false
		}
		if i, ok = s.value(s.ws(i + 1)); !ok {
			return i, false
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

// array scans the array at i; top says to record its elements.
func (s *scanner) array(i int, top bool) (int, bool) {
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
		start := i
		var ok bool
		if i, ok = s.value(i); !ok {
			return i, false
		}
		if top {
			s.elems = append(s.elems, span{start, i})
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
