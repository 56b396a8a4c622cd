package kafka

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/pipeline"
)

// poolValue is record i's value: its number and bytes that differ from
// every other record's, so a value overwritten by a later fetch's bytes
// cannot pass for the right one.
func poolValue(i int) []byte {
	v := fmt.Appendf(nil, `{"seq":%d,"data":"`, i)
	x := uint32(i)*2654435761 + 1
	for range 200 + i%64 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		v = append(v, 'a'+byte(x%26))
	}
	return append(v, `"}`...)
}

// checkingTarget checks every delivered record against what was produced
// and remembers which were seen.
type checkingTarget struct {
	mu   sync.Mutex
	seen map[int]int
	bad  []string
}

func (t *checkingTarget) Deliver(_ context.Context, b *pipeline.Batch) (pipeline.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range b.Records {
		r := &b.Records[i]
		n, err := strconv.Atoi(string(r.Key))
		if err != nil || !bytes.Equal(r.Value, poolValue(n)) || len(r.Headers) != 1 || string(r.Headers[0].Value) != string(r.Key) {
			if len(t.bad) < 5 {
				t.bad = append(t.bad, fmt.Sprintf("partition %d offset %d: key %q value %.60q headers %v", r.Partition, r.Offset, r.Key, r.Value, r.Headers))
			}
			continue
		}
		t.seen[n]++
	}
	// Give the source time to fetch (into reused memory) while batches are
	// being delivered.
	time.Sleep(200 * time.Microsecond)
	return pipeline.Result{}, nil
}

func (t *checkingTarget) Close(context.Context) error { return nil }

