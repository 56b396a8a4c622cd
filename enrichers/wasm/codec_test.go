package wasm

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

// output builds an output batch (ABI.md section 4).
type output struct {
	b []byte
	n uint32
}

func newOutput() *output {
	return &output{b: append([]byte(outputMagic), 0, 0, 0, 0, 0, 0, 0, 0)}
}

func (o *output) u32(v uint32) *output { o.b = le.AppendUint32(o.b, v); return o }

func (o *output) field(s string) *output { o.u32(uint32(len(s))); o.b = append(o.b, s...); return o }

// record adds a record output; headers are name, value pairs.
func (o *output) record(input uint32, flags byte, key, value string, headers ...string) *output {
	o.n++
	o.u32(input)
	o.b = append(o.b, outKindRecord, flags)
	o.field(key).field(value).u32(uint32(len(headers) / 2))
	for _, h := range headers {
		o.field(h)
	}
	return o
}

func (o *output) keep(input uint32) *output { return o.record(input, outKeepAll, "", "") }

func (o *output) error(input uint32, msg string) *output {
	o.n++
	o.u32(input)
	o.b = append(o.b, outKindError)
	return o.field(msg)
}

func (o *output) bytes() []byte {
	le.PutUint32(o.b[8:], o.n)
	return o.b
}

func headersOf(r pipeline.Record) string {
	var parts []string
	for _, h := range r.Headers {
		parts = append(parts, h.Key+"="+string(h.Value))
	}
	return strings.Join(parts, ",")
}

func TestInputEncoding(t *testing.T) {
	// The example of ABI.md section 7.
	b := &pipeline.Batch{TopicPartition: pipeline.TopicPartition{Topic: "t", Partition: 2}}
	b.Records = []pipeline.Record{{Topic: "t", Partition: 2, Offset: 5, Timestamp: 1000, Key: []byte("k"), Value: []byte("{}"),
		Headers: []pipeline.Header{{Key: "h", Value: []byte("v")}}}}
	b.Status = []pipeline.Status{pipeline.Active}
	count, size := inputSize(b)
	buf := make([]byte, size)
	encodeInput(buf, b, count)
	want := []byte{
		0x50, 0x53, 0x42, 0x31,
		0x01, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x74,
		0x02, 0x00, 0x00, 0x00,
		0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x03,
		0x01, 0x00, 0x00, 0x00, 0x6b,
		0x02, 0x00, 0x00, 0x00, 0x7b, 0x7d,
		0x01, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x68,
		0x01, 0x00, 0x00, 0x00, 0x76,
	}
	if !bytes.Equal(buf, want) {
		t.Fatalf("input\n% x\nwant\n% x", buf, want)
	}
}

func TestInputEncodingFlags(t *testing.T) {
	b := batch(0, "a", "b", "c")
	b.Records[0].Key = nil
	b.Records[0].Value = []byte{}
	b.Records[1].TimestampType = pipeline.LogAppendTime
	b.Records[1].Value = nil
	b.Status[2] = pipeline.Filtered
	count, size := inputSize(b)
	buf := make([]byte, size)
	encodeInput(buf, b, count)
	if count != 2 || le.Uint32(buf[4:]) != 2 {
		t.Fatalf("count %d", count)
	}
	// topic "t": records start at 17.
	if flags := buf[17+16]; flags != inValue {
		t.Fatalf("record 0 flags %#x", flags)
	}
	r1 := 17 + inRecordFixed + inHeaderFixed + 2 // no key, empty value, header h=v
	if flags := buf[r1+16]; flags != inKey|inLogAppendTime {
		t.Fatalf("record 1 flags %#x", flags)
	}
}

