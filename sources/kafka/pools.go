package kafka

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/pipeline"
)

// Without pools, franz-go allocates every fetched batch's decompressed bytes
// and its records afresh; at millions of records per second that is the
// larger part of the garbage a pipeline makes, and the collector's work and
// the zeroing of new memory cost as much CPU as filtering the records.
//
// recordPools lends franz-go that memory instead (kgo.WithPools) and the
// source gives it back when the pipeline commits past the records: a commit
// means every record below the committed offset was delivered, filtered or
// handed to the on-failure destination, and nothing reads it again
// (pipeline.Source.Commit). Records that are not given back (a partition
// revoked or lost, a pipeline stopped) are left to the garbage collector,
// so a missed give-back costs memory reuse, never correctness.

// Memory is pooled in size classes of powers of two, so a batch holds at
// most twice the memory it needs, however small it is (a producer that
// sends one record per batch must not make the pipeline hold kilobytes per
// record). A slice is stored as the address of its first element
// (pointer-shaped, so putting it in a sync.Pool allocates nothing); its
// capacity is its class's size.
const (
	minByteClass   = 6  // 64 bytes
	maxByteClass   = 27 // 128 MiB
	minRecordClass = 0  // 1 record
	maxRecordClass = 20 // 1 Mi records
)

type recordPools struct {
	// ratio is how many times fetched batches expand when decompressed
	// (for codecs whose output size is not in their header).
	ratio func() float64
	bytes [maxByteClass + 1]sync.Pool   // *byte: arrays of 1<<class bytes
	recs  [maxRecordClass + 1]sync.Pool // *kgo.Record: arrays of 1<<class records

	// Gets served from the pools rather than by allocating.
	reusedBytes, reusedRecs atomic.Int64
}

var (
	_ kgo.PoolDecompressBytes = (*recordPools)(nil)
	_ kgo.PoolRecords         = (*recordPools)(nil)
)

