package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// walker checks a yaml.Node tree against the schema and collects every
// problem it finds. The schema itself lives in schema.go as tables of
// fields; this file holds the machinery that is independent of it.
type walker struct {
	path string // config file path, for messages
	dir  string // directory relative paths are resolved against
	errs Errors
	pos  map[string]Position
}

func newWalker(path string) *walker {
	return &walker{
		path: path,
		dir:  filepath.Dir(path),
		pos:  make(map[string]Position),
	}
}

// field is one key of a mapping. Adding a config field means adding one
// field to the table of its mapping.
type field struct {
	key      string
	required bool
	// decode checks the value and stores it; it reports false if the value
	// was invalid (and has then reported why).
	decode func(w *walker, n *yaml.Node, path string) bool
}

// entry is one key of a mapping as found in the file.
type entry struct {
	key, val *yaml.Node
	ok       bool // decode succeeded
}

// block is the result of walking a mapping.
type block struct {
	ok      bool // the node was a mapping (or null, meaning empty)
	found   map[string]*entry
	order   []string // found keys in the order met
	unknown int      // number of unknown keys
}

// has reports whether key was given, whether or not its value was valid.
func (b block) has(key string) bool { return b.found[key] != nil }

// valid reports whether key was given with a valid value.
func (b block) valid(key string) bool { e := b.found[key]; return e != nil && e.ok }

// at returns the value node of key; it must be present.
func (b block) at(key string) *yaml.Node { return b.found[key].val }

// errorf records a problem with node n at path. Callers may set Hint on the
// result.
func (w *walker) errorf(n *yaml.Node, path, format string, args ...any) *Error {
	e := &Error{File: w.path, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	w.errs = append(w.errs, e)
	return e
}

// record remembers where the value at path is.
func (w *walker) record(n *yaml.Node, path string) {
	if _, ok := w.pos[path]; !ok {
		w.pos[path] = Position{n.Line, n.Column}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// resolve follows an alias to the node it names. Errors about a value are
// still reported at the node as written (the alias), so the user sees where
// the value was used.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!merge"
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!str":
			return "string " + quote(n.Value)
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		case "!!timestamp":
			return "timestamp " + n.Value
		default:
			return n.ShortTag() + " " + quote(n.Value)
		}
	}
	return "nothing"
}

// mapping walks the mapping n at path against fields: it reports unknown,
// duplicate and missing keys and calls decode for each known key present.
// A null node counts as an empty mapping, so `stdout:` means `stdout: {}`.
func (w *walker) mapping(n *yaml.Node, path string, fields []field) block {
	b := block{found: make(map[string]*entry)}
	v := resolve(n)
	if !isNull(v) && v.Kind != yaml.MappingNode {
		w.errorf(n, path, "expected a mapping, got %s", describe(n))
		return b
	}
	b.ok = true
	byKey := make(map[string]*field, len(fields))
	known := make([]string, len(fields))
	for i := range fields {
		byKey[fields[i].key] = &fields[i]
		known[i] = fields[i].key
	}
	for _, e := range w.entries(v, path) {
		name := resolve(e.key).Value
		f := byKey[name]
		if f == nil {
			b.unknown++
			err := w.errorf(e.key, path, "unknown field %s", quote(name))
			if s := suggest(name, known); s != "" {
				err.Hint = fmt.Sprintf("did you mean %q?", s)
			}
			continue
		}
		p := join(path, name)
		w.record(e.val, p)
		e.ok = f.decode(w, e.val, p)
		b.found[name] = e
		b.order = append(b.order, name)
	}
	for _, f := range fields {
		if f.required && b.found[f.key] == nil {
			w.errorf(n, path, "missing required field %q", f.key)
		}
	}
	return b
}

// entries lists the keys of mapping v: its own keys in order, then keys
// merged in with "<<" that it does not set itself. Non-string keys and
// duplicate keys are reported and skipped.
func (w *walker) entries(v *yaml.Node, path string) []*entry {
	if v.Kind != yaml.MappingNode {
		return nil
	}
	var out []*entry
	seen := make(map[string]*yaml.Node)
	var merges []*yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		rk := resolve(k)
		if isMergeKey(rk) {
			merges = append(merges, val)
			continue
		}
		if rk.Kind != yaml.ScalarNode {
			w.errorf(k, path, "expected a field name, got %s", describe(k))
			continue
		}
		if first := seen[rk.Value]; first != nil {
			w.errorf(k, path, "duplicate field %s (first set at line %d)", quote(rk.Value), first.Line)
			continue
		}
		seen[rk.Value] = k
		out = append(out, &entry{key: k, val: val})
	}
	visited := map[*yaml.Node]bool{v: true}
	for _, m := range merges {
		out = w.merge(m, path, visited, seen, out)
	}
	return out
}

