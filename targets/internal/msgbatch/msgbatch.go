// Package msgbatch is the delivery core the queue and topic targets (SQS,
// SNS) share: it renders one message per record, cuts the batch into
// requests of at most MaxEntries messages and MaxBytes bytes, sends them in
// order, and maps per-message failures back to the records, so the
// pipeline's retry logic retries only what failed.
//
// For FIFO queues and topics it also keeps each message group in order:
// a request never holds two messages of one group, and after a request
// with a failed message nothing later in the batch is sent, so a retried
// message is never overtaken by a later one of its group. Every message
// carries a deduplication id made of its topic, partition and offset, so a
// retry of a message the service did store is dropped by the service.
package msgbatch

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/template"
	"github.com/penstock-dev/penstock/pipeline"
)

// Message is one message of a request. Its strings view the sender's
// reused buffers: they are valid only during Send.
type Message struct {
	// ID is unique within the request ("0" to "9").
	ID string
	// Body is the message body.
	Body string
	// GroupID and DedupID are set for FIFO targets.
	GroupID, DedupID string
	// Headers are the record's headers, when the target sends them as
	// message attributes.
	Headers []pipeline.Header
	// Record is the index of the message's record in the batch.
	Record int
}

// Sender sends one request. It appends to failed the positions (in msgs)
// of the messages the service did not take and returns it, or returns an
// error when the request failed as a whole.
type Sender interface {
	Send(ctx context.Context, msgs []Message, failed []int) ([]int, error)
}

// Options configure a Batcher.
type Options struct {
	// Body renders a message body; nil sends the record in the ESM record
	// shape (one JSON object, as the file target writes it).
	Body *template.Template
	// FIFO makes messages carry a group id and a deduplication id and keeps
	// each group in order.
	FIFO bool
	// Group renders the FIFO message group id; nil uses the record key, or
	// "<topic>-<partition>" for a record without a key.
	Group *template.Template
	// Headers passes record headers to the sender (as message attributes).
	Headers bool
	// MaxEntries bounds the messages of a request (10 for SQS and SNS).
	MaxEntries int
	// MaxBytes bounds a request's message bytes (bodies and attributes).
	MaxBytes int
	// MaxMessage bounds one message; a record whose message is larger is
	// marked Oversized and goes to the on-failure destination.
	MaxMessage int
	// PerMessage is the size a message adds besides its body (attributes'
	// names and values are added per header).
	PerMessage int
}

// Batcher delivers batches through a Sender. It is safe for concurrent use:
// each Deliver takes its own buffers from a pool.
type Batcher struct {
	o    Options
	pool sync.Pool // *state
}

type state struct {
	buf    []byte    // bodies, group and dedup ids of the batch
	spans  []span    // per record: where its strings are in buf
	msgs   []Message // the current request
	failed []int     // positions in msgs the service did not take
}

type span struct {
	body, group, dedup [2]int // [start, end) in buf
	size               int
}

var ids = [...]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"}

// New returns a Batcher.
func New(o Options) *Batcher {
	if o.MaxEntries <= 0 || o.MaxEntries > len(ids) {
		o.MaxEntries = 10
	}
	return &Batcher{o: o}
}

// Deliver sends the batch's Active records. Records whose message the
// service did not take are marked Failed (for FIFO targets: from the first
// one on) and the result is partial; an error means the first request failed
// as a whole.
func (bt *Batcher) Deliver(ctx context.Context, b *pipeline.Batch, s Sender) (pipeline.Result, error) {
	st, _ := bt.pool.Get().(*state)
	if st == nil {
		st = &state{}
	}
	defer bt.pool.Put(st)
	bt.render(st, b)

	var res pipeline.Result
	sent := false
	i := 0
	for i < len(b.Records) {
		// Cut the next request.
		st.msgs = st.msgs[:0]
		bytes := 0
		j := i
		for ; j < len(b.Records) && len(st.msgs) < bt.o.MaxEntries; j++ {
			if b.Status[j] != pipeline.Active {
				continue
			}
			sp := &st.spans[j]
			if sp.size > bt.o.MaxMessage {
				b.Status[j] = pipeline.Oversized
				continue
			}
			if len(st.msgs) > 0 && bytes+sp.size > bt.o.MaxBytes {
				break
			}
			m := Message{ID: ids[len(st.msgs)], Body: st.str(sp.body), Record: j}
			if bt.o.FIFO {
				m.GroupID, m.DedupID = st.str(sp.group), st.str(sp.dedup)
				if hasGroup(st.msgs, m.GroupID) {
					break // one message per group per request keeps groups in order
				}
			}
			if bt.o.Headers {
				m.Headers = b.Records[j].Headers
			}
			st.msgs = append(st.msgs, m)
			bytes += sp.size
		}
		if len(st.msgs) == 0 {
			i = j
			continue
		}
		failed, err := s.Send(ctx, st.msgs, st.failed[:0])
		st.failed = failed
		if err != nil {
			if !sent || pipeline.IsPermanent(err) {
				return res, err
			}
			// Earlier requests went through: attempt this one and the
			// rest again.
			markFrom(b, st.msgs[0].Record)
			res.Partial = true
			return res, nil
		}
		sent = true
		if len(failed) > 0 {
			res.Partial = true
			if bt.o.FIFO {
				first := len(b.Records)
				for _, f := range failed {
					first = min(first, st.msgs[f].Record)
				}
				// The messages of this request after the first failure
				// belong to other groups; they stay delivered. Everything
				// not yet sent is attempted again after the failed ones.
				for _, f := range failed {
					b.Status[st.msgs[f].Record] = pipeline.Failed
				}
				markFrom(b, j)
				return res, nil
			}
			for _, f := range failed {
				b.Status[st.msgs[f].Record] = pipeline.Failed
			}
		}
		i = j
	}
	return res, nil
}

