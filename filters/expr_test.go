package filters

import (
	"errors"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

// outcome of one expression on one record.
type outcome uint8

const (
	no outcome = iota
	yes
	failed // runtime error: not matching, counted
)

func (o outcome) String() string { return [...]string{"no", "yes", "error"}[o] }

var exprRecord = `{"amount":129.95,"qty":3,"country":"DE","name":"Jane Doe","email":"Jane@Example.com",` +
	`"tags":["a","b"],"customer":{"id":"c-1","vip":true,"address":{"zip":"10115"}},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],` +
	`"note":null,"esc":"caf\u00e9 \"x\"","pad":"  hi  ","ip":"10.0.0.1","n":"5","ok":false}`

// exprTable: expressions on exprRecord (key k-42, topic orders,
// partition 2, offset 1234, headers type=order, trace=abc-123).
var exprTable = []struct {
	expr string
	want outcome
}{
	{`value.amount > 100`, yes},
	{`value.amount > 130`, no},
	{`value.amount >= 129.95 && value.amount <= 129.95`, yes},
	{`value.amount < 100 || value.qty == 3`, yes},
	{`value.qty == 3.0`, yes},
	{`value.qty != 3`, no},
	{`value.country in ["DE", "FR"]`, yes},
	{`value.country in ["IT"]`, no},
	{`value.country not in ["IT"]`, yes},
	{`not (value.country in ["DE"])`, no},
	{`!(value.amount > 1)`, no},
	{`value.qty in [1, 2, 3]`, yes},
	{`value.n in [5]`, no},
	{`value.n == "5"`, yes},
	{`value.n == 5`, no},
	{`value.customer.vip`, yes},
	{`value.customer.vip == true`, yes},
	{`value.customer.address.zip == "10115"`, yes},
	{`value.customer.id startsWith "c-"`, yes},
	{`value.email endsWith "example.com"`, no},
	{`lower(value.email) endsWith "example.com"`, yes},
	{`upper(value.country) == "DE"`, yes},
	{`trim(value.pad) == "hi"`, yes},
	{`value.name contains "ne D"`, yes},
	{`value.name matches "^J.*e$"`, yes},
	{`value.esc == "café \"x\""`, yes},
	{`value.items[1].sku == "B2"`, yes},
	{`value.items[0].qty > value.items[1].qty`, yes},
	{`value.tags[0] == "a"`, yes},
	{`value.note == nil`, yes},
	{`value.missing == nil`, yes},
	{`value.missing != nil`, no},
	{`value.ok == false`, yes},
	{`!value.ok`, yes},
	{`value.country < "EE"`, yes},
	{`value.customer == nil`, no},
	{`value.customer.missing == nil`, yes},
	{`key == "k-42"`, yes},
	{`key startsWith "k-"`, yes},
	{`topic == "orders"`, yes},
	{`partition == 2 && offset > 1000`, yes},
	{`partition in [0, 1]`, no},
	{`headers.type == "order"`, yes},
	{`headers["trace"] startsWith "abc"`, yes},
	{`headers.missing == ""`, yes},
	{`value.missing startsWith "x"`, no}, // nil: false, as in expr
	{`value.note matches "x"`, no},
	// Runtime errors: not matching, counted.
	{`value.missing > 100`, failed},
	{`value.country > 1`, failed},
	{`value.customer.vip > 1`, failed},
	{`value.missing.deeper == 1`, failed},
	{`value.amount.x == 1`, failed},
	{`value.items.sku == "A1"`, failed},
	{`value.items[5].sku == "A1"`, failed},
	{`value.customer[0] == 1`, failed},
	{`value.amount && true`, failed},
	{`!value.amount`, failed},
	{`lower(value.amount) == "x"`, failed},
	{`value.amount startsWith "1"`, failed},
	{`value.amount matches "1"`, failed},
	{`true && value.note`, no}, // a nil result is false
	{`true && value.amount`, failed},
	// Arithmetic and len, as expr's runtime has them.
	{`value.amount * 2 > 250`, yes},
	{`value.amount * value.qty > 389`, yes},
	{`value.qty * 2 == 6`, yes},
	{`value.qty + 0.5 == 3.5`, yes},
	{`value.qty - 4 == -1`, yes},
	{`-value.qty == -3`, yes},
	{`+value.qty == 3`, yes},
	{`value.qty / 2 == 1.5`, yes},
	{`offset / 1000 == 1.234`, yes},   // / is always a float64
	{`value.amount / 0 > 1e308`, yes}, // +Inf
	{`offset % 1000 == 234`, yes},
	{`partition % 0 == 1`, failed},
	{`value.qty % 2 == 1`, failed}, // a JSON number is a float64: % takes ints
	{`2 ** 10 == 1024`, yes},
	{`value.qty ^ 2 == 9`, yes},
	{`9223372036854775807 + offset < 0`, yes}, // Go's int wraps around
	{`value.name + "!" == "Jane Doe!"`, yes},
	{`lower(value.country) + value.n == "de5"`, yes},
	{`value.name + 1 == "x"`, failed},
	{`value.note + 1 == 1`, failed},
	{`-value.name == 1`, failed},
	{`value.missing * 2 > 1`, failed},
	{`len(value.items) == 2`, yes},
	{`len(value.tags) > 1 && len(value.items[0].sku) == 2`, yes},
	{`len(value.esc) == 8`, yes}, // characters (9 bytes)
	{`len(key) == 4 && len(topic) == 6`, yes},
	{`len(value.customer) == 3`, yes},
	{`len(value.amount) == 1`, failed},
	{`len(value.note) == 0`, failed},
	{`len(value.missing) == 0`, failed},
	// Optional steps and ??.
	{`value?.customer?.id == "c-1"`, yes},
	{`value.missing?.x == nil`, yes},
	{`value.missing?.x.y == nil`, yes}, // the whole chain is nil
	{`value.note?.x == nil`, yes},      // null is nil
	{`value.customer?.missing.x == nil`, failed},
	{`value.name?.x == nil`, failed}, // a field of a string
	{`value?.items?.[1]?.sku == "B2"`, yes},
	{`(value?.missing ?? 0) > 100`, no},
	{`(value.amount ?? 0) > 100`, yes},
	{`(value.note ?? "n") == "n"`, yes},
	{`(value.missing.x ?? 1) == 1`, failed},
	{`(value.missing ?? value.qty ?? 1) == 3`, yes},
	// in an array or object of the value, and a ? b : c.
	{`"b" in value.tags`, yes},
	{`"c" in value.tags`, no},
	{`"c" not in value.tags`, yes},
	{`value.country in value.tags`, no},
	{`{"sku": "A1", "qty": 2.0} in value.items`, yes}, // deep equality, on the VM
	{`{"sku": "A1", "qty": 2} in value.items`, no},    // the literal 2 is an int, JSON's a float64
	{`"vip" in value.customer`, yes},
	{`"zip" in value.customer`, no},
	{`nil in value.customer`, no}, // the key ""
	{`1 in value.customer`, failed},
	{`"x" in value.missing`, no},
	{`"x" in value.note`, no},
	{`"x" in value.name`, failed},
	{`3 in value.tags`, no},
	{`value.items[1] in value.items`, yes}, // deep equality, on the VM
	{`value.amount > 100 ? value.country == "DE" : false`, yes},
	{`(value.ok ? 1 : 2) == 2`, yes},
	{`(value.note ? 1 : 2) == 2`, failed},
	{`(value.name ? 1 : 2) == 2`, failed},
	{`(value.ok ? 1 : nil) == 1`, failed},   // typed as an int by expr: nil is an error, on the VM
	{`(value.ok ? 1 : value) == 1`, failed}, // typed as an int by expr: a map is an error, on the VM
	{`(value.ok ? 1 : value.qty) == 3`, yes},
	{`(value.ok ? value.qty : 1) == 3`, no},
	{`(value.ok ? false : value.qty > 1)`, yes},
	// Closures over arrays of the value.
	{`any(value.items, .sku == "B2")`, yes},
	{`all(value.items, .qty > 1)`, no},
	{`all(value.items, #.qty >= 1 && value.amount > 100)`, yes},
	{`none(value.items, .qty > 5)`, yes},
	{`one(value.items, .qty == 2)`, yes},
	{`one(value.items, .qty >= 1)`, no},
	{`one(value.items, .sku == "B2")`, yes},
	{`any(value.items, .missing.x == nil)`, failed},
	{`count(value.items, .qty >= 1) == 2`, yes},
	{`any(value.tags, # == "b")`, yes},
	{`any(value.tags, # startsWith "c")`, no},
	{`any(value.items, .missing == nil)`, yes},
	{`any(value.items, .missing > 1)`, failed},
	{`any(value.items, .sku == "A1" || .missing > 1)`, yes}, // decided at the first element
	{`all(value.items, .sku == "A1" || .missing > 1)`, failed},
	{`any(value.items, .sku)`, failed}, // not a boolean
	{`any(value.items, .sku?.x == nil)`, failed},
	{`any(value.items, .missing?.x == nil)`, yes},
	{`any(value.items, .sku.x == nil)`, failed},
	{`any(value.items, #[0] == nil)`, failed},
	{`any(value.items, #[1] == nil)`, failed},
	{`any(value.missing, true)`, failed},
	{`any(value.amount, true)`, failed},
	{`any(value.customer, true)`, yes},                          // an object: the VM walks it
	{`any(value.name, true)`, yes},                              // a string: the VM walks its bytes
	{`count(value.items, any(value.tags, # == "a")) == 2`, yes}, // nested: the VM
	// Beyond the fast path: expr's VM.
	{`int(value.qty) % 2 == 1`, yes},
	{`len(value.customer) == 3 && len(value.missing ?? "") == 0`, yes},
	{`value.customer == {"id": "c-1", "vip": true, "address": {"zip": "10115"}}`, yes},
	{`keyJSON() == "k-42"`, yes},
	{`json(value.customer.address.zip) == 10115`, yes},
	{`base64("aGVsbG8=") == "hello"`, yes},
	{`base64("aGVsbG8") == "hello"`, yes},
	{`fromBase64("aGVsbG8=") == "hello"`, yes},
	{`base64("!!") == ""`, failed},
	{`json("{") == nil`, failed},
	{`timestamp.Year() == 2023`, yes},
	{`timestamp > date("2020-01-01")`, yes},
	{`value.ip startsWith "10." ? true : false`, yes},
	{`split(value.name, " ")[1] == "Doe"`, yes},
}

func exprRec() *pipeline.Record {
	r := val(sp(exprRecord))
	r.Key = []byte(`k-42`)
	return r
}

func TestExprOperators(t *testing.T) {
	r := exprRec()
	for _, tc := range exprTable {
		c := mustCompile(t, Spec{Expr: tc.expr})
		before := c.Stats().ExprErrors
		got := c.Match(r)
		errs := c.Stats().ExprErrors - before
		o := no
		switch {
		case errs > 0 && got:
			t.Errorf("%s: matched and counted an error", tc.expr)
		case errs > 0:
			o = failed
		case got:
			o = yes
		}
		if o != tc.want {
			t.Errorf("%s: got %v, want %v", tc.expr, o, tc.want)
		}
	}
}

// fastAndVM evaluates the only expression of c on r both ways.
func fastAndVM(c *Criteria, r *pipeline.Record) (fast, slow outcome, deferred bool) {
	st := c.pool.Get().(*state)
	defer c.pool.Put(st)
	c.match(st, r)
	x := c.filters[0].expr
	ok, err := x.runVM(st, r)
	slow = no
	if err != nil {
		slow = failed
	} else if ok {
		slow = yes
	}
	if x.fast == nil {
		return slow, slow, true
	}
	if x.fast.boolean {
		switch st.evalB(x.fast, r) {
		case bFalse:
			return no, slow, false
		case bTrue:
			return yes, slow, false
		case bErr:
			return failed, slow, false
		}
		return slow, slow, true
	}
	v := st.evalX(x.fast, r)
	switch v.k {
	case vBool:
		if v.b {
			return yes, slow, false
		}
		return no, slow, false
	case vNil:
		return no, slow, false
	case vDefer:
		return slow, slow, true
	}
	return failed, slow, false
}

// agreementRecords are values the fast path and the VM are compared on.
var agreementRecords = []*string{
	sp(exprRecord),
	sp(`{"amount":"129.95","country":5,"customer":"x","items":{"sku":"A1"},"qty":null,"name":7,"tags":"ab","ok":1}`),
	sp(`{"amount":null,"country":null,"customer":null,"items":[],"email":null,"ok":null}`),
	sp(`{"amount":1e400,"qty":-0,"country":"","customer":{"address":[]},"items":[[1],{"sku":1}],"esc":"\ud800"}`),
	sp(`{"amount":1,"amount":500,"country":"FR","country":"DE","customer":{"vip":false},"customer":{"vip":true}}`),
	sp(`{"tags":["a\u0062",null,1,[],{}],"customer":{"v\u0069p":1,"":2,"z\"ip":[]},"items":[{"sku":"A1","qty":2}],"ok":true,"qty":3}`),
	sp(`{"items":[{"sku":"A1","sku":"B2","qty":1},{"s\u006bu":"B2","qty":"2"},null,[1,2],"x",{"qty":{"a":1}}],"tags":["a",1,null,true,{"b":[]}]}`),
	sp(`{"items":[{"s\u006bu":"B2"},{"sku":"A1"}]}`),
	sp(`{"items":[[3],[1,2]]}`),
	sp(`[1,2,3]`),
	sp(`"just a string"`),
	sp(`42`),
	sp(`true`),
	sp(`null`),
	sp(`plain text value`),
	sp("\xff\xfe not utf-8"),
	sp(`{"amount": 129.95, "country": "DE" `), // invalid JSON
	sp(``),
	nil,
}

func TestExprFastPathAgreesWithVM(t *testing.T) {
	for _, tc := range exprTable {
		c := mustCompile(t, Spec{Expr: tc.expr})
		for _, v := range agreementRecords {
			r := val(v)
			r.Key = []byte(`k-42`)
			fast, slow, _ := fastAndVM(c, r)
			if fast != slow {
				s := "<nil>"
				if v != nil {
					s = *v
				}
				t.Errorf("%s on %s: fast path %v, VM %v", tc.expr, s, fast, slow)
			}
		}
	}
}

func TestExprFastPathCoverage(t *testing.T) {
	// These run without the VM on the benchmark-like record.
	for _, e := range []string{
		`value.amount > 100 && value.country in ["DE","FR"]`,
		`value.customer.address.zip == "10115" || key startsWith "x"`,
		`lower(value.email) endsWith "example.com" and not (topic == "x")`,
		`value.items[1].sku == "B2" && headers.type == "order" && partition < 10`,
		`value == nil || value.name matches "^J"`,
		`value.amount * value.qty > 100 && len(value.items) == 2 && offset % 2 == 0`,
		`len(value.name + "!") == 9 && -value.qty < 0 && value.qty / 2 > 1 && 2 ** value.qty == 8`,
		`(value?.amount ?? 0) > 100 && value?.customer?.address?.zip == "10115" && value.missing?.x == nil`,
		`"b" in value.tags && "vip" in value.customer && (value.qty > 2 ? "a" in value.tags : false)`,
		`any(value.items, .sku == "B2") && all(value.items, #?.qty > 0) && count(value.tags, # != "") == 2`,
	} {
		c := mustCompile(t, Spec{Expr: e})
		if c.filters[0].expr.fast == nil {
			t.Errorf("%s: not on the fast path", e)
			continue
		}
		if _, _, deferred := fastAndVM(c, exprRec()); deferred {
			t.Errorf("%s: deferred to the VM", e)
		}
	}
}

func TestExprPlainValue(t *testing.T) {
	c := mustCompile(t, Spec{Expr: `value == "error"`})
	if !c.Match(val(sp(`error`))) || !c.Match(val(sp(`"error"`))) || c.Match(val(sp(`{"a":1}`))) {
		t.Error("plain-string value in expressions")
	}
	c = mustCompile(t, Spec{Expr: `value.a == 1`})
	if c.Match(val(sp(`{"a":1`))) || c.Stats().ExprErrors != 1 {
		t.Errorf("invalid JSON: want no match and one error, got %d errors", c.Stats().ExprErrors)
	}
	c = mustCompile(t, Spec{Expr: `keyJSON().tenant == "acme"`})
	if !c.Match(&pipeline.Record{Key: []byte(`{"tenant":"acme"}`)}) {
		t.Error("keyJSON")
	}
}

func TestExprRuntimeErrorsCounted(t *testing.T) {
	c := mustCompile(t, Spec{Expr: `value.amount > 100`}, Spec{Expr: `value.amount * 2 > 100`})
	for i := 0; i < 5; i++ {
		if c.Match(val(sp(`{"other":1}`))) {
			t.Fatal("matched")
		}
	}
	if got := c.Stats().ExprErrors; got != 10 {
		t.Errorf("ExprErrors = %d, want 10", got)
	}
}

func TestExprCompileErrors(t *testing.T) {
	cases := []struct {
		expr         string
		line, column int
		reason       string
	}{
		{`value.amount >`, 1, 14, "unexpected token"},
		{`value.amount > 100 &&`, 1, 21, "unexpected token"},
		{"value.a == 1 &&\n  nosuch == 2", 2, 3, "unknown name nosuch"},
		{`topic + 1`, 1, 7, "invalid operation"},
		{`partition == 1 && lower(partition) == "x"`, 1, 25, "lower"},
		{`"x"`, 1, 1, "expected bool"},
		{`   `, 0, 0, "empty"},
	}
	for _, tc := range cases {
		_, err := Compile([]Spec{{Pattern: `{"topic":["x"]}`}, {Expr: tc.expr}})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%q: got %v, want a *CompileError", tc.expr, err)
			continue
		}
		if ce.Filter != 1 || ce.Path != "" || ce.Line != tc.line || ce.Column != tc.column || !strings.Contains(ce.Reason, tc.reason) {
			t.Errorf("%q: got %+v, want line %d column %d reason containing %q", tc.expr, *ce, tc.line, tc.column, tc.reason)
		}
	}
}

