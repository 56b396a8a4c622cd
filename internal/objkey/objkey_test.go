package objkey

import (
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

func TestKey(t *testing.T) {
	recs := []pipeline.Record{{Topic: "orders", Partition: 4, Offset: 200, Timestamp: 1764411301200}, {Topic: "orders", Partition: 4, Offset: 299}}
	b := pipeline.NewBatch(pipeline.TopicPartition{Topic: "orders", Partition: 4}, recs)
	for tmpl, want := range map[string]string{
		"{topic}/{partition}/{first_offset}-{last_offset}.jsonl": "orders/4/200-299.jsonl",
		"{pipeline}/{yyyy}/{mm}/{dd}/{hh}/{first_offset}.json":   "etl/2025/11/29/10/200.json",
		"static": "static",
	} {
		k, err := Parse(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(k.Append(nil, b, "etl")); got != want {
			t.Errorf("%s: got %s, want %s", tmpl, got, want)
		}
	}
	for tmpl, want := range map[string]string{"{nope}": "unknown key variable", "{topic": "not closed", "": "empty"} {
		if _, err := Parse(tmpl); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", tmpl, err, want)
		}
	}
}
