package sqsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/penstock-dev/penstock/internal/uuid"
)

// queue is a queue's settings and contents. The settings do not change
// after creation; the contents are guarded by Server.mu.
type queue struct {
	name, url, arn string
	// attrs are the settable attributes in effect, as strings.
	attrs        map[string]string
	fifo         bool
	contentDedup bool
	groupScope   bool
	maxSize      int
	visibility   time.Duration
	delay        time.Duration
	wait         int
	created      time.Time

	msgs  []*message
	dedup map[string]dedupRecord
	seq   uint64
}

// dedupRecord is what a FIFO queue remembers of a deduplication id.
type dedupRecord struct {
	id, seq string
	at      time.Time
}

// message is a stored message and its delivery state.
type message struct {
	Message
	q            *queue
	available    time.Time
	invisible    time.Time
	firstReceive time.Time
	deleted      bool
}

func (m *message) snapshot() Message {
	c := m.Message
	c.Attributes = cloneAttrs(m.Attributes)
	c.SystemAttributes = cloneAttrs(m.SystemAttributes)
	return c
}

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// queueName returns the queue name of a name or queue URL: the last path
// segment.
func queueName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// attrRule validates a settable queue attribute; nil accepts any string.
type attrRule struct {
	fifoOnly bool
	check    func(v string) bool
}

func intRange(lo, hi int) func(string) bool {
	return func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}
}

func oneOf(vals ...string) func(string) bool {
	return func(v string) bool {
		for _, x := range vals {
			if v == x {
				return true
			}
		}
		return false
	}
}

// queueAttrRules lists the attributes CreateQueue accepts.
func (s *Server) queueAttrRules() map[string]attrRule {
	maxSize := max(s.opts.MaxMessageSize, DefaultMaxMessageSize)
	return map[string]attrRule{
		"DelaySeconds":                  {check: intRange(0, 900)},
		"MaximumMessageSize":            {check: intRange(1024, maxSize)},
		"MessageRetentionPeriod":        {check: intRange(60, 1209600)},
		"ReceiveMessageWaitTimeSeconds": {check: intRange(0, 20)},
		"VisibilityTimeout":             {check: intRange(0, 43200)},
		"Policy":                        {},
		"RedrivePolicy":                 {},
		"RedriveAllowPolicy":            {},
		"KmsMasterKeyId":                {},
		"KmsDataKeyReusePeriodSeconds":  {check: intRange(60, 86400)},
		"SqsManagedSseEnabled":          {check: oneOf("true", "false")},
		"FifoQueue":                     {check: oneOf("true", "false")},
		"ContentBasedDeduplication":     {fifoOnly: true, check: oneOf("true", "false")},
		"DeduplicationScope":            {fifoOnly: true, check: oneOf("messageGroup", "queue")},
		"FifoThroughputLimit":           {fifoOnly: true, check: oneOf("perQueue", "perMessageGroupId")},
	}
}

