package penstock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unsafe"
)

func uintptrOf(p *byte) uintptr { return uintptr(unsafe.Pointer(p)) }

// rec is a record to encode into an input batch; a nil key or value is
// absent.
type rec struct {
	offset    int64
	key, val  []byte
	logAppend bool
	headers   []string // name, value pairs
}

func encode(topic string, partition int32, recs ...rec) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32([]byte(inputMagic), uint32(len(recs)))
	b = le.AppendUint32(b, uint32(len(topic)))
	b = append(b, topic...)
	b = le.AppendUint32(b, uint32(partition))
	for _, r := range recs {
		b = le.AppendUint64(b, uint64(r.offset))
		b = le.AppendUint64(b, uint64(1000+r.offset))
		var flags byte
		if r.key != nil {
			flags |= inKey
		}
		if r.val != nil {
			flags |= inValue
		}
		if r.logAppend {
			flags |= inLogAppendTime
		}
		b = append(b, flags)
		b = le.AppendUint32(b, uint32(len(r.key)))
		b = append(b, r.key...)
		b = le.AppendUint32(b, uint32(len(r.val)))
		b = append(b, r.val...)
		b = le.AppendUint32(b, uint32(len(r.headers)/2))
		for _, h := range r.headers {
			b = le.AppendUint32(b, uint32(len(h)))
			b = append(b, h...)
		}
	}
	return b
}

// output is a decoded output batch.
type output struct {
	failed  string
	records []string // one line per output
}

func decodeOutput(t *testing.T, b []byte) output {
	t.Helper()
	le := binary.LittleEndian
	if string(b[:4]) != outputMagic {
		t.Fatalf("magic %q", b[:4])
	}
	if le.Uint32(b[4:]) == 1 {
		return output{failed: string(b[12 : 12+le.Uint32(b[8:])])}
	}
	var out output
	o := 12
	field := func() string {
		n := int(le.Uint32(b[o:]))
		o += 4 + n
		return string(b[o-n : o])
	}
	for range le.Uint32(b[8:]) {
		line := ""
		idx, kind := le.Uint32(b[o:]), b[o+4]
		o += 5
		if kind == kindError {
			out.records = append(out.records, strings.Join([]string{itoa(idx), "error", field()}, " "))
			continue
		}
		flags := b[o]
		o++
		line = itoa(idx) + " flags=" + itoa(uint32(flags))
		line += " key=" + field() + " value=" + field()
		hc := le.Uint32(b[o:])
		o += 4
		for range hc {
			line += " " + field() + "=" + field()
		}
		out.records = append(out.records, line)
	}
	if o != len(b) {
		t.Fatalf("%d bytes left", len(b)-o)
	}
	return out
}

func itoa(v uint32) string {
	if v == 0 {
		return "0"
	}
	var d []byte
	for ; v > 0; v /= 10 {
		d = append([]byte{byte('0' + v%10)}, d...)
	}
	return string(d)
}

// run registers h, initializes it and enriches in.
func run(t *testing.T, h HandlerFunc, in []byte) output {
	t.Helper()
	Handle(func([]byte) (Handler, error) { return h, nil })
	if msg := runInit([]byte("{}")); msg != nil {
		t.Fatalf("init: %s", msg)
	}
	return decodeOutput(t, runEnrich(in))
}

func TestDecode(t *testing.T) {
	in := encode("orders", 7,
		rec{offset: 5, key: []byte("k"), val: []byte("v"), headers: []string{"a", "1", "b", ""}},
		rec{offset: 9, key: nil, val: []byte{}, logAppend: true},
		rec{offset: 10, key: []byte{}, val: nil},
	)
	in = append(in, "ignored trailing bytes"...)
	var got []Record
	run(t, func(r *Record, out *Emitter) {
		c := *r
		c.Key, c.Value = bytes.Clone(r.Key), bytes.Clone(r.Value)
		got = append(got, c)
		out.Keep(r)
	}, in)
	if len(got) != 3 {
		t.Fatalf("%d records", len(got))
	}
	r := got[0]
	if r.Topic != "orders" || r.Partition != 7 || r.Offset != 5 || r.Timestamp != 1005 || r.TimestampType != CreateTime ||
		string(r.Key) != "k" || string(r.Value) != "v" || len(r.Headers) != 2 || r.Headers[0].Name != "a" || string(r.Headers[0].Value) != "1" || r.Headers[1].Name != "b" {
		t.Fatalf("record 0: %+v", r)
	}
	if r := got[1]; r.Key != nil || r.Value == nil || len(r.Value) != 0 || r.TimestampType != LogAppendTime || r.Headers != nil {
		t.Fatalf("record 1: %+v", r)
	}
	if r := got[2]; r.Key == nil || r.Value != nil {
		t.Fatalf("record 2: %+v", r)
	}
}

func TestEmit(t *testing.T) {
	in := encode("t", 0,
		rec{offset: 1, key: []byte("k1"), val: []byte("v1"), headers: []string{"h", "x"}},
		rec{offset: 2, key: []byte("k2"), val: []byte("v2"), headers: []string{"h", "y"}},
		rec{offset: 3, key: []byte("k3"), val: []byte("v3")},
		rec{offset: 4, key: []byte("k4"), val: []byte("v4")},
	)
	got := run(t, func(r *Record, out *Emitter) {
		switch r.Offset {
		case 1: // value replaced; key and headers kept
			o := *r
			o.Value = []byte("new")
			out.Emit(r, o)
		case 2: // split in two, the second with a header added and no key
			out.Emit(r, *r)
			o := *r
			o.Key = nil
			o.Headers = append(r.Headers, Header{Name: "n", Value: []byte("1")})
			out.Emit(r, o)
		case 3:
			out.Drop(r)
		case 4:
			out.Error(r, "bad")
		}
	}, in)
	want := []string{
		"0 flags=22 key= value=new",
		"1 flags=28 key= value=",
		"1 flags=8 key= value= h=y n=1",
		"3 error bad",
	}
	if got.failed != "" || strings.Join(got.records, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s (failed %q)", strings.Join(got.records, "\n"), strings.Join(want, "\n"), got.failed)
	}
}

