package msgbatch

import (
	"unicode/utf8"
	"unsafe"
)

// MaxAttributes is how many message attributes SQS and SNS take per
// message.
const MaxAttributes = 10

// Fields are the parts of one SDK request entry, as pointers the SDK
// types take; Group and Dedup are nil unless the destination is FIFO.
type Fields[A any] struct {
	ID, Body, Group, Dedup *string
	Attributes             map[string]A
}

// Entries builds the SDK entries of one batch request (E is the SDK's
// entry type, A its message attribute value type), reusing its buffers
// from request to request. It is not goroutine-safe.
type Entries[E, A any] struct {
	entries []E
	strs    []string
	attrs   []map[string]A
	vals    []string
}

// Build returns one entry per message, made by set from the message's
// fields. Headers become attributes (valid names only, at most
// MaxAttributes) made by attr from the header value and a string that
// attr may point into. Call Clear once the request is sent.
func (r *Entries[E, A]) Build(msgs []Message, fifo bool, attr func(v []byte, s *string) A, set func(e *E, f Fields[A])) []E {
	n := len(msgs)
	if cap(r.entries) < n {
		r.entries = make([]E, n)
		r.strs = make([]string, 4*n)
		r.attrs = make([]map[string]A, n)
	}
	r.entries = r.entries[:n]
	nh := 0
	for i := range msgs {
		nh += min(len(msgs[i].Headers), MaxAttributes)
	}
	if cap(r.vals) < nh {
		r.vals = make([]string, nh)
	}
	r.vals = r.vals[:nh]
	v := 0
	var zero E
	for i := range msgs {
		m := &msgs[i]
		s := r.strs[4*i : 4*i+4]
		s[0], s[1] = m.ID, m.Body
		f := Fields[A]{ID: &s[0], Body: &s[1]}
		if fifo {
			s[2], s[3] = m.GroupID, m.DedupID
			f.Group, f.Dedup = &s[2], &s[3]
		}
		if len(m.Headers) > 0 {
			if r.attrs[i] == nil {
				r.attrs[i] = make(map[string]A, 4)
			}
			clear(r.attrs[i])
			for _, h := range m.Headers {
				if len(r.attrs[i]) == MaxAttributes {
					break
				}
				if ValidAttributeName(h.Key) {
					r.attrs[i][h.Key] = attr(h.Value, &r.vals[v])
					v++
				}
			}
			f.Attributes = r.attrs[i]
		}
		r.entries[i] = zero
		set(&r.entries[i], f)
	}
	return r.entries
}

// Clear drops the entries' views of the batch's bytes.
func (r *Entries[E, A]) Clear() {
	clear(r.strs)
	clear(r.vals)
}

// AppendFailed appends to failed the indexes of msgs whose ids are among
// the ids of the entries a request reported failed.
func AppendFailed[F any](failed []int, msgs []Message, out []F, id func(*F) *string) []int {
	for k := range out {
		p := id(&out[k])
		if p == nil {
			continue
		}
		for i := range msgs {
			if msgs[i].ID == *p {
				failed = append(failed, i)
				break
			}
		}
	}
	return failed
}

var stringType, binaryType, blank = "String", "Binary", " "

// Attribute returns the data type and value of a message attribute made
// from a header value: String when it is valid UTF-8 and not empty (s then
// views v), a single blank for an empty value (SQS and SNS refuse empty
// values), Binary otherwise.
func Attribute(v []byte, s *string) (dataType, str *string, bin []byte) {
	if len(v) > 0 && utf8.Valid(v) {
		*s = unsafe.String(&v[0], len(v))
		return &stringType, s, nil
	}
	if len(v) == 0 {
		return &stringType, &blank, nil
	}
	return &binaryType, nil, v
}