// merge appends the keys of the "<<" value m (a mapping or a list of
// mappings) that are not in seen yet. visited guards against anchors that
// merge themselves and keeps repeated merges of one mapping linear.
func (w *walker) merge(m *yaml.Node, path string, visited map[*yaml.Node]bool, seen map[string]*yaml.Node, out []*entry) []*entry {
	var sources []*yaml.Node
	switch rm := resolve(m); rm.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{m}
	case yaml.SequenceNode:
		sources = rm.Content
	default:
		w.errorf(m, path, "the merge key << needs a mapping or a list of mappings, got %s", describe(m))
		return out
	}
	for _, s := range sources {
		rs := resolve(s)
		if rs.Kind != yaml.MappingNode {
			w.errorf(s, path, "the merge key << needs a mapping or a list of mappings, got %s", describe(s))
			continue
		}
		if visited[rs] {
			continue
		}
		visited[rs] = true
		var nested []*yaml.Node
		for i := 0; i+1 < len(rs.Content); i += 2 {
			k := resolve(rs.Content[i])
			if isMergeKey(k) {
				nested = append(nested, rs.Content[i+1])
				continue
			}
			if k.Kind != yaml.ScalarNode || seen[k.Value] != nil {
				continue
			}
			seen[k.Value] = k
			out = append(out, &entry{key: rs.Content[i], val: rs.Content[i+1]})
		}
		for _, nm := range nested {
			out = w.merge(nm, path, visited, seen, out)
		}
	}
	return out
}

// list returns the items of the list n; null counts as an empty list. It
// reports a type error and returns ok false if n is something else.
func (w *walker) list(n *yaml.Node, path, what string) (items []*yaml.Node, ok bool) {
	v := resolve(n)
	switch {
	case isNull(v):
		return nil, true
	case v.Kind == yaml.SequenceNode:
		for i, item := range v.Content {
			w.record(item, index(path, i))
		}
		return v.Content, true
	}
	w.errorf(n, path, "expected %s, got %s", what, describe(n))
	return nil, false
}

// scalar returns the non-null scalar n, or reports that it expected what.
func (w *walker) scalar(n *yaml.Node, path, what string) (*yaml.Node, bool) {
	v := resolve(n)
	if v.Kind != yaml.ScalarNode || isNull(v) {
		w.errorf(n, path, "expected %s, got %s", what, describe(n))
		return nil, false
	}
	return v, true
}

// str returns the text of a scalar. Numbers and timestamps are taken as
// written, so `topic: 2024` is the topic "2024"; booleans and null are
// rejected.
func (w *walker) str(n *yaml.Node, path, what string) (string, bool) {
	v, ok := w.scalar(n, path, what)
	if !ok {
		return "", false
	}
	switch v.ShortTag() {
	case "!!str", "!!int", "!!float", "!!timestamp":
		return v.Value, true
	}
	w.errorf(n, path, "expected %s, got %s", what, describe(n))
	return "", false
}

// parseInt parses a YAML integer: decimal, 0x, 0o or 0b, with optional
// sign and underscores.
func parseInt(s string) (int64, error) {
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	return strconv.ParseInt(s, 0, 64)
}