// TestInputEncodingSizes compares encodeInput, which copies small fields
// inline, with a plain encoder, for keys, values, header names and values
// of every length up to 40 bytes.
func TestInputEncodingSizes(t *testing.T) {
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i*7 + 1)
	}
	b := &pipeline.Batch{TopicPartition: pipeline.TopicPartition{Topic: "topic", Partition: 7}}
	for n := range 41 {
		b.Records = append(b.Records, pipeline.Record{
			Offset: int64(n), Timestamp: int64(1000 * n),
			Key:     src[n : 2*n],
			Value:   src[100-n : 100],
			Headers: []pipeline.Header{{Key: string(src[50 : 50+n]), Value: src[200-n : 200]}, {Key: "h", Value: nil}},
		})
		b.Status = append(b.Status, pipeline.Active)
	}
	b.Records[3].Key = nil
	b.Records[4].Value = nil
	b.Records[5].Headers = nil
	b.Records[6].TimestampType = pipeline.LogAppendTime
	b.Status[7] = pipeline.Filtered

	want := le.AppendUint32([]byte(inputMagic), 40)
	want = le.AppendUint32(want, 5)
	want = append(want, "topic"...)
	want = le.AppendUint32(want, 7)
	field := func(f []byte) { want = append(le.AppendUint32(want, uint32(len(f))), f...) }
	for i, r := range b.Records {
		if b.Status[i] != pipeline.Active {
			continue
		}
		want = le.AppendUint64(want, uint64(r.Offset))
		want = le.AppendUint64(want, uint64(r.Timestamp))
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
		want = append(want, flags)
		field(r.Key)
		field(r.Value)
		want = le.AppendUint32(want, uint32(len(r.Headers)))
		for _, h := range r.Headers {
			field([]byte(h.Key))
			field(h.Value)
		}
	}

	count, size := inputSize(b)
	if count != 40 || size != len(want) {
		t.Fatalf("inputSize: %d records, %d bytes; want 40, %d", count, size, len(want))
	}
	// The batch is written at an odd offset, between bytes it must keep.
	buf := bytes.Repeat([]byte{0xee}, size+2)
	encodeInput(buf[1:1+size], b, count)
	if buf[0] != 0xee || buf[size+1] != 0xee {
		t.Fatal("encodeInput wrote outside its buffer")
	}
	if got := buf[1 : 1+size]; !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("byte %d differs: got % x, want % x", i, got[i:min(i+16, len(got))], want[i:min(i+16, len(want))])
			}
		}
	}

	// A buffer too small for the records panics rather than writes past it.
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short buffer")
		}
	}()
	encodeInput(make([]byte, size-1), b, count)
}

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		status  []pipeline.Status // default: all Active
		out     *output
		want    string // values with status
		headers string // headers of the first record, when set
		keys    string // keys, when set
	}{
		{name: "keep all", out: newOutput().keep(0).keep(1).keep(2), want: "0:a 1:b 2:c"},
		{name: "drop middle", out: newOutput().keep(0).keep(2), want: "0:a 1:b(filtered) 2:c"},
		{name: "drop all", out: newOutput(), want: "0:a(filtered) 1:b(filtered) 2:c(filtered)"},
		{name: "split first", out: newOutput().keep(0).record(0, outValue|outKeepKey|outKeepHeaders, "", "a2").keep(1).keep(2), want: "0:a 0:a2 1:b 2:c"},
		{name: "split last", out: newOutput().keep(0).keep(1).record(2, outValue|outKeepKey|outKeepHeaders, "", "c1").keep(2), want: "0:a 1:b 2:c1 2:c"},
		{name: "rewrite value", out: newOutput().keep(0).record(1, outValue|outKeepKey|outKeepHeaders, "", "B").keep(2), want: "0:a 1:B 2:c"},
		{name: "absent and empty value", out: newOutput().record(0, outKeepKey|outKeepHeaders, "", "").record(1, outValue|outKeepKey|outKeepHeaders, "", "").keep(2), want: "0:<nil> 1:<empty> 2:c"},
		{name: "rewrite key", out: newOutput().record(0, outKey|outKeepValue|outKeepHeaders, "K", "").record(1, outKeepValue|outKeepHeaders, "", "").keep(2), want: "0:a 1:b 2:c", keys: "K,<nil>,k2"},
		{name: "rewrite headers", out: newOutput().record(0, outKeepKey|outKeepValue, "", "", "h", "v", "new", "x").keep(1).keep(2), want: "0:a 1:b 2:c", headers: "h=v,new=x"},
		{name: "remove headers", out: newOutput().record(0, outKeepKey|outKeepValue, "", "").keep(1).keep(2), want: "0:a 1:b 2:c", headers: ""},
		{name: "other statuses stay", status: []pipeline.Status{pipeline.Filtered, pipeline.Active, pipeline.Delivered}, out: newOutput().record(0, outValue|outKeepKey|outKeepHeaders, "", "B"), want: "0:a(filtered) 1:B 2:c(delivered)"},
		{name: "other statuses, active dropped", status: []pipeline.Status{pipeline.Active, pipeline.Failed, pipeline.Active}, out: newOutput().keep(1), want: "0:a(filtered) 1:b(failed) 2:c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := batch(0, "a", "b", "c")
			if tt.status != nil {
				copy(b.Status, tt.status)
			}
			count, _ := inputSize(b)
			var w rewriter
			out := tt.out.bytes()
			reason, err := w.apply(b, out, count)
			if err != nil || reason != "" {
				t.Fatalf("apply: %v %q", err, reason)
			}
			// Nothing may point into the output buffer, which is guest memory.
			for i := range out {
				out[i] = '#'
			}
			if got := describe(b); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if tt.headers != "" || strings.Contains(tt.name, "headers") {
				if got := headersOf(b.Records[0]); got != tt.headers {
					t.Fatalf("headers %q, want %q", got, tt.headers)
				}
			}
			if tt.keys != "" {
				var ks []string
				for _, r := range b.Records {
					switch {
					case r.Key == nil:
						ks = append(ks, "<nil>")
					default:
						ks = append(ks, string(r.Key))
					}
				}
				if got := strings.Join(ks, ","); got != tt.keys {
					t.Fatalf("keys %q, want %q", got, tt.keys)
				}
			}
		})
	}
}

