package kafka

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"
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
type recordPools struct {
	// ratio is how many times fetched batches expand when decompressed
	// (for codecs whose output size is not in their header).
	ratio func() float64
	bytes classPool[byte]
	recs  classPool[kgo.Record]
}

var (
	_ kgo.PoolDecompressBytes = (*recordPools)(nil)
	_ kgo.PoolRecords         = (*recordPools)(nil)
)

// The classes: 64 B to 128 MiB of decompressed bytes, 1 to 1 Mi records.
const (
	minByteClass, maxByteClass     = 6, 27
	minRecordClass, maxRecordClass = 0, 20
)

func newRecordPools(ratio func() float64) *recordPools {
	p := &recordPools{ratio: ratio}
	p.bytes.init(minByteClass, maxByteClass)
	p.recs.init(minRecordClass, maxRecordClass)
	return p
}

// classPool holds slices of T in classes min..max: class c holds slices
// of capacity 1<<c.
type classPool[T any] struct {
	min, max int
	pools    []sync.Pool  // *T: the first element of an array of 1<<class
	reused   atomic.Int64 // gets served from the pool rather than by allocating
}

func (p *classPool[T]) init(min, max int) {
	p.min, p.max, p.pools = min, max, make([]sync.Pool, max+1)
}

// get returns an empty slice with room for n, or nil when n is over the
// largest class (the caller allocates).
func (p *classPool[T]) get(n int) []T {
	c := p.min
	if n > 1 {
		c = max(c, bits.Len(uint(n-1))) // the smallest class of at least n
	}
	if c > p.max {
		return nil
	}
	if ptr, ok := p.pools[c].Get().(*T); ok {
		p.reused.Add(1)
		return unsafe.Slice(ptr, 1<<c)[:0]
	}
	return make([]T, 0, 1<<c)
}

// put keeps s in the largest class its capacity covers; slices under the
// smallest class are left to the garbage collector.
func (p *classPool[T]) put(s []T) {
	if cap(s) < 1<<p.min {
		return
	}
	c := min(bits.Len(uint(cap(s)))-1, p.max)
	p.pools[c].Put(unsafe.SliceData(s[:1]))
}

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
	return p.bytes.get(need) // nil: the codec allocates it
}

// PutDecompressBytes implements kgo.PoolDecompressBytes. franz-go has zeroed
// the bytes that were used.
func (p *recordPools) PutDecompressBytes(b []byte) { p.bytes.put(b) }

// GetRecords implements kgo.PoolRecords: a slice of zeroed records with
// room for n (nil: franz-go allocates them).
func (p *recordPools) GetRecords(n int) []kgo.Record { return p.recs.get(n) }

// PutRecords implements kgo.PoolRecords. Every record was zeroed by its
// Recycle (or by franz-go when none was kept).
func (p *recordPools) PutRecords(rs []kgo.Record) { p.recs.put(rs) }

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
