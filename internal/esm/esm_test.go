package esm

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

func TestAppendRecordParsesToESMShape(t *testing.T) {
	r := pipeline.Record{
		Topic: "my\"topic", Partition: 3, Offset: 15, Timestamp: 1545084650987,
		TimestampType: pipeline.LogAppendTime,
		Key:           []byte("k1"), Value: []byte(`{"a":1}`),
		Headers: []pipeline.Header{{Key: "headerKey", Value: []byte("headerValue")}, {Key: "empty", Value: nil}},
	}
	out := AppendRecord(nil, &r)
	var got struct {
		Topic         string             `json:"topic"`
		Partition     int32              `json:"partition"`
		Offset        int64              `json:"offset"`
		Timestamp     int64              `json:"timestamp"`
		TimestampType string             `json:"timestampType"`
		Key           *string            `json:"key"`
		Value         *string            `json:"value"`
		Headers       []map[string][]int `json:"headers"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Topic != r.Topic || got.Partition != 3 || got.Offset != 15 || got.Timestamp != 1545084650987 || got.TimestampType != "LOG_APPEND_TIME" {
		t.Fatalf("fields differ: %+v", got)
	}
	if got.Key == nil || *got.Key != base64.StdEncoding.EncodeToString(r.Key) {
		t.Fatalf("key = %v", got.Key)
	}
	if got.Value == nil || *got.Value != base64.StdEncoding.EncodeToString(r.Value) {
		t.Fatalf("value = %v", got.Value)
	}
	if len(got.Headers) != 2 || len(got.Headers[0]["headerKey"]) != len("headerValue") || got.Headers[0]["headerKey"][0] != 'h' {
		t.Fatalf("headers = %v", got.Headers)
	}
	if v, ok := got.Headers[1]["empty"]; !ok || len(v) != 0 {
		t.Fatalf("empty header = %v", got.Headers[1])
	}
}

func TestAppendRecordOmitsNullKeyAndValue(t *testing.T) {
	r := pipeline.Record{Topic: "t"}
	var m map[string]any
	if err := json.Unmarshal(AppendRecord(nil, &r), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["key"]; ok {
		t.Fatal("null key must be left out")
	}
	if _, ok := m["value"]; ok {
		t.Fatal("null value must be left out")
	}
	if h, ok := m["headers"].([]any); !ok || len(h) != 0 {
		t.Fatalf("headers = %#v, want []", m["headers"])
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "ctl\x00\x1f\n\r\t", "utf8 ü € 😀", "bad \xff utf8", "sep \u2028 \u2029"} {
		want, _ := json.Marshal(s)
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: not JSON: %s", s, got)
		}
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q: round trip %q, want %q", s, back, wantBack)
		}
	}
}

func BenchmarkAppendRecord(b *testing.B) {
	r := pipeline.Record{Topic: "orders", Partition: 1, Offset: 123456, Timestamp: 1545084650987,
		Key: []byte("order-123456"), Value: make([]byte, 300),
		Headers: []pipeline.Header{{Key: "type", Value: []byte("order")}}}
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(r.Size()))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRecord(buf[:0], &r)
	}
}

func TestParseRecordRoundTrip(t *testing.T) {
	in := pipeline.Record{Topic: "orders", Partition: 7, Offset: 42, Timestamp: 1700000000000,
		TimestampType: pipeline.LogAppendTime, Key: []byte("k"), Value: []byte(`{"a":"ü"}`),
		Headers: []pipeline.Header{{Key: "type", Value: []byte{0, 255, 'x'}}}}
	out, err := ParseRecord(AppendRecord(nil, &in))
	if err != nil {
		t.Fatal(err)
	}
	if out.Topic != in.Topic || out.Partition != in.Partition || out.Offset != in.Offset || out.Timestamp != in.Timestamp ||
		out.TimestampType != in.TimestampType || string(out.Key) != "k" || string(out.Value) != string(in.Value) ||
		len(out.Headers) != 1 || out.Headers[0].Key != "type" || string(out.Headers[0].Value) != "\x00\xffx" {
		t.Fatalf("round trip: %+v", out)
	}
	// Lambda's older documentation shows the partition as a string.
	r, err := ParseRecord([]byte(`{"topic":"t","partition":"3","offset":1,"value":"eA=="}`))
	if err != nil || r.Partition != 3 || string(r.Value) != "x" || r.Key != nil {
		t.Fatalf("string partition: %+v %v", r, err)
	}
	for _, bad := range []string{`{`, `{"value":"!!"}`, `{"headers":[{"a":[256]}]}`, `{"partition":"x"}`, `{"timestampType":"NOW"}`} {
		if _, err := ParseRecord([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
