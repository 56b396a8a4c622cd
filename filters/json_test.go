package filters

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var jsonDocs = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `1E+2`, `-12.25`, `true`, `false`, `null`,
	` { "a" : [ 1 , 2 , { "b" : null } ] } `,
	"{\"a\":\n\t[1,\r\n2]}",
	`{"a":"\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r"}`,
	`{"a":"\ud800"}`, `{"a":"\udc00\ud800"}`, `"\ud83d\u0041"`,
	"\"\xff\xfe\"", "\"caf\xc3\xa9\"",
	`{"a":1,"a":2}`, `[[[[1]]],[[2]]]`, `{"a":{"b":{"c":[{"d":"e"}]}}}`,
	`123456789012345678901234567890`, `0.1`, `1e308`, `4.9e-324`, `2.2250738585072014e-308`,
	`9007199254740993`, `0.30000000000000004`, `123.456e-2`,
	// invalid
	``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
	`tru`, `nul`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01b\"", "\"a\tb\"", `[1 2]`,
	`{"a":1}}`, `[1]]`, `{"a":1} {"b":2}`, `{"a":[}`, `NaN`, `Infinity`, `"\'"`, `[,1]`, `{,}`,
	`{"a":1,,"b":2}`, `[1,,2]`, "\"\\u00e9\x00\"",
}

func TestValidJSONAgreesWithStd(t *testing.T) {
	for _, d := range jsonDocs {
		if got, want := validJSON([]byte(d)), json.Valid([]byte(d)); got != want {
			t.Errorf("validJSON(%q) = %v, encoding/json says %v", d, got, want)
		}
	}
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if !validJSON([]byte(deep)) {
		t.Error("nesting at the limit rejected")
	}
	if validJSON([]byte("[" + deep + "]")) {
		t.Error("nesting beyond the limit accepted")
	}
}

func TestDecodeAgreesWithStd(t *testing.T) {
	for _, d := range jsonDocs {
		b := []byte(d)
		if !json.Valid(b) {
			continue
		}
		var want any
		if err := json.Unmarshal(b, &want); err != nil {
			continue // numbers out of float64 range
		}
		got, end := decodeAny(b, skipWS(b, 0))
		if skipWS(b, end) != len(b) || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeAny(%q) = %#v, encoding/json gives %#v", d, got, want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "-1", "123.456", "0.1", "0.000001", "1e22", "1e23", "9007199254740993",
		"123456789012345", "1234567890123456", "0.0000000000000000000000001", "1.7976931348623157e308", "5e-324",
		"4.35", "129.95", "39.99", "1e400", "-1e400", "2.5e-400"} {
		want, _ := strconv.ParseFloat(s, 64)
		got := parseNumber([]byte(s))
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("parseNumber(%s) = %v, want %v", s, got, want)
		}
		if math.Signbit(got) != math.Signbit(want) {
			t.Errorf("parseNumber(%s): sign %v, want %v", s, got, want)
		}
	}
}

func TestNumberKeys(t *testing.T) {
	if !mkNum(5).eq(mkNum(5.0000001)) || mkNum(5).eq(mkNum(5.000001)) {
		t.Error("six digits of precision")
	}
	if mkNum(6e9).in || !mkNum(-5e9).in || !mkNum(5e9).in {
		t.Error("range")
	}
	if !mkNum(1e20).eq(mkNum(1e20)) || mkNum(1e20).eq(mkNum(1e20+1e5)) {
		t.Error("out-of-range equality")
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{`abc`, `a\"b`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ud83dx`, `\udc00`, "\xff", `\\\/\b\f\n\r\t`, `\u0000`} {
		var want string
		if err := json.Unmarshal([]byte(`"`+s+`"`), &want); err != nil {
			t.Fatal(err)
		}
		if got := string(appendString(nil, []byte(s))); got != want {
			t.Errorf("appendString(%q) = %q, want %q", s, got, want)
		}
	}
}
