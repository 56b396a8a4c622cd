package sqsapi

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/penstock-dev/penstock/internal/uuid"
)

// Request and response shapes of the JSON protocol; member names are the
// model's.

type createQueueInput struct {
	QueueName  string
	Attributes map[string]string
}

type queueURLOutput struct {
	QueueUrl string
}

func (c *call) createQueue(body []byte) (any, *apiError) {
	var in createQueueInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(in.QueueName); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, missingParameter("QueueName")
	}
	q, err := c.s.createQueue(in.QueueName, in.Attributes)
	if err != nil {
		return nil, err
	}
	return queueURLOutput{q.url}, nil
}

type getQueueURLInput struct {
	QueueName              string
	QueueOwnerAWSAccountId string
}

func (c *call) getQueueURL(body []byte) (any, *apiError) {
	var in getQueueURLInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(in.QueueName); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, missingParameter("QueueName")
	}
	c.s.mu.Lock()
	q := c.s.queues[in.QueueName]
	c.s.mu.Unlock()
	if q == nil || (in.QueueOwnerAWSAccountId != "" && in.QueueOwnerAWSAccountId != c.s.opts.AccountID) {
		return nil, queueDoesNotExist()
	}
	return queueURLOutput{q.url}, nil
}

type getQueueAttributesInput struct {
	QueueUrl       string
	AttributeNames []string
}

type getQueueAttributesOutput struct {
	Attributes map[string]string `json:",omitempty"`
}

// computedQueueAttrs are the read-only attributes GetQueueAttributes
// answers besides the settable ones.
var computedQueueAttrs = []string{
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
	"CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
}

func (c *call) getQueueAttributes(body []byte) (any, *apiError) {
	var in getQueueAttributesInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(queueName(in.QueueUrl)); err != nil {
		return nil, err
	}
	q, err := c.s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	c.s.mu.Lock()
	visible, inFlight, delayed := c.s.counts(q)
	c.s.mu.Unlock()
	all := map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"CreatedTimestamp":                      strconv.FormatInt(q.created.Unix(), 10),
		"LastModifiedTimestamp":                 strconv.FormatInt(q.created.Unix(), 10),
		"QueueArn":                              q.arn,
	}
	for k, v := range q.attrs {
		all[k] = v
	}
	rules := c.s.queueAttrRules()
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			for k, v := range all {
				out[k] = v
			}
			continue
		}
		v, ok := all[n]
		if !ok {
			if r, known := rules[n]; !known || !r.fifoOnly {
				return nil, newError("InvalidAttributeName", 0, true, "Unknown Attribute %s.", n)
			}
			continue
		}
		out[n] = v
	}
	return getQueueAttributesOutput{out}, nil
}

type sendMessageInput struct {
	QueueUrl                string
	MessageBody             *string
	DelaySeconds            *int
	MessageAttributes       map[string]attrValue
	MessageSystemAttributes map[string]attrValue
	MessageDeduplicationId  *string
	MessageGroupId          *string
}

type sendMessageOutput struct {
	MessageId                    string
	MD5OfMessageBody             string
	MD5OfMessageAttributes       string `json:",omitempty"`
	MD5OfMessageSystemAttributes string `json:",omitempty"`
	SequenceNumber               string `json:",omitempty"`
}

func (c *call) sendMessage(body []byte) (any, *apiError) {
	var in sendMessageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(queueName(in.QueueUrl)); err != nil {
		return nil, err
	}
	q, err := c.s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	o, err := q.checkMessage(in.MessageBody, in.DelaySeconds, in.MessageAttributes, in.MessageSystemAttributes,
		in.MessageGroupId, in.MessageDeduplicationId)
	if err != nil {
		return nil, err
	}
	var failure *apiError
	if f := c.s.fault(c.op, 0, o.entry(q, "")); f != nil && f.Code != "" {
		failure = f.asError()
		if !failure.commit {
			return nil, failure
		}
	}
	c.s.mu.Lock()
	id, seq := c.s.store(q, o)
	c.s.mu.Unlock()
	if failure != nil {
		return nil, failure
	}
	return sendMessageOutput{
		MessageId:                    id,
		MD5OfMessageBody:             md5Hex(o.body),
		MD5OfMessageAttributes:       MD5OfAttributes(o.attrs),
		MD5OfMessageSystemAttributes: MD5OfAttributes(o.sys),
		SequenceNumber:               seq,
	}, nil
}

