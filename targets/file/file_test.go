package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

func batch(offsets ...int64) *pipeline.Batch {
	b := &pipeline.Batch{TopicPartition: pipeline.TopicPartition{Topic: "t", Partition: 2}}
	for _, o := range offsets {
		b.Records = append(b.Records, pipeline.Record{Topic: "t", Partition: 2, Offset: o, Value: []byte("v")})
		b.Status = append(b.Status, pipeline.Active)
	}
	return b
}

func TestDeliverAppendsActiveRecordsAsJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "out.jsonl")
	tg, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b := batch(1, 2, 3)
	b.Status[1] = pipeline.Filtered
	if _, err := tg.Deliver(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Deliver(context.Background(), batch(4)); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var offs []int64
	for _, l := range lines {
		var r struct{ Offset int64 }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		offs = append(offs, r.Offset)
	}
	if len(offs) != 3 || offs[0] != 1 || offs[1] != 3 || offs[2] != 4 {
		t.Fatalf("offsets written %v, want [1 3 4] (the filtered record left out)", offs)
	}
}

func TestOpenCutsTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	complete := `{"topic":"t","partition":0,"offset":0}` + "\n"
	if err := os.WriteFile(path, []byte(complete+`{"topic":"t","partit`), 0o644); err != nil {
		t.Fatal(err)
	}
	tg, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Deliver(context.Background(), batch(1)); err != nil {
		t.Fatal(err)
	}
	tg.Close(context.Background())
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 || lines[0]+"\n" != complete {
		t.Fatalf("file after repair and append:\n%s", data)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("invalid line %q", l)
		}
	}
}

func TestOpenReportsUnwritablePath(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	if _, err := Open(filepath.Join(blocker, "out.jsonl")); err == nil || !strings.Contains(err.Error(), "file target") {
		t.Fatalf("Open under a regular file: %v", err)
	}
}