// Appending to a record's headers or bytes copies them: the next record's
// headers and the batch are left alone.
func TestAppendDoesNotClobberTheBatch(t *testing.T) {
	in := encode("t", 0,
		rec{offset: 1, val: []byte("a"), headers: []string{"a", "1"}},
		rec{offset: 2, val: []byte("b"), headers: []string{"b", "2"}},
	)
	var seen []string
	run(t, func(r *Record, out *Emitter) {
		if r.Offset == 1 {
			_ = append(r.Headers, Header{Name: "x"})
			_ = append(r.Value, 'x')
		}
		seen = append(seen, r.Headers[0].Name+string(r.Value))
		out.Keep(r)
	}, in)
	if strings.Join(seen, ",") != "aa,bb" {
		t.Fatalf("records seen: %v", seen)
	}
}

func TestBatchFailures(t *testing.T) {
	in := encode("t", 0, rec{offset: 1, val: []byte("a")}, rec{offset: 2, val: []byte("b")})
	tests := []struct {
		name string
		h    HandlerFunc
		want string
	}{
		{"Fail", func(r *Record, out *Emitter) { out.Keep(r); out.Fail("no") }, "no"},
		{"panic", func(r *Record, out *Emitter) { panic("boom") }, "panic: boom"},
		{"panic error", func(r *Record, out *Emitter) { panic(errors.New("bad")) }, "panic: bad"},
		{"out of order", func(r *Record, out *Emitter) {}, ""},
		{"outputs and error", func(r *Record, out *Emitter) { out.Keep(r); out.Error(r, "x") }, "penstock: the record at offset 1 has both outputs and an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "out of order" {
				Handle(func([]byte) (Handler, error) {
					return batchFunc(func(rs []Record, out *Emitter) { out.Keep(&rs[1]); out.Keep(&rs[0]) }), nil
				})
				runInit(nil)
				got := decodeOutput(t, runEnrich(in))
				if !strings.Contains(got.failed, "output for offset 1 after an output for a later record") {
					t.Fatalf("failed %q", got.failed)
				}
				return
			}
			if got := run(t, tt.h, in); got.failed != tt.want {
				t.Fatalf("failed %q, want %q", got.failed, tt.want)
			}
		})
	}
}

type batchFunc func([]Record, *Emitter)

func (f batchFunc) Enrich(*Record, *Emitter)              {}
func (f batchFunc) EnrichBatch(rs []Record, out *Emitter) { f(rs, out) }
func (f batchFunc) String() string                        { return "batch" }

var _ BatchHandler = batchFunc(nil)

func TestMalformedInput(t *testing.T) {
	Handle(func([]byte) (Handler, error) { return HandlerFunc(func(r *Record, out *Emitter) { out.Keep(r) }), nil })
	runInit(nil)
	in := encode("t", 0, rec{offset: 1, val: []byte("abc")})
	for _, bad := range [][]byte{nil, []byte("PSB2"), in[:len(in)-5]} {
		if got := decodeOutput(t, runEnrich(bad)); got.failed != errMalformedInput.Error() {
			t.Fatalf("%q: failed %q", bad, got.failed)
		}
	}
}

func TestInit(t *testing.T) {
	g.newHandler = nil
	if msg := runInit(nil); !strings.Contains(string(msg), "no handler") {
		t.Fatalf("%s", msg)
	}
	Handle(func(cfg []byte) (Handler, error) { return nil, errors.New("config says " + string(cfg)) })
	if msg := runInit([]byte(`{"a":1}`)); string(msg) != `config says {"a":1}` {
		t.Fatalf("%s", msg)
	}
	Handle(func([]byte) (Handler, error) { return nil, nil })
	if msg := runInit(nil); string(msg) != "the Handle function returned no handler" {
		t.Fatalf("%s", msg)
	}
	Handle(func([]byte) (Handler, error) { panic("in init") })
	if msg := runInit(nil); string(msg) != "panic: in init" {
		t.Fatalf("%s", msg)
	}
	// The config is the handler's to keep: a copy of the input buffer.
	var kept []byte
	Handle(func(cfg []byte) (Handler, error) { kept = cfg; return HandlerFunc(func(*Record, *Emitter) {}), nil })
	p := allocInput(7)
	buf := input(uintptrOf(p), 7)
	copy(buf, `{"x":1}`)
	runInit(buf)
	copy(buf, "xxxxxxx")
	if string(kept) != `{"x":1}` {
		t.Fatalf("config changed with the input buffer: %s", kept)
	}
}

func BenchmarkNoop(b *testing.B) {
	Handle(func([]byte) (Handler, error) {
		return HandlerFunc(func(r *Record, out *Emitter) { out.Keep(r) }), nil
	})
	runInit(nil)
	recs := make([]rec, 1000)
	for i := range recs {
		recs[i] = rec{offset: int64(i), key: []byte("customer-1"), val: bytes.Repeat([]byte("x"), 300), headers: []string{"trace", strings.Repeat("0", 32)}}
	}
	in := encode("orders", 0, recs...)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += len(recs) {
		runEnrich(in)
	}
}
