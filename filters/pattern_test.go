package filters

import (
	"errors"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

// val builds a record with the given value (nil: a record without value).
func val(v *string) *pipeline.Record {
	r := &pipeline.Record{
		Key:       []byte(`"k-1"`),
		Topic:     "orders",
		Partition: 2,
		Offset:    1234,
		Timestamp: 1700000000000,
		Headers: []pipeline.Header{
			{Key: "type", Value: []byte("order")},
			{Key: "trace", Value: []byte("abc-123")},
		},
	}
	if v != nil {
		r.Value = []byte(*v)
	}
	return r
}

func sp(s string) *string { return &s }

func mustCompile(t testing.TB, specs ...Spec) *Criteria {
	t.Helper()
	c, err := Compile(specs)
	if err != nil {
		t.Fatalf("Compile(%+v): %v", specs, err)
	}
	return c
}

type patternCase struct {
	value *string // nil: no value
	want  bool
}

// patternTable maps a pattern to records it must (or must not) match.
var patternTable = []struct {
	name    string
	pattern string
	cases   []patternCase
}{
	{"exact string", `{"value":{"status":["paid"]}}`, []patternCase{
		{sp(`{"status":"paid"}`), true},
		{sp(`{"status":"Paid"}`), false},
		{sp(`{"status":"paid "}`), false},
		{sp(`{"other":"paid"}`), false},
		{sp(`{"status":["new","paid"]}`), true}, // array: any element
		{sp(`{"status":["new","old"]}`), false},
		{sp(`{"status":{"paid":1}}`), false},
		{sp(`{"status":null}`), false},
		{sp(`{"st\u0061tus":"p\u0061id"}`), true}, // escapes in key and value
		{sp(` { "status" : "paid" } `), true},     // whitespace
		{nil, false},
	}},
	{"several values are OR", `{"value":{"country":["DE","FR"]}}`, []patternCase{
		{sp(`{"country":"DE"}`), true},
		{sp(`{"country":"FR"}`), true},
		{sp(`{"country":"IT"}`), false},
	}},
	{"empty string", `{"value":{"name":[""]}}`, []patternCase{
		{sp(`{"name":""}`), true},
		{sp(`{"name":" "}`), false},
		{sp(`{"name":null}`), false},
		{sp(`{}`), false},
	}},
	{"number equality", `{"value":{"n":[5]}}`, []patternCase{
		{sp(`{"n":5}`), true},
		{sp(`{"n":5.0}`), true},
		{sp(`{"n":5e0}`), true},
		{sp(`{"n":0.5e1}`), true},
		{sp(`{"n":"5"}`), false},
		{sp(`{"n":5.0000001}`), true}, // six decimal digits of precision
		{sp(`{"n":5.000001}`), false},
		{sp(`{"n":-5}`), false},
		{sp(`{"n":[1,5]}`), true},
	}},
	{"string five is not the number", `{"value":{"n":["5"]}}`, []patternCase{
		{sp(`{"n":"5"}`), true},
		{sp(`{"n":5}`), false},
	}},
	{"big numbers compare as float64", `{"value":{"n":[1e20]}}`, []patternCase{
		{sp(`{"n":100000000000000000000}`), true},
		{sp(`{"n":1.0e20}`), true},
		{sp(`{"n":1.00000001e20}`), false},
	}},
	{"true false null", `{"value":{"a":[true],"b":[false],"c":[null]}}`, []patternCase{
		{sp(`{"a":true,"b":false,"c":null}`), true},
		{sp(`{"a":"true","b":false,"c":null}`), false},
		{sp(`{"a":true,"b":false}`), false}, // c absent is not null
		{sp(`{"a":true,"b":0,"c":null}`), false},
	}},
	{"prefix", `{"value":{"id":[{"prefix":"ord-"}]}}`, []patternCase{
		{sp(`{"id":"ord-1"}`), true},
		{sp(`{"id":"ord-"}`), true},
		{sp(`{"id":"Ord-1"}`), false},
		{sp(`{"id":"xord-1"}`), false},
		{sp(`{"id":5}`), false},
		{sp(`{"id":"\u006frd-9"}`), true},
	}},
	{"suffix", `{"value":{"file":[{"suffix":".png"}]}}`, []patternCase{
		{sp(`{"file":"a.png"}`), true},
		{sp(`{"file":"a.PNG"}`), false},
		{sp(`{"file":"png"}`), false},
	}},
	{"prefix ignoring case", `{"value":{"id":[{"prefix":{"equals-ignore-case":"ORD-"}}]}}`, []patternCase{
		{sp(`{"id":"ord-1"}`), true},
		{sp(`{"id":"OrD-1"}`), true},
		{sp(`{"id":"or-1"}`), false},
	}},
	{"suffix ignoring case", `{"value":{"file":[{"suffix":{"equals-ignore-case":".PNG"}}]}}`, []patternCase{
		{sp(`{"file":"a.png"}`), true},
		{sp(`{"file":"a.jpg"}`), false},
	}},
	{"equals-ignore-case", `{"value":{"city":[{"equals-ignore-case":"MÜNCHEN"}]}}`, []patternCase{
		{sp(`{"city":"münchen"}`), true},
		{sp(`{"city":"M\u00fcnchen"}`), true},
		{sp(`{"city":"munchen"}`), false},
		{sp(`{"city":"MÜNCHEN "}`), false},
	}},
	{"equals-ignore-case unicode folding", `{"value":{"w":[{"equals-ignore-case":"ΣΊΣΥΦΟΣ"}]}}`, []patternCase{
		{sp(`{"w":"σίσυφος"}`), true},
		{sp(`{"w":"ςίσυφοσ"}`), true},
	}},
	{"wildcard", `{"value":{"path":[{"wildcard":"/orders/*/items/*"}]}}`, []patternCase{
		{sp(`{"path":"/orders/1/items/2"}`), true},
		{sp(`{"path":"/orders//items/"}`), true},
		{sp(`{"path":"/orders/1/item/2"}`), false},
		{sp(`{"path":"x/orders/1/items/2"}`), false},
	}},
	{"wildcard middle", `{"value":{"s":[{"wildcard":"a*b*c"}]}}`, []patternCase{
		{sp(`{"s":"abc"}`), true},
		{sp(`{"s":"axxbyyc"}`), true},
		{sp(`{"s":"ac"}`), false},
		{sp(`{"s":"abcx"}`), false},
		{sp(`{"s":"abcbc"}`), true},
	}},
	{"wildcard without star is exact", `{"value":{"s":[{"wildcard":"abc"}]}}`, []patternCase{
		{sp(`{"s":"abc"}`), true},
		{sp(`{"s":"abcd"}`), false},
	}},
	{"wildcard escapes", `{"value":{"s":[{"wildcard":"a\\*b*\\\\"}]}}`, []patternCase{
		{sp(`{"s":"a*b\\"}`), true},
		{sp(`{"s":"a*bzz\\"}`), true},
		{sp(`{"s":"axb\\"}`), false},
		{sp(`{"s":"a*b"}`), false},
	}},
	{"wildcard star only", `{"value":{"s":[{"wildcard":"*"}]}}`, []patternCase{
		{sp(`{"s":""}`), true},
		{sp(`{"s":"x"}`), true},
		{sp(`{"s":1}`), false},
	}},
	{"anything-but list", `{"value":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, []patternCase{
		{sp(`{"state":"running"}`), true},
		{sp(`{"state":"stopped"}`), false},
		{sp(`{"state":5}`), true},
		{sp(`{"state":null}`), true},
		{sp(`{}`), false},                             // absent: nothing to compare
		{sp(`{"state":["stopped","running"]}`), true}, // one element is not excluded
		{sp(`{"state":["stopped"]}`), false},
	}},
	{"anything-but string", `{"value":{"state":[{"anything-but":"init"}]}}`, []patternCase{
		{sp(`{"state":"init"}`), false},
		{sp(`{"state":"initial"}`), true},
	}},
	{"anything-but number", `{"value":{"n":[{"anything-but":100}]}}`, []patternCase{
		{sp(`{"n":100}`), false},
		{sp(`{"n":100.0}`), false},
		{sp(`{"n":101}`), true},
		{sp(`{"n":"100"}`), true},
	}},
	{"anything-but numbers", `{"value":{"n":[{"anything-but":[100,200]}]}}`, []patternCase{
		{sp(`{"n":200}`), false},
		{sp(`{"n":300}`), true},
	}},
	{"anything-but prefix", `{"value":{"state":[{"anything-but":{"prefix":"init"}}]}}`, []patternCase{
		{sp(`{"state":"initializing"}`), false},
		{sp(`{"state":"running"}`), true},
		{sp(`{"state":7}`), true},
	}},
	{"anything-but suffix", `{"value":{"f":[{"anything-but":{"suffix":".tmp"}}]}}`, []patternCase{
		{sp(`{"f":"a.tmp"}`), false},
		{sp(`{"f":"a.txt"}`), true},
	}},
	{"anything-but equals-ignore-case", `{"value":{"s":[{"anything-but":{"equals-ignore-case":["ERROR","Fatal"]}}]}}`, []patternCase{
		{sp(`{"s":"error"}`), false},
		{sp(`{"s":"FATAL"}`), false},
		{sp(`{"s":"warn"}`), true},
	}},
	{"anything-but wildcard", `{"value":{"s":[{"anything-but":{"wildcard":"*.tmp"}}]}}`, []patternCase{
		{sp(`{"s":"x.tmp"}`), false},
		{sp(`{"s":"x.txt"}`), true},
	}},
	{"numeric range", `{"value":{"n":[{"numeric":[">",0,"<=",5]}]}}`, []patternCase{
		{sp(`{"n":0}`), false},
		{sp(`{"n":0.000001}`), true},
		{sp(`{"n":0.0000001}`), false}, // below the precision: equal to 0
		{sp(`{"n":5}`), true},
		{sp(`{"n":5.0000001}`), true},
		{sp(`{"n":5.000001}`), false},
		{sp(`{"n":-1}`), false},
		{sp(`{"n":"3"}`), false},
		{sp(`{"n":[9,3]}`), true},
		{sp(`{"n":6e9}`), false}, // out of range never matches
	}},
	{"numeric single", `{"value":{"a":[{"numeric":["<",10]}],"b":[{"numeric":[">=",10]}],"c":[{"numeric":["=",3.018e2]}]}}`, []patternCase{
		{sp(`{"a":9.99,"b":10,"c":301.8}`), true},
		{sp(`{"a":10,"b":10,"c":301.8}`), false},
		{sp(`{"a":9,"b":9.999,"c":301.8}`), false},
		{sp(`{"a":9,"b":10,"c":301.9}`), false},
	}},
	{"numeric negative and exponent", `{"value":{"t":[{"numeric":[">=",-1.5e1,"<",-1]}]}}`, []patternCase{
		{sp(`{"t":-15}`), true},
		{sp(`{"t":-1.0}`), false},
		{sp(`{"t":-2E0}`), true},
	}},
	{"exists true", `{"value":{"a":[{"exists":true}]}}`, []patternCase{
		{sp(`{"a":1}`), true},
		{sp(`{"a":null}`), true},
		{sp(`{"a":""}`), true},
		{sp(`{"a":[1]}`), true},
		{sp(`{"a":[]}`), false},      // no leaf value
		{sp(`{"a":{"b":1}}`), false}, // not a leaf
		{sp(`{}`), false},
	}},
	{"exists false", `{"value":{"a":[{"exists":false}]}}`, []patternCase{
		{sp(`{}`), true},
		{sp(`{"b":1}`), true},
		{sp(`{"a":null}`), false},
		{sp(`{"a":[]}`), true},
		{sp(`{"a":{"b":1}}`), true}, // exists works on leaves only
		{sp(`{"a":0}`), false},
		{sp(`"plain"`), true},     // a JSON string has no field a
		{sp(`plain text`), false}, // a plain value is never looked into
	}},
	{"exists false nested", `{"value":{"x":{"y":[{"exists":false}]}}}`, []patternCase{
		{sp(`{}`), true},
		{sp(`{"x":{}}`), true},
		{sp(`{"x":{"y":1}}`), false},
		{sp(`{"x":5}`), true},
	}},
	{"cidr v4", `{"value":{"ip":[{"cidr":"10.0.0.0/24"}]}}`, []patternCase{
		{sp(`{"ip":"10.0.0.7"}`), true},
		{sp(`{"ip":"10.0.1.7"}`), false},
		{sp(`{"ip":"not an ip"}`), false},
		{sp(`{"ip":"::1"}`), false},
		{sp(`{"ip":10}`), false},
	}},
	{"cidr v6", `{"value":{"ip":[{"cidr":"2001:db8::/32"}]}}`, []patternCase{
		{sp(`{"ip":"2001:db8::1"}`), true},
		{sp(`{"ip":"2001:db9::1"}`), false},
		{sp(`{"ip":"10.0.0.1"}`), false},
	}},
	{"all fields must match", `{"value":{"a":["x"],"b":[1]}}`, []patternCase{
		{sp(`{"a":"x","b":1}`), true},
		{sp(`{"a":"x","b":2}`), false},
		{sp(`{"a":"x"}`), false},
	}},
	{"nested objects", `{"value":{"customer":{"address":{"country":["DE"]}}}}`, []patternCase{
		{sp(`{"customer":{"address":{"country":"DE"}}}`), true},
		{sp(`{"customer":{"address":{"country":"FR"}}}`), false},
		{sp(`{"customer":{"country":"DE"}}`), false},
		{sp(`{"customer":"DE"}`), false},
	}},
	{"$or", `{"value":{"$or":[{"a":["x"]},{"b":[{"numeric":[">",10]}]}],"c":["y"]}}`, []patternCase{
		{sp(`{"a":"x","c":"y"}`), true},
		{sp(`{"b":11,"c":"y"}`), true},
		{sp(`{"b":9,"c":"y"}`), false},
		{sp(`{"a":"x","b":11}`), false},
	}},
	{"$or at top level", `{"$or":[{"topic":["payments"]},{"value":{"kind":["order"]}}]}`, []patternCase{
		{sp(`{"kind":"order"}`), true},
		{sp(`{"kind":"refund"}`), false},
	}},
	{"$or with one object is a field", `{"value":{"$or":[{"exists":true}]}}`, []patternCase{
		{sp(`{"$or":1}`), true},
		{sp(`{"a":1}`), false},
	}},
	{"array of objects: same element", `{"value":{"items":{"sku":["A"],"qty":[2]}}}`, []patternCase{
		{sp(`{"items":[{"sku":"A","qty":2}]}`), true},
		{sp(`{"items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}`), false},
		{sp(`{"items":[{"sku":"B","qty":2},{"sku":"A","qty":2}]}`), true},
		{sp(`{"items":{"sku":"A","qty":2}}`), true},
		{sp(`{"items":[]}`), false},
	}},
	{"array of arrays", `{"value":{"m":[3]}}`, []patternCase{
		{sp(`{"m":[[1,2],[3,4]]}`), true},
		{sp(`{"m":[[1,2],[[5,[3]]]]}`), true},
		{sp(`{"m":[[1,2],[4]]}`), false},
	}},
	{"nested arrays of objects", `{"value":{"g":{"p":{"n":["x"]}}}}`, []patternCase{
		{sp(`{"g":[[{"p":[{"n":"y"},{"n":"x"}]}]]}`), true},
		{sp(`{"g":[[{"p":[{"n":"y"}]}]]}`), false},
	}},
	{"duplicate keys: last wins", `{"value":{"a":["x"]}}`, []patternCase{
		{sp(`{"a":"x","a":"y"}`), false},
		{sp(`{"a":"y","a":"x"}`), true},
		{sp(`{"a":{"b":1},"a":"x"}`), true},
	}},
	{"duplicate objects: last wins", `{"value":{"o":{"a":["x"],"b":["y"]}}}`, []patternCase{
		{sp(`{"o":{"a":"x"},"o":{"b":"y"}}`), false},
		{sp(`{"o":{"a":"x","b":"y"},"o":{"a":"x","b":"y"}}`), true},
		{sp(`{"o":{"a":"x","b":"y"},"o":5}`), false},
	}},
	{"duplicate exists: last wins", `{"value":{"a":[{"exists":false}]}}`, []patternCase{
		{sp(`{"a":1,"a":{}}`), true},
		{sp(`{"a":{},"a":1}`), false},
	}},
	{"unicode and surrogate pairs", `{"value":{"e":["😀 ü"]}}`, []patternCase{
		{sp(`{"e":"😀 ü"}`), true},
		{sp(`{"e":"\ud83d\ude00 \u00fc"}`), true},
		{sp(`{"e":"\ud83d\u00fc"}`), false},
	}},
	{"escapes", `{"value":{"s":["a\"b\\c/d\n\t"]}}`, []patternCase{
		{sp(`{"s":"a\"b\\c\/d\n\t"}`), true},
		{sp(`{"s":"a\u0022b\u005cc/d\u000a\u0009"}`), true},
		{sp(`{"s":"a\"b\\c/d\n"}`), false},
	}},
	{"lone surrogate decodes to U+FFFD", `{"value":{"s":["\ufffd"]}}`, []patternCase{
		{sp(`{"s":"\ud800"}`), true},
		{sp("{\"s\":\"\xff\"}"), true},
	}},
}

func TestPatternOperators(t *testing.T) {
	for _, tc := range patternTable {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCompile(t, Spec{Pattern: tc.pattern})
			for _, pc := range tc.cases {
				got := c.Match(val(pc.value))
				if got != pc.want {
					v := "<nil>"
					if pc.value != nil {
						v = *pc.value
					}
					t.Errorf("%s on %s: got %v, want %v", tc.pattern, v, got, pc.want)
				}
			}
		})
	}
}