// classUp is the smallest class whose size is at least n.
func classUp(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

// classDown is the largest class whose size is at most n (n > 0).
func classDown(n int) int { return bits.Len(uint(n)) - 1 }

// GetDecompressBytes implements kgo.PoolDecompressBytes: a slice at least as
// large as the batch will be once decompressed. Most compressed batches
// state that size (decodedLen); for the others it is estimated from the
// ratio seen so far, with some room (a slice found too small is grown by
// the codec, and the grown slice comes back to the pool).
func (p *recordPools) GetDecompressBytes(compressed []byte, codec kgo.CompressionCodecType) []byte {
	need := decodedLen(compressed, codec)
	if need <= 0 {
		need = int(math.Min(float64(len(compressed))*p.ratio()*1.25, 1<<maxByteClass))
	}
	c := max(classUp(need), minByteClass)
	if c > maxByteClass {
		return nil // the codec allocates it
	}
	if ptr, ok := p.bytes[c].Get().(*byte); ok {
		p.reusedBytes.Add(1)
		return unsafe.Slice(ptr, 1<<c)[:0]
	}
	return make([]byte, 0, 1<<c)
}

// PutDecompressBytes implements kgo.PoolDecompressBytes. franz-go has zeroed
// the bytes that were used.
func (p *recordPools) PutDecompressBytes(b []byte) {
	if cap(b) < 1<<minByteClass {
		return
	}
	c := min(classDown(cap(b)), maxByteClass)
	p.bytes[c].Put(unsafe.SliceData(b[:1]))
}

// GetRecords implements kgo.PoolRecords: a slice of zeroed records with
// room for n.
func (p *recordPools) GetRecords(n int) []kgo.Record {
	c := max(classUp(n), minRecordClass)
	if c > maxRecordClass {
		return nil // franz-go allocates them
	}
	if ptr, ok := p.recs[c].Get().(*kgo.Record); ok {
		p.reusedRecs.Add(1)
		return unsafe.Slice(ptr, 1<<c)[:0]
	}
	return make([]kgo.Record, 0, 1<<c)
}

// PutRecords implements kgo.PoolRecords. Every record was zeroed by its
// Recycle (or by franz-go when none was kept).
func (p *recordPools) PutRecords(rs []kgo.Record) {
	if cap(rs) < 1<<minRecordClass {
		return
	}
	c := min(classDown(cap(rs)), maxRecordClass)
	p.recs[c].Put(unsafe.SliceData(rs[:1]))
}

// decodedLen is the size compressed data states it decompresses to, or 0
// when it does not say (or says more than the pools hold). It only sizes a
// buffer: the codec still checks the data.
//
//   - snappy: a block starts with its decoded length (a uvarint); Kafka's
//     older xerial framing (a magic prefix, then chunks) states no total.
//   - gzip: the last four bytes are the decoded length modulo 2^32 (of the
//     last member, when there are several).
//   - zstd: the frame header's Frame_Content_Size, when present (franz-go
//     and the Java client write it).
//   - lz4: the frame header's Content Size, when its flag is set (most
//     producers leave it out).
func decodedLen(src []byte, codec kgo.CompressionCodecType) int {
	var n uint64
	le := binary.LittleEndian
	switch codec {
	case kgo.CodecSnappy:
		if len(src) > 8 && string(src[:8]) == "\x82SNAPPY\x00" {
			return 0
		}
		var used int
		if n, used = binary.Uvarint(src); used <= 0 {
			return 0
		}
	case kgo.CodecGzip:
		if len(src) < 18 || src[0] != 0x1f || src[1] != 0x8b {
			return 0
		}
		n = uint64(le.Uint32(src[len(src)-4:]))
	case kgo.CodecZstd:
		n = zstdContentSize(src)
	case kgo.CodecLz4:
		// Magic, FLG (version 01 in its top bits, bit 3: content size
		// present), BD, then the size.
		if len(src) < 14 || le.Uint32(src) != 0x184d2204 || src[4]>>6 != 1 || src[4]&0x08 == 0 {
			return 0
		}
		n = le.Uint64(src[6:])
	}
	if n > 1<<maxByteClass {
		return 0
	}
	return int(n)
}

// zstdContentSize reads Frame_Content_Size from the header of the zstd
// frame src starts with (RFC 8878, 3.1.1.1), or 0.
func zstdContentSize(src []byte) uint64 {
	le := binary.LittleEndian
	if len(src) < 6 || le.Uint32(src) != 0xfd2fb528 {
		return 0
	}
	fhd := src[4]
	single := fhd&0x20 != 0
	at := 5
	if !single {
		at++ // Window_Descriptor
	}
	at += [4]int{0, 1, 2, 4}[fhd&3] // Dictionary_ID
	size := [4]int{0, 2, 4, 8}[fhd>>6]
	if size == 0 && single {
		size = 1
	}
	if size == 0 || len(src) < at+size {
		return 0
	}
	switch size {
	case 1:
		return uint64(src[at])
	case 2:
		return uint64(le.Uint16(src[at:])) + 256
	case 4:
		return uint64(le.Uint32(src[at:]))
	}
	return le.Uint64(src[at:])
}

// lent holds the records of one partition that were decoded into pooled
// memory and handed to the pipeline, oldest first, until a commit passes
// them.
type lent struct {
	mu   sync.Mutex
	recs []*kgo.Record
	head int // recs[:head] were given back
}

// add appends the records of one fetch of the partition. Offsets only grow
// within a partition's fetches; if they ever do not (the log was truncated
// and refetched from an earlier offset), a commit could not tell the old
// records from the new, so the ones held so far are let go to the garbage
// collector instead of being given back.
func (l *lent) add(recs []*kgo.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k := len(l.recs); k > l.head && recs[0].Offset <= l.recs[k-1].Offset {
		clear(l.recs)
		l.recs, l.head = l.recs[:0], 0
	}
	if l.head > 0 && (l.head == len(l.recs) || l.head >= 4096) {
		n := copy(l.recs, l.recs[l.head:])
		clear(l.recs[n:])
		l.recs, l.head = l.recs[:n], 0
	}
	l.recs = append(l.recs, recs...)
}

// giveBack returns the memory of the records below next to the pools.
func (l *lent) giveBack(next int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.head < len(l.recs) && l.recs[l.head].Offset < next {
		l.recs[l.head].Recycle()
		l.recs[l.head] = nil
		l.head++
	}
}

// lending tracks the lent records of every partition the source owns.
type lending struct {
	mu    sync.Mutex
	parts map[pipeline.TopicPartition]*lent
}

// start begins tracking tp afresh (it was just assigned).
func (g *lending) start(tp pipeline.TopicPartition) {
	g.mu.Lock()
	if g.parts == nil {
		g.parts = make(map[pipeline.TopicPartition]*lent)
	}
	g.parts[tp] = new(lent)
	g.mu.Unlock()
}

// stop lets tp's records go to the garbage collector (revoked or lost: its
// lane is gone and its records were not committed).
func (g *lending) stop(tp pipeline.TopicPartition) {
	g.mu.Lock()
	delete(g.parts, tp)
	g.mu.Unlock()
}

func (g *lending) of(tp pipeline.TopicPartition) *lent {
	g.mu.Lock()
	l := g.parts[tp]
	g.mu.Unlock()
	return l
}