func TestDocExamples(t *testing.T) {
	r := orderRecord()
	r.Key = []byte(`{"tenant":"acme"}`)
	r.Value = []byte(`{"amount":150,"customer":{"country":"DE"},"email":"A@Example.com","items":[{"sku":"SKU-1"}],"status":"refunded"}`)
	for _, e := range []string{
		`value.amount > 100 && value.customer.country in ["DE", "FR"]`,
		`headers.type == "order" and lower(value.email) endsWith "@example.com"`,
		`value.items[0].sku startsWith "SKU-" || key == "vip"`,
		`keyJSON().tenant == "acme" && timestamp > date("2026-01-01")`,
		`value.amount != nil && value.amount > 100`,
		`(value?.amount ?? 0) > 100`,
	} {
		if !mustCompile(t, Spec{Expr: e}).Match(r) {
			t.Errorf("%s: no match", e)
		}
	}
	for _, p := range []string{
		`{"value":{"amount":[{"numeric":[">",100]}],"customer":{"country":["DE","FR"]}}}`,
		`{"value":{"status":["refunded"]}}`,
		`{"timestamp":[{"numeric":[">=",1767225600000]}]}`,
	} {
		if !mustCompile(t, Spec{Pattern: p}).Match(r) {
			t.Errorf("%s: no match", p)
		}
	}
	if c := mustCompile(t, Spec{Expr: `(value?.amount ?? 0) > 100`}); c.Match(val(sp(`{}`))) || c.Stats().ExprErrors != 0 {
		t.Error("a missing field with ?? 0")
	}
}

// A runtime error is described with the filter, the record and expr's own
// message, also when the evaluation that failed ran on the record's bytes;
// at most one description is made per interval.
func TestExprRuntimeErrorDescribed(t *testing.T) {
	c := mustCompile(t, Spec{Expr: `value.status == "paid"`}, Spec{Expr: `value.amount > 100`}, Spec{Expr: `value.amount * 2 > 100`})
	if n, last := c.FilterErrors(); n != 0 || last != "" {
		t.Fatalf("before any record: %d, %q", n, last)
	}
	r := val(sp(`{"status":"open"}`))
	r.Topic, r.Partition, r.Offset = "orders", 3, 42
	if c.Match(r) {
		t.Fatal("matched")
	}
	n, last := c.FilterErrors()
	if n != 2 {
		t.Errorf("%d errors, want 2", n)
	}
	const prefix = "filter 1 (value.amount > 100) on orders[3] offset 42: "
	if want := prefix + "invalid operation: <nil> > int (1:14)"; last != want {
		t.Errorf("last error %q, want %q", last, want)
	}
	if s := c.Stats(); s.ExprErrors != n || s.LastExprError != last {
		t.Errorf("Stats %+v, FilterErrors %d %q", s, n, last)
	}
}
