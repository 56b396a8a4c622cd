package filters

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/penstock-dev/penstock/pipeline"
)

// exprEnv is the environment an expression sees.
type exprEnv struct {
	Value     any               `expr:"value"`
	Key       string            `expr:"key"`
	Headers   map[string]string `expr:"headers"`
	Topic     string            `expr:"topic"`
	Partition int               `expr:"partition"`
	Offset    int               `expr:"offset"`
	Timestamp time.Time         `expr:"timestamp"`
	KeyJSON   func() any        `expr:"keyJSON"`
}

// exprState is the per-goroutine part of expression evaluation.
type exprState struct {
	env  exprEnv
	used bool // env holds a record's values
	vm   vm.VM
	elem span // the element a closure's predicate is evaluated on
}

// exprFilter is one compiled expression.
type exprFilter struct {
	prog *vm.Program
	fast *xnode // nil: every record goes to the VM
	src  string // the expression, for error reports

	usesValue, usesKey, usesHeaders, usesKeyJSON bool
	// topKeys are the top-level fields of value the expression reads, when
	// it reads value only through fixed paths; the VM then gets a map of
	// just those fields. nil with fullValue: decode the whole value.
	topKeys   []*pnode
	fullValue bool
}

var exprOptions = []expr.Option{
	expr.Env(exprEnv{}),
	expr.AsBool(),
	expr.Optimize(false),
	expr.Function("json", func(args ...any) (any, error) {
		s := args[0].(string)
		if !validJSON([]byte(s)) {
			return nil, errors.New("json: the argument is not valid JSON")
		}
		v, _ := decodeAny([]byte(s), skipWS([]byte(s), 0))
		return v, nil
	}, new(func(string) any)),
	expr.Function("base64", func(args ...any) (any, error) {
		s := args[0].(string)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				return string(b), nil
			}
		}
		return nil, errors.New("base64: the argument is not valid base64")
	}, new(func(string) string)),
}

// compileExpr compiles one expression; root is the plan the Criteria
// walks, where the expression registers the value paths it reads.
func compileExpr(filter int, src string, root *pnode) (*exprFilter, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &CompileError{Filter: filter, Reason: "the expression is empty"}
	}
	if len(src) > MaxExprBytes {
		return nil, &CompileError{Filter: filter, Reason: fmt.Sprintf("the expression is %d bytes; the limit is %d", len(src), MaxExprBytes)}
	}
	prog, err := expr.Compile(src, exprOptions...)
	if err != nil {
		ce := &CompileError{Filter: filter, Line: 1, Column: 1, Reason: err.Error()}
		var fe *file.Error
		if errors.As(err, &fe) {
			ce.Reason = fe.Message
			if fe.Line > 0 {
				ce.Line, ce.Column = fe.Line, fe.Column+1
			}
		}
		return nil, ce
	}
	x := &exprFilter{prog: prog, src: src}
	node := prog.Node()
	x.scan(node, root)
	fc := fastCompiler{root: root}
	if fast, ok := fc.node(node); ok {
		fast.markBoolean()
		fast.specialize()
		x.fast = fast
	}
	return x, nil
}

// scan notes which parts of the record the expression reads.
func (x *exprFilter) scan(node ast.Node, root *pnode) {
	var topKeys []string
	ast.Find(node, func(n ast.Node) bool {
		id, ok := n.(*ast.IdentifierNode)
		if !ok {
			return false
		}
		switch id.Value {
		case "value":
			x.usesValue = true
		case "key":
			x.usesKey = true
		case "headers":
			x.usesHeaders = true
		case "keyJSON":
			x.usesKeyJSON = true
		}
		return false
	})
	if !x.usesValue {
		return
	}
	// value read only as value.<name>...: the VM needs only those fields.
	bare := false
	var visit func(n ast.Node, parent ast.Node)
	visit = func(n ast.Node, parent ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok && id.Value == "value" {
			m, ok := parent.(*ast.MemberNode)
			if !ok || m.Node != n || m.Method {
				bare = true
				return
			}
			s, ok := m.Property.(*ast.StringNode)
			if !ok {
				bare = true
				return
			}
			for _, k := range topKeys {
				if k == s.Value {
					return
				}
			}
			topKeys = append(topKeys, s.Value)
		}
		for _, c := range children(n) {
			visit(c, n)
		}
	}
	visit(node, nil)
	v := root.child(fieldValue)
	if bare {
		x.fullValue = true
		return
	}
	for _, k := range topKeys {
		c := v.child(k)
		c.needCapture = true
		x.topKeys = append(x.topKeys, c)
	}
}

// children lists the direct children of an expression node.
func children(n ast.Node) []ast.Node {
	var out []ast.Node
	switch n := n.(type) {
	case *ast.UnaryNode:
		out = append(out, n.Node)
	case *ast.BinaryNode:
		out = append(out, n.Left, n.Right)
	case *ast.ChainNode:
		out = append(out, n.Node)
	case *ast.MemberNode:
		out = append(out, n.Node, n.Property)
	case *ast.SliceNode:
		out = append(out, n.Node, n.From, n.To)
	case *ast.CallNode:
		out = append(out, n.Callee)
		out = append(out, n.Arguments...)
	case *ast.BuiltinNode:
		out = append(out, n.Arguments...)
		out = append(out, n.Map)
	case *ast.PredicateNode:
		out = append(out, n.Node)
	case *ast.SequenceNode:
		out = append(out, n.Nodes...)
	case *ast.VariableDeclaratorNode:
		out = append(out, n.Value, n.Expr)
	case *ast.ConditionalNode:
		out = append(out, n.Cond, n.Exp1, n.Exp2)
	case *ast.ArrayNode:
		out = append(out, n.Nodes...)
	case *ast.MapNode:
		for _, p := range n.Pairs {
			out = append(out, p)
		}
	case *ast.PairNode:
		out = append(out, n.Key, n.Value)
	}
	kept := out[:0]
	for _, c := range out {
		if c != nil && !(reflect.ValueOf(c).Kind() == reflect.Pointer && reflect.ValueOf(c).IsNil()) {
			kept = append(kept, c)
		}
	}
	return kept
}

