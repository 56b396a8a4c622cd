package template

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

var rec = pipeline.Record{
	Topic: "orders", Partition: 3, Offset: 1502, Timestamp: 1764411301200,
	Key:     []byte(`{"id":"k-1","region":"eu"}`),
	Value:   []byte(`{"order_id":"ord-1","amount":129.95,"customer":{"name":"Jane \"JD\" Doe","tags":["vip","new"]},"items":[{"sku":"A"},{"sku":"B"}],"amount":130}`),
	Headers: []pipeline.Header{{Key: "type", Value: []byte("order")}, {Key: "trace", Value: []byte(`a"b`)}},
}

func TestRender(t *testing.T) {
	for _, c := range []struct{ name, tmpl, want string }{
		{"json values", `{"id": <$.value.order_id>, "amount": <$.value.amount>, "src": "<topic>"}`,
			`{"id": "ord-1", "amount": 130, "src": "orders"}`},
		{"nested and arrays", `{"name": <$.value.customer.name>, "tag": <$.value.customer.tags[1]>, "sku": <$.value.items[0].sku>, "items": <$.value.items>}`,
			`{"name": "Jane \"JD\" Doe", "tag": "new", "sku": "A", "items": [{"sku":"A"},{"sku":"B"}]}`},
		{"inside strings", `{"msg": "order <$.value.order_id> of <$.value.customer.name> for <$.value.amount> (<$.value.items>)"}`,
			`{"msg": "order ord-1 of Jane \"JD\" Doe for 130 ([{\"sku\":\"A\"},{\"sku\":\"B\"}])"}`},
		{"variables", `{"t": <topic>, "p": <partition>, "o": <offset>, "ts": <timestamp>, "pl": <pipeline>, "at": "<topic>-<partition>-<offset>"}`,
			`{"t": "orders", "p": 3, "o": 1502, "ts": 1764411301200, "pl": "orders-etl", "at": "orders-3-1502"}`},
		{"key and headers", `{"k": <$.key.id>, "type": <$.headers.type>, "trace": "<$.headers.trace>", "none": <$.headers.nope>}`,
			`{"k": "k-1", "type": "order", "trace": "a\"b", "none": null}`},
		{"missing", `{"x": <$.value.nope>, "y": "<$.value.nope>", "z": <$.value.customer.tags[9]>}`,
			`{"x": null, "y": "", "z": null}`},
		{"whole value", `{"v": <value>}`, `{"v": ` + string(rec.Value) + `}`},
		{"text", `order <$.value.order_id> from <topic>/<partition>: <$.value.customer.name>`,
			`order ord-1 from orders/3: Jane \"JD\" Doe`},
		{"escaped quote in literal", `{"a": "say \"<topic>\""}`, `{"a": "say \"orders\""}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			tm, err := Compile(c.tmpl, "orders-etl")
			if err != nil {
				t.Fatal(err)
			}
			got := string(tm.Append(nil, &rec))
			if got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if tm.json && !json.Valid([]byte(got)) {
				t.Fatalf("output is not JSON: %s", got)
			}
		})
	}
}

func TestNonJSONValueRendersNull(t *testing.T) {
	tm, _ := Compile(`{"a": <$.value.x>, "v": <value>, "s": "<value>"}`, "p")
	r := rec
	r.Value = []byte("plain text")
	if got := string(tm.Append(nil, &r)); got != `{"a": null, "v": null, "s": ""}` {
		t.Fatalf("got %s", got)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ tmpl, want string }{
		{`{"a": <$.value.x}`, "not closed"},
		{`{"a": <nope>}`, "unknown placeholder <nope>"},
		{`{"a": <$.value..x>}`, "empty name"},
		{`{"a": <$.value.x[y]>}`, "not a number"},
		{`{"a": "<topic>}`, "not closed"},
		{`{"a": <topic> <topic>}`, "not JSON"},
		{`{"a": <$.headers.>}`, "names no header"},
	} {
		_, err := Compile(c.tmpl, "p")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.tmpl, err, c.want)
		}
	}
}

func TestAppendAllocatesNothing(t *testing.T) {
	tm, _ := Compile(`{"id": <$.value.order_id>, "name": "<$.value.customer.name>", "src": "<topic>", "o": <offset>, "type": <$.headers.type>}`, "p")
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = tm.Append(buf[:0], &rec) }); n != 0 {
		t.Fatalf("%v allocs per render", n)
	}
}

func FuzzLookup(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,{"c":"x"}]}}`))
	f.Add([]byte(`{"a":`))
	f.Add([]byte(`[[[[`))
	path := []step{{name: "a", index: -1}, {name: "b", index: -1}, {index: 1}, {name: "c", index: -1}}
	f.Fuzz(func(t *testing.T, doc []byte) {
		v, ok := lookup(doc, path)
		if ok && json.Valid(doc) && !json.Valid(v) {
			t.Fatalf("lookup in valid %q returned invalid %q", doc, v)
		}
	})
}

func BenchmarkTemplate(b *testing.B) {
	tm, _ := Compile(`{"id": <$.value.order_id>, "amount": <$.value.amount>, "src": "<topic>", "at": "<topic>-<partition>-<offset>"}`, "p")
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = tm.Append(buf[:0], &rec)
	}
}
