package msgbatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/pipeline"
)

// sender records requests and fails the messages fail picks.
type sender struct {
	reqs [][]Message
	fail func(req int, m Message) bool
	err  error
}

func (s *sender) Send(_ context.Context, msgs []Message, failed []int) ([]int, error) {
	if s.err != nil {
		return nil, s.err
	}
	cp := make([]Message, len(msgs))
	for i, m := range msgs {
		m.Body, m.GroupID, m.DedupID = strings.Clone(m.Body), strings.Clone(m.GroupID), strings.Clone(m.DedupID)
		cp[i] = m
	}
	s.reqs = append(s.reqs, cp)
	for i, m := range cp {
		if s.fail != nil && s.fail(len(s.reqs)-1, m) {
			failed = append(failed, i)
		}
	}
	return failed, nil
}

func batch(keys ...string) *pipeline.Batch {
	recs := make([]pipeline.Record, len(keys))
	for i, k := range keys {
		recs[i] = pipeline.Record{Topic: "orders", Partition: 2, Offset: int64(10 + i), Value: fmt.Appendf(nil, `{"n":%d}`, i)}
		if k != "" {
			recs[i].Key = []byte(k)
		}
	}
	return pipeline.NewBatch(pipeline.TopicPartition{Topic: "orders", Partition: 2}, recs)
}

func statuses(b *pipeline.Batch) string {
	var s strings.Builder
	for _, st := range b.Status {
		s.WriteByte("AFDFOR"[st])
	}
	return s.String()
}

func TestRequestsOfTenAndFailedEntriesOnly(t *testing.T) {
	keys := make([]string, 25)
	b := batch(keys...)
	s := &sender{fail: func(req int, m Message) bool { return m.Record == 3 || m.Record == 21 }}
	res, err := New(Options{MaxBytes: 1 << 20, MaxMessage: 1 << 20}).Deliver(context.Background(), b, s)
	if err != nil || !res.Partial {
		t.Fatalf("%v %+v", err, res)
	}
	if len(s.reqs) != 3 || len(s.reqs[0]) != 10 || len(s.reqs[2]) != 5 {
		t.Fatalf("request sizes %d", len(s.reqs))
	}
	if got := statuses(b); got != "AAAFAAAAAAAAAAAAAAAAAFAAA" {
		t.Fatalf("statuses %s", got)
	}
	if s.reqs[0][0].Body != `{"topic":"orders","partition":2,"offset":10,"timestamp":0,"timestampType":"CREATE_TIME","value":"eyJuIjowfQ==","headers":[]}` {
		t.Fatalf("default body %s", s.reqs[0][0].Body)
	}
}

func TestBytesBoundCutsRequestsAndOversizedRecordsAreMarked(t *testing.T) {
	b := batch("", "", "", "", "")
	b.Records[2].Value = []byte(strings.Repeat("x", 500))
	s := &sender{}
	// A message is ~130 bytes; 300 fit two per request; record 2 is over 400.
	_, err := New(Options{MaxBytes: 300, MaxMessage: 400}).Deliver(context.Background(), b, s)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range s.reqs {
		sizes = append(sizes, len(r))
	}
	if !slices.Equal(sizes, []int{2, 2}) || b.Status[2] != pipeline.Oversized {
		t.Fatalf("requests %v, status %v", sizes, statuses(b))
	}
}

func TestFIFOOneMessagePerGroupPerRequestAndStopAtFailure(t *testing.T) {
	b := batch("a", "b", "a", "c", "d", "b", "e")
	s := &sender{fail: func(req int, m Message) bool { return req == 1 && m.GroupID == "c" }}
	res, err := New(Options{FIFO: true, MaxBytes: 1 << 20, MaxMessage: 1 << 20}).Deliver(context.Background(), b, s)
	if err != nil || !res.Partial {
		t.Fatalf("%v %+v", err, res)
	}
	// Request 0 is a, b (the next record repeats group a); request 1 is
	// a, c, d, b, e, of which c fails.
	if len(s.reqs) != 2 || len(s.reqs[0]) != 2 {
		t.Fatalf("requests %v", s.reqs)
	}
	for _, r := range s.reqs {
		seen := map[string]bool{}
		for _, m := range r {
			if seen[m.GroupID] {
				t.Fatalf("group %s twice in one request", m.GroupID)
			}
			seen[m.GroupID] = true
		}
	}
	// The failed message and nothing after it in its group may have been
	// stored; records after the request are all attempted again.
	if got := statuses(b); got != "AAAFAAA" {
		t.Fatalf("statuses %s", got)
	}
	if s.reqs[0][0].DedupID != "orders-2-10" || s.reqs[1][1].DedupID != "orders-2-13" {
		t.Fatalf("dedup ids %q %q", s.reqs[0][0].DedupID, s.reqs[1][1].DedupID)
	}
}