// run evaluates the expression on a record whose value (and key) the
// walker has already read. An error is a runtime error of the expression.
func (x *exprFilter) run(st *state, r *pipeline.Record) (bool, error) {
	if x.fast != nil {
		if x.fast.boolean {
			switch st.evalB(x.fast, r) {
			case bFalse:
				return false, nil
			case bTrue:
				return true, nil
			case bErr:
				return false, errRuntime
			}
			return x.runVM(st, r)
		}
		v := st.evalX(x.fast, r)
		switch v.k {
		case vBool:
			return v.b, nil
		case vNil:
			return false, nil
		case vErr:
			return false, errRuntime
		case vDefer:
		default:
			return false, errRuntime
		}
	}
	return x.runVM(st, r)
}

var errRuntime = errors.New("runtime error")

// runVM evaluates the expression with expr's VM on a decoded environment.
func (x *exprFilter) runVM(st *state, r *pipeline.Record) (ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ok, err = false, fmt.Errorf("%v", p)
		}
	}()
	env := &st.x.env
	st.x.used = true
	*env = exprEnv{
		Topic:     r.Topic,
		Partition: int(r.Partition),
		Offset:    int(r.Offset),
		Timestamp: time.UnixMilli(r.Timestamp).UTC(),
	}
	if x.usesKey {
		env.Key = string(r.Key)
	}
	if x.usesKeyJSON {
		key := r.Key
		env.KeyJSON = func() any { return docAny(key) }
	}
	if x.usesHeaders {
		env.Headers = make(map[string]string, len(r.Headers))
		for _, h := range r.Headers {
			env.Headers[h.Key] = string(h.Value)
		}
	}
	if x.usesValue {
		env.Value = x.valueFor(st, r.Value)
	}
	out, err := st.x.vm.Run(x.prog, env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// valueFor decodes the record value for the VM: only the fields the
// expression reads when it can, the whole document otherwise.
func (x *exprFilter) valueFor(st *state, b []byte) any {
	switch st.valKind {
	case kAbsent:
		return nil
	case kPlain:
		return string(b)
	case kObject:
		if !x.fullValue {
			m := make(map[string]any, len(x.topKeys))
			for _, k := range x.topKeys {
				if sp := st.caps[k.capture]; sp.end > 0 {
					m[k.key], _ = decodeAny(b, sp.start)
				}
			}
			return m
		}
	}
	v, _ := decodeAny(b, skipWS(b, 0))
	return v
}

// docAny decodes a record key or value as expressions see it: nil when
// absent, the JSON document when it is JSON, else the bytes as a string.
func docAny(b []byte) any {
	if b == nil {
		return nil
	}
	if !validJSON(b) {
		return string(b)
	}
	v, _ := decodeAny(b, skipWS(b, 0))
	return v
}

// decodeAny decodes the valid JSON value at b[i] into Go values as
// encoding/json does (objects as map[string]any, numbers as float64).
func decodeAny(b []byte, i int) (any, int) {
	switch b[i] {
	case '{':
		m := map[string]any{}
		i = skipWS(b, i+1)
		if b[i] == '}' {
			return m, i + 1
		}
		for {
			end, flags := scanString(b, i)
			k := decodeString(b[i+1:end-1], flags)
			i = skipWS(b, end)
			var v any
			v, i = decodeAny(b, skipWS(b, i+1))
			m[k] = v
			i = skipWS(b, i)
			if b[i] == '}' {
				return m, i + 1
			}
			i = skipWS(b, i+1)
		}
	case '[':
		a := []any{}
		i = skipWS(b, i+1)
		if b[i] == ']' {
			return a, i + 1
		}
		for {
			var v any
			v, i = decodeAny(b, i)
			a = append(a, v)
			i = skipWS(b, i)
			if b[i] == ']' {
				return a, i + 1
			}
			i = skipWS(b, i+1)
		}
	case '"':
		end, flags := scanString(b, i)
		return decodeString(b[i+1:end-1], flags), end
	case 't':
		return true, i + 4
	case 'f':
		return false, i + 5
	case 'n':
		return nil, i + 4
	}
	end := scanNumber(b, i)
	return parseNumberAt(b, i, end), end
}

func decodeString(raw []byte, flags uint8) string {
	if needsDecode(raw, flags) {
		return string(appendString(nil, raw))
	}
	return string(raw)
}

// The fast path: the common subset of expressions — comparisons, logic,
// membership in a literal list, string operators and functions on value
// paths and record fields — compiled to a tree evaluated on the walker's
// captures without allocating. It follows expr's runtime rules exactly
// (the tests compare both on many expressions and records); where a case
// is not modelled, it defers to the VM for that record.

// Kinds of fast-path values.
const (
	vNil uint8 = iota
	vBool
	vInt
	vFloat
	vStr
	vOther // an object or array from the value
	vErr   // a runtime error
	vDefer // not modelled: ask the VM
)

// xval is a fast-path value. It has four fields and 32 bytes so that the
// compiler keeps it in registers (a larger struct goes through memory, and
// copying it stalls on its partial writes): the number is one word, an
// int64 for vInt and the bits of a float64 for vFloat, and the string a
// string header.
type xval struct {
	k uint8
	b bool
	n uint64
	s string // a view of the record's bytes or the scratch buffer (bstr)
}

func xInt(i int64) xval     { return xval{k: vInt, n: uint64(i)} }
func xFloat(f float64) xval { return xval{k: vFloat, n: math.Float64bits(f)} }

func (v xval) int() int64     { return int64(v.n) }
func (v xval) float() float64 { return math.Float64frombits(v.n) }

func (v xval) num() float64 {
	if v.k == vInt {
		return float64(v.int())
	}
	return v.float()
}

// Fast-path operators.
const (
	xLit uint8 = iota
	xPath
	xKey
	xTopic
	xPartition
	xOffset
	xHeader
	xAnd
	xOr
	xNot
	xEq
	xNe
	xLt
	xLe
	xGt
	xGe
	xIn
	xStarts
	xEnds
	xContains
	xMatches
	xLower
	xUpper
	xTrim
	xAdd
	xSub
	xMul
	xDiv
	xMod
	xPow
	xNeg
	xLen
	xCoalesce
	xInPath // in an array or object of the value
	xCond   // a ? b : c (c in x.c)
	xElem   // the element of a closure (#), and steps below it (esteps)
	xAny    // any(a, b): a is a value path, b the predicate
	xAll
	xNone
	xOne
	xCount
)

// An estep is a step below a closure's element: a key, or an index
// (index >= 0), optional (?.) or not.
type estep struct {
	key   string
	index int
	opt   bool
}

type xnode struct {
	op      uint8
	a, b, c *xnode
	lit     xval
	list    []xval
	root    *pnode   // the value node
	path    []*pnode // value path: each step's plan node (key or index child)
	opt     uint64   // value path: bit i set when step i is optional (?.)
	esteps  []estep  // xElem: the steps below the element
	name    string
	re      *regexp.Regexp
	// boolean: the node always yields a boolean (or an error), so evalB
	// can evaluate it without building values.
	boolean bool

	// A comparison of a value path with literals, the common leaf of an
	// expression, is evaluated by evalLeaf without building values when
	// the path holds the kind of value the literals are (spec), and by
	// evalX otherwise. ref is the path operand; swap: it is on the right.
	spec  uint8
	swap  bool
	ref   *xnode
	num   float64  // specNum: the literal
	strs  []string // specStr: the string literals
	rawOK bool     // specStr: no literal holds U+FFFD (see matcher.rawOK)
	// last is the path's last step. When the walker recorded its capture,
	// the steps before it were all found, as objects or arrays as the
	// steps require: captures below a key whose last occurrence is not
	// such a container are reset.
	last *pnode
}

// Leaf specializations (xnode.spec).
const (
	specNone uint8 = iota
	specNum        // path ==, !=, <, <=, >, >= a number literal (or the reverse)
	specStr        // path ==, != a string literal (or the reverse), path in a list, path startsWith, endsWith, contains a string literal
)

// specialize sets spec on the comparisons of x and below that evalLeaf
// can evaluate.
func (x *xnode) specialize() {
	if x == nil {
		return
	}
	x.a.specialize()
	x.b.specialize()
	x.c.specialize()
	if !x.boolean || x.a == nil {
		return
	}
	ref, lit, swap := x.a, x.b, false
	if ref.op != xPath {
		ref, lit, swap = x.b, x.a, true
	}
	if ref == nil || ref.op != xPath {
		return
	}
	switch x.op {
	case xEq, xNe, xLt, xLe, xGt, xGe:
		if lit.op != xLit {
			return
		}
		switch lit.lit.k {
		case vInt, vFloat:
			x.spec, x.num = specNum, lit.lit.num()
		case vStr:
			if x.op != xEq && x.op != xNe {
				return
			}
			x.spec, x.strs = specStr, []string{lit.lit.s}
		default:
			return
		}
	case xIn:
		if swap {
			return
		}
		// A string is in the list when it equals one of its strings: the
		// other literals are never equal to a string.
		x.spec, x.strs = specStr, []string{}
		for _, l := range x.list {
			if l.k == vStr {
				x.strs = append(x.strs, l.s)
			}
		}
	case xStarts, xEnds, xContains:
		if swap || lit.op != xLit || lit.lit.k != vStr {
			return
		}
		x.spec, x.strs = specStr, []string{lit.lit.s}
	default:
		return
	}
	x.ref, x.swap = ref, swap
	x.last = ref.root
	if len(ref.path) > 0 {
		x.last = ref.path[len(ref.path)-1]
	}
	x.rawOK = true
	for _, s := range x.strs {
		if strings.ContainsRune(s, utf8.RuneError) {
			x.rawOK = false
		}
	}
}

// evalLeaf evaluates a specialized comparison x (spec != specNone) when
// its path holds a number (specNum) or a string (specStr) and ok is true;
// otherwise evalX must evaluate it.
func (st *state) evalLeaf(x *xnode, b []byte) (res bool, ok bool) {
	var kind uint8
	var sp span
	if len(x.ref.path) > 0 {
		sp = st.caps[x.last.capture]
	}
	if sp.end > 0 {
		kind = kindOf(b[sp.start])
	} else {
		kind, sp = st.pathRef(x.ref, b)
	}
	if x.spec == specNum {
		if kind != kNumber {
			return false, false
		}
		l, r := parseNumberAt(b, sp.start, sp.end), x.num
		if x.swap {
			l, r = r, l
		}
		// As evalX: float64 comparisons (a NaN compares false).
		switch x.op {
		case xEq:
			return l == r, true
		case xNe:
			return l != r, true
		case xLt:
			return l < r, true
		case xLe:
			return l <= r, true
		case xGt:
			return l > r, true
		}
		return l >= r, true
	}
	if kind != kString {
		return false, false
	}
	raw := b[sp.start+1 : sp.end-1]
	if sp.flags&sEscape != 0 || !x.rawOK {
		return false, false
	}
	// The raw bytes stand for the decoded string here, as in
	// matcher.match: without escapes the decoded string is the raw bytes
	// with every byte that is not UTF-8 replaced by U+FFFD, and no
	// literal holds U+FFFD, so the decoded string equals, starts with,
	// ends with or contains a literal exactly when the raw bytes do.
	s := bstr(raw)
	switch x.op {
	case xEq:
		return s == x.strs[0], true
	case xNe:
		return s != x.strs[0], true
	case xIn:
		for _, l := range x.strs {
			if s == l {
				return true, true
			}
		}
		return false, true
	case xStarts:
		return strings.HasPrefix(s, x.strs[0]), true
	case xEnds:
		return strings.HasSuffix(s, x.strs[0]), true
	}
	return strings.Contains(s, x.strs[0]), true
}

// markBoolean sets boolean on x and below.
func (x *xnode) markBoolean() bool {
	if x == nil {
		return false
	}
	a, b := x.a.markBoolean(), x.b.markBoolean()
	switch x.op {
	case xLit:
		x.boolean = x.lit.k == vBool
	case xAnd, xOr:
		x.boolean = a && b
	case xCond:
		c := x.c.markBoolean()
		x.boolean = b && c
	case xNot:
		x.boolean = a
	case xEq, xNe, xLt, xLe, xGt, xGe, xIn, xInPath, xStarts, xEnds, xContains, xMatches,
		xAny, xAll, xNone, xOne:
		x.boolean = true
	}
	return x.boolean
}

// Results of evalB.
const (
	bFalse uint8 = iota
	bTrue
	bErr
	bDefer
)

// evalB evaluates a boolean node.
func (st *state) evalB(x *xnode, r *pipeline.Record) uint8 {
	switch x.op {
	case xAnd, xOr:
		a := st.evalB(x.a, r)
		if a >= bErr || (a == bTrue) == (x.op == xOr) {
			return a
		}
		return st.evalB(x.b, r)
	case xNot:
		a := st.evalB(x.a, r)
		if a >= bErr {
			return a
		}
		return a ^ 1
	}
	if x.spec != specNone {
		if res, ok := st.evalLeaf(x, r.Value); ok {
			if res {
				return bTrue
			}
			return bFalse
		}
	}
	v := st.evalX(x, r)
	switch v.k {
	case vBool:
		if v.b {
			return bTrue
		}
		return bFalse
	case vDefer:
		return bDefer
	}
	return bErr
}

type fastCompiler struct {
	root      *pnode
	inClosure bool // compiling a closure's predicate: # is its element
}

// node compiles n for the fast path, or reports that it cannot.
func (fc *fastCompiler) node(n ast.Node) (*xnode, bool) {
	switch n := n.(type) {
	case *ast.BoolNode:
		return &xnode{op: xLit, lit: xval{k: vBool, b: n.Value}}, true
	case *ast.IntegerNode:
		return &xnode{op: xLit, lit: xInt(int64(n.Value))}, true
	case *ast.FloatNode:
		return &xnode{op: xLit, lit: xFloat(n.Value)}, true
	case *ast.StringNode:
		return &xnode{op: xLit, lit: xval{k: vStr, s: n.Value}}, true
	case *ast.NilNode:
		return &xnode{op: xLit, lit: xval{k: vNil}}, true
	case *ast.IdentifierNode:
		switch n.Value {
		case "key":
			return &xnode{op: xKey}, true
		case "topic":
			return &xnode{op: xTopic}, true
		case "partition":
			return &xnode{op: xPartition}, true
		case "offset":
			return &xnode{op: xOffset}, true
		case "value":
			v := fc.root.child(fieldValue)
			v.needCapture = true
			return &xnode{op: xPath, root: v}, true
		}
		return nil, false
	case *ast.MemberNode:
		return fc.member(n, false)
	case *ast.ChainNode:
		// A chain with optional steps (value?.a.b): a nil before one of
		// them makes the whole chain nil.
		if m, ok := n.Node.(*ast.MemberNode); ok {
			return fc.member(m, true)
		}
		return nil, false
	case *ast.UnaryNode:
		switch n.Operator {
		case "!", "not":
			a, ok := fc.node(n.Node)
			return &xnode{op: xNot, a: a}, ok
		case "+": // expr compiles it to nothing
			return fc.node(n.Node)
		case "-":
			a, ok := fc.node(n.Node)
			if !ok {
				return nil, false
			}
			if a.op == xLit && (a.lit.k == vInt || a.lit.k == vFloat) {
				if a.lit.k == vInt {
					a.lit = xInt(int64(-int(a.lit.int())))
				} else {
					a.lit = xFloat(-a.lit.float())
				}
				return a, true
			}
			return &xnode{op: xNeg, a: a}, true
		}
		return nil, false
	case *ast.BinaryNode:
		return fc.binary(n)
	case *ast.PointerNode:
		if !fc.inClosure || n.Name != "" {
			return nil, false
		}
		return &xnode{op: xElem}, true
	case *ast.ConditionalNode:
		a, ok1 := fc.node(n.Cond)
		b, ok2 := fc.node(n.Exp1)
		c, ok3 := fc.node(n.Exp2)
		if !ok1 || !ok2 || !ok3 {
			return nil, false
		}
		// expr types a ternary from its branches (as the first when it
		// can be assigned to the second, or as the other of a nil), and
		// compares a typed result with == as that type, failing on a value
		// of another type. So only ternaries whose branches both have the
		// type their values have at run time are taken: two literals of a
		// kind, or two booleans.
		lits := b.op == xLit && c.op == xLit && b.lit.k == c.lit.k && b.lit.k != vNil
		if !lits && (!staticBool(b) || !staticBool(c)) {
			return nil, false
		}
		return &xnode{op: xCond, a: a, b: b, c: c}, true
	case *ast.BuiltinNode:
		if x, ok, closure := fc.closure(n); closure {
			return x, ok
		}
		var op uint8
		switch n.Name {
		case "lower":
			op = xLower
		case "upper":
			op = xUpper
		case "trim":
			op = xTrim
		case "len":
			op = xLen
		default:
			return nil, false
		}
		if len(n.Arguments) != 1 {
			return nil, false
		}
		a, ok := fc.node(n.Arguments[0])
		return &xnode{op: op, a: a}, ok
	}
	return nil, false
}

// staticBool reports whether expr types x as a boolean and its value is
// one at run time (or an error).
func staticBool(x *xnode) bool {
	switch x.op {
	case xLit:
		return x.lit.k == vBool
	case xEq, xNe, xLt, xLe, xGt, xGe, xIn, xInPath, xStarts, xEnds, xContains, xMatches,
		xAnd, xOr, xNot, xAny, xAll, xNone, xOne:
		return true
	}
	return false
}

// closure compiles any, all, none, one and count over an array of the
// value with a predicate (closure reports whether n is one of them). A
// closure inside another one is left to the VM.
func (fc *fastCompiler) closure(n *ast.BuiltinNode) (x *xnode, ok, closure bool) {
	ops := map[string]uint8{"any": xAny, "all": xAll, "none": xNone, "one": xOne, "count": xCount}
	op, closure := ops[n.Name]
	if !closure {
		return nil, false, false
	}
	if fc.inClosure || len(n.Arguments) != 2 || n.Map != nil || n.Threshold != nil {
		return nil, false, true
	}
	pred, isPred := n.Arguments[1].(*ast.PredicateNode)
	if !isPred {
		return nil, false, true
	}
	a, ok1 := fc.node(n.Arguments[0])
	if !ok1 || a.op != xPath {
		return nil, false, true
	}
	fc.inClosure = true
	b, ok2 := fc.node(pred.Node)
	fc.inClosure = false
	return &xnode{op: op, a: a, b: b}, ok2, true
}

func (fc *fastCompiler) binary(n *ast.BinaryNode) (*xnode, bool) {
	ops := map[string]uint8{
		"&&": xAnd, "and": xAnd, "||": xOr, "or": xOr,
		"==": xEq, "!=": xNe, "<": xLt, "<=": xLe, ">": xGt, ">=": xGe,
		"startsWith": xStarts, "endsWith": xEnds, "contains": xContains,
		"+": xAdd, "-": xSub, "*": xMul, "/": xDiv, "%": xMod, "**": xPow, "^": xPow,
		"??": xCoalesce,
	}
	switch n.Operator {
	case "in":
		arr, ok := n.Right.(*ast.ArrayNode)
		if !ok {
			// An array or object of the value: its elements, or keys.
			a, ok1 := fc.node(n.Left)
			b, ok2 := fc.node(n.Right)
			if !ok1 || !ok2 || b.op != xPath {
				return nil, false
			}
			return &xnode{op: xInPath, a: a, b: b}, true
		}
		x := &xnode{op: xIn}
		for _, e := range arr.Nodes {
			l, ok := fc.node(e)
			if !ok || l.op != xLit {
				return nil, false
			}
			x.list = append(x.list, l.lit)
		}
		a, ok := fc.node(n.Left)
		x.a = a
		return x, ok
	case "matches":
		s, ok := n.Right.(*ast.StringNode)
		if !ok {
			return nil, false
		}
		re, err := regexp.Compile(s.Value)
		if err != nil {
			return nil, false
		}
		a, ok := fc.node(n.Left)
		return &xnode{op: xMatches, a: a, re: re}, ok
	}
	op, ok := ops[n.Operator]
	if !ok {
		return nil, false
	}
	a, ok1 := fc.node(n.Left)
	b, ok2 := fc.node(n.Right)
	return &xnode{op: op, a: a, b: b}, ok1 && ok2
}

// member compiles value.a.b[0] paths and headers.name / headers["name"];
// in a chain (inChain), steps may be optional (value?.a).
func (fc *fastCompiler) member(n *ast.MemberNode, inChain bool) (*xnode, bool) {
	var steps []ast.Node
	var opts []bool
	var cur ast.Node = n
	for {
		m, ok := cur.(*ast.MemberNode)
		if !ok {
			break
		}
		if m.Method || (m.Optional && !inChain) {
			return nil, false
		}
		steps = append(steps, m.Property)
		opts = append(opts, m.Optional)
		cur = m.Node
	}
	if _, ok := cur.(*ast.PointerNode); ok && fc.inClosure && len(steps) > 0 {
		// #.a.b[0] (or .a.b[0]) in a closure: steps below its element.
		x := &xnode{op: xElem}
		for i := len(steps) - 1; i >= 0; i-- {
			switch p := steps[i].(type) {
			case *ast.StringNode:
				x.esteps = append(x.esteps, estep{key: p.Value, index: -1, opt: opts[i]})
			case *ast.IntegerNode:
				if p.Value < 0 {
					return nil, false
				}
				x.esteps = append(x.esteps, estep{index: p.Value, opt: opts[i]})
			default:
				return nil, false
			}
		}
		return x, true
	}
	id, ok := cur.(*ast.IdentifierNode)
	if !ok || len(steps) > 64 {
		return nil, false
	}
	// steps are innermost last; reverse them.
	for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
		steps[i], steps[j] = steps[j], steps[i]
		opts[i], opts[j] = opts[j], opts[i]
	}
	switch id.Value {
	case "headers":
		if len(steps) != 1 {
			return nil, false
		}
		s, ok := steps[0].(*ast.StringNode)
		if !ok {
			return nil, false
		}
		return &xnode{op: xHeader, name: s.Value}, true
	case "value":
		node := fc.root.child(fieldValue)
		x := &xnode{op: xPath, root: node}
		for i, s := range steps {
			if opts[i] {
				x.opt |= 1 << i
			}
			switch p := s.(type) {
			case *ast.StringNode:
				node = node.child(p.Value)
			case *ast.IntegerNode:
				if p.Value < 0 {
					return nil, false
				}
				node = node.indexChild(p.Value)
			default:
				return nil, false
			}
			node.needCapture = true
			x.path = append(x.path, node)
		}
		return x, true
	}
	return nil, false
}

