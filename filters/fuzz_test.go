package filters

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

func FuzzPatternCompile(f *testing.F) {
	for _, tc := range patternTable {
		f.Add(tc.pattern)
	}
	f.Add(`{"value":{"a":[{"numeric":[">",1,"<",2]}],"$or":[{"b":[1]},{"c":{"d":[{"exists":false}]}}]}}`)
	f.Add(`{"headers":{"h":[{"wildcard":"a*\\*"}]},"key":[{"cidr":"::/0"}]}`)
	f.Fuzz(func(t *testing.T, pattern string) {
		c, err := Compile([]Spec{{Pattern: pattern}})
		if err != nil {
			var ce *CompileError
			if !errorsAs(err, &ce) || ce.Filter != 0 {
				t.Fatalf("error %v is not a *CompileError for filter 0", err)
			}
			return
		}
		for _, v := range []*string{sp(orderValue), sp(exprRecord), sp(`plain`), sp(`[1,{"a":[]}]`), nil} {
			c.Match(val(v))
		}
		// A pattern is valid JSON; matching its own text must not panic.
		c.Match(val(sp(pattern)))
	})
}

func errorsAs(err error, target **CompileError) bool {
	ce, ok := err.(*CompileError)
	if ok {
		*target = ce
	}
	return ok
}

// fuzzCriteria need a JSON value to match; none may match invalid JSON.
var fuzzCriteria = []string{
	`{"value":{"a":[{"exists":true}]}}`,
	`{"value":{"a":[{"exists":false}]}}`,
	`{"value":{"a":{"b":[{"exists":false}]}}}`,
	`{"value":{"$or":[{"a":[{"anything-but":["x"]}]},{"b":[{"numeric":[">",0]}]}]}}`,
	`{"value":{"a":[{"prefix":""}],"b":[null]}}`,
}

func FuzzJSONReader(f *testing.F) {
	for _, d := range jsonDocs {
		f.Add([]byte(d))
	}
	f.Add([]byte(orderValue))
	f.Add([]byte(exprRecord))
	f.Add([]byte(`{"a":1,"a":{"b":2},"b":null}`))
	for _, d := range readerDocs()[:120] {
		f.Add(d)
	}
	var cs []*Criteria
	for _, p := range fuzzCriteria {
		cs = append(cs, mustCompile(f, Spec{Pattern: p}))
	}
	exprC := mustCompile(f, Spec{Expr: `value.a != nil || value.b == nil`})
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := json.Valid(b) && !tooDeep(b)
		if got := validJSON(b); got != valid {
			t.Fatalf("validJSON(%q) = %v, want %v", b, got, valid)
		}
		// The scanner (bitmaps, cursor, word-at-a-time numbers) against
		// the reference reader.
		checkReader(t, b)
		r := &pipeline.Record{Value: b, Key: b}
		for i, c := range cs {
			if c.Match(r) && !valid {
				t.Fatalf("%s matched invalid JSON %q", fuzzCriteria[i], b)
			}
		}
		exprC.Match(r)
		if valid {
			var want any
			if json.Unmarshal(b, &want) == nil {
				got, _ := decodeAny(b, skipWS(b, 0))
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("decodeAny(%q) = %#v, want %#v", b, got, want)
				}
			}
			// Patterns agree with a matcher over the decoded document.
			var doc any
			if json.Unmarshal(b, &doc) == nil {
				m, isObj := doc.(map[string]any)
				a, has := m["a"]
				want := isObj && has && isLeafy(a)
				if got := cs[0].Match(r); got != want {
					t.Fatalf("exists true on %q: got %v, want %v", b, got, want)
				}
			}
		}
	})
}

// isLeafy reports whether v holds a leaf value (arrays are crushed).
func isLeafy(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return false
	case []any:
		for _, e := range v {
			if isLeafy(e) {
				return true
			}
		}
		return false
	}
	return true
}

func tooDeep(b []byte) bool {
	d, max := 0, 0
	in, esc := false, false
	for _, c := range b {
		switch {
		case in && esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == '[' || c == '{'):
			d++
			if d > max {
				max = d
			}
		case !in && (c == ']' || c == '}'):
			d--
		}
	}
	return max > maxDepth
}

