package penstock

import (
	"encoding/binary"
	"errors"
	"runtime"
	"strconv"
	"unsafe"
)

// The batch formats of ABI.md.
const (
	abiVersion  = 1
	inputMagic  = "PSB1"
	outputMagic = "PSO1"

	inKey           = 1 << 0
	inValue         = 1 << 1
	inLogAppendTime = 1 << 2

	outKey         = 1 << 0
	outValue       = 1 << 1
	outKeepKey     = 1 << 2
	outKeepValue   = 1 << 3
	outKeepHeaders = 1 << 4

	kindRecord = 0
	kindError  = 1

	maxNames = 1024
)

var le = binary.LittleEndian

// g is the state of the module instance: the handler and the buffers every
// batch reuses.
var g struct {
	newHandler func(config []byte) (Handler, error)
	handler    Handler

	in      []byte   // the buffer penstock_alloc hands out
	recs    []Record // records of the current batch
	headers []Header // headers of the current batch
	names   map[string]string
	recent  []string // the header names of the previous record, by position
	topic   string
	out     Emitter
	errMsg  []byte
}

// allocInput returns the input buffer, grown to size bytes. Its contents
// belong to the host until the next call.
func allocInput(size int) *byte {
	if cap(g.in) < max(size, 1) {
		g.in = make([]byte, max(size+size/4, 1)) // room for slightly larger batches
	}
	g.in = g.in[:cap(g.in)]
	return &g.in[0]
}

// input returns the bytes the host wrote at ptr, which must be the address
// allocInput returned.
func input(ptr uintptr, n uint32) []byte {
	if len(g.in) == 0 || ptr != uintptr(unsafe.Pointer(&g.in[0])) || int(n) > len(g.in) {
		return nil
	}
	return g.in[:n]
}

// runInit creates the handler. It returns nil, or an error message.
func runInit(config []byte) (msg []byte) {
	if g.newHandler == nil {
		return []byte("no handler: call penstock.Handle from an init function of package main")
	}
	defer func() {
		if p := recover(); p != nil {
			msg = []byte(panicked(p))
		}
	}()
	h, err := g.newHandler(append([]byte(nil), config...))
	if err != nil {
		return []byte(err.Error())
	}
	if h == nil {
		return []byte("the Handle function returned no handler")
	}
	g.handler = h
	return nil
}

// runEnrich runs the handler over one input batch and returns the output
// batch, which stays valid until the next call.
func runEnrich(in []byte) []byte {
	out := &g.out
	if err := decodeBatch(in); err != nil {
		out.begin(0)
		out.Fail(err.Error())
		return out.finish()
	}
	out.begin(len(g.recs))
	if g.handler == nil {
		out.Fail("penstock_enrich called before penstock_init succeeded")
		return out.finish()
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				out.Fail(panicked(p))
			}
		}()
		if bh, ok := g.handler.(BatchHandler); ok {
			bh.EnrichBatch(g.recs, out)
			return
		}
		for i := range g.recs {
			g.handler.Enrich(&g.recs[i], out)
			if out.failed {
				return
			}
		}
	}()
	return out.finish()
}

// panicked logs the stack of a recovered panic and returns its message.
func panicked(p any) string {
	msg := "panic: "
	switch v := p.(type) {
	case error:
		msg += v.Error()
	case string:
		msg += v
	case interface{ String() string }:
		msg += v.String()
	default:
		msg += "(a value that is not a string or error)"
	}
	stack := make([]byte, 16<<10)
	stack = stack[:runtime.Stack(stack, false)]
	Log(LevelError, msg+"\n"+string(stack))
	return msg
}

var errMalformedInput = errors.New("penstock: malformed input batch")