// evalX evaluates a fast-path tree following expr's runtime rules.
func (st *state) evalX(x *xnode, r *pipeline.Record) xval {
	switch x.op {
	case xLit:
		return x.lit
	case xPath:
		return st.pathValue(x, r.Value)
	case xKey:
		return xval{k: vStr, s: bstr(r.Key)}
	case xTopic:
		return xval{k: vStr, s: r.Topic}
	case xPartition:
		return xInt(int64(r.Partition))
	case xOffset:
		return xInt(r.Offset)
	case xHeader:
		v := xval{k: vStr}
		for i := range r.Headers {
			if r.Headers[i].Key == x.name {
				v.s = bstr(r.Headers[i].Value)
			}
		}
		return v
	case xAnd, xOr:
		a := st.evalX(x.a, r)
		if a.k != vBool {
			return notBool(a)
		}
		if a.b == (x.op == xOr) {
			return a
		}
		return st.evalX(x.b, r)
	case xNot:
		a := st.evalX(x.a, r)
		if a.k != vBool {
			return notBool(a)
		}
		return xval{k: vBool, b: !a.b}
	case xEq, xNe:
		a, b, ok := st.operands(x, r)
		if !ok {
			return a
		}
		eq := equalX(a, b)
		if eq.k != vBool {
			return eq
		}
		eq.b = eq.b == (x.op == xEq)
		return eq
	case xLt, xLe, xGt, xGe:
		a, b, ok := st.operands(x, r)
		if !ok {
			return a
		}
		var c int
		switch {
		case (a.k == vInt || a.k == vFloat) && (b.k == vInt || b.k == vFloat):
			if a.k == vInt && b.k == vInt {
				c = cmpInt(a.int(), b.int())
			} else {
				af, bf := a.num(), b.num()
				switch {
				case af < bf:
					c = -1
				case af > bf:
					c = 1
				case af == bf:
					c = 0
				default:
					return xval{k: vBool} // NaN compares false
				}
			}
		case a.k == vStr && b.k == vStr:
			c = strings.Compare(a.s, b.s)
		default:
			return xval{k: vErr}
		}
		var res bool
		switch x.op {
		case xLt:
			res = c < 0
		case xLe:
			res = c <= 0
		case xGt:
			res = c > 0
		default:
			res = c >= 0
		}
		return xval{k: vBool, b: res}
	case xIn:
		a := st.evalX(x.a, r)
		if a.k >= vErr {
			return a
		}
		if a.k == vStr {
			for i := range x.list {
				if l := &x.list[i]; l.k == vStr && l.s == a.s {
					return xval{k: vBool, b: true}
				}
			}
			return xval{k: vBool}
		}
		for _, l := range x.list {
			eq := equalX(l, a)
			if eq.k != vBool {
				return eq
			}
			if eq.b {
				return xval{k: vBool, b: true}
			}
		}
		return xval{k: vBool}
	case xStarts, xEnds, xContains:
		a, b, ok := st.operands(x, r)
		if !ok {
			return a
		}
		if a.k == vNil || b.k == vNil {
			return xval{k: vBool}
		}
		if a.k != vStr || b.k != vStr {
			return xval{k: vErr}
		}
		var res bool
		switch x.op {
		case xStarts:
			res = strings.HasPrefix(a.s, b.s)
		case xEnds:
			res = strings.HasSuffix(a.s, b.s)
		default:
			res = strings.Contains(a.s, b.s)
		}
		return xval{k: vBool, b: res}
	case xMatches:
		a := st.evalX(x.a, r)
		switch a.k {
		case vNil:
			return xval{k: vBool}
		case vStr:
			return xval{k: vBool, b: x.re.MatchString(a.s)}
		case vErr, vDefer:
			return a
		}
		return xval{k: vErr}
	case xLower, xUpper, xTrim:
		a := st.evalX(x.a, r)
		if a.k >= vErr {
			return a
		}
		if a.k != vStr {
			return xval{k: vErr}
		}
		switch x.op {
		case xTrim:
			a.s = strings.TrimSpace(a.s)
		case xLower:
			a.s = bstr(st.mapRunes(strBytes(a.s), unicode.ToLower))
		default:
			a.s = bstr(st.mapRunes(strBytes(a.s), unicode.ToUpper))
		}
		return a
	case xAdd, xSub, xMul, xDiv, xMod, xPow:
		a, b, ok := st.operands(x, r)
		if !ok {
			return a
		}
		return st.arith(x.op, a, b)
	case xElem:
		return st.elemPath(x.esteps, r.Value)
	case xAny, xAll, xNone, xOne, xCount:
		return st.closure(x, r)
	case xCond:
		switch a := st.evalX(x.a, r); a.k {
		case vBool:
			if a.b {
				return st.evalX(x.b, r)
			}
			return st.evalX(x.c, r)
		case vDefer:
			return a
		}
		return xval{k: vErr} // expr asserts a bool
	case xInPath:
		a := st.evalX(x.a, r)
		if a.k >= vErr {
			return a
		}
		return st.inPath(a, x.b, r.Value)
	case xCoalesce:
		a := st.evalX(x.a, r)
		if a.k == vNil {
			return st.evalX(x.b, r)
		}
		return a
	case xNeg:
		a := st.evalX(x.a, r)
		switch a.k {
		case vInt:
			return xInt(int64(-int(a.int())))
		case vFloat:
			return xFloat(-a.float())
		case vErr, vDefer:
			return a
		}
		return xval{k: vErr}
	case xLen:
		return st.lenX(x.a, r)
	}
	return xval{k: vDefer}
}

