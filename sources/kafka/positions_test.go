package kafka

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/pipeline"
)

var quick = pipeline.Options{BatchSize: 50, BatchWindow: 20 * time.Millisecond}

// (e) TRIM_HORIZON reads every record already in the topic.
func TestStartingPositionTrimHorizon(t *testing.T) {
	c := kafkatest.Start(t, parts, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), kafkatest.Numbered("orders", parts, 0, 800, 100))
	out := filepath.Join(t.TempDir(), "out.jsonl")
	r := startPipeline(t, c, Config{Topic: "orders", Group: "g-th", StartingPosition: TrimHorizon}, out, quick)
	waitDelivered(t, r, 800, 30*time.Second)
	r.Stop(t)
	if dups := checkDelivery(t, readOut(t, out), evenSplit(800)); len(dups) != 0 {
		t.Fatalf("duplicates: %v", dups)
	}
}

// (e) LATEST skips what is in the topic before the pipeline starts and reads
// what is produced after.
func TestStartingPositionLatest(t *testing.T) {
	c := kafkatest.Start(t, parts, "orders")
	prod := c.Producer(t)
	kafkatest.ProduceSync(t, prod, kafkatest.Numbered("orders", parts, 0, 800, 100)) // offsets 0..99 per partition
	out := filepath.Join(t.TempDir(), "out.jsonl")
	r := startPipeline(t, c, Config{Topic: "orders", Group: "g-latest", StartingPosition: Latest}, out, quick)

	// LATEST resolves the end offsets when partitions are assigned; records
	// produced while that happens may be skipped (as the ESM documents), so
	// produce in rounds until the pipeline has seen some, then one more.
	next := 800
	deadline := time.Now().Add(30 * time.Second)
	for r.p.Stats().Delivered == 0 {
		if time.Now().After(deadline) {
			t.Fatal("LATEST pipeline delivered nothing")
		}
		kafkatest.ProduceSync(t, prod, kafkatest.Numbered("orders", parts, next, parts, 100))
		next += parts
		time.Sleep(50 * time.Millisecond)
	}
	kafkatest.ProduceSync(t, prod, kafkatest.Numbered("orders", parts, next, 400, 100))
	next += 400
	lastOffset := int64(next/parts - 1)
	deadline = time.Now().Add(30 * time.Second)
	for {
		done := true
		for p := range int32(parts) {
			if l := r.p.Lane(pipelineTP("orders", p)); l == nil || r.p.Committed()[pipelineTP("orders", p)] != lastOffset+1 {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every partition committed up to %d: %v", lastOffset+1, r.p.Committed())
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Stop(t)

	byPart := map[int32][]int64{}
	for _, rec := range readOut(t, out) {
		if rec.Offset < 100 {
			t.Fatalf("LATEST delivered partition %d offset %d, produced before the pipeline started", rec.Partition, rec.Offset)
		}
		byPart[rec.Partition] = append(byPart[rec.Partition], rec.Offset)
	}
	for p := range int32(parts) {
		offs := byPart[p]
		if len(offs) == 0 || offs[len(offs)-1] != lastOffset {
			t.Fatalf("partition %d: offsets %v do not end at %d", p, offs, lastOffset)
		}
		for i := 1; i < len(offs); i++ {
			if offs[i] != offs[i-1]+1 {
				t.Fatalf("partition %d: gap or disorder after the start: %v", p, offs)
			}
		}
	}
}

// (e) AT_TIMESTAMP starts each partition at the first record whose
// timestamp is at or after the given time.
func TestStartingPositionAtTimestamp(t *testing.T) {
	c := kafkatest.Start(t, parts, "orders")
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	recs := kafkatest.Numbered("orders", parts, 0, 800, 100)
	// Per partition, offsets 0..99 carry timestamps base+0s … base+99s.
	for i, r := range recs {
		r.Timestamp = base.Add(time.Duration(i/parts) * time.Second)
	}
	kafkatest.ProduceSync(t, c.Producer(t), recs)
	from := base.Add(60 * time.Second) // offset 60 of every partition
	out := filepath.Join(t.TempDir(), "out.jsonl")
	r := startPipeline(t, c, Config{Topic: "orders", Group: "g-ts", StartingPosition: AtTimestamp, StartingTimestamp: from}, out, quick)
	waitDelivered(t, r, 40*parts, 30*time.Second)
	r.Stop(t)
	got := readOut(t, out)
	if len(got) != 40*parts {
		t.Fatalf("AT_TIMESTAMP delivered %d records, want %d", len(got), 40*parts)
	}
	next := map[int32]int64{}
	for _, rec := range got {
		if next[rec.Partition] == 0 {
			next[rec.Partition] = 60
		}
		if rec.Offset != next[rec.Partition] {
			t.Fatalf("partition %d: offset %d, want %d", rec.Partition, rec.Offset, next[rec.Partition])
		}
		next[rec.Partition]++
	}
}

// (e) A custom group id that already has committed offsets resumes from
// them: committed offsets win over the starting position.
func TestCommittedOffsetsWinOverStartingPosition(t *testing.T) {
	c := kafkatest.Start(t, parts, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), kafkatest.Numbered("orders", parts, 0, 800, 100))

	adm := kadm.NewClient(c.Producer(t))
	offs := kadm.Offsets{}
	for p := range int32(parts) {
		offs.Add(kadm.Offset{Topic: "orders", Partition: p, At: 70, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(context.Background(), "my-existing-group", offs)
	if err != nil || resp.Error() != nil {
		t.Fatalf("seed committed offsets: %v %v", err, resp.Error())
	}

	for _, start := range []StartingPosition{TrimHorizon, Latest} {
		t.Run(string(start), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.jsonl")
			// Each subtest starts from the seeded offsets: reset them first.
			if _, err := adm.CommitOffsets(context.Background(), "my-existing-group", offs); err != nil {
				t.Fatal(err)
			}
			r := startPipeline(t, c, Config{Topic: "orders", Group: "my-existing-group", StartingPosition: start}, out, quick)
			waitDelivered(t, r, 30*parts, 30*time.Second)
			time.Sleep(200 * time.Millisecond) // nothing more may come
			r.Stop(t)
			got := readOut(t, out)
			if len(got) != 30*parts {
				t.Fatalf("delivered %d records, want %d (offsets 70..99 of each partition)", len(got), 30*parts)
			}
			for _, rec := range got {
				if rec.Offset < 70 {
					t.Fatalf("partition %d offset %d is before the committed offset 70", rec.Partition, rec.Offset)
				}
			}
		})
	}
}