func TestPlainStringValues(t *testing.T) {
	cases := []struct {
		pattern string
		value   *string
		want    bool
	}{
		// A value that is not JSON is one plain string.
		{`{"value":["hello world"]}`, sp(`hello world`), true},
		{`{"value":[{"anything-but":["error"]}]}`, sp(`error`), false},
		{`{"value":[{"anything-but":["error"]}]}`, sp(`all good`), true},
		{`{"value":[{"prefix":"ERR"}]}`, sp(`ERR: disk full`), true},
		{`{"value":[{"exists":true}]}`, sp(`x`), true},
		// A JSON string value is that string.
		{`{"value":["error"]}`, sp(`"error"`), true},
		{`{"value":["error"]}`, sp(`error`), true},
		// A JSON scalar is matched as that scalar.
		{`{"value":[{"numeric":[">",100]}]}`, sp(`123`), true},
		{`{"value":["123"]}`, sp(`123`), false},
		// Patterns that look into the value never match a plain value...
		{`{"value":{"a":["x"]}}`, sp(`{"a":"x"`), false},
		{`{"value":{"a":[{"exists":false}]}}`, sp(`plain`), false},
		// ...and plain-string patterns do not match a JSON object.
		{`{"value":[{"anything-but":["error"]}]}`, sp(`{"a":1}`), false},
		{`{"value":[{"prefix":"{"}]}`, sp(`{"a":1}`), false},
		// Invalid JSON is a plain string.
		{`{"value":[{"prefix":"{\"a\""}]}`, sp(`{"a":1,}`), true},
		{`{"value":{"a":[1]}}`, sp(`{"a":1,}`), false},
		{`{"value":{"a":[1]}}`, sp(`{"a":1} x`), false},
		{`{"value":{"a":[1]}}`, sp(`{"a":01}`), false},
		{`{"value":{"a":[1]}}`, sp(`{"a":1`), false},
		{`{"value":{"a":[1]}}`, sp(""), false},
		// Bytes that are not UTF-8 (and not JSON) match nothing on value.
		{`{"value":[{"anything-but":["x"]}]}`, sp("\xff\xfe"), false},
		{`{"value":[{"exists":false}]}`, sp("\xff\xfe"), false},
		// A record without value: value does not exist.
		{`{"value":[{"exists":false}]}`, nil, true},
		{`{"value":[{"exists":true}]}`, nil, false},
		{`{"value":{"a":[{"exists":false}]}}`, nil, true},
		{`{"value":[""]}`, sp(""), true},
	}
	for _, tc := range cases {
		c := mustCompile(t, Spec{Pattern: tc.pattern})
		v := "<nil>"
		if tc.value != nil {
			v = *tc.value
		}
		if got := c.Match(val(tc.value)); got != tc.want {
			t.Errorf("%s on %q: got %v, want %v", tc.pattern, v, got, tc.want)
		}
	}
}