// decodeBatch parses an input batch into g.recs and g.headers. The records'
// bytes are views of in.
func decodeBatch(in []byte) error {
	if len(in) < 16 || string(in[:4]) != inputMagic {
		return errMalformedInput
	}
	count := le.Uint32(in[4:])
	tl := le.Uint32(in[8:])
	if uint64(tl)+16 > uint64(len(in)) || uint64(count)*29 > uint64(len(in)) {
		return errMalformedInput
	}
	topic := in[12 : 12+tl]
	if string(topic) != g.topic {
		g.topic = string(topic)
	}
	o := 12 + int(tl)
	partition := int32(le.Uint32(in[o:]))
	o += 4
	if cap(g.recs) < int(count) {
		g.recs = make([]Record, count+count/4)
	}
	g.recs = g.recs[:count]
	g.headers = g.headers[:0]
	var ok bool
	for i := range g.recs {
		if len(in)-o < 21 {
			return errMalformedInput
		}
		r := &g.recs[i]
		*r = Record{
			Topic:     g.topic,
			Partition: partition,
			Offset:    int64(le.Uint64(in[o:])),
			Timestamp: int64(le.Uint64(in[o+8:])),
			index:     i,
		}
		flags := in[o+16]
		if flags&inLogAppendTime != 0 {
			r.TimestampType = LogAppendTime
		}
		o += 17
		if r.Key, o, ok = field(in, o, flags&inKey != 0); !ok {
			return errMalformedInput
		}
		if r.Value, o, ok = field(in, o, flags&inValue != 0); !ok {
			return errMalformedInput
		}
		if len(in)-o < 4 {
			return errMalformedInput
		}
		hc := le.Uint32(in[o:])
		o += 4
		if uint64(hc)*8 > uint64(len(in)-o) {
			return errMalformedInput
		}
		r.hstart, r.hcount = len(g.headers), int(hc)
		for j := range int(hc) {
			var name, value []byte
			if name, o, ok = field(in, o, true); !ok {
				return errMalformedInput
			}
			if value, o, ok = field(in, o, true); !ok {
				return errMalformedInput
			}
			g.headers = append(g.headers, Header{Name: headerName(name, j), Value: value})
		}
	}
	// Bytes after the last record are ignored (ABI.md, section 3).
	for i := range g.recs {
		r := &g.recs[i]
		if r.hcount > 0 {
			r.Headers = g.headers[r.hstart : r.hstart+r.hcount : r.hstart+r.hcount]
		}
	}
	return nil
}

// field reads a length-prefixed field at in[o:]. An absent field is nil.
// The slice's capacity ends with it, so appending to it copies.
func field(in []byte, o int, present bool) ([]byte, int, bool) {
	if len(in)-o < 4 {
		return nil, o, false
	}
	n := le.Uint32(in[o:])
	o += 4
	if uint64(n) > uint64(len(in)-o) {
		return nil, o, false
	}
	if !present {
		return nil, o + int(n), n == 0
	}
	return in[o : o+int(n) : o+int(n)], o + int(n), true
}

// headerName returns name, the j-th header name of a record, as a string:
// the previous record's j-th name when it is the same, else interned.
func headerName(name []byte, j int) string {
	if j < len(g.recent) && g.recent[j] == string(name) {
		return g.recent[j]
	}
	s := intern(name)
	if j < len(g.recent) {
		g.recent[j] = s
	} else if j == len(g.recent) && j < 64 {
		g.recent = append(g.recent, s)
	}
	return s
}

// intern returns name as a string, from a bounded set of names seen before.
func intern(name []byte) string {
	if s, ok := g.names[string(name)]; ok {
		return s
	}
	s := string(name)
	if len(g.names) < maxNames {
		if g.names == nil {
			g.names = make(map[string]string)
		}
		g.names[s] = s
	}
	return s
}

// Emitter collects the outputs of a batch. Outputs must be reported in
// offset order of their inputs: all outputs of a record before those of the
// next one.
type Emitter struct {
	buf     []byte
	count   uint32
	n       int  // records in the batch
	last    int  // input of the last output, -1 before the first
	kind    byte // kind of the last output
	failed  bool
	message string
}

func (e *Emitter) begin(n int) {
	e.buf = append(e.buf[:0], outputMagic...)
	e.buf = le.AppendUint32(e.buf, 0) // status
	e.buf = le.AppendUint32(e.buf, 0) // count, set by finish
	e.count, e.n, e.last, e.failed, e.message = 0, n, -1, false, ""
}