// genExpr builds an expression from fuzz bytes, over the fast path's
// subset and a little beyond.
func genExpr(data []byte) string {
	pos := 0
	next := func(n int) int {
		if pos >= len(data) {
			return 0
		}
		v := int(data[pos]) % n
		pos++
		return v
	}
	paths := []string{"value.a", "value.b", "value.a.b", "value.c", "value.c[0]", "value.c[1].d", "value", "key", "topic", "partition", "offset", "headers.h", "value.n",
		"value?.a", "value.a?.b", "value?.a?.b.c", "value.c?.[1]?.d", "value.x?.y"}
	lits := []string{`1`, `2.5`, `-3`, `"x"`, `""`, `true`, `false`, `nil`, `"a"`, `0`}
	var gen func(depth int) string
	operand := func() string {
		if next(3) == 0 {
			return lits[next(len(lits))]
		}
		p := paths[next(len(paths))]
		switch next(9) {
		case 0:
			return "lower(" + p + ")"
		case 1:
			return "trim(" + p + ")"
		case 2:
			return "len(" + p + ")"
		case 3:
			return "-" + p
		case 4, 5:
			ops := []string{"+", "-", "*", "/", "%", "**", "??"}
			return "(" + p + " " + ops[next(len(ops))] + " " + []string{p, lits[next(len(lits))], paths[next(len(paths))]}[next(3)] + ")"
		}
		return p
	}
	gen = func(depth int) string {
		if depth > 3 {
			return operand() + " == " + operand()
		}
		switch next(10) {
		case 0:
			return "(" + gen(depth+1) + " && " + gen(depth+1) + ")"
		case 1:
			return "(" + gen(depth+1) + " || " + gen(depth+1) + ")"
		case 2:
			return "!(" + gen(depth+1) + ")"
		case 3:
			return operand() + " in [" + lits[next(len(lits))] + ", " + lits[next(len(lits))] + "]"
		case 4:
			return operand() + " " + []string{"startsWith", "endsWith", "contains"}[next(3)] + " " + operand()
		case 5:
			switch next(4) {
			case 2:
				elem := []string{"#", ".d", "#.d", "#?.d", "#[0]", ".d.e", "value.a"}
				return []string{"any", "all", "none", "one"}[next(4)] + "(" + paths[next(len(paths))] + ", " +
					elem[next(len(elem))] + " " + []string{"==", "!=", ">", "startsWith"}[next(4)] + " " + lits[next(len(lits))] + ")"
			case 0:
				return operand() + " in " + paths[next(len(paths))]
			case 1:
				return "(" + gen(depth+1) + " ? " + operand() + " : " + operand() + ") == " + operand()
			}
			return operand() + ` matches "^a"`
		case 6:
			return operand()
		}
		return operand() + " " + []string{"==", "!=", "<", "<=", ">", ">="}[next(6)] + " " + operand()
	}
	return gen(0)
}

func FuzzExprAgreement(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte(`{"a":1,"b":"x"}`))
	f.Add([]byte{9, 4, 7, 1, 1}, []byte(`{"a":{"b":"abc"},"c":[1,{"d":"A"}]}`))
	f.Add([]byte{3, 5, 0, 2}, []byte(`"a"`))
	f.Add([]byte{1, 6, 1, 5, 6}, []byte(`{"n":"1","a":null}`))
	f.Add([]byte{9, 1, 1, 4, 2, 0, 2}, []byte(`{"a":3,"b":2.5,"c":[1,{"d":"A"}],"n":"xy"}`))
	f.Add([]byte{9, 1, 3, 2, 2}, []byte(`{"a":"x","b":"y","c":[[1],{"d":[]}]}`))
	f.Fuzz(func(t *testing.T, prog, value []byte) {
		e := genExpr(prog)
		c, err := Compile([]Spec{{Expr: e}})
		if err != nil {
			return // type errors of generated expressions
		}
		r := &pipeline.Record{Value: value, Key: []byte("kk"), Topic: "t", Partition: 1, Offset: 2,
			Headers: []pipeline.Header{{Key: "h", Value: []byte("hv")}}}
		if strings.HasPrefix(string(prog), "\x00\x00") {
			r.Value = nil
		}
		fast, slow, _ := fastAndVM(c, r)
		if fast != slow {
			t.Fatalf("%s on %q: fast path %v, VM %v", e, value, fast, slow)
		}
	})
}