func TestFIFOLaterRequestsWaitForAFailure(t *testing.T) {
	b := batch("a", "a", "a", "a")
	s := &sender{fail: func(req int, m Message) bool { return req == 1 }}
	res, _ := New(Options{FIFO: true, MaxBytes: 1 << 20, MaxMessage: 1 << 20}).Deliver(context.Background(), b, s)
	if !res.Partial || len(s.reqs) != 2 {
		t.Fatalf("%d requests", len(s.reqs))
	}
	if got := statuses(b); got != "AFFF" {
		t.Fatalf("statuses %s: everything after the failure must wait", got)
	}
}

func TestFIFOIDs(t *testing.T) {
	b := batch("", "\x00bin", strings.Repeat("k", 200), "ok")
	b.Records[3].Offset = b.Records[2].Offset // split outputs of one record
	s := &sender{}
	New(Options{FIFO: true, MaxBytes: 1 << 20, MaxMessage: 1 << 20}).Deliver(context.Background(), b, s)
	var groups, dedups []string
	for _, r := range s.reqs {
		for _, m := range r {
			groups = append(groups, m.GroupID)
			dedups = append(dedups, m.DedupID)
		}
	}
	if groups[0] != "orders-2" || !strings.HasPrefix(groups[1], "h") || len(groups[1]) != 17 || !strings.HasPrefix(groups[2], "h") || groups[3] != "ok" {
		t.Fatalf("groups %q", groups)
	}
	if dedups[2] != "orders-2-12" || dedups[3] != "orders-2-12.1" {
		t.Fatalf("dedup ids %q", dedups)
	}
}

func TestWholeRequestErrors(t *testing.T) {
	b := batch(make([]string, 15)...)
	s := &sender{err: errors.New("throttled")}
	if _, err := New(Options{MaxBytes: 1 << 20, MaxMessage: 1 << 20}).Deliver(context.Background(), b, s); err == nil {
		t.Fatal("want the first request's error")
	}
	// A failure after a request went through is a partial result.
	n := 0
	s2 := &failAfter{n: &n}
	res, err := New(Options{MaxBytes: 1 << 20, MaxMessage: 1 << 20}).Deliver(context.Background(), b, s2)
	if err != nil || !res.Partial || statuses(b) != "AAAAAAAAAAFFFFF" {
		t.Fatalf("%v %+v %s", err, res, statuses(b))
	}
}

type failAfter struct{ n *int }

func (f *failAfter) Send(context.Context, []Message, []int) ([]int, error) {
	*f.n++
	if *f.n > 1 {
		return nil, errors.New("5xx")
	}
	return nil, nil
}

func TestValidAttributeName(t *testing.T) {
	for name, want := range map[string]bool{"type": true, "trace-id": true, "a.b_c": true, "": false, ".a": false, "a..b": false,
		"AWS.x": false, "amazon.y": false, "with space": false, strings.Repeat("a", 257): false} {
		if ValidAttributeName(name) != want {
			t.Errorf("%q: want %v", name, want)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i%7)
	}
	bt := batch(keys...)
	s := nopSender{}
	for _, fifo := range []bool{false, true} {
		b.Run(fmt.Sprintf("fifo=%v", fifo), func(b *testing.B) {
			m := New(Options{FIFO: fifo, MaxBytes: 1 << 20, MaxMessage: 1 << 20})
			b.ReportAllocs()
			for b.Loop() {
				m.Deliver(context.Background(), bt, s)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/record")
		})
	}
}

type nopSender struct{}

func (nopSender) Send(_ context.Context, _ []Message, f []int) ([]int, error) { return f, nil }
