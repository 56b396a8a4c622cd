package template

import (
	"bytes"
	"encoding/json"
	"unsafe"
)

// lookup returns the JSON text of the value at path in doc, and whether it
// was found. Only the path is walked; the rest of the document is skipped.
// When an object has a key twice, the last one wins, as in the filters.
func lookup(doc []byte, path []step) ([]byte, bool) {
	i := skipSpace(doc, 0)
	for _, st := range path {
		if i >= len(doc) {
			return nil, false
		}
		var ok bool
		if st.index >= 0 {
			i, ok = arrayElem(doc, i, st.index)
		} else {
			i, ok = member(doc, i, st.name)
		}
		if !ok {
			return nil, false
		}
	}
	end, ok := skipValue(doc, i)
	if !ok {
		return nil, false
	}
	return doc[i:end], true
}

// member returns the start of the value of key name in the object at i.
func member(doc []byte, i int, name string) (int, bool) {
	if i >= len(doc) || doc[i] != '{' {
		return 0, false
	}
	i = skipSpace(doc, i+1)
	found := -1
	if i < len(doc) && doc[i] == '}' {
		return 0, false
	}
	for i < len(doc) {
		if doc[i] != '"' {
			return 0, false
		}
		kend, ok := skipString(doc, i)
		if !ok {
			return 0, false
		}
		match := keyEquals(doc[i+1:kend-1], name)
		i = skipSpace(doc, kend)
		if i >= len(doc) || doc[i] != ':' {
			return 0, false
		}
		i = skipSpace(doc, i+1)
		if match {
			found = i
		}
		if i, ok = skipValue(doc, i); !ok {
			return 0, false
		}
		i = skipSpace(doc, i)
		if i < len(doc) && doc[i] == ',' {
			i = skipSpace(doc, i+1)
			continue
		}
		if i < len(doc) && doc[i] == '}' {
			return found, found >= 0
		}
		return 0, false
	}
	return 0, false
}

// keyEquals compares a raw (still escaped) JSON key with name. Keys with
// escapes are compared after decoding the simple escapes.
func keyEquals(raw []byte, name string) bool {
	j := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			i++
			switch raw[i] {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'u':
				return string(decodeKey(raw)) == name
			default:
				c = raw[i]
			}
		}
		if j >= len(name) || name[j] != c {
			return false
		}
		j++
	}
	return j == len(name)
}

// decodeKey decodes a key with \u escapes (rare: it allocates).
func decodeKey(raw []byte) []byte {
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(q, '"')
	q = append(q, raw...)
	q = append(q, '"')
	if json.Unmarshal(q, &s) != nil {
		return nil
	}
	return []byte(s)
}

// arrayElem returns the start of element n of the array at i.
func arrayElem(doc []byte, i, n int) (int, bool) {
	if i >= len(doc) || doc[i] != '[' {
		return 0, false
	}
	i = skipSpace(doc, i+1)
	for k := 0; i < len(doc) && doc[i] != ']'; k++ {
		if k == n {
			return i, true
		}
		var ok bool
		if i, ok = skipValue(doc, i); !ok {
			return 0, false
		}
		i = skipSpace(doc, i)
		if i < len(doc) && doc[i] == ',' {
			i = skipSpace(doc, i+1)
		}
	}
	return 0, false
}

// skipValue returns the end of the JSON value starting at i.
func skipValue(doc []byte, i int) (int, bool) {
	if i >= len(doc) {
		return 0, false
	}
	switch c := doc[i]; {
	case c == '"':
		return skipString(doc, i)
	case c == '{' || c == '[':
		depth := 0
		for ; i < len(doc); i++ {
			switch doc[i] {
			case '"':
				end, ok := skipString(doc, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	default:
		j := i
		for j < len(doc) {
			switch doc[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j, j > i
			}
			j++
		}
		return j, j > i
	}
}

// skipString returns the end (after the closing quote) of the string at i.
func skipString(doc []byte, i int) (int, bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(doc[j:], '"')
		if k < 0 {
			return 0, false
		}
		j += k
		// The quote ends the string unless an odd number of backslashes
		// escapes it.
		n := 0
		for p := j - 1; p > i && doc[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, true
		}
		j++
	}
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// validJSON reports whether b is one JSON value.
func validJSON(b []byte) bool { return len(b) > 0 && json.Valid(b) }

// unsafeString views b as a string without copying; the string must not
// outlive b.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