// markFrom marks the Active records from index i on Failed.
func markFrom(b *pipeline.Batch, i int) {
	for ; i < len(b.Records); i++ {
		if b.Status[i] == pipeline.Active {
			b.Status[i] = pipeline.Failed
		}
	}
}

func hasGroup(msgs []Message, g string) bool {
	for i := range msgs {
		if msgs[i].GroupID == g {
			return true
		}
	}
	return false
}

// render writes every Active record's body (and FIFO ids) into st.buf.
func (bt *Batcher) render(st *state, b *pipeline.Batch) {
	st.buf = st.buf[:0]
	if cap(st.spans) < len(b.Records) {
		st.spans = make([]span, len(b.Records))
	}
	st.spans = st.spans[:len(b.Records)]
	prevOffset, dup := int64(-1), 0
	for i := range b.Records {
		if b.Status[i] != pipeline.Active {
			continue
		}
		r := &b.Records[i]
		sp := &st.spans[i]
		start := len(st.buf)
		if bt.o.Body != nil {
			st.buf = bt.o.Body.Append(st.buf, r)
		} else {
			st.buf = esm.AppendRecord(st.buf, r)
		}
		sp.body = [2]int{start, len(st.buf)}
		sp.size = len(st.buf) - start + bt.o.PerMessage
		if bt.o.Headers {
			for h := range r.Headers {
				sp.size += len(r.Headers[h].Key) + len(r.Headers[h].Value) + 16
			}
		}
		if !bt.o.FIFO {
			continue
		}
		start = len(st.buf)
		switch {
		case bt.o.Group != nil:
			st.buf = bt.o.Group.Append(st.buf, r)
		case len(r.Key) > 0:
			st.buf = append(st.buf, r.Key...)
		default:
			st.buf = append(st.buf, r.Topic...)
			st.buf = append(st.buf, '-')
			st.buf = strconv.AppendInt(st.buf, int64(r.Partition), 10)
		}
		st.buf = fixID(st.buf, start)
		sp.group = [2]int{start, len(st.buf)}
		start = len(st.buf)
		st.buf = append(st.buf, r.Topic...)
		st.buf = append(st.buf, '-')
		st.buf = strconv.AppendInt(st.buf, int64(r.Partition), 10)
		st.buf = append(st.buf, '-')
		st.buf = strconv.AppendInt(st.buf, r.Offset, 10)
		// An enricher may split a record into several: they share its
		// offset, so they are numbered.
		if r.Offset == prevOffset {
			dup++
			st.buf = append(st.buf, '.')
			st.buf = strconv.AppendInt(st.buf, int64(dup), 10)
		} else {
			prevOffset, dup = r.Offset, 0
		}
		st.buf = fixID(st.buf, start)
		sp.dedup = [2]int{start, len(st.buf)}
	}
}

// fixID makes buf[start:] a valid group or deduplication id: 1 to 128
// printable ASCII characters. An id that is not (a binary key, a long
// topic name) is replaced by "h" and the hex of its 64-bit FNV-1a hash, so
// the same key still maps to the same group.
func fixID(buf []byte, start int) []byte {
	id := buf[start:]
	ok := len(id) > 0 && len(id) <= 128
	for _, c := range id {
		if c < '!' || c > '~' {
			ok = false
			break
		}
	}
	if ok {
		return buf
	}
	h := uint64(14695981039346656037)
	for _, c := range id {
		h ^= uint64(c)
		h *= 1099511628211
	}
	buf = append(buf[:start], 'h')
	const hexd = "0123456789abcdef"
	for sh := 60; sh >= 0; sh -= 4 {
		buf = append(buf, hexd[h>>uint(sh)&0xf])
	}
	return buf
}

// str views a span of st.buf as a string, valid until the next render.
func (st *state) str(s [2]int) string {
	if s[1] == s[0] {
		return ""
	}
	return unsafe.String(&st.buf[s[0]], s[1]-s[0])
}

// ValidAttributeName reports whether a header name can be an SQS or SNS
// message attribute name: 1 to 256 letters, digits, '-', '_' and '.', no
// leading, trailing or doubled '.', not starting with "AWS." or "Amazon.".
// Other headers are not sent as attributes.
func ValidAttributeName(s string) bool {
	if len(s) == 0 || len(s) > 256 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "aws.") || strings.HasPrefix(l, "amazon.") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