// describe is values with absent and empty values spelled out.
func describe(b *pipeline.Batch) string {
	c := *b
	c.Records = append([]pipeline.Record(nil), b.Records...)
	for i := range c.Records {
		switch {
		case c.Records[i].Value == nil:
			c.Records[i].Value = []byte("<nil>")
		case len(c.Records[i].Value) == 0:
			c.Records[i].Value = []byte("<empty>")
		}
	}
	return values(&c)
}

func TestApplyUnchangedLeavesBatchAlone(t *testing.T) {
	b := batch(0, "a", "b")
	b.Status[0] = pipeline.Filtered
	recs, status := b.Records, b.Status
	var w rewriter
	if _, err := w.apply(b, newOutput().keep(0).bytes(), 1); err != nil {
		t.Fatal(err)
	}
	if &b.Records[0] != &recs[0] || &b.Status[0] != &status[0] {
		t.Fatal("unchanged batch was rewritten")
	}
}

func TestApplyHeaderReuse(t *testing.T) {
	b := batch(0, "a")
	in := b.Records[0].Headers[0].Value
	var w rewriter
	if _, err := w.apply(b, newOutput().record(0, outKeepKey|outKeepValue, "", "", "h", "v", "x-new", "1").bytes(), 1); err != nil {
		t.Fatal(err)
	}
	hs := b.Records[0].Headers
	if &hs[0].Value[0] != &in[0] {
		t.Fatal("an unchanged header value was copied")
	}
	if cap(hs) != len(hs) {
		t.Fatal("headers slice has spare capacity: appends would overwrite the next record's")
	}
}

func TestApplyRecordErrors(t *testing.T) {
	b := batch(10, "a", "b", "c")
	var w rewriter
	if _, err := w.apply(b, newOutput().record(0, outValue, "", "A").error(1, "no b").error(1, "really").keep(2).bytes(), 3); err != nil {
		t.Fatal(err)
	}
	want := []RecordError{{10 + 1, "no b"}, {11, "really"}}
	if len(w.errs) != 2 || w.errs[0] != want[0] || w.errs[1] != want[1] {
		t.Fatalf("errors %v", w.errs)
	}
	if values(b) != "10:a 11:b 12:c" {
		t.Fatalf("batch changed: %s", values(b))
	}
}

func TestApplyBatchFailure(t *testing.T) {
	b := batch(0, "a")
	var w rewriter
	out := append([]byte(outputMagic), 1, 0, 0, 0, 3, 0, 0, 0, 'n', 'o', '!')
	reason, err := w.apply(b, out, 1)
	if err != nil || reason != "no!" {
		t.Fatalf("%q %v", reason, err)
	}
}