func TestRecordFields(t *testing.T) {
	r := val(sp(`{"a":1}`))
	cases := []struct {
		pattern string
		want    bool
	}{
		{`{"topic":["orders"]}`, true},
		{`{"topic":[{"prefix":"ord"}]}`, true},
		{`{"topic":["payments"]}`, false},
		{`{"partition":[2]}`, true},
		{`{"partition":[{"numeric":[">",2]}]}`, false},
		{`{"offset":[{"numeric":[">=",1000,"<",2000]}]}`, true},
		{`{"timestamp":[{"numeric":[">",1600000000000]}]}`, true}, // record fields compare in full range
		{`{"timestamp":[{"numeric":[">=",1700000000000.5]}]}`, false},
		{`{"timestamp":[1700000000000]}`, true},
		{`{"headers":{"type":["order"]}}`, true},
		{`{"headers":{"type":["refund"]}}`, false},
		{`{"headers":{"trace":[{"prefix":"abc"}],"type":["order"]}}`, true},
		{`{"headers":{"missing":[{"exists":false}]}}`, true},
		{`{"headers":{"missing":[{"exists":true}]}}`, false},
		{`{"headers":{"$or":[{"type":["x"]},{"trace":["abc-123"]}]}}`, true},
		{`{"key":["k-1"]}`, true}, // the key is the JSON string "k-1"
		{`{"key":[{"prefix":"k-"}],"value":{"a":[1]}}`, true},
		{`{"key":[{"prefix":"k-"}],"value":{"a":[2]}}`, false},
	}
	for _, tc := range cases {
		c := mustCompile(t, Spec{Pattern: tc.pattern})
		if got := c.Match(r); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.pattern, got, tc.want)
		}
	}

	// A JSON key is matched as JSON, a plain key as a string.
	jk := &pipeline.Record{Key: []byte(`{"tenant":"acme"}`), Value: []byte(`1`)}
	if !mustCompile(t, Spec{Pattern: `{"key":{"tenant":["acme"]}}`}).Match(jk) {
		t.Error("JSON key field did not match")
	}
	pk := &pipeline.Record{Key: []byte(`tenant-acme`)}
	if !mustCompile(t, Spec{Pattern: `{"key":[{"suffix":"acme"}]}`}).Match(pk) {
		t.Error("plain key did not match")
	}
	if mustCompile(t, Spec{Pattern: `{"key":{"tenant":[{"exists":false}]}}`}).Match(pk) {
		t.Error("a plain key matched an object pattern")
	}
	// Duplicate headers: the last one wins.
	dup := &pipeline.Record{Headers: []pipeline.Header{{Key: "h", Value: []byte("1")}, {Key: "h", Value: []byte("2")}}}
	if mustCompile(t, Spec{Pattern: `{"headers":{"h":["1"]}}`}).Match(dup) {
		t.Error("an earlier duplicate header matched")
	}
	if !mustCompile(t, Spec{Pattern: `{"headers":{"h":["2"]}}`}).Match(dup) {
		t.Error("the last duplicate header did not match")
	}
}