// createQueue validates a CreateQueue and creates the queue, or returns
// the existing one when the attributes given match it.
func (s *Server) createQueue(name string, attrs map[string]string) (*queue, *apiError) {
	fifo := attrs["FifoQueue"] == "true"
	base, isFifoName := strings.CutSuffix(name, ".fifo")
	if fifo != isFifoName || !queueNameRE.MatchString(base) {
		if fifo || isFifoName {
			return nil, invalidParameterValue("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		return nil, invalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	rules := s.queueAttrRules()
	for k, v := range attrs {
		r, ok := rules[k]
		if !ok || (r.fifoOnly && !fifo) {
			return nil, newError("InvalidAttributeName", 0, true, "Unknown Attribute %s.", k)
		}
		if r.check != nil && !r.check(v) {
			return nil, newError("InvalidAttributeValue", 0, true, "Invalid value for the parameter %s.", k)
		}
	}

	eff := map[string]string{
		"DelaySeconds":                  "0",
		"MaximumMessageSize":            strconv.Itoa(s.opts.MaxMessageSize),
		"MessageRetentionPeriod":        "345600",
		"ReceiveMessageWaitTimeSeconds": "0",
		"VisibilityTimeout":             "30",
		"SqsManagedSseEnabled":          "true",
	}
	if fifo {
		eff["FifoQueue"] = "true"
		eff["ContentBasedDeduplication"] = "false"
		eff["DeduplicationScope"] = "queue"
		eff["FifoThroughputLimit"] = "perQueue"
	}
	for k, v := range attrs {
		eff[k] = v
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[name]; q != nil {
		for k, v := range attrs {
			if q.attrs[k] != v && !(k == "FifoQueue" && v == "false" && !q.fifo) {
				return nil, newError("QueueNameExists", 0, true, "A queue already exists with the same name and a different value for attribute %s", k)
			}
		}
		return q, nil
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(eff[k]); return n }
	q := &queue{
		name:         name,
		url:          s.QueueURL(name),
		arn:          "arn:aws:sqs:" + s.opts.Region + ":" + s.opts.AccountID + ":" + name,
		attrs:        eff,
		fifo:         fifo,
		contentDedup: eff["ContentBasedDeduplication"] == "true",
		groupScope:   eff["DeduplicationScope"] == "messageGroup",
		maxSize:      atoi("MaximumMessageSize"),
		visibility:   time.Duration(atoi("VisibilityTimeout")) * time.Second,
		delay:        time.Duration(atoi("DelaySeconds")) * time.Second,
		wait:         atoi("ReceiveMessageWaitTimeSeconds"),
		created:      s.opts.Now(),
		dedup:        map[string]dedupRecord{},
	}
	s.queues[name] = q
	return q, nil
}

// lookupURL finds the queue a QueueUrl names. Any URL (or path) whose last
// two segments are this endpoint's account and an existing queue's name
// is accepted, as AWS accepts the URL forms of its other endpoints.
func (s *Server) lookupURL(raw string) (*queue, *apiError) {
	if raw == "" {
		return nil, missingParameter("QueueUrl")
	}
	p := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, newError("InvalidAddress", 0, true, "The address %s is not valid for this endpoint.", raw)
		}
		p = u.Path
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) < 2 {
		return nil, newError("InvalidAddress", 0, true, "The address %s is not valid for this endpoint.", raw)
	}
	account, name := segs[len(segs)-2], segs[len(segs)-1]
	s.mu.Lock()
	q := s.queues[name]
	s.mu.Unlock()
	if q == nil || account != s.opts.AccountID {
		return nil, queueDoesNotExist()
	}
	return q, nil
}

// outgoing is a validated message about to be stored.
type outgoing struct {
	body       string
	attrs, sys map[string]Attribute
	size       int
	group      string
	dedup      string
	delay      *int
}

var tokenRE = regexp.MustCompile("^[A-Za-z0-9!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]{1,128}$")

// checkMessage applies SQS's rules to a message sent to q.
func (q *queue) checkMessage(body *string, delay *int, attrs, sys map[string]attrValue, group, dedup *string) (*outgoing, *apiError) {
	if body == nil {
		return nil, missingParameter("MessageBody")
	}
	if *body == "" {
		return nil, invalidParameterValue("One or more parameters are invalid. Reason: Message must be at least one character.")
	}
	if !validText(*body) {
		return nil, newError("InvalidMessageContents", 0, true,
			"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	o := &outgoing{body: *body, delay: delay}
	var (
		n   int
		err *apiError
	)
	if o.attrs, n, err = parseAttributes(attrs, false); err != nil {
		return nil, err
	}
	if o.sys, _, err = parseAttributes(sys, true); err != nil {
		return nil, err
	}
	o.size = len(*body) + n
	if o.size > q.maxSize {
		return nil, invalidParameterValue("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.maxSize)
	}
	if delay != nil {
		if *delay < 0 || *delay > 900 {
			return nil, invalidParameterValue("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.", *delay)
		}
		if q.fifo && *delay != 0 {
			return nil, invalidParameterValue("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *delay)
		}
	}
	if group != nil {
		if !tokenRE.MatchString(*group) {
			return nil, invalidParameterValue("Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.", *group)
		}
		o.group = *group
	} else if q.fifo {
		return nil, missingParameter("MessageGroupId")
	}
	if dedup != nil {
		if !q.fifo {
			return nil, invalidParameterValue("Value %s for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.", *dedup)
		}
		if !tokenRE.MatchString(*dedup) {
			return nil, invalidParameterValue("Value %s for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.", *dedup)
		}
		o.dedup = *dedup
	} else if q.fifo && !q.contentDedup {
		return nil, invalidParameterValue("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	return o, nil
}

// entry is what a FaultFunc sees of o.
func (o *outgoing) entry(q *queue, id string) *Entry {
	return &Entry{Queue: q.name, ID: id, Body: o.body, Attributes: cloneAttrs(o.attrs), GroupID: o.group, DeduplicationID: o.dedup}
}

// store adds o to q, unless it duplicates a message of the last
// DeduplicationInterval: it returns the message id and sequence number
// of the message stored or duplicated. s.mu must be held.
func (s *Server) store(q *queue, o *outgoing) (id, seq string) {
	now := s.opts.Now()
	dedup := o.dedup
	var key string
	if q.fifo {
		if dedup == "" {
			sum := sha256.Sum256([]byte(o.body))
			dedup = hex.EncodeToString(sum[:])
		}
		key = dedup
		if q.groupScope {
			key = o.group + "\x00" + dedup
		}
		if r, ok := q.dedup[key]; ok && now.Sub(r.at) < DeduplicationInterval {
			return r.id, r.seq
		}
		q.seq++
		seq = fmt.Sprintf("1%019d", q.seq)
	}
	m := &message{
		Message: Message{
			MessageID:        uuid.New(),
			Body:             o.body,
			Attributes:       cloneAttrs(o.attrs),
			SystemAttributes: cloneAttrs(o.sys),
			GroupID:          o.group,
			DeduplicationID:  dedup,
			SequenceNumber:   seq,
			SentAt:           now,
		},
		q:         q,
		available: now.Add(q.delay),
	}
	if o.delay != nil {
		m.available = now.Add(time.Duration(*o.delay) * time.Second)
	}
	q.msgs = append(q.msgs, m)
	if q.fifo {
		for k, r := range q.dedup {
			if now.Sub(r.at) >= DeduplicationInterval {
				delete(q.dedup, k)
			}
		}
		q.dedup[key] = dedupRecord{id: m.MessageID, seq: seq, at: now}
	}
	s.notify()
	return m.MessageID, seq
}

// take marks up to max messages of q received, invisible for vis, and
// returns them: on a FIFO queue, in order within each message group and
// never from a group with a message in flight. s.mu must be held.
func (s *Server) take(q *queue, max int, vis time.Duration) []*message {
	now := s.opts.Now()
	var out []*message
	blocked := map[string]bool{}
	for _, m := range q.msgs {
		if len(out) == max {
			break
		}
		ready := !now.Before(m.available) && !now.Before(m.invisible)
		if q.fifo {
			if blocked[m.GroupID] {
				continue
			}
			if !ready {
				blocked[m.GroupID] = true
				continue
			}
		} else if !ready {
			continue
		}
		m.ReceiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.invisible = now.Add(vis)
		out = append(out, m)
	}
	return out
}

// remove deletes m from its queue. s.mu must be held.
func (s *Server) remove(m *message) {
	if m.deleted {
		return
	}
	m.deleted = true
	q := m.q
	for i, x := range q.msgs {
		if x == m {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			break
		}
	}
	s.notify()
}

// counts returns the numbers of messages of q that are visible, in
// flight and delayed. s.mu must be held.
func (s *Server) counts(q *queue) (visible, inFlight, delayed int) {
	now := s.opts.Now()
	for _, m := range q.msgs {
		switch {
		case now.Before(m.available):
			delayed++
		case now.Before(m.invisible):
			inFlight++
		default:
			visible++
		}
	}
	return
}