// operands evaluates the operands of a binary node x. When one is a
// runtime error or left to the VM, ok is false and a is that one.
func (st *state) operands(x *xnode, r *pipeline.Record) (a, b xval, ok bool) {
	if a = st.evalX(x.a, r); a.k >= vErr {
		return a, b, false
	}
	if b = st.evalX(x.b, r); b.k >= vErr {
		return b, b, false
	}
	return a, b, true
}

// arith is expr's runtime.Add, Subtract, Multiply, Divide, Modulo and
// Exponent on fast-path values: on two ints an int (Go's int, wrapping
// around), with a float a float64; a division and a power are always a
// float64, a modulo takes two ints (and not a zero divisor), and + also
// joins two strings (in the scratch buffer). Anything else is a runtime
// error.
func (st *state) arith(op uint8, a, b xval) xval {
	if op == xAdd && a.k == vStr && b.k == vStr {
		start := len(st.buf)
		st.buf = append(append(st.buf, a.s...), b.s...)
		return xval{k: vStr, s: bstr(st.buf[start:len(st.buf):len(st.buf)])}
	}
	if (a.k != vInt && a.k != vFloat) || (b.k != vInt && b.k != vFloat) {
		return xval{k: vErr}
	}
	ints := a.k == vInt && b.k == vInt
	x, y := int(a.int()), int(b.int())
	switch op {
	case xAdd:
		if ints {
			return xInt(int64(x + y))
		}
		return xFloat(a.num() + b.num())
	case xSub:
		if ints {
			return xInt(int64(x - y))
		}
		return xFloat(a.num() - b.num())
	case xMul:
		if ints {
			return xInt(int64(x * y))
		}
		return xFloat(a.num() * b.num())
	case xDiv:
		return xFloat(a.num() / b.num())
	case xMod:
		if !ints || y == 0 {
			return xval{k: vErr} // expr panics: invalid operation, or integer divide by zero
		}
		return xInt(int64(x % y))
	}
	return xFloat(math.Pow(a.num(), b.num()))
}

