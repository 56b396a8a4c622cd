package wasm

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"unsafe"

	"github.com/penstock-dev/penstock/pipeline"
)

// The batch formats of ABI.md, sections 3 and 4.
const (
	inputMagic  = "PSB1"
	outputMagic = "PSO1"

	// Input record flags.
	inKey           = 1 << 0
	inValue         = 1 << 1
	inLogAppendTime = 1 << 2

	// Output record flags.
	outKey         = 1 << 0
	outValue       = 1 << 1
	outKeepKey     = 1 << 2
	outKeepValue   = 1 << 3
	outKeepHeaders = 1 << 4
	outKeepAll     = outKeepKey | outKeepValue | outKeepHeaders
	outKnownFlags  = 1<<5 - 1

	outStatusOK     = 0
	outStatusFailed = 1
	outKindRecord   = 0
	outKindError    = 1

	// Fixed bytes of an input record (offset, timestamp, flags, key_len,
	// value_len, header_count) and of one header (name_len, value_len).
	inRecordFixed = 8 + 8 + 1 + 4 + 4 + 4
	inHeaderFixed = 4 + 4
)

var le = binary.LittleEndian

// inputSize returns the number of Active records of b and the size of the
// input batch that holds them.
func inputSize(b *pipeline.Batch) (count, size int) {
	size = 4 + 4 + 4 + len(b.Topic) + 4
	for i := range b.Records {
		if b.Status[i] != pipeline.Active {
			continue
		}
		r := &b.Records[i]
		count++
		size += inRecordFixed + len(r.Key) + len(r.Value)
		for j := range r.Headers {
			size += inHeaderFixed + len(r.Headers[j].Key) + len(r.Headers[j].Value)
		}
	}
	return count, size
}

// encodeInput writes the input batch of b's Active records into dst, which
// has the size inputSize returned. dst is usually guest memory.
func encodeInput(dst []byte, b *pipeline.Batch, count int) {
	copy(dst, inputMagic)
	le.PutUint32(dst[4:], uint32(count))
	le.PutUint32(dst[8:], uint32(len(b.Topic)))
	o := 12 + copy(dst[12:], b.Topic)
	le.PutUint32(dst[o:], uint32(b.Partition))
	o += 4
	for i := range b.Records {
		if b.Status[i] != pipeline.Active {
			continue
		}
		o = encodeRecord(dst, o, &b.Records[i])
	}
}

// encodeRecord writes r at dst[o:] and returns the offset after it.
//
// This is the host's inner loop, and it costs about what copying the
// record's bytes costs (benchmarks/README.md). The record checks once that
// it fits in dst[o:] and is then written through a pointer, without a
// bounds check per field, and with small fields copied inline (put).
func encodeRecord(dst []byte, o int, r *pipeline.Record) int {
	n := inRecordFixed + len(r.Key) + len(r.Value)
	for j := range r.Headers {
		n += inHeaderFixed + len(r.Headers[j].Key) + len(r.Headers[j].Value)
	}
	if n > len(dst)-o {
		panic("wasm: input record does not fit in the input batch")
	}
	var flags byte
	if r.Key != nil {
		flags |= inKey
	}
	if r.Value != nil {
		flags |= inValue
	}
	if r.TimestampType == pipeline.LogAppendTime {
		flags |= inLogAppendTime
	}
	// From here on, every write lies within the n bytes at p.
	p := unsafe.Pointer(&dst[o])
	putU64(p, 0, uint64(r.Offset))
	putU64(p, 8, uint64(r.Timestamp))
	*(*byte)(unsafe.Add(p, 16)) = flags
	putU32(p, 17, uint32(len(r.Key)))
	i := 21
	put(unsafe.Add(p, i), r.Key)
	i += len(r.Key)
	putU32(p, i, uint32(len(r.Value)))
	i += 4
	put(unsafe.Add(p, i), r.Value)
	i += len(r.Value)
	putU32(p, i, uint32(len(r.Headers)))
	i += 4
	for j := range r.Headers {
		h := &r.Headers[j]
		putU32(p, i, uint32(len(h.Key)))
		i += 4
		put(unsafe.Add(p, i), unsafe.Slice(unsafe.StringData(h.Key), len(h.Key)))
		i += len(h.Key)
		putU32(p, i, uint32(len(h.Value)))
		i += 4
		put(unsafe.Add(p, i), h.Value)
		i += len(h.Value)
	}
	return o + i
}

// putU32 writes v at p+i, little-endian.
func putU32(p unsafe.Pointer, i int, v uint32) {
	le.PutUint32((*[4]byte)(unsafe.Add(p, i))[:], v)
}

// putU64 writes v at p+i, little-endian.
func putU64(p unsafe.Pointer, i int, v uint64) {
	le.PutUint64((*[8]byte)(unsafe.Add(p, i))[:], v)
}