// Fetched batches are decoded into pooled memory that is reused once the
// pipeline commits past their records. With every codec, every record
// arrives intact (key, value, header) while later fetches reuse the memory
// of committed ones, and the memory is in fact reused.
func TestPooledFetchMemoryIsReusedOnlyAfterCommit(t *testing.T) {
	total := 20_000
	if raceEnabled {
		total = 5_000
	}
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
		{"gzip", kgo.GzipCompression()},
		{"none", kgo.NoCompression()},
	}
	for _, cc := range codecs {
		t.Run(cc.name, func(t *testing.T) {
			c := kafkatest.Start(t, parts, "orders")
			recs := make([]*kgo.Record, total)
			for i := range recs {
				k := []byte(strconv.Itoa(i))
				recs[i] = &kgo.Record{Topic: "orders", Partition: int32(i % parts), Key: k, Value: poolValue(i),
					Headers: []kgo.RecordHeader{{Key: "n", Value: k}}}
			}
			kafkatest.ProduceSync(t, c.Producer(t, kgo.ProducerBatchCompression(cc.codec), kgo.ProducerLinger(2*time.Millisecond),
				kgo.ProducerBatchMaxBytes(16<<10)), recs)

			src, err := New(Config{Brokers: c.Addrs, Topic: "orders", Group: "g-pools", StartingPosition: TrimHorizon,
				SessionTimeout: 3 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			tgt := &checkingTarget{seen: make(map[int]int)}
			// A small in-flight bound, so that fetching goes on while
			// earlier records are delivered, and memory is reused.
			p := pipeline.New(pipeline.Options{Name: "pools", BatchSize: 50, BatchWindow: 10 * time.Millisecond,
				MaxInflightBytes: 1 << 20}, src, pipeline.Stages{}, tgt)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			deadline := time.Now().Add(90 * time.Second)
			for p.Stats().Delivered < int64(total) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			tgt.mu.Lock()
			defer tgt.mu.Unlock()
			if len(tgt.bad) > 0 {
				t.Fatalf("records delivered with bytes other than produced:\n%s", tgt.bad)
			}
			if len(tgt.seen) != total {
				t.Fatalf("%d of %d records delivered", len(tgt.seen), total)
			}
			if !raceEnabled {
				if n := src.pools.recs.reused.Load(); n == 0 {
					t.Error("no record slice was reused")
				}
				if n := src.pools.bytes.reused.Load(); cc.name != "none" && n == 0 {
					t.Error("no decompression buffer was reused")
				}
			}
			t.Logf("reused: %d record slices, %d decompression buffers", src.pools.recs.reused.Load(), src.pools.bytes.reused.Load())
		})
	}
}

// Records are given back in offset order up to the committed offset; when
// a partition's offsets go back (a truncated log fetched again), the
// records held so far are let go rather than given back by a commit that
// cannot tell them apart.
func TestLentRecordsGivenBackUpToCommit(t *testing.T) {
	run := func(from, n int64) []*kgo.Record {
		var rs []*kgo.Record
		for o := from; o < from+n; o++ {
			rs = append(rs, &kgo.Record{Offset: o})
		}
		return rs
	}
	var l lent
	l.add(run(10, 10))
	l.add(run(20, 5))
	l.giveBack(15)
	if l.head != 5 || l.recs[0] != nil || l.recs[5].Offset != 15 {
		t.Fatalf("after commit 15: head %d, first held %v", l.head, l.recs[l.head])
	}
	l.giveBack(15) // a repeated commit gives nothing more back
	if l.head != 5 {
		t.Fatalf("repeated commit moved head to %d", l.head)
	}
	l.giveBack(100)
	if l.head != len(l.recs) {
		t.Fatalf("after commit 100: head %d of %d", l.head, len(l.recs))
	}
	l.add(run(25, 3)) // all given back: the list starts over
	if l.head != 0 || len(l.recs) != 3 {
		t.Fatalf("after add: head %d len %d", l.head, len(l.recs))
	}
	l.add(run(5, 3)) // offsets went back
	if len(l.recs) != 3 || l.recs[0].Offset != 5 {
		t.Fatalf("after offsets went back: %d held from %d", len(l.recs), l.recs[0].Offset)
	}
	l.giveBack(7)
	if l.head != 2 {
		t.Fatalf("after commit 7: head %d", l.head)
	}
}

func TestPoolClasses(t *testing.T) {
	p := newRecordPools(func() float64 { return 4 })
	b := p.GetDecompressBytes([]byte{0x80, 0x40}, kgo.CodecSnappy) // snappy header: 8192 bytes
	if len(b) != 0 || cap(b) != 8192 {
		t.Fatalf("snappy 8192: len %d cap %d", len(b), cap(b))
	}
	b = p.GetDecompressBytes(make([]byte, 3000), kgo.CodecLz4) // 3000 × 4 × 1.25 = 15000
	if cap(b) != 16384 {
		t.Fatalf("lz4 estimate: cap %d, want 16384", cap(b))
	}
	p.PutDecompressBytes(make([]byte, 100, 20000)) // class 16384
	b = p.GetDecompressBytes(make([]byte, 3000), kgo.CodecLz4)
	if cap(b) != 16384 || (!raceEnabled && p.bytes.reused.Load() != 1) {
		t.Fatalf("reuse: cap %d, reused %d", cap(b), p.bytes.reused.Load())
	}
	if r := p.GetRecords(100); len(r) != 0 || cap(r) != 128 {
		t.Fatalf("records: len %d cap %d", len(r), cap(r))
	}
	// Small batches get small slices: at most twice what they need.
	if r := p.GetRecords(1); cap(r) != 1 {
		t.Fatalf("one record: cap %d", cap(r))
	}
	if r := p.GetRecords(3); cap(r) != 4 {
		t.Fatalf("three records: cap %d", cap(r))
	}
	if b := p.GetDecompressBytes([]byte{90}, kgo.CodecSnappy); cap(b) != 128 { // 90 bytes
		t.Fatalf("90 bytes: cap %d", cap(b))
	}
}

// decodedLen reads the decoded size that batches compressed by franz-go's
// own compressor state, for every codec that states one.
func TestDecodedLenOfRealCompressedData(t *testing.T) {
	src := bytes.Repeat(poolValue(7), 400) // ≈ 100 KB, compressible
	for _, cc := range []struct {
		codec kgo.CompressionCodec
		exact bool
	}{
		{kgo.SnappyCompression(), true},
		{kgo.GzipCompression(), true},
		{kgo.ZstdCompression(), true},
		{kgo.Lz4Compression(), false},
	} {
		c, err := kgo.DefaultCompressor(cc.codec)
		if err != nil {
			t.Fatal(err)
		}
		out, typ := c.Compress(new(bytes.Buffer), src)
		got := decodedLen(out, typ)
		switch {
		case cc.exact && got != len(src):
			t.Errorf("codec %d: decoded length %d, want %d", typ, got, len(src))
		case !cc.exact && got != 0 && got != len(src):
			t.Errorf("codec %d: decoded length %d, want %d or unknown (0)", typ, got, len(src))
		}
		t.Logf("codec %d: %d bytes compressed, decoded length stated: %d", typ, len(out), got)
	}
	// Data that is not what its codec writes states nothing.
	for _, typ := range []kgo.CompressionCodecType{kgo.CodecSnappy, kgo.CodecGzip, kgo.CodecZstd, kgo.CodecLz4} {
		if n := decodedLen([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, typ); n != 0 {
			t.Errorf("codec %d: garbage states %d bytes", typ, n)
		}
	}
}

// Frame headers of each shape zstd allows (RFC 8878, 3.1.1.1.1).
func TestZstdContentSizeHeaders(t *testing.T) {
	magic := []byte{0x28, 0xb5, 0x2f, 0xfd}
	hdr := func(b ...byte) []byte { return append(append([]byte{}, magic...), b...) }
	for _, tc := range []struct {
		name string
		src  []byte
		want uint64
	}{
		{"single segment, 1-byte size", hdr(0x20, 200, 0, 0), 200},
		{"single segment, 2-byte size (+256)", hdr(0x60, 0x10, 0x00, 0), 0x10 + 256},
		{"window, 4-byte size", hdr(0x80, 0x50, 0x78, 0x56, 0x34, 0x12), 0x12345678},
		{"window, dictionary id, 8-byte size", hdr(0xc1, 0x50, 0x07, 1, 0, 0, 0, 0, 0, 0, 0), 1},
		{"no size", hdr(0x00, 0x50, 0, 0), 0},
		{"truncated", hdr(0x80, 0x50, 0x78), 0},
		{"not zstd", []byte{1, 2, 3, 4, 5, 6, 7}, 0},
	} {
		if got := zstdContentSize(tc.src); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
