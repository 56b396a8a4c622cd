package snsapi

import (
	"encoding/base64"
	"encoding/xml"
	"regexp"
	"sort"
	"strconv"
)

type createTopicResult struct {
	XMLName  xml.Name `xml:"CreateTopicResult"`
	TopicArn string
}

func (c *call) createTopic() (any, *apiError) {
	name := c.form.Get("Name")
	if err := c.callFault(""); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, invalidParameter("Name Reason: cannot be empty")
	}
	attrs := map[string]string{}
	for _, i := range indices(c.form, "Attributes.entry.") {
		p := "Attributes.entry." + strconv.Itoa(i) + "."
		k := c.form.Get(p + "key")
		if k == "" {
			return nil, invalidParameter("Attributes Reason: an attribute has no key")
		}
		attrs[k] = c.form.Get(p + "value")
	}
	t, err := c.s.createTopic(name, attrs)
	if err != nil {
		return nil, err
	}
	return createTopicResult{TopicArn: t.arn}, nil
}

type attributeEntry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type getTopicAttributesResult struct {
	XMLName    xml.Name         `xml:"GetTopicAttributesResult"`
	Attributes []attributeEntry `xml:"Attributes>entry"`
}

func (c *call) getTopicAttributes() (any, *apiError) {
	arn := c.form.Get("TopicArn")
	if err := c.callFault(arn); err != nil {
		return nil, err
	}
	t, err := c.s.lookupARN(arn, "TopicArn")
	if err != nil {
		return nil, err
	}
	all := map[string]string{
		"TopicArn":                t.arn,
		"Owner":                   c.s.opts.AccountID,
		"DisplayName":             "",
		"SubscriptionsConfirmed":  "0",
		"SubscriptionsPending":    "0",
		"SubscriptionsDeleted":    "0",
		"EffectiveDeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`,
	}
	for k, v := range t.attrs {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	res := getTopicAttributesResult{}
	for _, k := range keys {
		res.Attributes = append(res.Attributes, attributeEntry{k, all[k]})
	}
	return res, nil
}

func (c *call) deleteTopic() (any, *apiError) {
	arn := c.form.Get("TopicArn")
	if err := c.callFault(arn); err != nil {
		return nil, err
	}
	t, err := c.s.lookupARN(arn, "TopicArn")
	if err != nil {
		if err.code == "NotFound" {
			return nil, nil // deleting a missing topic succeeds
		}
		return nil, err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.topics[t.name] == t {
		delete(c.s.topics, t.name)
		for i, n := range c.s.order {
			if n == t.name {
				c.s.order = append(c.s.order[:i], c.s.order[i+1:]...)
				break
			}
		}
	}
	return nil, nil
}

type topicMember struct {
	TopicArn string
}

type listTopicsResult struct {
	XMLName   xml.Name      `xml:"ListTopicsResult"`
	Topics    []topicMember `xml:"Topics>member"`
	NextToken string        `xml:",omitempty"`
}

func (c *call) listTopics() (any, *apiError) {
	if err := c.callFault(""); err != nil {
		return nil, err
	}
	start := 0
	if tok := c.form.Get("NextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return nil, invalidParameter("NextToken")
		}
		start = n
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	res := listTopicsResult{}
	for i := start; i < len(c.s.order) && i < start+listPage; i++ {
		res.Topics = append(res.Topics, topicMember{c.s.topics[c.s.order[i]].arn})
	}
	if start+listPage < len(c.s.order) {
		res.NextToken = strconv.Itoa(start + listPage)
	}
	return res, nil
}

type publishResult struct {
	XMLName        xml.Name `xml:"PublishResult"`
	MessageId      string
	SequenceNumber string `xml:",omitempty"`
}

// publishTarget returns the topic ARN a Publish addresses and the
// parameter that named it.
func (c *call) publishTarget() (arn, param string, err *apiError) {
	topicArn, targetArn, phone := value(c.form, "TopicArn"), value(c.form, "TargetArn"), value(c.form, "PhoneNumber")
	switch {
	case phone != nil:
		return "", "", invalidParameter("PhoneNumber Reason: this endpoint publishes to topics only")
	case topicArn != nil && targetArn != nil:
		return "", "", invalidParameter("TopicArn or TargetArn Reason: Only one of them may be specified")
	case topicArn != nil:
		return *topicArn, "TopicArn", nil
	case targetArn != nil:
		return *targetArn, "TargetArn", nil
	}
	return "", "", invalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
}

func (c *call) publish() (any, *apiError) {
	arn, param, perr := c.publishTarget()
	if err := c.callFault(arn); err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	t, err := c.s.lookupARN(arn, param)
	if err != nil {
		return nil, err
	}
	o, err := t.checkMessage(c.form, "")
	if err != nil {
		return nil, err
	}
	var failure *apiError
	if f := c.s.fault(c.op, 0, o.entry(t, "")); f != nil && f.Code != "" {
		failure = f.asError()
		if !failure.commit {
			return nil, failure
		}
	}
	c.s.mu.Lock()
	id, seq := c.s.record(t, o)
	c.s.mu.Unlock()
	if failure != nil {
		return nil, failure
	}
	return publishResult{MessageId: id, SequenceNumber: seq}, nil
}

type batchResultEntry struct {
	Id             string
	MessageId      string
	SequenceNumber string `xml:",omitempty"`
}

type batchResultErrorEntry struct {
	Id          string
	Code        string
	Message     string `xml:",omitempty"`
	SenderFault bool
}

type publishBatchResult struct {
	XMLName    xml.Name                `xml:"PublishBatchResult"`
	Successful []batchResultEntry      `xml:"Successful>member"`
	Failed     []batchResultErrorEntry `xml:"Failed>member"`
}

var batchIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// rawSize is a batch entry's size as SNS counts it (message and
// attribute names, types and values), before any validation.
func (c *call) rawSize(prefix string) int {
	n := len(c.form.Get(prefix + "Message"))
	for _, i := range indices(c.form, prefix+"MessageAttributes.entry.") {
		p := prefix + "MessageAttributes.entry." + strconv.Itoa(i) + "."
		n += len(c.form.Get(p+"Name")) + len(c.form.Get(p+"Value.DataType")) + len(c.form.Get(p+"Value.StringValue"))
		if b := c.form.Get(p + "Value.BinaryValue"); b != "" {
			n += base64.StdEncoding.DecodedLen(len(b))
		}
	}
	return n
}

func (c *call) publishBatch() (any, *apiError) {
	arn := c.form.Get("TopicArn")
	if err := c.callFault(arn); err != nil {
		return nil, err
	}
	t, err := c.s.lookupARN(arn, "TopicArn")
	if err != nil {
		return nil, err
	}
	const list = "PublishBatchRequestEntries.member."
	idx := indices(c.form, list)
	if len(idx) == 0 {
		return nil, newError("EmptyBatchRequest", 0, true, "The batch request doesn't contain any entries.")
	}
	if len(idx) > MaxBatchEntries {
		return nil, newError("TooManyEntriesInBatchRequest", 0, true, "The batch request contains more entries than permissible.")
	}
	prefixes := make([]string, len(idx))
	ids := make([]string, len(idx))
	seen := map[string]bool{}
	total := 0
	for k, i := range idx {
		prefixes[k] = list + strconv.Itoa(i) + "."
		ids[k] = c.form.Get(prefixes[k] + "Id")
		if !batchIDRE.MatchString(ids[k]) {
			return nil, newError("InvalidBatchEntryId", 0, true, "The Id of a batch entry in a batch request doesn't abide by the specification.")
		}
		if seen[ids[k]] {
			return nil, newError("BatchEntryIdsNotDistinct", 0, true, "Two or more batch entries in the request have the same Id.")
		}
		seen[ids[k]] = true
		total += c.rawSize(prefixes[k])
	}
	if total > t.maxSize {
		return nil, newError("BatchRequestTooLong", 0, true, "The length of all the messages put together is more than the limit.")
	}

	type pending struct {
		o       *outgoing
		failure *apiError
	}
	todo := make([]pending, len(idx))
	for k := range idx {
		o, err := t.checkMessage(c.form, prefixes[k])
		if err != nil {
			todo[k].failure = err
			continue
		}
		todo[k].o = o
		if f := c.s.fault(c.op, k, o.entry(t, ids[k])); f != nil && f.Code != "" {
			todo[k].failure = f.asError()
			if !todo[k].failure.commit {
				todo[k].o = nil
			}
		}
	}
	res := publishBatchResult{}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for k, p := range todo {
		var id, seq string
		if p.o != nil {
			id, seq = c.s.record(t, p.o)
		}
		if p.failure != nil {
			res.Failed = append(res.Failed, batchResultErrorEntry{Id: ids[k], Code: p.failure.code, Message: p.failure.msg, SenderFault: p.failure.sender})
			continue
		}
		res.Successful = append(res.Successful, batchResultEntry{Id: ids[k], MessageId: id, SequenceNumber: seq})
	}
	return res, nil
}
