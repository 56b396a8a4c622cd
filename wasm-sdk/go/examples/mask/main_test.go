package main

import (
	"encoding/json"
	"github.com/penstock-dev/penstock/wasm-sdk/go/jsonscan"
	"reflect"
	"strings"
	"testing"
)

func mask(t testing.TB, fields []string, in string) (string, bool) {
	t.Helper()
	cfg, _ := json.Marshal(map[string][]string{"fields": fields})
	h, err := newMasker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := h.(*masker)
	spans, ok := m.sc.scan([]byte(in), m.all)
	if !ok {
		return "", false
	}
	out, at := "", 0
	for _, s := range spans {
		out += in[at:s.start] + `"***"`
		at = s.end
	}
	return out + in[at:], true
}

func TestMask(t *testing.T) {
	fields := []string{"customer.email", "card", "a.b.c"}
	tests := []struct{ in, want string }{
		{`{"customer":{"email":"x@y","name":"n"},"card":"4111"}`, `{"customer":{"email":"***","name":"n"},"card":"***"}`},
		{` { "card" : "1" } `, ` { "card" : "***" } `},
		{`{"card":1,"customer":{"email":null}}`, `{"card":1,"customer":{"email":null}}`},
		{`{"cust\u006fmer":{"email":"e"}}`, `{"cust\u006fmer":{"email":"***"}}`},
		{`{"card":"a","card":"b"}`, `{"card":"***","card":"***"}`},
		{`[{"card":"a"}]`, `[{"card":"a"}]`},
		{`{"a":{"b":{"c":"deep","d":"x"}},"b":{"c":"no"}}`, `{"a":{"b":{"c":"***","d":"x"}},"b":{"c":"no"}}`},
		{`{"customer":"flat"}`, `{"customer":"flat"}`},
		{`{"card":"esc\"aped\\"}`, `{"card":"***"}`},
		{`"card"`, `"card"`},
	}
	for _, tt := range tests {
		got, ok := mask(t, fields, tt.in)
		if !ok || got != tt.want {
			t.Errorf("%s: %s %v, want %s", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"card":"x"`, `{"card":"x",}`, `{"card" "x"}`, `nul`, `{"a":1}x`} {
		if _, ok := mask(t, fields, bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDecodeKey(t *testing.T) {
	for raw, want := range map[string]string{
		`a\"b`:           `a"b`,
		`\u00e9`:         "é",
		`\ud83d\ude00`:   "😀",
		`\ud83d`:         "\uFFFD",
		`\ude00x`:        "\uFFFDx",
		`\ud83d\u0041`:   "\uFFFDA",
		`\/\\\b\f\n\r\t`: "/\\\b\f\n\r\t",
	} {
		if got := string(jsonscan.AppendUnescaped(nil, []byte(raw))); got != want {
			t.Errorf("%s: %q, want %q", raw, got, want)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, cfg := range []string{`{}`, `{"fields":"card"}`, `[]`, `{"fields":[1]}`} {
		if _, err := newMasker([]byte(cfg)); err == nil {
			t.Errorf("%s accepted", cfg)
		}
	}
}

// FuzzMask checks the scanner against encoding/json: the same values are
// JSON, and masking changes exactly the string values at the paths.
func FuzzMask(f *testing.F) {
	for _, s := range []string{`{"card":"1","customer":{"email":"e","x":[1]}}`, `{"card":{"a":"b"}}`, `[1,{"card":"x"}]`, `{"c\u0061rd":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if strings.Count(string(in), "[")+strings.Count(string(in), "{") > jsonscan.MaxDepth {
			return
		}
		got, ok := mask(t, []string{"card", "customer.email"}, string(in))
		if ok != json.Valid(in) {
			t.Fatalf("%q: scan says %v, encoding/json %v", in, ok, !ok)
		}
		if !ok {
			return
		}
		var before, after any
		if json.Unmarshal(in, &before) != nil || json.Unmarshal([]byte(got), &after) != nil {
			return // invalid UTF-8 and the like: encoding/json rewrites it
		}
		if obj, isObj := before.(map[string]any); isObj {
			if _, isStr := obj["card"].(string); isStr {
				obj["card"] = "***"
			}
			if c, isObj := obj["customer"].(map[string]any); isObj {
				if _, isStr := c["email"].(string); isStr {
					c["email"] = "***"
				}
			}
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("%s\nmasked to\n%s", in, got)
		}
	})
}