// wordMoves says whether put may move unaligned words: on these CPUs an
// unaligned load or store is a plain instruction; elsewhere it may trap.
const wordMoves = runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" || runtime.GOARCH == "386" ||
	runtime.GOARCH == "ppc64" || runtime.GOARCH == "ppc64le" || runtime.GOARCH == "s390x"

// put copies src to the len(src) bytes at p, which do not overlap it (src is
// a record's bytes, p is guest memory). Keys and header names are mostly 4
// to 16 bytes, for which a call to memmove costs a few times more than the
// copy: put moves them inline as two overlapping words. put is small enough
// to be inlined.
func put(p unsafe.Pointer, src []byte) {
	n := len(src)
	s := unsafe.Pointer(unsafe.SliceData(src))
	switch {
	case wordMoves && n >= 8 && n <= 16:
		*(*uint64)(p) = *(*uint64)(s)
		*(*uint64)(unsafe.Add(p, n-8)) = *(*uint64)(unsafe.Add(s, n-8))
	case wordMoves && n >= 4 && n < 8:
		*(*uint32)(p) = *(*uint32)(s)
		*(*uint32)(unsafe.Add(p, n-4)) = *(*uint32)(unsafe.Add(s, n-4))
	default:
		copy(unsafe.Slice((*byte)(p), n), src)
	}
}

// maxHeaderNames bounds the header names a partition keeps as strings, so
// that rewritten headers do not allocate a string per record.
const maxHeaderNames = 1024

// outBuffers are the record, status and header slices one side of a
// partition's double buffer hands to batches.
type outBuffers struct {
	recs    []pipeline.Record
	status  []pipeline.Status
	headers []pipeline.Header
}

// holds reports whether b's records or statuses live in o's arrays.
func (o *outBuffers) holds(b *pipeline.Batch) bool {
	return cap(o.recs) > 0 && cap(b.Records) > 0 && unsafe.SliceData(o.recs) == unsafe.SliceData(b.Records) ||
		cap(o.status) > 0 && cap(b.Status) > 0 && unsafe.SliceData(o.status) == unsafe.SliceData(b.Status)
}

// rewriter applies one output batch to a batch. It is part of a partition
// and reused for every batch of that partition.
type rewriter struct {
	// Two sides, so that a rewrite never writes the slices it reads.
	sides [2]outBuffers
	names map[string]string
	errs  []RecordError

	// State of one apply.
	b    *pipeline.Batch
	dst  *outBuffers
	pos  int  // next position of b.Records not yet passed
	ai   int  // Active index of b.Records[pos] if it is Active
	same bool // the output so far is b's prefix b.Records[:pos], unchanged
}

// empty is the value of present, zero-length keys and values.
var empty = []byte{}

// apply parses out, the output batch of the guest for b's count Active
// records, and rewrites b in place of its Active records: outputs replace
// their input; an input without outputs stays with status Filtered; other
// records stay as they are. Bytes read from out (guest memory) are copied
// into b.Arena. On a malformed output or per-record errors b is left as it
// was. reason is set for a whole-batch failure (status 1).
func (w *rewriter) apply(b *pipeline.Batch, out []byte, count int) (reason string, err error) {
	if len(out) < 8 || string(out[:4]) != outputMagic {
		return "", malformed("no %q magic", outputMagic)
	}
	switch le.Uint32(out[4:]) {
	case outStatusOK:
	case outStatusFailed:
		if len(out) < 12 {
			return "", malformed("truncated failure message")
		}
		n := le.Uint32(out[8:])
		if uint64(n) != uint64(len(out)-12) {
			return "", malformed("failure message of %d bytes in %d bytes of output", n, len(out)-12)
		}
		return string(out[12:]), nil
	default:
		return "", malformed("unknown status %d", le.Uint32(out[4:]))
	}
	if len(out) < 12 {
		return "", malformed("truncated output count")
	}
	n := le.Uint32(out[8:])
	// The smallest output (an error with an empty message) is 9 bytes.
	if uint64(n)*9 > uint64(len(out)-12) {
		return "", malformed("%d outputs cannot fit in %d bytes", n, len(out))
	}
	w.begin(b)
	o := 12
	prev := -1          // input of the previous output
	prevKind := byte(0) // kind of the previous output
	var in *pipeline.Record
	k := 0
	if count == len(b.Records) {
		// Fast path: the outputs that keep their input unchanged, one each,
		// while every record is Active.
		for k < int(n) && len(out)-o >= 18 {
			p := out[o : o+18]
			if le.Uint32(p) != uint32(k) || le.Uint16(p[4:]) != outKeepAll<<8 || le.Uint64(p[6:]) != 0 || le.Uint32(p[14:]) != 0 {
				break
			}
			o += 18
			k++
		}
		if k > 0 {
			w.pos, w.ai, prev = k, k, k-1
			in = &b.Records[k-1]
		}
	}
	for ; k < int(n); k++ {
		if len(out)-o < 5 {
			return "", malformed("output %d truncated", k)
		}
		idx := le.Uint32(out[o:])
		kind := out[o+4]
		o += 5
		if uint64(idx) >= uint64(count) {
			return "", malformed("output %d names input %d of %d", k, idx, count)
		}
		i := int(idx)
		first := i != prev
		if i < prev {
			return "", malformed("output %d names input %d after input %d", k, i, prev)
		}
		if !first && kind != prevKind {
			return "", malformed("input %d has both records and an error", i)
		}
		if first {
			in = w.toInput(i)
			prev, prevKind = i, kind
		}
		switch kind {
		case outKindError:
			if len(out)-o < 4 {
				return "", malformed("output %d truncated", k)
			}
			ml := le.Uint32(out[o:])
			o += 4
			if uint64(ml) > uint64(len(out)-o) {
				return "", malformed("output %d: error message of %d bytes runs past the output", k, ml)
			}
			w.errs = append(w.errs, RecordError{Offset: in.Offset, Message: string(out[o : o+int(ml)])})
			o += int(ml)
		case outKindRecord:
			var err error
			if o, err = w.record(out, o, k, in, first); err != nil {
				return "", err
			}
		default:
			return "", malformed("output %d has unknown kind %d", k, kind)
		}
	}
	if o != len(out) {
		return "", malformed("%d bytes left after the last output", len(out)-o)
	}
	w.toInput(count)
	if len(w.errs) > 0 || w.same {
		return "", nil
	}
	b.Records, b.Status = w.dst.recs, w.dst.status
	return "", nil
}