func (e *Emitter) finish() []byte {
	if e.failed {
		e.buf = append(e.buf[:0], outputMagic...)
		e.buf = le.AppendUint32(e.buf, 1)
		e.buf = le.AppendUint32(e.buf, uint32(len(e.message)))
		e.buf = append(e.buf, e.message...)
		return e.buf
	}
	le.PutUint32(e.buf[8:], e.count)
	return e.buf
}

// output starts an output of kind for from; it returns false when the
// output must not be written.
func (e *Emitter) output(from *Record, kind byte) bool {
	if e.failed {
		return false
	}
	i := from.index
	switch {
	case i < 0 || i >= e.n:
		e.Fail("penstock: output for a record that is not in the batch")
		return false
	case i < e.last:
		e.Fail("penstock: output for offset " + strconv.FormatInt(from.Offset, 10) + " after an output for a later record; outputs must follow the order of their records")
		return false
	case i == e.last && kind != e.kind:
		e.Fail("penstock: the record at offset " + strconv.FormatInt(from.Offset, 10) + " has both outputs and an error")
		return false
	}
	e.last, e.kind = i, kind
	e.count++
	e.buf = le.AppendUint32(e.buf, uint32(i))
	e.buf = append(e.buf, kind)
	return true
}

// Keep passes r on unchanged, without copying its bytes.
func (e *Emitter) Keep(r *Record) {
	if e.output(r, kindRecord) {
		e.buf = append(e.buf, outKeepKey|outKeepValue|outKeepHeaders, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
}

// Emit outputs rec in place of from: its Key, Value and Headers. Offset,
// timestamp, topic and partition are always from's. Emit may be called
// several times for one record to split it.
//
// A Key or Value that is from's own slice (not a copy), and Headers equal
// to from's (same names and the same value slices), are sent as "kept":
// Penstock reuses its own bytes. So build changed bytes in a new slice;
// modifying from's bytes in place is not seen.
func (e *Emitter) Emit(from *Record, rec Record) {
	if !e.output(from, kindRecord) {
		return
	}
	var flags byte
	keepKey := sameBytes(rec.Key, from.Key)
	keepValue := sameBytes(rec.Value, from.Value)
	keepHeaders := sameHeaders(rec.Headers, from.Headers)
	switch {
	case keepKey:
		flags |= outKeepKey
	case rec.Key != nil:
		flags |= outKey
	}
	switch {
	case keepValue:
		flags |= outKeepValue
	case rec.Value != nil:
		flags |= outValue
	}
	if keepHeaders {
		flags |= outKeepHeaders
	}
	e.buf = append(e.buf, flags)
	if keepKey {
		e.buf = le.AppendUint32(e.buf, 0)
	} else {
		e.appendBytes(rec.Key)
	}
	if keepValue {
		e.buf = le.AppendUint32(e.buf, 0)
	} else {
		e.appendBytes(rec.Value)
	}
	if keepHeaders {
		e.buf = le.AppendUint32(e.buf, 0)
		return
	}
	e.buf = le.AppendUint32(e.buf, uint32(len(rec.Headers)))
	for _, h := range rec.Headers {
		e.buf = le.AppendUint32(e.buf, uint32(len(h.Name)))
		e.buf = append(e.buf, h.Name...)
		e.appendBytes(h.Value)
	}
}

func (e *Emitter) appendBytes(b []byte) {
	e.buf = le.AppendUint32(e.buf, uint32(len(b)))
	e.buf = append(e.buf, b...)
}

// Drop drops r: it is filtered out, and its offset is committed. A record
// with no output is dropped anyway; Drop only says so.
func (e *Emitter) Drop(r *Record) {}

// Error reports that r could not be processed; Penstock treats the record
// as failed. A record may not have both outputs and an error.
func (e *Emitter) Error(r *Record, msg string) {
	if e.output(r, kindError) {
		e.appendBytes(unsafe.Slice(unsafe.StringData(msg), len(msg)))
	}
}

// Fail fails the whole batch with msg; Penstock retries it. Outputs
// reported before and after are discarded.
func (e *Emitter) Fail(msg string) {
	if !e.failed {
		e.failed, e.message = true, msg
	}
}

func sameBytes(a, b []byte) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}

func sameHeaders(a, b []Header) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !sameBytes(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}