// looksInteger reports whether s is written as a decimal integer, so that an
// overflowing one can be called out of range rather than not an integer.
func looksInteger(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// integer returns the integer n, checking it is within lo..hi.
func (w *walker) integer(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	v, ok := w.scalar(n, path, "an integer")
	if !ok {
		return 0, false
	}
	tag := v.ShortTag()
	if tag != "!!int" && !(tag == "!!float" && looksInteger(v.Value)) {
		w.errorf(n, path, "expected an integer, got %s", describe(n))
		return 0, false
	}
	i, err := parseInt(v.Value)
	if err != nil && looksInteger(v.Value) {
		w.errorf(n, path, "%s is out of range %d..%d", v.Value, lo, hi)
		return 0, false
	}
	if err != nil {
		w.errorf(n, path, "invalid integer %s", quote(v.Value))
		return 0, false
	}
	if i < lo || i > hi {
		w.errorf(n, path, "%s is out of range %d..%d", v.Value, lo, hi)
		return 0, false
	}
	return i, true
}

// boolean returns the boolean n. Only true and false are accepted, in any
// of YAML's spellings (true, True, TRUE); yes, no, on and off are not.
func (w *walker) boolean(n *yaml.Node, path string) (bool, bool) {
	v, ok := w.scalar(n, path, "true or false")
	if !ok {
		return false, false
	}
	if v.ShortTag() == "!!bool" {
		switch v.Value {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	}
	e := w.errorf(n, path, "expected true or false, got %s", describe(n))
	switch strings.ToLower(v.Value) {
	case "yes", "y", "on", "1":
		e.Hint = "write true"
	case "no", "n", "off", "0":
		e.Hint = "write false"
	}
	return false, false
}

const durationForms = "use a number with a unit, such as 500ms, 2s, 1m or 1h30m (units: ns, us, ms, s, m, h)"

// duration returns the duration n, checking it is within lo..hi. Durations
// are Go duration strings; a bare 0 is accepted, other bare numbers are
// rejected because their unit would be a guess.
func (w *walker) duration(n *yaml.Node, path string, lo, hi time.Duration) (time.Duration, bool) {
	v, ok := w.scalar(n, path, "a duration")
	if !ok {
		return 0, false
	}
	var d time.Duration
	switch v.ShortTag() {
	case "!!int", "!!float":
		if f, err := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64); err == nil && f == 0 {
			break
		}
		e := w.errorf(n, path, "invalid duration %s: a duration needs a unit", v.Value)
		e.Hint = fmt.Sprintf("write %sms or %ss", v.Value, v.Value)
		return 0, false
	case "!!str":
		var err error
		d, err = time.ParseDuration(strings.TrimSpace(v.Value))
		if err != nil {
			w.errorf(n, path, "invalid duration %s: %s", quote(v.Value), durationForms)
			return 0, false
		}
	default:
		w.errorf(n, path, "expected a duration, got %s", describe(n))
		return 0, false
	}
	if d < lo || d > hi {
		w.errorf(n, path, "%s is out of range %s..%s", v.Value, formatDuration(lo), formatDuration(hi))
		return 0, false
	}
	return d, true
}

// size returns the byte size n, checking it is within lo..hi.
func (w *walker) size(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	v, ok := w.scalar(n, path, "a size")
	if !ok {
		return 0, false
	}
	switch v.ShortTag() {
	case "!!str", "!!int", "!!float":
	default:
		w.errorf(n, path, "expected a size, got %s", describe(n))
		return 0, false
	}
	s, err := ParseSize(v.Value)
	if err != nil {
		w.errorf(n, path, "%v", err)
		return 0, false
	}
	if s < lo || s > hi {
		w.errorf(n, path, "%s is out of range %s..%s", v.Value, FormatSize(lo), FormatSize(hi))
		return 0, false
	}
	return s, true
}

// Field constructors for the common value kinds. Each stores into dst only
// when the value is valid, so dst keeps its default otherwise.

func intField(key string, dst *int, lo, hi int) field {
	return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
		v, ok := w.integer(n, path, int64(lo), int64(hi))
		if ok {
			*dst = int(v)
		}
		return ok
	}}
}

func boolField(key string, dst *bool) field {
	return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
		v, ok := w.boolean(n, path)
		if ok {
			*dst = v
		}
		return ok
	}}
}

func durationField(key string, dst *time.Duration, lo, hi time.Duration) field {
	return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
		v, ok := w.duration(n, path, lo, hi)
		if ok {
			*dst = v
		}
		return ok
	}}
}

func sizeField(key string, dst *int64, lo, hi int64) field {
	return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
		v, ok := w.size(n, path, lo, hi)
		if ok {
			*dst = v
		}
		return ok
	}}
}

// stringField stores a string checked by check, which returns a message and
// hint for an invalid value.
func stringField(key string, dst *string, what string, check func(string) (msg, hint string)) field {
	return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
		v, ok := w.str(n, path, what)
		if !ok {
			return false
		}
		if check != nil {
			if msg, hint := check(v); msg != "" {
				w.errorf(n, path, "%s", msg).Hint = hint
				return false
			}
		}
		*dst = v
		return true
	}}
}

// required marks a field as required.
func required(f field) field {
	f.required = true
	return f
}

// oneOf walks a mapping whose keys are alternative kinds (a source or a
// target) and reports unless exactly one kind is set. It returns the kind
// set, or "".
func (w *walker) oneOf(n *yaml.Node, path, what string, kinds []field) string {
	b := w.mapping(n, path, kinds)
	if !b.ok {
		return ""
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.key
	}
	switch {
	case len(b.order) == 0 && b.unknown == 0:
		w.errorf(n, path, "no %s kind set; set exactly one of: %s", what, strings.Join(names, ", "))
	case len(b.order) > 1:
		w.errorf(b.found[b.order[1]].key, path, "more than one %s kind set (%s); set exactly one", what, strings.Join(b.order, ", "))
	case len(b.order) == 1:
		return b.order[0]
	}
	return ""
}
