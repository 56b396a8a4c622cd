// Package template renders input templates, as EventBridge Pipes' input
// transformers do: text (usually JSON) with placeholders that take values
// from each record.
//
//	{"id": <$.value.order_id>, "src": "<topic>", "at": <timestamp>}
//
// A placeholder is <$.value.PATH> (a path into the record's JSON value,
// with .name and [index] steps), <$.key.PATH> (into a JSON key),
// <$.headers.NAME>, or one of the variables <topic>, <partition>, <offset>,
// <timestamp> (Unix milliseconds), <key> (the key as text), <value> (the
// whole value), <pipeline>. Outside a JSON string a placeholder writes a JSON
// value: the one at the path as it is in the record (a missing path or a
// value that is not JSON writes null; text variables write JSON strings).
// Inside a JSON string it writes the value as string content: a string's
// characters, anything else its JSON text, escaped. A template that is not
// JSON (it does not start with { or [) is text: placeholders write their
// text unescaped.
//
// Templates are compiled once; Append allocates nothing.
package template

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

type kind uint8

const (
	kLit kind = iota
	kValuePath
	kKeyPath
	kHeader
	kTopic
	kPartition
	kOffset
	kTimestamp
	kKey
	kValue
	kPipeline
)

var variables = map[string]kind{
	"topic": kTopic, "partition": kPartition, "offset": kOffset, "timestamp": kTimestamp,
	"key": kKey, "value": kValue, "pipeline": kPipeline,
}

type part struct {
	kind   kind
	lit    string
	path   []step // for kValuePath, kKeyPath
	header string
	quoted bool // inside a JSON string of the template
}

// step is one step of a path: an object member or an array index.
type step struct {
	name  string
	index int // -1 for a member
}

// Template is a compiled input template. It is safe for concurrent use.
type Template struct {
	src      string
	parts    []part
	json     bool
	pipeline string
}

// Error is a template that does not compile.
type Error struct {
	// Offset is the byte offset in the template where the problem is.
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("template at byte %d: %s", e.Offset, e.Msg) }