// begin prepares w to rewrite b.
func (w *rewriter) begin(b *pipeline.Batch) {
	w.b, w.pos, w.ai, w.same = b, 0, 0, true
	w.errs = w.errs[:0]
	// The batch may hold a side's slices: its records when the enricher
	// runs again on its own output, its statuses when the lane reuses them
	// for its next batch. Write the other side.
	w.dst = &w.sides[0]
	if w.dst.holds(b) {
		w.dst = &w.sides[1]
		if w.dst.holds(b) { // cannot happen; never write what is read
			*w.dst = outBuffers{}
		}
	}
	w.dst.recs = w.dst.recs[:0]
	w.dst.status = w.dst.status[:0]
	w.dst.headers = w.dst.headers[:0]
}

// materialize starts writing the output: the first n records of b carry
// over unchanged.
func (w *rewriter) materialize(n int) {
	w.dst.recs = append(w.dst.recs, w.b.Records[:n]...)
	w.dst.status = append(w.dst.status, w.b.Status[:n]...)
	w.same = false
}

// toInput passes the records of b before the Active record with index i
// (count: all of them) and returns that record. Passed records that are not
// Active keep their status; passed Active records had no output and become
// Filtered.
func (w *rewriter) toInput(i int) *pipeline.Record {
	b := w.b
	for w.pos < len(b.Records) {
		st := b.Status[w.pos]
		if st == pipeline.Active {
			if w.ai == i {
				r := &b.Records[w.pos]
				w.pos++
				w.ai++
				return r
			}
			if w.same {
				w.materialize(w.pos)
			}
			w.dst.recs = append(w.dst.recs, b.Records[w.pos])
			w.dst.status = append(w.dst.status, pipeline.Filtered)
			w.ai++
		} else if !w.same {
			w.dst.recs = append(w.dst.recs, b.Records[w.pos])
			w.dst.status = append(w.dst.status, st)
		}
		w.pos++
	}
	return nil
}

