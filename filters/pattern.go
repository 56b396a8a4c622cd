package filters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Limits. Lambda allows 5 filters per event source mapping (10 with a
// quota increase) and patterns of up to 4,096 characters; Penstock accepts
// every such FilterCriteria and more, since a larger limit costs nothing
// until it is used.
const (
	// MaxFilters is the largest number of filters one Criteria may hold.
	MaxFilters = 100
	// MaxPatternBytes is the largest pattern, in bytes of JSON text.
	MaxPatternBytes = 16 << 10
	// MaxExprBytes is the largest expression, in bytes.
	MaxExprBytes = 16 << 10
	// maxPatternDepth is the deepest nesting of objects in a pattern.
	maxPatternDepth = 32
)

// jv is a parsed pattern value, keeping the order of object keys.
type jv struct {
	kind uint8
	s    string
	n    float64
	arr  []*jv
	obj  []jkv
}

type jkv struct {
	k string
	v *jv
}

// parsePattern parses the JSON text of a pattern.
func parsePattern(text string) (*jv, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	v, err := parseJV(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the pattern is not valid JSON: text after the end of the pattern")
	}
	return v, nil
}

func parseJV(dec *json.Decoder, depth int) (*jv, error) {
	if depth > maxPatternDepth*2+2 {
		return nil, fmt.Errorf("the pattern is nested more than %d levels deep", maxPatternDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("the pattern is not valid JSON: %v", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jv{kind: kObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("the pattern is not valid JSON: %v", err)
				}
				k := kt.(string)
				for _, e := range v.obj {
					if e.k == k {
						return nil, fmt.Errorf("the pattern has the key %q twice in one object", k)
					}
				}
				c, err := parseJV(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.obj = append(v.obj, jkv{k, c})
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("the pattern is not valid JSON: %v", err)
			}
			return v, nil
		case '[':
			v := &jv{kind: kArray}
			for dec.More() {
				c, err := parseJV(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, c)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("the pattern is not valid JSON: %v", err)
			}
			return v, nil
		}
	case string:
		return &jv{kind: kString, s: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, fmt.Errorf("the number %s is out of range", t)
		}
		return &jv{kind: kNumber, n: f, s: string(t)}, nil
	case bool:
		if t {
			return &jv{kind: kTrue}, nil
		}
		return &jv{kind: kFalse}, nil
	case nil:
		return &jv{kind: kNull}, nil
	}
	return nil, errors.New("the pattern is not valid JSON")
}

func (v *jv) describe() string {
	switch v.kind {
	case kString:
		return "a string"
	case kNumber:
		return "a number"
	case kTrue, kFalse:
		return "a boolean"
	case kNull:
		return "null"
	case kObject:
		return "an object"
	case kArray:
		return "an array"
	}
	return "a value"
}

// Record fields a pattern can name at its top level.
const (
	fieldValue     = "value"
	fieldKey       = "key"
	fieldHeaders   = "headers"
	fieldTopic     = "topic"
	fieldPartition = "partition"
	fieldOffset    = "offset"
	fieldTimestamp = "timestamp"
)

// operators are the keys of matcher objects; a "$or" whose alternatives
// use them as field names is an ordinary field, as in EventBridge.
var operators = map[string]bool{
	"prefix": true, "suffix": true, "equals-ignore-case": true, "wildcard": true,
	"anything-but": true, "numeric": true, "exists": true, "cidr": true,
}

// patternCompiler compiles the patterns of one Criteria into its plan.
type patternCompiler struct {
	root   *pnode
	filter int
}

func (c *patternCompiler) errorf(path, format string, args ...any) error {
	return &CompileError{Filter: c.filter, Path: path, Reason: fmt.Sprintf(format, args...)}
}

// compile adds one pattern to the plan and returns its formula over the
// root frame.
func (c *patternCompiler) compile(text string) (*formula, error) {
	if strings.TrimSpace(text) == "" {
		return nil, c.errorf("", "the pattern is empty")
	}
	if len(text) > MaxPatternBytes {
		return nil, c.errorf("", "the pattern is %d bytes; the limit is %d", len(text), MaxPatternBytes)
	}
	v, err := parsePattern(text)
	if err != nil {
		return nil, c.errorf("", "%v", err)
	}
	if v.kind != kObject {
		return nil, c.errorf("", "a pattern must be a JSON object, not %s", v.describe())
	}
	return c.object(c.root, v, "", 0)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// isOr reports whether "$or" introduces alternatives: an array of at least
// two objects that do not use matcher names as fields.
func isOr(v *jv) bool {
	if v.kind != kArray || len(v.arr) < 2 {
		return false
	}
	for _, a := range v.arr {
		if a.kind != kObject {
			return false
		}
		for _, e := range a.obj {
			if operators[e.k] {
				return false
			}
		}
	}
	return true
}

// object compiles a pattern object whose fields are children of n and
// returns its formula over n's frame.
func (c *patternCompiler) object(n *pnode, v *jv, path string, depth int) (*formula, error) {
	if depth > maxPatternDepth {
		return nil, c.errorf(path, "the pattern is nested more than %d levels deep", maxPatternDepth)
	}
	if len(v.obj) == 0 {
		return nil, c.errorf(path, "empty object: name at least one field to match")
	}
	f := &formula{op: fAnd}
	for _, e := range v.obj {
		p := join(path, e.k)
		if e.k == "$or" && isOr(e.v) {
			or := &formula{op: fOr}
			for i, alt := range e.v.arr {
				sub, err := c.object(n, alt, index(p, i), depth)
				if err != nil {
					return nil, err
				}
				or.kids = append(or.kids, sub)
			}
			f.kids = append(f.kids, or)
			continue
		}
		if n == c.root {
			if err := c.checkRecordField(e.k, e.v, p); err != nil {
				return nil, err
			}
		}
		child := n.child(e.k)
		if n == c.root {
			// Record metadata is compared over the whole float64 range.
			child.wide = e.k == fieldPartition || e.k == fieldOffset || e.k == fieldTimestamp
		}
		switch e.v.kind {
		case kArray:
			x, err := c.leaf(child, e.v, p)
			if err != nil {
				return nil, err
			}
			f.kids = append(f.kids, x)
		case kObject:
			sub, err := c.object(child, e.v, p, depth+1)
			if err != nil {
				return nil, err
			}
			g := &group{f: sub, emptyOK: sub.emptyOK()}
			child.groups = append(child.groups, g)
			f.kids = append(f.kids, &formula{op: fGroup, grp: g, node: child})
		default:
			return nil, c.errorf(p, "expected an array of matchers (or an object of fields), got %s", e.v.describe())
		}
	}
	return f, nil
}

// checkRecordField checks a top-level field of a pattern.
func (c *patternCompiler) checkRecordField(k string, v *jv, path string) error {
	switch k {
	case fieldValue, fieldKey:
		return nil
	case fieldTopic, fieldPartition, fieldOffset, fieldTimestamp:
		if v.kind != kArray {
			return c.errorf(path, "%s is a single value: expected an array of matchers, got %s", k, v.describe())
		}
		return nil
	case fieldHeaders:
		if v.kind != kObject {
			return c.errorf(path, `expected an object of header names, e.g. {"headers": {"type": ["order"]}}, got %s`, v.describe())
		}
		for _, e := range v.obj {
			if e.k == "$or" && isOr(e.v) {
				for i, alt := range e.v.arr {
					if err := c.checkRecordField(fieldHeaders, alt, index(join(path, e.k), i)); err != nil {
						return err
					}
				}
				continue
			}
			if e.v.kind != kArray {
				return c.errorf(join(path, e.k), "a header value is a string: expected an array of matchers, got %s", e.v.describe())
			}
		}
		return nil
	}
	return c.errorf(path, "unknown record field %q: a pattern matches value, key, headers, topic, partition, offset or timestamp", k)
}

// leaf compiles a list of matchers on path node n.
func (c *patternCompiler) leaf(n *pnode, v *jv, path string) (*formula, error) {
	if len(v.arr) == 0 {
		return nil, c.errorf(path, "empty list of matchers: it would never match")
	}
	l := &leafCond{}
	for i, e := range v.arr {
		p := index(path, i)
		switch e.kind {
		case kArray:
			return nil, c.errorf(p, "a matcher cannot be an array")
		case kObject:
			if len(e.obj) != 1 {
				return nil, c.errorf(p, "a matcher object must have exactly one operator, got %d keys", len(e.obj))
			}
			op, arg := e.obj[0].k, e.obj[0].v
			if op == "exists" {
				switch arg.kind {
				case kTrue:
					l.ms = append(l.ms, matcher{op: mAny})
				case kFalse:
					l.absentOK = true
					n.needExists = true
				default:
					return nil, c.errorf(join(p, op), "exists takes true or false, got %s", arg.describe())
				}
				continue
			}
			m, err := c.operator(op, arg, join(p, op), n.wide)
			if err != nil {
				return nil, err
			}
			l.ms = append(l.ms, m)
		default:
			l.ms = append(l.ms, literal(e))
		}
	}
	x := &formula{op: fLeaf, node: n, absentOK: l.absentOK}
	if len(l.ms) > 0 {
		n.leaves = append(n.leaves, l)
		x.leaf = l
	}
	return x, nil
}

// literal returns the exact matcher for a string, number, boolean or null.
func literal(e *jv) matcher {
	switch e.kind {
	case kString:
		return matcher{op: mString, str: e.s}
	case kNumber:
		return matcher{op: mNumber, num: mkNum(e.n)}
	case kTrue:
		return matcher{op: mTrue}
	case kFalse:
		return matcher{op: mFalse}
	}
	return matcher{op: mNull}
}

func (c *patternCompiler) operator(op string, arg *jv, p string, wide bool) (matcher, error) {
	switch op {
	case "prefix", "suffix":
		plain, fold := mPrefix, mPrefixFold
		if op == "suffix" {
			plain, fold = mSuffix, mSuffixFold
		}
		if arg.kind == kString {
			return matcher{op: plain, str: arg.s}, nil
		}
		if arg.kind == kObject && len(arg.obj) == 1 && arg.obj[0].k == "equals-ignore-case" {
			if s := arg.obj[0].v; s.kind == kString {
				return matcher{op: fold, str: s.s}, nil
			}
			return matcher{}, c.errorf(join(p, "equals-ignore-case"), "expected a string, got %s", arg.obj[0].v.describe())
		}
		return matcher{}, c.errorf(p, `%s takes a string (or {"equals-ignore-case": string}), got %s`, op, arg.describe())
	case "equals-ignore-case":
		if arg.kind != kString {
			return matcher{}, c.errorf(p, "equals-ignore-case takes a string, got %s", arg.describe())
		}
		return matcher{op: mFold, str: arg.s}, nil
	case "wildcard":
		if arg.kind != kString {
			return matcher{}, c.errorf(p, "wildcard takes a string, got %s", arg.describe())
		}
		return c.wildcard(arg.s, p)
	case "numeric":
		return c.numeric(arg, p, wide)
	case "cidr":
		if arg.kind != kString {
			return matcher{}, c.errorf(p, "cidr takes a string such as \"10.0.0.0/24\", got %s", arg.describe())
		}
		pfx, err := netip.ParsePrefix(arg.s)
		if err != nil {
			a, aerr := netip.ParseAddr(arg.s)
			if aerr != nil || a.Zone() != "" {
				return matcher{}, c.errorf(p, "%q is not an IPv4 or IPv6 CIDR block", arg.s)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		return matcher{op: mCIDR, pfx: pfx.Masked()}, nil
	case "anything-but":
		return c.anythingBut(arg, p)
	}
	return matcher{}, c.errorf(p, "unknown operator %q (known: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr)", op)
}

// wildcard compiles a wildcard pattern: * matches any run of characters,
// \* a star and \\ a backslash; "**" and other escapes are errors.
func (c *patternCompiler) wildcard(s, p string) (matcher, error) {
	var pieces []string
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*':
			if prevStar {
				return matcher{}, c.errorf(p, "%q has consecutive wildcard characters (**)", s)
			}
			pieces = append(pieces, cur.String())
			cur.Reset()
			prevStar = true
			continue
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return matcher{}, c.errorf(p, `%q: a backslash may only escape * or \`, s)
			}
			i++
			cur.WriteByte(s[i])
		default:
			cur.WriteByte(s[i])
		}
		prevStar = false
	}
	pieces = append(pieces, cur.String())
	m := matcher{op: mWildcard}
	if len(pieces) > 1 {
		if pieces[0] == "" {
			m.wildLo = true
			pieces = pieces[1:]
		}
		if pieces[len(pieces)-1] == "" {
			m.wildHi = true
			pieces = pieces[:len(pieces)-1]
		}
	}
	m.wild = pieces
	return m, nil
}

func checkNumber(v *jv) bool {
	return v.kind == kNumber && v.n >= -numLimit && v.n <= numLimit
}

// numeric compiles {"numeric": [op, n]} or {"numeric": [">"|">=", lo, "<"|"<=", hi]}.
func (c *patternCompiler) numeric(arg *jv, p string, wide bool) (matcher, error) {
	if arg.kind != kArray || (len(arg.arr) != 2 && len(arg.arr) != 4) {
		return matcher{}, c.errorf(p, `expected [operator, number] or [">" or ">=", number, "<" or "<=", number], got %s`, describeNumeric(arg))
	}
	m := matcher{op: mNumeric, wide: wide}
	for i := 0; i < len(arg.arr); i += 2 {
		o, n := arg.arr[i], arg.arr[i+1]
		if o.kind != kString {
			return matcher{}, c.errorf(index(p, i), "expected an operator (=, <, <=, >, >=), got %s", o.describe())
		}
		if n.kind != kNumber {
			return matcher{}, c.errorf(index(p, i+1), "expected a number after %q, got %s", o.s, n.describe())
		}
		if !wide && !checkNumber(n) {
			return matcher{}, c.errorf(index(p, i+1), "%s is out of range: numeric matching works between -5e9 and 5e9", n.s)
		}
		v := mkNum(n.n)
		switch o.s {
		case "=":
			if len(arg.arr) != 2 {
				return matcher{}, c.errorf(index(p, i), `"=" cannot be combined with another operator`)
			}
			m.lo, m.hi, m.loOp, m.hiOp = v, v, 2, 2
		case ">", ">=":
			if i != 0 {
				return matcher{}, c.errorf(index(p, i), "bad operator order: the lower bound (%s) must come first", o.s)
			}
			m.lo, m.loOp = v, 1
			if o.s == ">=" {
				m.loOp = 2
			}
		case "<", "<=":
			if len(arg.arr) == 4 && i == 0 {
				return matcher{}, c.errorf(index(p, i), "bad operator order: the upper bound (%s) must come second", o.s)
			}
			m.hi, m.hiOp = v, 1
			if o.s == "<=" {
				m.hiOp = 2
			}
		default:
			return matcher{}, c.errorf(index(p, i), "unknown numeric operator %q (use =, <, <=, > or >=)", o.s)
		}
	}
	if m.loOp != 0 && m.hiOp != 0 && (m.lo.f > m.hi.f || (m.lo.f == m.hi.f && (m.loOp == 1 || m.hiOp == 1))) {
		return matcher{}, c.errorf(p, "the range is empty: the lower bound is not below the upper bound")
	}
	return m, nil
}

func describeNumeric(v *jv) string {
	if v.kind == kArray {
		return fmt.Sprintf("an array of %d elements", len(v.arr))
	}
	return v.describe()
}

// anythingBut compiles the argument of anything-but.
func (c *patternCompiler) anythingBut(arg *jv, p string) (matcher, error) {
	m := matcher{op: mBut}
	switch arg.kind {
	case kString, kNumber:
		m.inner = []matcher{literal(arg)}
		return m, nil
	case kArray:
		if len(arg.arr) == 0 {
			return matcher{}, c.errorf(p, "anything-but takes a non-empty list")
		}
		kind := arg.arr[0].kind
		for i, e := range arg.arr {
			if e.kind != kString && e.kind != kNumber {
				return matcher{}, c.errorf(index(p, i), "anything-but lists hold strings or numbers, got %s", e.describe())
			}
			if e.kind != kind {
				return matcher{}, c.errorf(index(p, i), "anything-but lists hold only strings or only numbers, not both")
			}
			m.inner = append(m.inner, literal(e))
		}
		return m, nil
	case kObject:
		if len(arg.obj) != 1 {
			return matcher{}, c.errorf(p, "anything-but takes one operator (prefix, suffix, equals-ignore-case or wildcard), got %d keys", len(arg.obj))
		}
		op, v := arg.obj[0].k, arg.obj[0].v
		q := join(p, op)
		switch op {
		case "prefix", "suffix":
			if v.kind != kString {
				return matcher{}, c.errorf(q, "expected a string, got %s", v.describe())
			}
			in, err := c.operator(op, v, q, false)
			if err != nil {
				return matcher{}, err
			}
			m.inner = []matcher{in}
			return m, nil
		case "equals-ignore-case", "wildcard":
			list := []*jv{v}
			if v.kind == kArray {
				list = v.arr
				if len(list) == 0 {
					return matcher{}, c.errorf(q, "expected a string or a non-empty list of strings")
				}
			}
			for i, e := range list {
				ep := q
				if v.kind == kArray {
					ep = index(q, i)
				}
				if e.kind != kString {
					return matcher{}, c.errorf(ep, "expected a string, got %s", e.describe())
				}
				in, err := c.operator(op, e, ep, false)
				if err != nil {
					return matcher{}, err
				}
				m.inner = append(m.inner, in)
			}
			return m, nil
		}
		return matcher{}, c.errorf(q, "anything-but does not take %q (use prefix, suffix, equals-ignore-case or wildcard)", op)
	}
	return matcher{}, c.errorf(p, "anything-but takes a string, a number, a list, or an operator object, got %s", arg.describe())
}

// CompileError is a filter that cannot be compiled.
type CompileError struct {
	// Filter is the index of the filter in the specs given to Compile.
	Filter int
	// Path is where in a pattern the error is, such as
	// "value.amount[0].numeric"; empty for expression errors and for errors
	// about the pattern as a whole.
	Path string
	// Line and Column give the position of an expression error inside the
	// expression, both 1-based; 0 otherwise.
	Line, Column int
	// Reason says what is wrong.
	Reason string
}

func (e *CompileError) Error() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "filter %d", e.Filter)
	if e.Path != "" {
		fmt.Fprintf(&b, ": %s", e.Path)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d, column %d", e.Line, e.Column)
	}
	fmt.Fprintf(&b, ": %s", e.Reason)
	return b.String()
}