type sendMessageBatchInput struct {
	QueueUrl string
	Entries  []sendMessageBatchEntry
}

type sendMessageBatchEntry struct {
	Id                      string
	MessageBody             *string
	DelaySeconds            *int
	MessageAttributes       map[string]attrValue
	MessageSystemAttributes map[string]attrValue
	MessageDeduplicationId  *string
	MessageGroupId          *string
}

type sendMessageBatchResultEntry struct {
	Id string
	sendMessageOutput
}

type batchResultErrorEntry struct {
	Id          string
	SenderFault bool
	Code        string
	Message     string `json:",omitempty"`
}

type sendMessageBatchOutput struct {
	Successful []sendMessageBatchResultEntry
	Failed     []batchResultErrorEntry
}

var batchIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkBatch applies the rules common to batch requests: at least one
// and at most MaxBatchEntries entries, with well-formed distinct ids.
func checkBatch(ids []string, entryShape string) *apiError {
	if len(ids) == 0 {
		return newError("EmptyBatchRequest", 0, true, "There should be at least one %s in the request.", entryShape)
	}
	if len(ids) > MaxBatchEntries {
		return newError("TooManyEntriesInBatchRequest", 0, true, "Maximum number of entries per request are %d. You have sent %d.", MaxBatchEntries, len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDRE.MatchString(id) {
			return newError("InvalidBatchEntryId", 0, true, "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return newError("BatchEntryIdsNotDistinct", 0, true, "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

// rawSize is a message's size as SQS counts it (body and attribute
// names, types and values), before any validation.
func rawSize(body *string, attrs map[string]attrValue) int {
	n := 0
	if body != nil {
		n += len(*body)
	}
	for k, v := range attrs {
		n += len(k)
		if v.DataType != nil {
			n += len(*v.DataType)
		}
		if v.StringValue != nil {
			n += len(*v.StringValue)
		}
		n += len(v.BinaryValue)
	}
	return n
}

func failedEntry(id string, e *apiError) batchResultErrorEntry {
	return batchResultErrorEntry{Id: id, SenderFault: e.sender, Code: e.query, Message: e.msg}
}

func (c *call) sendMessageBatch(body []byte) (any, *apiError) {
	var in sendMessageBatchInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(queueName(in.QueueUrl)); err != nil {
		return nil, err
	}
	q, err := c.s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = e.Id
		total += rawSize(e.MessageBody, e.MessageAttributes)
	}
	if err := checkBatch(ids, "SendMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	if total > c.s.opts.MaxBatchSize {
		return nil, newError("BatchRequestTooLong", 0, true, "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", c.s.opts.MaxBatchSize, total)
	}

	// Validate, then consult the faults, then store in request order.
	type pending struct {
		o       *outgoing
		failure *apiError
	}
	out := sendMessageBatchOutput{Successful: []sendMessageBatchResultEntry{}, Failed: []batchResultErrorEntry{}}
	todo := make([]pending, len(in.Entries))
	for i, e := range in.Entries {
		o, err := q.checkMessage(e.MessageBody, e.DelaySeconds, e.MessageAttributes, e.MessageSystemAttributes,
			e.MessageGroupId, e.MessageDeduplicationId)
		if err != nil {
			todo[i].failure = err
			continue
		}
		todo[i].o = o
		if f := c.s.fault(c.op, i, o.entry(q, e.Id)); f != nil && f.Code != "" {
			todo[i].failure = f.asError()
			if !todo[i].failure.commit {
				todo[i].o = nil
			}
		}
	}
	c.s.mu.Lock()
	for i, e := range in.Entries {
		p := todo[i]
		var id, seq string
		if p.o != nil {
			id, seq = c.s.store(q, p.o)
		}
		if p.failure != nil {
			out.Failed = append(out.Failed, failedEntry(e.Id, p.failure))
			continue
		}
		out.Successful = append(out.Successful, sendMessageBatchResultEntry{Id: e.Id, sendMessageOutput: sendMessageOutput{
			MessageId:                    id,
			MD5OfMessageBody:             md5Hex(p.o.body),
			MD5OfMessageAttributes:       MD5OfAttributes(p.o.attrs),
			MD5OfMessageSystemAttributes: MD5OfAttributes(p.o.sys),
			SequenceNumber:               seq,
		}})
	}
	c.s.mu.Unlock()
	return out, nil
}

type receiveMessageInput struct {
	QueueUrl                    string
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	MaxNumberOfMessages         *int
	VisibilityTimeout           *int
	WaitTimeSeconds             *int
	ReceiveRequestAttemptId     *string
}

type receivedMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string   `json:",omitempty"`
	MD5OfMessageAttributes string              `json:",omitempty"`
	MessageAttributes      map[string]wireAttr `json:",omitempty"`
}

type receiveMessageOutput struct {
	Messages []receivedMessage `json:",omitempty"`
}

// pollInterval bounds how long a long poll sleeps before looking again
// for messages that became visible with time.
const pollInterval = 20 * time.Millisecond

func (c *call) receiveMessage(body []byte) (any, *apiError) {
	var in receiveMessageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(queueName(in.QueueUrl)); err != nil {
		return nil, err
	}
	q, err := c.s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
		if max < 1 || max > MaxBatchEntries {
			return nil, invalidParameterValue("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
		}
	}
	vis := q.visibility
	if in.VisibilityTimeout != nil {
		v := *in.VisibilityTimeout
		if v < 0 || v > 43200 {
			return nil, invalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", v)
		}
		vis = time.Duration(v) * time.Second
	}
	wait := q.wait
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
		if wait < 0 || wait > 20 {
			return nil, invalidParameterValue("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", wait)
		}
	}

	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	var out receiveMessageOutput
	for {
		c.s.mu.Lock()
		msgs := c.s.take(q, max, vis)
		for _, m := range msgs {
			h := receiptHandle()
			c.s.handles[h] = m
			out.Messages = append(out.Messages, c.s.received(m, h, in))
		}
		changed := c.s.changed
		c.s.mu.Unlock()
		left := time.Until(deadline)
		if len(msgs) > 0 || left <= 0 {
			return out, nil
		}
		t := time.NewTimer(min(left, pollInterval))
		select {
		case <-changed:
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return nil, errAborted
		}
		t.Stop()
	}
}

// receiptHandle makes a new receipt handle.
func receiptHandle() string {
	return strings.ReplaceAll(uuid.New()+uuid.New(), "-", "")
}

// received renders m for a ReceiveMessage answer. s.mu must be held.
func (s *Server) received(m *message, handle string, in receiveMessageInput) receivedMessage {
	r := receivedMessage{MessageId: m.MessageID, ReceiptHandle: handle, MD5OfBody: md5Hex(m.Body), Body: m.Body}

	want := map[string]bool{}
	for _, n := range append(append([]string(nil), in.AttributeNames...), in.MessageSystemAttributeNames...) {
		want[n] = true
	}
	sys := map[string]string{
		"SenderId":                         s.opts.AccessKeyID,
		"SentTimestamp":                    strconv.FormatInt(m.SentAt.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
	}
	if m.GroupID != "" {
		sys["MessageGroupId"] = m.GroupID
	}
	if m.q.fifo {
		sys["MessageDeduplicationId"] = m.DeduplicationID
		sys["SequenceNumber"] = m.SequenceNumber
	}
	if t, ok := m.SystemAttributes["AWSTraceHeader"]; ok {
		sys["AWSTraceHeader"] = t.StringValue
	}
	for k, v := range sys {
		if want["All"] || want[k] {
			if r.Attributes == nil {
				r.Attributes = map[string]string{}
			}
			r.Attributes[k] = v
		}
	}

	attrs := map[string]Attribute{}
	for name, a := range m.Attributes {
		if attrWanted(name, in.MessageAttributeNames) {
			attrs[name] = a
		}
	}
	if len(attrs) > 0 {
		r.MessageAttributes = toWire(attrs)
		r.MD5OfMessageAttributes = MD5OfAttributes(attrs)
	}
	return r
}

// attrWanted reports whether MessageAttributeNames asks for the attribute
// name: "All" or ".*" ask for every one, "prefix.*" for those starting
// with "prefix.", any other entry for the attribute of that name.
func attrWanted(name string, wanted []string) bool {
	for _, w := range wanted {
		switch {
		case w == "All" || w == ".*":
			return true
		case strings.HasSuffix(w, ".*"):
			if strings.HasPrefix(name, strings.TrimSuffix(w, "*")) {
				return true
			}
		case w == name:
			return true
		}
	}
	return false
}

type deleteMessageInput struct {
	QueueUrl      string
	ReceiptHandle string
}

// deleteByHandle deletes the message a receipt handle of q names. s.mu
// must be held. A handle this endpoint gave for q is valid even after the
// message is gone, as with SQS.
func (s *Server) deleteByHandle(q *queue, h string) *apiError {
	m := s.handles[h]
	if m == nil || m.q != q {
		return newError("ReceiptHandleIsInvalid", 0, true, "The input receipt handle \"%s\" is not a valid receipt handle.", h)
	}
	s.remove(m)
	return nil
}

func (c *call) deleteMessage(body []byte) (any, *apiError) {
	var in deleteMessageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(queueName(in.QueueUrl)); err != nil {
		return nil, err
	}
	q, err := c.s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if in.ReceiptHandle == "" {
		return nil, missingParameter("ReceiptHandle")
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if err := c.s.deleteByHandle(q, in.ReceiptHandle); err != nil {
		return nil, err
	}
	return nil, nil
}

type deleteMessageBatchInput struct {
	QueueUrl string
	Entries  []struct {
		Id            string
		ReceiptHandle string
	}
}

type idEntry struct {
	Id string
}

type deleteMessageBatchOutput struct {
	Successful []idEntry
	Failed     []batchResultErrorEntry
}

func (c *call) deleteMessageBatch(body []byte) (any, *apiError) {
	var in deleteMessageBatchInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(queueName(in.QueueUrl)); err != nil {
		return nil, err
	}
	q, err := c.s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatch(ids, "DeleteMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	failures := make([]*apiError, len(in.Entries))
	for i, e := range in.Entries {
		if e.ReceiptHandle == "" {
			failures[i] = missingParameter("ReceiptHandle")
			continue
		}
		if f := c.s.fault(c.op, i, &Entry{Queue: q.name, ID: e.Id, ReceiptHandle: e.ReceiptHandle}); f != nil && f.Code != "" {
			failures[i] = f.asError()
		}
	}
	out := deleteMessageBatchOutput{Successful: []idEntry{}, Failed: []batchResultErrorEntry{}}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for i, e := range in.Entries {
		f := failures[i]
		if f == nil || f.commit {
			if err := c.s.deleteByHandle(q, e.ReceiptHandle); err != nil && f == nil {
				f = err
			}
		}
		if f != nil {
			out.Failed = append(out.Failed, failedEntry(e.Id, f))
			continue
		}
		out.Successful = append(out.Successful, idEntry{e.Id})
	}
	return out, nil
}

type purgeQueueInput struct {
	QueueUrl string
}

func (c *call) purgeQueue(body []byte) (any, *apiError) {
	var in purgeQueueInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := c.callFault(queueName(in.QueueUrl)); err != nil {
		return nil, err
	}
	q, err := c.s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, m := range q.msgs {
		m.deleted = true
	}
	q.msgs = nil
	c.s.notify()
	return nil, nil
}