// lenX is expr's len: the characters of a string, the elements of an
// array. An object is left to the VM (its length is that of the decoded
// map, whose duplicate keys are one); other values are a runtime error.
func (st *state) lenX(a *xnode, r *pipeline.Record) xval {
	var v xval
	if a.op == xPath {
		kind, sp := st.pathRef(a, r.Value)
		if kind == kArray {
			return xInt(int64(arrayLen(r.Value, sp.start)))
		}
		v = st.refValue(kind, sp, r.Value)
	} else {
		v = st.evalX(a, r)
	}
	switch v.k {
	case vStr:
		return xInt(int64(utf8.RuneCountInString(v.s)))
	case vErr, vDefer:
		return v
	case vOther:
		return xval{k: vDefer}
	}
	return xval{k: vErr}
}

// closure evaluates any, all, none, one or count x over the array of the
// value at x.a with the predicate x.b, as expr's loops do: the predicate
// must give a boolean, any, all and none stop at the first element that
// decides, one and count see every element. nil, numbers and booleans are
// runtime errors (expr cannot take their length); strings and objects,
// which expr walks its own ways, are left to the VM.
func (st *state) closure(x *xnode, r *pipeline.Record) xval {
	b := r.Value
	kind, sp := st.pathRef(x.a, b)
	switch kind {
	case kArray:
	case kString, kObject, kPlain, kDeferRef:
		return xval{k: vDefer}
	default:
		return xval{k: vErr}
	}
	count := 0
	for i := skipWS(b, sp.start+1); b[i] != ']'; {
		end := valueEnd(b, i)
		st.x.elem = span{start: i, end: end}
		v := st.evalX(x.b, r)
		switch v.k {
		case vBool:
		case vErr, vDefer:
			return v
		default:
			return xval{k: vErr} // expr asserts a bool
		}
		switch {
		case x.op == xAny && v.b, x.op == xNone && v.b:
			return xval{k: vBool, b: x.op == xAny}
		case x.op == xAll && !v.b:
			return xval{k: vBool}
		case v.b:
			count++
		}
		if i = skipWS(b, end); b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	switch x.op {
	case xOne:
		return xval{k: vBool, b: count == 1}
	case xCount:
		return xInt(int64(count))
	}
	return xval{k: vBool, b: x.op != xAny} // all and none of no element that decides
}

// elemPath reads the steps below the current closure element (#.a.b[0]),
// with expr's member access on the decoded element: a missing key is nil,
// the last of duplicate keys wins, a field of an array, an index of an
// object, an index out of range or a step below nil, a number or a boolean
// is an error, unless an optional step meets nil (the chain is then nil);
// an index of a string is left to the VM.
func (st *state) elemPath(steps []estep, b []byte) xval {
	sp := st.x.elem
	for _, s := range steps {
		if sp.end == 0 || b[sp.start] == 'n' { // nil
			if s.opt {
				return xval{k: vNil}
			}
			return xval{k: vErr}
		}
		switch b[sp.start] {
		case '{':
			if s.index >= 0 {
				return xval{k: vErr}
			}
			sp = st.member(b, sp.start, s.key)
		case '[':
			if s.index < 0 {
				return xval{k: vErr}
			}
			if sp = element(b, sp.start, s.index); sp.end == 0 {
				return xval{k: vErr}
			}
		case '"':
			if s.index >= 0 {
				return xval{k: vDefer}
			}
			return xval{k: vErr}
		default:
			return xval{k: vErr}
		}
	}
	if sp.end == 0 {
		return xval{k: vNil}
	}
	v, _ := st.valueAt(b, sp.start)
	return v
}

// member returns the span of the value of the last member named key of the
// valid JSON object at b[i], or an empty span.
func (st *state) member(b []byte, i int, key string) span {
	var found span
	mark := len(st.buf)
	for i = skipWS(b, i+1); b[i] != '}'; {
		k, kend := st.stringAt(b, i)
		vs := skipWS(b, skipWS(b, kend)+1)
		ve := valueEnd(b, vs)
		if k == key {
			found = span{start: vs, end: ve}
		}
		st.buf = st.buf[:mark] // the decoded key is not kept
		if i = skipWS(b, ve); b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return found
}

// element returns the span of element n of the valid JSON array at b[i],
// or an empty span.
func element(b []byte, i, n int) span {
	for i = skipWS(b, i+1); b[i] != ']'; n-- {
		end := valueEnd(b, i)
		if n == 0 {
			return span{start: i, end: end}
		}
		if i = skipWS(b, end); b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return span{}
}

// inPath is expr's runtime.In of a over the value at path x: whether an
// element of an array equals a, or an object has the key a (nil stands for
// the key "", as reflect's zero string; any other non-string is an error);
// false for nil.
func (st *state) inPath(a xval, x *xnode, b []byte) xval {
	kind, sp := st.pathRef(x, b)
	switch kind {
	case kAbsent, kNull:
		return xval{k: vBool}
	case kArray, kObject:
	case kDeferRef:
		return xval{k: vDefer}
	default:
		return xval{k: vErr}
	}
	obj := kind == kObject
	if obj {
		switch a.k {
		case vNil:
			a = xval{k: vStr}
		case vStr:
		default:
			return xval{k: vErr}
		}
	}
	i := skipWS(b, sp.start+1)
	if c := b[i]; c == ']' || c == '}' {
		return xval{k: vBool}
	}
	for {
		var eq xval
		var end int
		if obj {
			var k string
			k, end = st.stringAt(b, i)
			eq = xval{k: vBool, b: k == a.s}
			end = valueEnd(b, skipWS(b, skipWS(b, end)+1)) // past ':' and the member's value
		} else {
			var v xval
			v, end = st.valueAt(b, i)
			if eq = equalX(a, v); eq.k != vBool {
				return eq
			}
		}
		if eq.b {
			return eq
		}
		if i = skipWS(b, end); b[i] != ',' {
			return xval{k: vBool}
		}
		i = skipWS(b, i+1)
	}
}

// valueAt returns the fast-path value of the valid JSON value at b[i]
// (objects and arrays are vOther) and the index just past it.
func (st *state) valueAt(b []byte, i int) (xval, int) {
	switch b[i] {
	case '"':
		s, end := st.stringAt(b, i)
		return xval{k: vStr, s: s}, end
	case 't':
		return xval{k: vBool, b: true}, i + 4
	case 'f':
		return xval{k: vBool}, i + 5
	case 'n':
		return xval{k: vNil}, i + 4
	case '{', '[':
		return xval{k: vOther}, valueEnd(b, i)
	}
	end := scanNumber(b, i)
	return xFloat(parseNumberAt(b, i, end)), end
}

// stringAt returns the valid JSON string at b[i] decoded (see decoded) and
// the index just past it.
func (st *state) stringAt(b []byte, i int) (string, int) {
	end, flags := scanString(b, i)
	return bstr(st.decoded(b[i+1:end-1], flags)), end
}

// valueEnd returns the index just past the valid JSON value at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		e, _ := scanString(b, i)
		return e
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				e, _ := scanString(b, i)
				i = e - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	}
	return scanNumber(b, i)
}

// arrayLen returns the number of elements of the valid JSON array at b[i].
func arrayLen(b []byte, i int) int {
	n := 0
	for i = skipWS(b, i+1); b[i] != ']'; n++ {
		if i = skipWS(b, valueEnd(b, i)); b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return n
}

// notBool is the result of a logical operator on a non-boolean operand.
func notBool(a xval) xval {
	if a.k == vDefer {
		return a
	}
	return xval{k: vErr}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// equalX is expr's runtime.Equal on fast-path values.
func equalX(a, b xval) xval {
	switch {
	case a.k == vDefer || b.k == vDefer:
		return xval{k: vDefer}
	case a.k == vOther && b.k == vOther:
		return xval{k: vDefer} // deep equality of two documents
	case (a.k == vInt || a.k == vFloat) && (b.k == vInt || b.k == vFloat):
		if a.k == vInt && b.k == vInt {
			return xval{k: vBool, b: a.n == b.n}
		}
		return xval{k: vBool, b: a.num() == b.num()}
	case a.k == vStr && b.k == vStr:
		return xval{k: vBool, b: a.s == b.s}
	case a.k == vBool && b.k == vBool:
		return xval{k: vBool, b: a.b == b.b}
	case a.k == vNil && b.k == vNil:
		return xval{k: vBool, b: true}
	}
	return xval{k: vBool}
}

// mapRunes is strings.Map(f, s) into the scratch buffer: invalid UTF-8
// becomes U+FFFD, as it does there.
func (st *state) mapRunes(s []byte, f func(rune) rune) []byte {
	start := len(st.buf)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			st.buf = append(st.buf, byte(f(rune(c))))
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		st.buf = utf8.AppendRune(st.buf, f(r))
		i += n
	}
	return st.buf[start:len(st.buf):len(st.buf)]
}

// Kinds pathRef reports besides those of values: the path is a runtime
// error, or is left to the VM.
const (
	kErrRef uint8 = kPlain + 1 + iota
	kDeferRef
)

// pathRef finds the value path of x (value.a.b[0]...) in the captures
// with the semantics of expr's member access on the decoded document: it
// returns the kind of the value there (kAbsent: nil) and its span, or
// kErrRef or kDeferRef.
func (st *state) pathRef(x *xnode, b []byte) (uint8, span) {
	kind := st.valKind
	var sp span
	if len(x.path) == 0 && kind != kAbsent && kind != kPlain {
		sp = st.caps[x.root.capture]
	}
	for i, n := range x.path {
		if (kind == kAbsent || kind == kNull) && x.opt>>uint(i)&1 != 0 {
			return kAbsent, span{} // value?.a on nil: the chain is nil
		}
		switch kind {
		case kObject:
			if n.index >= 0 {
				return kErrRef, sp // an int index on a map
			}
			sp = st.caps[n.capture]
			if sp.end == 0 {
				kind = kAbsent
				continue
			}
		case kArray:
			if n.index < 0 {
				return kErrRef, sp // a field of an array
			}
			sp = st.caps[n.capture]
			if sp.end == 0 {
				return kErrRef, sp // index out of range
			}
		case kString, kPlain:
			if n.index >= 0 {
				return kDeferRef, sp
			}
			return kErrRef, sp
		default: // nil, numbers, booleans
			return kErrRef, sp
		}
		kind = kindOf(b[sp.start])
	}
	return kind, sp
}

// pathValue reads value.a.b[0]... from the captures with the semantics of
// expr's member access on the decoded document.
func (st *state) pathValue(x *xnode, b []byte) xval {
	kind, sp := st.pathRef(x, b)
	return st.refValue(kind, sp, b)
}

// refValue is the fast-path value of what pathRef found.
func (st *state) refValue(kind uint8, sp span, b []byte) xval {
	switch kind {
	case kAbsent, kNull:
		return xval{k: vNil}
	case kTrue:
		return xval{k: vBool, b: true}
	case kFalse:
		return xval{k: vBool}
	case kNumber:
		return xFloat(parseNumberAt(b, sp.start, sp.end))
	case kString:
		return xval{k: vStr, s: bstr(st.decoded(b[sp.start+1:sp.end-1], sp.flags))}
	case kPlain:
		return xval{k: vStr, s: bstr(b)}
	case kErrRef:
		return xval{k: vErr}
	case kDeferRef:
		return xval{k: vDefer}
	}
	return xval{k: vOther}
}
