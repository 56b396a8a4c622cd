package main

import (
	"encoding/json"
	"github.com/penstock-dev/penstock/wasm-sdk/go/jsonscan"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	tests := []struct {
		in      string
		elems   []string
		isArray bool
		ok      bool
	}{
		{`[1, "a" ,{"b":[2]} ]`, []string{`1`, `"a"`, `{"b":[2]}`}, true, true},
		{` [ ] `, nil, true, true},
		{`[[]]`, []string{`[]`}, true, true},
		{`{"a":1}`, nil, false, true},
		{`"s"`, nil, false, true},
		{`-0.5e+3`, nil, false, true},
		{``, nil, false, false},
		{`[1,]`, nil, false, false},
		{`[1 2]`, nil, false, false},
		{`[01]`, nil, false, false},
		{`["\x"]`, nil, false, false},
		{"[\"\x01\"]", nil, false, false},
		{`[1] x`, nil, false, false},
		{strings.Repeat("[", jsonscan.MaxDepth) + strings.Repeat("]", jsonscan.MaxDepth), []string{strings.Repeat("[", jsonscan.MaxDepth-1) + strings.Repeat("]", jsonscan.MaxDepth-1)}, true, true},
		{strings.Repeat("[", jsonscan.MaxDepth+1) + strings.Repeat("]", jsonscan.MaxDepth+1), nil, false, false},
	}
	for _, tt := range tests {
		var sc scanner
		spans, isArray, ok := sc.scan([]byte(tt.in))
		var elems []string
		for _, s := range spans {
			elems = append(elems, tt.in[s.start:s.end])
		}
		if ok != tt.ok || isArray != tt.isArray || strings.Join(elems, "|") != strings.Join(tt.elems, "|") {
			t.Errorf("%.40q: %v %v %q, want %v %v %q", tt.in, ok, isArray, elems, tt.ok, tt.isArray, tt.elems)
		}
	}
}

// FuzzScan checks the scanner against encoding/json on what is JSON.
func FuzzScan(f *testing.F) {
	for _, s := range []string{`[1,"a",{"b":null}]`, `{"a":[true,false]}`, `"\u00e9"`, `1e5`, `[`, `{"a" 1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var sc scanner
		spans, _, ok := sc.scan(in)
		if want := json.Valid(in); ok != want && strings.Count(string(in), "[")+strings.Count(string(in), "{") <= jsonscan.MaxDepth {
			t.Fatalf("%q: scan says %v, encoding/json %v", in, ok, want)
		}
		for _, s := range spans {
			if !json.Valid(in[s.start:s.end]) || strings.TrimSpace(string(in[s.start:s.end])) != string(in[s.start:s.end]) {
				t.Fatalf("%q: element %q", in, in[s.start:s.end])
			}
		}
	})
}