func TestMultipleFilters(t *testing.T) {
	c := mustCompile(t,
		Spec{Pattern: `{"value":{"kind":["order"]}}`},
		Spec{Pattern: `{"value":{"kind":["refund"],"amount":[{"numeric":[">",10]}]}}`},
		Spec{Expr: `value.kind == "adjustment"`},
	)
	cases := map[string]bool{
		`{"kind":"order"}`:               true,
		`{"kind":"refund","amount":11}`:  true,
		`{"kind":"refund","amount":9}`:   false,
		`{"kind":"adjustment"}`:          true,
		`{"kind":"other"}`:               false,
		`{"kind":"order","kind":"none"}`: false,
	}
	for v, want := range cases {
		if got := c.Match(val(sp(v))); got != want {
			t.Errorf("%s: got %v, want %v", v, got, want)
		}
	}
	// Many filters on the same field.
	var specs []Spec
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		specs = append(specs, Spec{Pattern: `{"value":{"s":["` + s + `"],"n":[{"numeric":[">",0]}]}}`})
	}
	c = mustCompile(t, specs...)
	if !c.Match(val(sp(`{"s":"j","n":1}`))) || c.Match(val(sp(`{"s":"k","n":1}`))) || c.Match(val(sp(`{"s":"a","n":0}`))) {
		t.Error("ten filters on one field")
	}
	// No filters: every record passes.
	if !mustCompile(t).Match(val(nil)) {
		t.Error("an empty Criteria dropped a record")
	}
}

