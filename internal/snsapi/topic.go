package snsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/penstock-dev/penstock/internal/uuid"
)

// topic is a topic's settings and messages. The settings do not change
// after creation; the messages are guarded by Server.mu.
type topic struct {
	name, arn    string
	attrs        map[string]string
	fifo         bool
	contentDedup bool
	groupScope   bool
	maxSize      int

	msgs  []Message
	dedup map[string]dedupRecord
	seq   uint64
}

type dedupRecord struct {
	id, seq string
	at      time.Time
}

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// topicName returns the name of a topic ARN or name.
func topicName(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// topicAttrRule validates a settable topic attribute; a nil check accepts
// any string.
type topicAttrRule struct {
	fifoOnly bool
	check    func(string) bool
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

func intRange(lo, hi int) func(string) bool {
	return func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}
}

var topicAttrRules = func() map[string]topicAttrRule {
	r := map[string]topicAttrRule{
		"DeliveryPolicy":            {},
		"DisplayName":               {},
		"Policy":                    {},
		"KmsMasterKeyId":            {},
		"DataProtectionPolicy":      {},
		"SignatureVersion":          {check: oneOf("1", "2")},
		"TracingConfig":             {check: oneOf("PassThrough", "Active")},
		"MaximumMessageSize":        {check: intRange(1024, MaxMessageSizeLimit)},
		"FifoTopic":                 {check: oneOf("true", "false")},
		"ArchivePolicy":             {fifoOnly: true},
		"ContentBasedDeduplication": {fifoOnly: true, check: oneOf("true", "false")},
		"FifoThroughputScope":       {fifoOnly: true, check: oneOf("Topic", "MessageGroup")},
	}
	for _, p := range []string{"HTTP", "Firehose", "Lambda", "Application", "SQS"} {
		r[p+"SuccessFeedbackRoleArn"] = topicAttrRule{}
		r[p+"SuccessFeedbackSampleRate"] = topicAttrRule{check: intRange(0, 100)}
		r[p+"FailureFeedbackRoleArn"] = topicAttrRule{}
	}
	return r
}()

// createTopic validates a CreateTopic and creates the topic, or returns
// the existing one when the attributes given match it.
func (s *Server) createTopic(name string, attrs map[string]string) (*topic, *apiError) {
	fifo := attrs["FifoTopic"] == "true"
	base, isFifoName := strings.CutSuffix(name, ".fifo")
	if !topicNameRE.MatchString(base) || len(name) > 256 {
		return nil, invalidParameter("Topic Name")
	}
	if fifo != isFifoName {
		return nil, invalidParameter("Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
	}
	for k, v := range attrs {
		r, ok := topicAttrRules[k]
		if !ok {
			return nil, invalidParameter("Attributes Reason: Unknown attribute %s", k)
		}
		if r.fifoOnly && !fifo {
			return nil, invalidParameter("Attributes Reason: %s is only valid for FIFO topics", k)
		}
		if r.check != nil && !r.check(v) {
			return nil, invalidParameter("Attributes Reason: Invalid value %s for attribute %s", v, k)
		}
	}
	eff := map[string]string{"MaximumMessageSize": strconv.Itoa(s.opts.MaxMessageSize)}
	if fifo {
		eff["FifoTopic"] = "true"
		eff["ContentBasedDeduplication"] = "false"
		eff["FifoThroughputScope"] = "Topic"
	}
	for k, v := range attrs {
		eff[k] = v
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.topics[name]; t != nil {
		for k, v := range attrs {
			if t.attrs[k] != v && !(k == "FifoTopic" && v == "false" && !t.fifo) {
				return nil, invalidParameter("Attributes Reason: Topic already exists with different attributes")
			}
		}
		return t, nil
	}
	maxSize, _ := strconv.Atoi(eff["MaximumMessageSize"])
	t := &topic{
		name:         name,
		arn:          s.TopicARN(name),
		attrs:        eff,
		fifo:         fifo,
		contentDedup: eff["ContentBasedDeduplication"] == "true",
		groupScope:   eff["FifoThroughputScope"] == "MessageGroup",
		maxSize:      maxSize,
		dedup:        map[string]dedupRecord{},
	}
	s.topics[name] = t
	s.order = append(s.order, name)
	return t, nil
}

// lookupARN finds the topic an ARN names.
func (s *Server) lookupARN(arn, param string) (*topic, *apiError) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5] == "" {
		return nil, invalidParameter("%s", param)
	}
	s.mu.Lock()
	t := s.topics[parts[5]]
	s.mu.Unlock()
	if t == nil || parts[3] != s.opts.Region || parts[4] != s.opts.AccountID {
		return nil, notFound()
	}
	return t, nil
}

// outgoing is a validated message about to be recorded.
type outgoing struct {
	msg       string
	subject   string
	structure string
	attrs     map[string]Attribute
	group     string
	dedup     string
	size      int
}

var tokenRE = regexp.MustCompile("^[A-Za-z0-9!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]{1,128}$")

// checkMessage reads the message under prefix ("" for Publish,
// "PublishBatchRequestEntries.member.N." for a batch entry) and applies
// SNS's rules for t to it.
func (t *topic) checkMessage(form url.Values, prefix string) (*outgoing, *apiError) {
	msg := value(form, prefix+"Message")
	if msg == nil || *msg == "" {
		return nil, invalidParameter("Empty message")
	}
	if !utf8.ValidString(*msg) {
		return nil, invalidParameter("Message Reason: the message is not valid UTF-8")
	}
	o := &outgoing{msg: *msg}
	attrs, n, err := parseAttributes(form, prefix)
	if err != nil {
		return nil, err
	}
	o.attrs = attrs
	o.size = len(*msg) + n
	if o.size > t.maxSize {
		return nil, invalidParameter("Message too long")
	}
	if subj := value(form, prefix+"Subject"); subj != nil {
		if !validSubject(*subj) {
			return nil, invalidParameter("Subject")
		}
		o.subject = *subj
	}
	if st := value(form, prefix+"MessageStructure"); st != nil {
		if *st != "json" {
			return nil, invalidParameter("MessageStructure")
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(*msg), &doc); err != nil {
			return nil, invalidParameter("Message Structure - JSON message body failed to parse")
		}
		var def string
		if raw, ok := doc["default"]; !ok || json.Unmarshal(raw, &def) != nil {
			return nil, invalidParameter("Message Structure - No default entry in JSON message body")
		}
		o.structure = *st
	}
	if g := value(form, prefix+"MessageGroupId"); g != nil {
		if !tokenRE.MatchString(*g) {
			return nil, invalidParameter("MessageGroupId Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
		o.group = *g
	} else if t.fifo {
		return nil, invalidParameter("The MessageGroupId parameter is required for FIFO topics")
	}
	if d := value(form, prefix+"MessageDeduplicationId"); d != nil {
		if !t.fifo {
			return nil, invalidParameter("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
		}
		if !tokenRE.MatchString(*d) {
			return nil, invalidParameter("MessageDeduplicationId Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
		o.dedup = *d
	} else if t.fifo && !t.contentDedup {
		return nil, invalidParameter("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	return o, nil
}

// validSubject applies SNS's rule for subjects: UTF-8 text with no line
// breaks or control characters, less than 100 characters long.
func validSubject(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) >= 100 {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func (o *outgoing) entry(t *topic, id string) *Entry {
	return &Entry{Topic: t.arn, ID: id, Message: o.msg, Subject: o.subject, MessageStructure: o.structure,
		Attributes: cloneAttrs(o.attrs), GroupID: o.group, DeduplicationID: o.dedup}
}

// record adds o to t's messages, unless it duplicates a message of the
// last DeduplicationInterval: it returns the message id and sequence
// number of the message recorded or duplicated. s.mu must be held.
func (s *Server) record(t *topic, o *outgoing) (id, seq string) {
	now := s.opts.Now()
	dedup := o.dedup
	var key string
	if t.fifo {
		if dedup == "" {
			sum := sha256.Sum256([]byte(o.msg))
			dedup = hex.EncodeToString(sum[:])
		}
		key = dedup
		if t.groupScope {
			key = o.group + "\x00" + dedup
		}
		if r, ok := t.dedup[key]; ok && now.Sub(r.at) < DeduplicationInterval {
			return r.id, r.seq
		}
		t.seq++
		seq = fmt.Sprintf("1%019d", t.seq)
		for k, r := range t.dedup {
			if now.Sub(r.at) >= DeduplicationInterval {
				delete(t.dedup, k)
			}
		}
	}
	m := Message{
		MessageID:        uuid.New(),
		Message:          o.msg,
		Subject:          o.subject,
		MessageStructure: o.structure,
		Attributes:       cloneAttrs(o.attrs),
		GroupID:          o.group,
		DeduplicationID:  dedup,
		SequenceNumber:   seq,
		PublishedAt:      now,
	}
	t.msgs = append(t.msgs, m)
	if t.fifo {
		t.dedup[key] = dedupRecord{id: m.MessageID, seq: seq, at: now}
	}
	return m.MessageID, seq
}