func TestApplyMalformed(t *testing.T) {
	tests := []struct {
		name string
		out  []byte
		want string
	}{
		{"empty", nil, `no "PSO1" magic`},
		{"bad magic", append([]byte("PSB1"), 0, 0, 0, 0, 0, 0, 0, 0), `no "PSO1" magic`},
		{"unknown status", append([]byte(outputMagic), 2, 0, 0, 0), "unknown status 2"},
		{"failure message too long", append([]byte(outputMagic), 1, 0, 0, 0, 9, 0, 0, 0, 'x'), "failure message of 9 bytes"},
		{"no count", append([]byte(outputMagic), 0, 0, 0, 0), "truncated output count"},
		{"count too large", append([]byte(outputMagic), 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x0f), "outputs cannot fit"},
		{"index out of range", newOutput().keep(3).bytes(), "output 0 names input 3 of 3"},
		{"index backwards", newOutput().keep(1).keep(0).bytes(), "output 1 names input 0 after input 1"},
		{"record and error", newOutput().keep(0).error(0, "x").bytes(), "input 0 has both records and an error"},
		{"error and record", newOutput().error(0, "x").keep(0).bytes(), "input 0 has both records and an error"},
		{"unknown kind", append(newOutput().keep(0).bytes()[:12], 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "unknown kind 7"},
		{"unknown flags", newOutput().record(0, 0x20|outKeepAll, "", "").bytes(), "unknown flags 0x20"},
		{"key bytes for a kept key", newOutput().record(0, outKeepAll, "k", "").bytes(), "1 key bytes for an absent or kept key"},
		{"key bytes for an absent key", newOutput().record(0, outKeepValue|outKeepHeaders, "k", "").bytes(), "1 key bytes for an absent or kept key"},
		{"value bytes for a kept value", newOutput().record(0, outValue|outKeepAll, "", "v").bytes(), "1 value bytes for an absent or kept value"},
		{"headers and keep headers", newOutput().record(0, outKeepAll, "", "", "h", "v").bytes(), "has 1 headers and keeps the input's"},
		{"trailing bytes", append(newOutput().keep(0).bytes(), 0), "1 bytes left after the last output"},
		{"truncated record", newOutput().keep(0).keep(1).bytes()[:12+18+14], "output 1 truncated"},
		{"value past the end", func() []byte { o := newOutput().record(0, outValue, "", "vvvv").bytes(); return o[:len(o)-6] }(), "value of 4 bytes runs past the output"},
		{"header past the end", func() []byte { o := newOutput().record(0, 0, "", "", "name", "value").bytes(); return o[:len(o)-3] }(), "header value of 5 bytes runs past the output"},
		{"error message past the end", func() []byte { o := newOutput().error(0, "message").bytes(); return o[:len(o)-1] }(), "error message of 7 bytes runs past the output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := batch(0, "a", "b", "c")
			var w rewriter
			_, err := w.apply(b, tt.out, 3)
			if !errors.Is(err, ErrMalformedOutput) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if values(b) != "0:a 1:b 2:c" {
				t.Fatalf("batch changed: %s", values(b))
			}
		})
	}
}

// FuzzApply checks that no output, however malformed, panics the host or
// yields an inconsistent batch.
func FuzzApply(f *testing.F) {
	f.Add(newOutput().keep(0).keep(1).keep(2).bytes())
	f.Add(newOutput().record(0, outValue|outKeepKey, "", "x", "h", "v").keep(2).bytes())
	f.Add(newOutput().error(1, "bad").bytes())
	f.Add(append([]byte(outputMagic), 1, 0, 0, 0, 1, 0, 0, 0, 'x'))
	f.Fuzz(func(t *testing.T, out []byte) {
		b := batch(0, "a", "b", "c")
		b.Status[1] = pipeline.Filtered
		var w rewriter
		reason, err := w.apply(b, out, 2)
		if err != nil || reason != "" || len(w.errs) > 0 {
			if values(b) != "0:a 1:b(filtered) 2:c" {
				t.Fatalf("failed apply changed the batch: %s", values(b))
			}
			return
		}
		if len(b.Records) != len(b.Status) {
			t.Fatalf("%d records, %d statuses", len(b.Records), len(b.Status))
		}
		last := int64(-1)
		for i, r := range b.Records {
			if r.Offset < last || r.Offset > 2 {
				t.Fatalf("offsets out of order: %s", values(b))
			}
			last = r.Offset
			if r.Offset == 1 && b.Status[i] != pipeline.Filtered {
				t.Fatalf("the filtered record changed: %s", values(b))
			}
		}
	})
}