func TestManySlots(t *testing.T) {
	// More than 64 conditions in one frame.
	var specs []Spec
	for i := 0; i < 90; i++ {
		specs = append(specs, Spec{Pattern: `{"value":{"k":["v` + strings.Repeat("x", i) + `"],"other":[{"exists":false}]}}`})
	}
	c := mustCompile(t, specs...)
	if !c.Match(val(sp(`{"k":"v` + strings.Repeat("x", 89) + `"}`))) {
		t.Error("the 90th filter did not match")
	}
	if c.Match(val(sp(`{"k":"v` + strings.Repeat("x", 89) + `","other":1}`))) {
		t.Error("exists false ignored")
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		pattern string
		path    string
		reason  string
	}{
		{`not json`, "", "not valid JSON"},
		{`{"value":{"a":["x"]}} x`, "", "not valid JSON"},
		{`["x"]`, "", "must be a JSON object"},
		{`{}`, "", "empty object"},
		{`{"value":{}}`, "value", "empty object"},
		{`{"value":{"a":"x"}}`, "value.a", "expected an array"},
		{`{"value":{"a":[]}}`, "value.a", "empty list"},
		{`{"value":{"a":[["x"]]}}`, "value.a[0]", "cannot be an array"},
		{`{"value":{"a":[{"foo":1}]}}`, "value.a[0].foo", "unknown operator"},
		{`{"value":{"a":[{"prefix":"x","suffix":"y"}]}}`, "value.a[0]", "exactly one operator"},
		{`{"value":{"a":[{"prefix":1}]}}`, "value.a[0].prefix", "takes a string"},
		{`{"value":{"a":[{"equals-ignore-case":[]}]}}`, "value.a[0].equals-ignore-case", "takes a string"},
		{`{"value":{"amount":[{"numeric":["<",5,">",1]}]}}`, "value.amount[0].numeric[0]", "bad operator order"},
		{`{"value":{"amount":[{"numeric":[">",5,"<",1]}]}}`, "value.amount[0].numeric", "range is empty"},
		{`{"value":{"amount":[{"numeric":[">",5,">",1]}]}}`, "value.amount[0].numeric[2]", "bad operator order"},
		{`{"value":{"amount":[{"numeric":["!",5]}]}}`, "value.amount[0].numeric[0]", "unknown numeric operator"},
		{`{"value":{"amount":[{"numeric":[">"]}]}}`, "value.amount[0].numeric", "expected [operator, number]"},
		{`{"value":{"amount":[{"numeric":[">","5"]}]}}`, "value.amount[0].numeric[1]", "expected a number"},
		{`{"value":{"amount":[{"numeric":[">",6e9]}]}}`, "value.amount[0].numeric[1]", "out of range"},
		{`{"value":{"amount":[{"numeric":["=",1,"<",2]}]}}`, "value.amount[0].numeric[0]", "cannot be combined"},
		{`{"value":{"s":[{"wildcard":"a**b"}]}}`, "value.s[0].wildcard", "consecutive wildcard"},
		{`{"value":{"s":[{"wildcard":"a\\b"}]}}`, "value.s[0].wildcard", "may only escape"},
		{`{"value":{"s":[{"exists":"yes"}]}}`, "value.s[0].exists", "true or false"},
		{`{"value":{"s":[{"cidr":"10.0.0.0/33"}]}}`, "value.s[0].cidr", "not an IPv4 or IPv6"},
		{`{"value":{"s":[{"anything-but":[]}]}}`, "value.s[0].anything-but", "non-empty"},
		{`{"value":{"s":[{"anything-but":["a",1]}]}}`, "value.s[0].anything-but[1]", "only strings or only numbers"},
		{`{"value":{"s":[{"anything-but":true}]}}`, "value.s[0].anything-but", "anything-but takes"},
		{`{"value":{"s":[{"anything-but":{"numeric":[">",1]}}]}}`, "value.s[0].anything-but.numeric", "does not take"},
		{`{"value":{"s":[{"anything-but":{"wildcard":"a**"}}]}}`, "value.s[0].anything-but.wildcard", "consecutive"},
		{`{"body":{"a":["x"]}}`, "body", "unknown record field"},
		{`{"topic":"orders"}`, "topic", "expected an array"},
		{`{"headers":["x"]}`, "headers", "object of header names"},
		{`{"headers":{"h":{"x":["y"]}}}`, "headers.h", "header value is a string"},
		{`{"value":{"a":["x"],"a":["y"]}}`, "", "twice"},
		{`{"value":{"$or":[{"a":["x"]},{"b":"y"}]}}`, "value.$or[1].b", "expected an array"},
		{`{"value":` + strings.Repeat(`{"a":`, 40) + `["x"]` + strings.Repeat(`}`, 41), "*", "nested"},
	}
	for _, tc := range cases {
		_, err := Compile([]Spec{{Expr: "true"}, {Pattern: tc.pattern}})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%s: got %v, want a *CompileError", tc.pattern, err)
			continue
		}
		if ce.Filter != 1 || (ce.Path != tc.path && tc.path != "*") || !strings.Contains(ce.Reason, tc.reason) || ce.Line != 0 {
			t.Errorf("%s: got %+v, want filter 1, path %q, reason containing %q", tc.pattern, *ce, tc.path, tc.reason)
		}
	}

	// Several errors come back joined, each reachable.
	_, err := Compile([]Spec{{Pattern: `{"value":{"a":[]}}`}, {Pattern: `{"value":{"a":["ok"]}}`}, {Expr: `value.a >`}, {}, {Pattern: "{}", Expr: "true"}})
	if err == nil {
		t.Fatal("no error")
	}
	var got []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *CompileError
		if !errors.As(e, &ce) {
			t.Fatalf("%v is not a *CompileError", e)
		}
		got = append(got, ce.Filter)
	}
	if len(got) != 4 || got[0] != 0 || got[1] != 2 || got[2] != 3 || got[3] != 4 {
		t.Errorf("joined errors name filters %v, want [0 2 3 4]", got)
	}

	// Limits.
	many := make([]Spec, MaxFilters+1)
	for i := range many {
		many[i] = Spec{Expr: "true"}
	}
	if _, err := Compile(many); err == nil {
		t.Error("no error for too many filters")
	}
	big := `{"value":{"a":["` + strings.Repeat("x", MaxPatternBytes) + `"]}}`
	if _, err := Compile([]Spec{{Pattern: big}}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("no limit error for a large pattern: %v", err)
	}
}