// Compile compiles src for the pipeline named pipelineName (the value of
// <pipeline>).
func Compile(src, pipelineName string) (*Template, error) {
	t := &Template{src: src, pipeline: pipelineName}
	trim := strings.TrimSpace(src)
	t.json = strings.HasPrefix(trim, "{") || strings.HasPrefix(trim, "[")
	inString := false
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{kind: kLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if t.json && c == '\\' && inString && i+1 < len(src) {
			lit.WriteByte(c)
			lit.WriteByte(src[i+1])
			i++
			continue
		}
		if t.json && c == '"' {
			inString = !inString
			lit.WriteByte(c)
			continue
		}
		if c != '<' {
			lit.WriteByte(c)
			continue
		}
		end := strings.IndexByte(src[i:], '>')
		if end < 0 {
			return nil, &Error{Offset: i, Msg: "'<' starts a placeholder that is not closed with '>'"}
		}
		name := src[i+1 : i+end]
		p, err := placeholder(name)
		if err != nil {
			return nil, &Error{Offset: i, Msg: err.Error()}
		}
		p.quoted = inString && t.json
		flush()
		t.parts = append(t.parts, p)
		i += end
	}
	flush()
	if t.json {
		if inString {
			return nil, &Error{Offset: len(src), Msg: "a JSON string is not closed"}
		}
		if err := t.checkJSON(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func placeholder(name string) (part, error) {
	if k, ok := variables[name]; ok {
		return part{kind: k}, nil
	}
	switch {
	case name == "$.value":
		return part{kind: kValue}, nil
	case strings.HasPrefix(name, "$.value.") || strings.HasPrefix(name, "$.value["):
		path, err := parsePath(name[len("$.value"):])
		return part{kind: kValuePath, path: path}, err
	case strings.HasPrefix(name, "$.key.") || strings.HasPrefix(name, "$.key["):
		path, err := parsePath(name[len("$.key"):])
		return part{kind: kKeyPath, path: path}, err
	case strings.HasPrefix(name, "$.headers."):
		h := name[len("$.headers."):]
		if h == "" {
			return part{}, errors.New("<$.headers.> names no header")
		}
		return part{kind: kHeader, header: h}, nil
	}
	return part{}, fmt.Errorf("unknown placeholder <%s>: use <$.value.PATH>, <$.key.PATH>, <$.headers.NAME> or one of <topic>, <partition>, <offset>, <timestamp>, <key>, <value>, <pipeline>", name)
}

// parsePath parses ".a.b[2].c" into steps.
func parsePath(s string) ([]step, error) {
	var out []step
	for len(s) > 0 {
		switch s[0] {
		case '.':
			s = s[1:]
			n := strings.IndexAny(s, ".[")
			if n < 0 {
				n = len(s)
			}
			if n == 0 {
				return nil, errors.New("empty name in path")
			}
			out = append(out, step{name: s[:n], index: -1})
			s = s[n:]
		case '[':
			n := strings.IndexByte(s, ']')
			if n < 0 {
				return nil, errors.New("'[' without ']' in path")
			}
			idx, err := strconv.Atoi(s[1:n])
			if err != nil || idx < 0 {
				return nil, fmt.Errorf("array index %q is not a number", s[1:n])
			}
			out = append(out, step{index: idx})
			s = s[n+1:]
		default:
			return nil, fmt.Errorf("unexpected %q in path", s[0])
		}
	}
	return out, nil
}

// checkJSON renders the template with stand-in values and checks the
// result is JSON, so a template that can only produce invalid JSON is an
// error at load.
func (t *Template) checkJSON() error {
	var b []byte
	for _, p := range t.parts {
		switch {
		case p.kind == kLit:
			b = append(b, p.lit...)
		case p.quoted:
			b = append(b, 'x')
		default:
			b = append(b, "null"...)
		}
	}
	if !validJSON(b) {
		return &Error{Offset: 0, Msg: "the template is not JSON once its placeholders are filled in (placeholders outside strings stand for JSON values)"}
	}
	return nil
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

// Append appends the rendering of t for r to dst.
func (t *Template) Append(dst []byte, r *pipeline.Record) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		switch p.kind {
		case kLit:
			dst = append(dst, p.lit...)
		case kTopic:
			dst = t.text(dst, p, r.Topic)
		case kPipeline:
			dst = t.text(dst, p, t.pipeline)
		case kKey:
			dst = t.textBytes(dst, p, r.Key)
		case kPartition:
			dst = t.number(dst, p, int64(r.Partition))
		case kOffset:
			dst = t.number(dst, p, r.Offset)
		case kTimestamp:
			dst = t.number(dst, p, r.Timestamp)
		case kValue:
			dst = t.raw(dst, p, r.Value, validJSON(r.Value))
		case kValuePath:
			v, ok := lookup(r.Value, p.path)
			dst = t.raw(dst, p, v, ok)
		case kKeyPath:
			v, ok := lookup(r.Key, p.path)
			dst = t.raw(dst, p, v, ok)
		case kHeader:
			var v []byte
			found := false
			for j := range r.Headers {
				if r.Headers[j].Key == p.header {
					v, found = r.Headers[j].Value, true // the last one wins
				}
			}
			if !found && !p.quoted && t.json {
				dst = append(dst, "null"...)
			} else {
				dst = t.textBytes(dst, p, v)
			}
		}
	}
	return dst
}

// text writes a text value: a JSON string outside strings, escaped content
// inside them, the bare text in a text template.
func (t *Template) text(dst []byte, p *part, s string) []byte {
	switch {
	case !t.json:
		return append(dst, s...)
	case p.quoted:
		q := esm.AppendString(dst, s)
		// Drop the quotes AppendString added.
		copy(q[len(dst):], q[len(dst)+1:len(q)-1])
		return q[:len(q)-2]
	}
	return esm.AppendString(dst, s)
}

func (t *Template) textBytes(dst []byte, p *part, b []byte) []byte {
	if !t.json {
		return append(dst, b...)
	}
	if b == nil && !p.quoted {
		return append(dst, "null"...)
	}
	return t.text(dst, p, unsafeString(b))
}

func (t *Template) number(dst []byte, p *part, v int64) []byte {
	return strconv.AppendInt(dst, v, 10)
}

// raw writes JSON text v (ok false: missing or not JSON).
func (t *Template) raw(dst []byte, p *part, v []byte, ok bool) []byte {
	switch {
	case !ok && !t.json:
		return dst
	case !ok && p.quoted:
		return dst
	case !ok:
		return append(dst, "null"...)
	case !t.json, p.quoted:
		if len(v) >= 2 && v[0] == '"' {
			if t.json {
				return append(dst, v[1:len(v)-1]...) // already escaped content
			}
			return append(dst, v[1:len(v)-1]...)
		}
		if !t.json {
			return append(dst, v...)
		}
		return t.text(dst, p, unsafeString(v))
	}
	return append(dst, v...)
}