// record parses one record output at out[o:] (after input and kind) for
// input in and appends it. first says whether it is in's first output.
func (w *rewriter) record(out []byte, o, k int, in *pipeline.Record, first bool) (int, error) {
	if len(out)-o < 5 {
		return 0, malformed("output %d truncated", k)
	}
	flags := out[o]
	kl := le.Uint32(out[o+1:])
	o += 5
	if flags&^outKnownFlags != 0 {
		return 0, malformed("output %d has unknown flags %#x", k, flags&^outKnownFlags)
	}
	if kl > 0 && flags&(outKey|outKeepKey) != outKey {
		return 0, malformed("output %d has %d key bytes for an absent or kept key", k, kl)
	}
	if uint64(kl) > uint64(len(out)-o) {
		return 0, malformed("output %d: key of %d bytes runs past the output", k, kl)
	}
	key := out[o : o+int(kl)]
	o += int(kl)
	if len(out)-o < 4 {
		return 0, malformed("output %d truncated", k)
	}
	vl := le.Uint32(out[o:])
	o += 4
	if vl > 0 && flags&(outValue|outKeepValue) != outValue {
		return 0, malformed("output %d has %d value bytes for an absent or kept value", k, vl)
	}
	if uint64(vl) > uint64(len(out)-o) {
		return 0, malformed("output %d: value of %d bytes runs past the output", k, vl)
	}
	val := out[o : o+int(vl)]
	o += int(vl)
	if len(out)-o < 4 {
		return 0, malformed("output %d truncated", k)
	}
	hc := le.Uint32(out[o:])
	o += 4
	if hc > 0 && flags&outKeepHeaders != 0 {
		return 0, malformed("output %d has %d headers and keeps the input's", k, hc)
	}
	// Each header takes at least 8 bytes.
	if uint64(hc)*inHeaderFixed > uint64(len(out)-o) {
		return 0, malformed("output %d: %d headers cannot fit in the output", k, hc)
	}

	if w.same {
		if first && flags&outKeepAll == outKeepAll {
			return o, nil // the input, unchanged
		}
		n := w.pos - 1 // in is b.Records[w.pos-1]
		if !first {
			n = w.pos // in's first output was the input, unchanged
		}
		w.materialize(n)
	}
	if len(w.errs) > 0 {
		// The batch fails; only validate the rest.
		return w.skipHeaders(out, o, k, hc)
	}
	arena := &w.b.Arena
	r := *in
	if flags&outKeepKey == 0 {
		r.Key = reuseOrCopy(arena, key, in.Key, flags&outKey != 0)
	}
	if flags&outKeepValue == 0 {
		r.Value = reuseOrCopy(arena, val, in.Value, flags&outValue != 0)
	}
	if flags&outKeepHeaders == 0 {
		r.Headers = nil
		if hc > 0 {
			hs := w.headerSlots(int(hc))
			for j := range hs {
				if len(out)-o < 4 {
					return 0, malformed("output %d truncated", k)
				}
				nl := le.Uint32(out[o:])
				o += 4
				if uint64(nl)+4 > uint64(len(out)-o) {
					return 0, malformed("output %d: header name of %d bytes runs past the output", k, nl)
				}
				name := out[o : o+int(nl)]
				o += int(nl)
				hvl := le.Uint32(out[o:])
				o += 4
				if uint64(hvl) > uint64(len(out)-o) {
					return 0, malformed("output %d: header value of %d bytes runs past the output", k, hvl)
				}
				hv := out[o : o+int(hvl)]
				o += int(hvl)
				if j < len(in.Headers) && in.Headers[j].Key == string(name) {
					hs[j] = pipeline.Header{Key: in.Headers[j].Key, Value: reuseOrCopy(arena, hv, in.Headers[j].Value, in.Headers[j].Value != nil || len(hv) > 0)}
				} else {
					hs[j] = pipeline.Header{Key: w.name(name), Value: reuseOrCopy(arena, hv, nil, true)}
				}
			}
			r.Headers = hs
		}
	}
	w.dst.recs = append(w.dst.recs, r)
	w.dst.status = append(w.dst.status, pipeline.Active)
	return o, nil
}

// skipHeaders validates hc headers at out[o:] without keeping them.
func (w *rewriter) skipHeaders(out []byte, o, k int, hc uint32) (int, error) {
	for range hc {
		for range 2 {
			if len(out)-o < 4 {
				return 0, malformed("output %d truncated", k)
			}
			l := le.Uint32(out[o:])
			o += 4
			if uint64(l) > uint64(len(out)-o) {
				return 0, malformed("output %d: header of %d bytes runs past the output", k, l)
			}
			o += int(l)
		}
	}
	return o, nil
}

// headerSlots returns n header slots owned by w, valid until its next batch.
func (w *rewriter) headerSlots(n int) []pipeline.Header {
	h := w.dst.headers
	if cap(h)-len(h) < n {
		// Records already written keep the old array; the new one is reused
		// from the next batch on.
		h = make([]pipeline.Header, 0, max(2*cap(h), n, 64))
	}
	w.dst.headers = h[:len(h)+n]
	return h[len(h) : len(h)+n : len(h)+n]
}

// name returns name as a string, from a bounded set of names seen before.
func (w *rewriter) name(name []byte) string {
	if s, ok := w.names[string(name)]; ok {
		return s
	}
	s := string(name)
	if len(w.names) < maxHeaderNames {
		if w.names == nil {
			w.names = make(map[string]string)
		}
		w.names[s] = s
	}
	return s
}

// reuseOrCopy returns the bytes of a rewritten key, value or header value:
// nil when absent, the input's own slice when the guest sent the same
// bytes, else a copy of b in the arena (b is guest memory).
func reuseOrCopy(a *pipeline.Arena, b, in []byte, present bool) []byte {
	switch {
	case !present:
		return nil
	case in != nil && bytes.Equal(b, in):
		return in
	case len(b) == 0:
		return empty[:0:0]
	}
	return a.Copy(b)
}