func TestParseESM(t *testing.T) {
	specs, err := ParseESM(`{"Filters":[{"Pattern":"{ \"value\" : { \"device_ID\" : [ { \"prefix\": \"AB\" } ] } }"},{"Pattern":"{\"value\":[{\"anything-but\":[\"error\"]}]}"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || specs[1].Pattern != `{"value":[{"anything-but":["error"]}]}` {
		t.Fatalf("got %+v", specs)
	}
	c := mustCompile(t, specs...)
	for v, want := range map[string]bool{`{"device_ID":"AB1234"}`: true, `{"device_ID":"CD1"}`: false, `ok`: true, `error`: false} {
		if got := c.Match(val(sp(v))); got != want {
			t.Errorf("%s: got %v, want %v", v, got, want)
		}
	}
	for _, bad := range []string{``, `[]`, `{"Filters":[{}]}`, `{"Filters":[{"Pattern":1}]}`, `{"Filter":[]}`, `{"Filters":[]} x`} {
		if _, err := ParseESM(bad); err == nil {
			t.Errorf("ParseESM(%q): no error", bad)
		}
	}
	if specs, err := ParseESM(`{}`); err != nil || len(specs) != 0 {
		t.Errorf("ParseESM({}): %v, %v", specs, err)
	}
}
