package sqsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

const (
	testRegion = "eu-west-1"
	testKey    = "AKIDLOCAL"
	testSecret = "local-secret"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Region, opts.AccessKeyID, opts.SecretAccessKey = testRegion, testKey, testSecret
	srv, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func client(srv *Server, secret string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, secret, ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
}

func mustQueue(t *testing.T, srv *Server, name string, attrs map[string]string) string {
	t.Helper()
	u, err := srv.CreateQueue(name, attrs)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fakeClock is a settable Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func asAPIError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an API error", err, err)
	}
	return ae
}

func str(v string) *string { return &v }

func TestMD5OfAttributesKnownDigests(t *testing.T) {
	cases := []struct {
		attrs map[string]Attribute
		want  string
	}{
		{map[string]Attribute{"SellerName": {DataType: "String", StringValue: "Example Store"}}, "cd28f3b68aeee4b2eac9c66f2f694b58"},
		{map[string]Attribute{
			"test_attribute_name_2": {DataType: "String", StringValue: "test_attribute_value_2"},
			"test_attribute_name_1": {DataType: "String", StringValue: "test_attribute_value_1"},
		}, "d53f3b558fe951154770f25cb63dbba9"},
		{map[string]Attribute{"test_attribute_name": {DataType: "Binary", BinaryValue: []byte("test_attribute_value")}}, "23f6bd27ea87aab7dfeadcc9aebee495"},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := MD5OfAttributes(tc.attrs); got != tc.want {
			t.Errorf("MD5OfAttributes(%v) = %s, want %s", tc.attrs, got, tc.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()

	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	qurl := aws.ToString(cq.QueueUrl)
	if want := srv.URL() + "/000000000000/orders"; qurl != want {
		t.Errorf("queue URL %s, want %s", qurl, want)
	}
	gu, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil || aws.ToString(gu.QueueUrl) != qurl {
		t.Fatalf("GetQueueUrl %v %v", gu, err)
	}

	attrs := map[string]types.MessageAttributeValue{
		"kind":    {DataType: aws.String("String"), StringValue: aws.String("créé")},
		"n":       {DataType: aws.String("Number"), StringValue: aws.String("-12.5e3")},
		"blob":    {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		"labeled": {DataType: aws.String("String.json"), StringValue: aws.String(`{"a":1}`)},
	}
	body := `{"key":"k1","value":"héllo 😀"}`
	out, err := c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(qurl),
		MessageBody:       aws.String(body),
		MessageAttributes: attrs,
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-5759e988-bd862e3fe1be46a994272793")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Attribute{
		"kind":    {DataType: "String", StringValue: "créé"},
		"n":       {DataType: "Number", StringValue: "-12.5e3"},
		"blob":    {DataType: "Binary", BinaryValue: []byte{0, 1, 2, 255}},
		"labeled": {DataType: "String.json", StringValue: `{"a":1}`},
	}
	if got := aws.ToString(out.MD5OfMessageAttributes); got != MD5OfAttributes(want) || got == "" {
		t.Errorf("MD5OfMessageAttributes %s, want %s", got, MD5OfAttributes(want))
	}
	if out.MD5OfMessageSystemAttributes == nil || out.SequenceNumber != nil {
		t.Errorf("MD5OfMessageSystemAttributes %v, SequenceNumber %v", out.MD5OfMessageSystemAttributes, out.SequenceNumber)
	}
	if id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); id == "" {
		t.Error("no request id")
	}

	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(qurl),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if ga.Attributes["ApproximateNumberOfMessages"] != "1" || ga.Attributes["QueueArn"] != "arn:aws:sqs:eu-west-1:000000000000:orders" {
		t.Errorf("attributes %v", ga.Attributes)
	}

	rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(qurl),
		MaxNumberOfMessages:         10,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Messages) != 1 {
		t.Fatalf("received %d messages", len(rm.Messages))
	}
	m := rm.Messages[0]
	if aws.ToString(m.Body) != body || aws.ToString(m.MessageId) != aws.ToString(out.MessageId) {
		t.Errorf("received %+v", m)
	}
	if aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(out.MD5OfMessageAttributes) {
		t.Errorf("received MD5OfMessageAttributes %s, sent %s", aws.ToString(m.MD5OfMessageAttributes), aws.ToString(out.MD5OfMessageAttributes))
	}
	if len(m.MessageAttributes) != 4 || string(m.MessageAttributes["blob"].BinaryValue) != "\x00\x01\x02\xff" ||
		aws.ToString(m.MessageAttributes["n"].StringValue) != "-12.5e3" || aws.ToString(m.MessageAttributes["labeled"].DataType) != "String.json" {
		t.Errorf("message attributes %+v", m.MessageAttributes)
	}
	if m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["SenderId"] != testKey || m.Attributes["SentTimestamp"] == "" ||
		m.Attributes["AWSTraceHeader"] != "Root=1-5759e988-bd862e3fe1be46a994272793" {
		t.Errorf("system attributes %v", m.Attributes)
	}

	// Only the attributes asked for come back, with the digest of those.
	if _, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl)}); err != nil {
		t.Fatal(err)
	}

	stored := srv.Messages("orders")
	if len(stored) != 1 || stored[0].Body != body || stored[0].ReceiveCount != 1 || stored[0].SystemAttributes["AWSTraceHeader"].StringValue == "" {
		t.Fatalf("stored %+v", stored)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(qurl), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages(qurl)); n != 0 {
		t.Errorf("%d messages left after delete", n)
	}
	if srv.Requests("SendMessage") != 1 || srv.Requests("ReceiveMessage") != 2 || srv.SignatureFailures() != 0 {
		t.Errorf("requests: send %d receive %d, signature failures %d", srv.Requests("SendMessage"), srv.Requests("ReceiveMessage"), srv.SignatureFailures())
	}
}

func TestReceiveAttributeFilter(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := mustQueue(t, srv, "q", nil)
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qurl), MessageBody: aws.String("x"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"trace.id":   {DataType: aws.String("String"), StringValue: aws.String("1")},
			"trace.span": {DataType: aws.String("String"), StringValue: aws.String("2")},
			"other":      {DataType: aws.String("String"), StringValue: aws.String("3")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), MessageAttributeNames: []string{"trace.*"}})
	if err != nil {
		t.Fatal(err)
	}
	m := rm.Messages[0]
	want := map[string]Attribute{"trace.id": {DataType: "String", StringValue: "1"}, "trace.span": {DataType: "String", StringValue: "2"}}
	if len(m.MessageAttributes) != 2 || aws.ToString(m.MD5OfMessageAttributes) != MD5OfAttributes(want) || m.Attributes != nil {
		t.Errorf("got attributes %v digest %s system %v", m.MessageAttributes, aws.ToString(m.MD5OfMessageAttributes), m.Attributes)
	}
}

func entries(n int, size int) []types.SendMessageBatchRequestEntry {
	out := make([]types.SendMessageBatchRequestEntry, n)
	for i := range out {
		out[i] = types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprintf("e%d", i)), MessageBody: aws.String(strings.Repeat("x", size))}
	}
	return out
}

func TestBatchLimits(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := aws.String(mustQueue(t, srv, "q", nil))

	_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: entries(11, 1)})
	var tooMany *types.TooManyEntriesInBatchRequest
	if !errors.As(err, &tooMany) || tooMany.ErrorCode() != "AWS.SimpleQueueService.TooManyEntriesInBatchRequest" ||
		tooMany.ErrorMessage() != "Maximum number of entries per request are 10. You have sent 11." {
		t.Errorf("11 entries: %v", err)
	}

	dup := entries(3, 1)
	dup[2].Id = aws.String("e0")
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: dup})
	var notDistinct *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &notDistinct) || notDistinct.ErrorCode() != "AWS.SimpleQueueService.BatchEntryIdsNotDistinct" {
		t.Errorf("repeated id: %v", err)
	}

	bad := entries(2, 1)
	bad[1].Id = aws.String("no spaces")
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: bad})
	var badID *types.InvalidBatchEntryId
	if !errors.As(err, &badID) {
		t.Errorf("invalid id: %v", err)
	}

	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: []types.SendMessageBatchRequestEntry{}})
	var empty *types.EmptyBatchRequest
	if !errors.As(err, &empty) {
		t.Errorf("no entries: %v", err)
	}

	// 1 MiB in all is the limit: ten entries of 104857 bytes and 6 more
	// pass, one byte more does not.
	ok := entries(10, DefaultMaxBatchSize/10)
	ok[0].MessageBody = aws.String(strings.Repeat("x", DefaultMaxBatchSize/10+DefaultMaxBatchSize%10))
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: ok})
	if err != nil || len(out.Successful) != 10 || len(out.Failed) != 0 {
		t.Fatalf("exactly 1 MiB: %v %+v", err, out)
	}
	ok[1].MessageBody = aws.String(*ok[1].MessageBody + "y")
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: ok})
	var tooLong *types.BatchRequestTooLong
	if !errors.As(err, &tooLong) || tooLong.ErrorCode() != "AWS.SimpleQueueService.BatchRequestTooLong" ||
		!strings.Contains(tooLong.ErrorMessage(), "You have sent 1048577 bytes") {
		t.Errorf("1 MiB + 1: %v", err)
	}
	// Attributes count towards the total.
	withAttr := entries(1, DefaultMaxBatchSize-10)
	withAttr[0].MessageAttributes = map[string]types.MessageAttributeValue{"abc": {DataType: aws.String("String"), StringValue: aws.String("12345")}}
	if _, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: withAttr}); !errors.As(err, &tooLong) {
		t.Errorf("attributes over the limit: %v", err)
	}
	if n := len(srv.Messages("q")); n != 10 {
		t.Errorf("%d messages stored, want 10", n)
	}
	if srv.Requests("SendMessageBatch") != 7 {
		t.Errorf("%d batch requests", srv.Requests("SendMessageBatch"))
	}
}

func TestMessageSizeAndContents(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	small := aws.String(mustQueue(t, srv, "small", map[string]string{"MaximumMessageSize": "1024"}))

	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String(strings.Repeat("x", DefaultMaxMessageSize))}); err != nil {
		t.Errorf("1 MiB message: %v", err)
	}
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String(strings.Repeat("x", DefaultMaxMessageSize+1))})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "Message must be shorter than 1048576 bytes") {
		t.Errorf("1 MiB + 1: %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: small, MessageBody: aws.String(strings.Repeat("x", 1025))})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "shorter than 1024 bytes") {
		t.Errorf("over the queue's MaximumMessageSize: %v", err)
	}

	// In a batch, a message over the queue's limit fails alone.
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: small, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("ok")},
		{Id: aws.String("b"), MessageBody: aws.String(strings.Repeat("x", 2000))},
		{Id: aws.String("c"), MessageBody: aws.String("nul \x00 inside")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 1 || len(out.Failed) != 2 || aws.ToString(out.Failed[0].Code) != "InvalidParameterValue" || !out.Failed[0].SenderFault ||
		aws.ToString(out.Failed[1].Code) != "InvalidMessageContents" {
		t.Errorf("batch with bad entries: %+v", out)
	}

	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("bell \a")})
	var imc *types.InvalidMessageContents
	if !errors.As(err, &imc) {
		t.Errorf("control character: %v", err)
	}

	many := map[string]types.MessageAttributeValue{}
	for i := range 11 {
		many[fmt.Sprintf("a%d", i)] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x"), MessageAttributes: many})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "[11] exceeds the allowed maximum [10]") {
		t.Errorf("11 attributes: %v", err)
	}
	badAttrs := []map[string]types.MessageAttributeValue{
		{"n": {DataType: aws.String("Number"), StringValue: aws.String("twelve")}},
		{"AWS.reserved": {DataType: aws.String("String"), StringValue: aws.String("v")}},
		{"t": {DataType: aws.String("Text"), StringValue: aws.String("v")}},
		{"b": {DataType: aws.String("Binary"), StringValue: aws.String("v")}},
		{"e": {DataType: aws.String("String"), StringValue: aws.String("")}},
	}
	for _, a := range badAttrs {
		_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x"), MessageAttributes: a})
		if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameterValue" {
			t.Errorf("attributes %v: %v", a, err)
		}
	}
	if n := len(srv.Messages("q")); n != 1 {
		t.Errorf("%d messages stored in q, want 1", n)
	}
}

func TestFIFO(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := start(t, Options{Now: clock.now})
	c := client(srv, testSecret)
	ctx := context.Background()

	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	qurl := cq.QueueUrl

	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "MissingParameter" || ae.ErrorMessage() != "The request must contain the parameter MessageGroupId." {
		t.Errorf("no group: %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x"), MessageGroupId: aws.String("g")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "ContentBasedDeduplication") {
		t.Errorf("no deduplication id: %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x"), MessageGroupId: aws.String("g"),
		MessageDeduplicationId: aws.String("d"), DelaySeconds: 5})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "DelaySeconds") {
		t.Errorf("per-message delay: %v", err)
	}

	send := func(group, dedup, body string) *sqs.SendMessageOutput {
		t.Helper()
		out, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String(body),
			MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(dedup)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := send("g1", "d1", "a")
	again := send("g1", "d1", "a, resent")
	if aws.ToString(again.MessageId) != aws.ToString(first.MessageId) || aws.ToString(again.SequenceNumber) != aws.ToString(first.SequenceNumber) {
		t.Errorf("duplicate got %s/%s, first %s/%s", aws.ToString(again.MessageId), aws.ToString(again.SequenceNumber),
			aws.ToString(first.MessageId), aws.ToString(first.SequenceNumber))
	}
	if n := len(srv.Messages("events.fifo")); n != 1 {
		t.Fatalf("%d messages after a duplicate, want 1", n)
	}
	x := send("g2", "d2", "x")
	b := send("g1", "d3", "b")
	if !(aws.ToString(first.SequenceNumber) < aws.ToString(x.SequenceNumber) && aws.ToString(x.SequenceNumber) < aws.ToString(b.SequenceNumber)) ||
		len(aws.ToString(b.SequenceNumber)) != 20 {
		t.Errorf("sequence numbers %s %s %s", aws.ToString(first.SequenceNumber), aws.ToString(x.SequenceNumber), aws.ToString(b.SequenceNumber))
	}

	// A batch: the second "d4" is a duplicate of the first within the
	// batch; "d1" is still within the window.
	bout, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("1"), MessageBody: aws.String("c"), MessageGroupId: aws.String("g1"), MessageDeduplicationId: aws.String("d4")},
		{Id: aws.String("2"), MessageBody: aws.String("c"), MessageGroupId: aws.String("g1"), MessageDeduplicationId: aws.String("d4")},
		{Id: aws.String("3"), MessageBody: aws.String("a"), MessageGroupId: aws.String("g1"), MessageDeduplicationId: aws.String("d1")},
		{Id: aws.String("4"), MessageBody: aws.String("y"), MessageGroupId: aws.String("g2")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bout.Successful) != 3 || len(bout.Failed) != 1 || aws.ToString(bout.Failed[0].Id) != "4" || aws.ToString(bout.Failed[0].Code) != "InvalidParameterValue" ||
		aws.ToString(bout.Successful[0].MessageId) != aws.ToString(bout.Successful[1].MessageId) ||
		aws.ToString(bout.Successful[2].MessageId) != aws.ToString(first.MessageId) {
		t.Errorf("batch %+v", bout)
	}

	stored := srv.Messages(aws.ToString(qurl))
	var got []string
	for _, m := range stored {
		got = append(got, m.GroupID+":"+m.Body+":"+m.DeduplicationID)
	}
	if want := "g1:a:d1 g2:x:d2 g1:b:d3 g1:c:d4"; strings.Join(got, " ") != want {
		t.Errorf("stored %q, want %q", strings.Join(got, " "), want)
	}

	// Per-group ordering: a group with a message in flight is held back.
	recv := func(max int32) []types.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qurl, MaxNumberOfMessages: max,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{
				types.MessageSystemAttributeNameMessageGroupId, types.MessageSystemAttributeNameMessageDeduplicationId,
				types.MessageSystemAttributeNameSequenceNumber}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	m1 := recv(1)
	if len(m1) != 1 || aws.ToString(m1[0].Body) != "a" || m1[0].Attributes["MessageGroupId"] != "g1" ||
		m1[0].Attributes["MessageDeduplicationId"] != "d1" || m1[0].Attributes["SequenceNumber"] != aws.ToString(first.SequenceNumber) {
		t.Fatalf("first receive %+v", m1)
	}
	m2 := recv(10)
	if len(m2) != 1 || aws.ToString(m2[0].Body) != "x" {
		t.Fatalf("second receive: %d messages, first %q (g1 must be held back)", len(m2), aws.ToString(m2[0].Body))
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: qurl, ReceiptHandle: m1[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	m3 := recv(10)
	if len(m3) != 2 || aws.ToString(m3[0].Body) != "b" || aws.ToString(m3[1].Body) != "c" {
		t.Fatalf("third receive %+v", m3)
	}

	// After the window, the same deduplication id is a new message.
	clock.advance(DeduplicationInterval)
	later := send("g1", "d1", "a")
	if aws.ToString(later.MessageId) == aws.ToString(first.MessageId) {
		t.Error("deduplication id remembered past the window")
	}
	if n := len(srv.Messages("events.fifo")); n != 4 {
		t.Errorf("%d messages, want 4", n)
	}
}

func TestContentBasedDeduplication(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := aws.String(mustQueue(t, srv, "cbd.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}))
	var ids []string
	for _, body := range []string{"same", "same", "other"} {
		out, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String(body), MessageGroupId: aws.String("g"),
			MessageAttributes: map[string]types.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(len(ids)))}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.MessageId))
	}
	if ids[0] != ids[1] || ids[1] == ids[2] {
		t.Errorf("message ids %v", ids)
	}
	stored := srv.Messages("cbd.fifo")
	if len(stored) != 2 || stored[0].DeduplicationID != "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5" {
		t.Errorf("stored %+v", stored)
	}

	scoped := aws.String(mustQueue(t, srv, "scoped.fifo", map[string]string{"FifoQueue": "true", "DeduplicationScope": "messageGroup"}))
	for _, g := range []string{"g1", "g2", "g1"} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: scoped, MessageBody: aws.String("b"), MessageGroupId: aws.String(g), MessageDeduplicationId: aws.String("d")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Messages("scoped.fifo")); n != 2 {
		t.Errorf("messageGroup scope: %d messages, want 2", n)
	}
}

func TestStandardQueueRejectsDeduplicationID(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	qurl := aws.String(mustQueue(t, srv, "std", nil))
	_, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "not valid for this queue type") {
		t.Errorf("deduplication id on a standard queue: %v", err)
	}
	// A group id is accepted (fair queues) and kept.
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x"), MessageGroupId: aws.String("tenant-1")}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages("std"); len(m) != 1 || m[0].GroupID != "tenant-1" || m[0].SequenceNumber != "" {
		t.Errorf("stored %+v", m)
	}
}

func TestEntryFaults(t *testing.T) {
	srv := start(t, Options{Fault: FailEntriesRandomly(0.5, 7)})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := aws.String(mustQueue(t, srv, "q", nil))

	pending := entries(10, 8)
	var failed, rounds int
	for len(pending) > 0 && rounds < 20 {
		rounds++
		out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: pending})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Successful)+len(out.Failed) != len(pending) {
			t.Fatalf("%d successful + %d failed for %d entries", len(out.Successful), len(out.Failed), len(pending))
		}
		retry := map[string]bool{}
		for _, f := range out.Failed {
			if f.SenderFault || aws.ToString(f.Code) != "InternalError" || aws.ToString(f.Message) == "" {
				t.Errorf("failed entry %+v", f)
			}
			retry[aws.ToString(f.Id)] = true
		}
		failed += len(out.Failed)
		var next []types.SendMessageBatchRequestEntry
		for _, e := range pending {
			if retry[aws.ToString(e.Id)] {
				next = append(next, e)
			}
		}
		pending = next
	}
	if failed == 0 || len(pending) != 0 {
		t.Errorf("%d entry failures, %d still pending after %d rounds", failed, len(pending), rounds)
	}
	if n := len(srv.Messages("q")); n != 10 {
		t.Errorf("%d messages stored, want 10", n)
	}
}

func TestCommittedFaults(t *testing.T) {
	lost := &Fault{Code: "InternalError", Status: 500, Commit: true}
	srv := start(t, Options{Fault: Chain(
		FirstN(1, OnCall("SendMessage", lost)),
		OnEntry("SendMessageBatch", func() *Fault { f := *lost; f.Message = "lost ack"; return &f }()),
	)})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := aws.String(mustQueue(t, srv, "q.fifo", map[string]string{"FifoQueue": "true"}))

	in := &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("m"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d")}
	_, err := c.SendMessage(ctx, in)
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 500 || asAPIError(t, err).ErrorCode() != "InternalError" {
		t.Fatalf("lost acknowledgement: %v", err)
	}
	if n := len(srv.Messages("q.fifo")); n != 1 {
		t.Fatalf("%d messages after a committed failure, want 1", n)
	}
	if _, err := c.SendMessage(ctx, in); err != nil {
		t.Fatalf("resend: %v", err)
	}
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("n"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("e")}}})
	if err != nil || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Message) != "lost ack" {
		t.Fatalf("batch: %v %+v", err, out)
	}
	if n := len(srv.Messages("q.fifo")); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}

func TestThrottlingAndServerErrors(t *testing.T) {
	srv := start(t, Options{Fault: Chain(
		OnCall("SendMessageBatch", Throttle()),
		OnCall("ReceiveMessage", Throttling()),
		OnCall("GetQueueAttributes", InternalError()),
	)})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	throttle := retry.IsErrorThrottles(retry.DefaultThrottles)

	_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: entries(2, 1)})
	var rt *types.RequestThrottled
	var re *smithyhttp.ResponseError
	if !errors.As(err, &rt) || rt.ErrorCode() != "RequestThrottled" || !errors.As(err, &re) || re.HTTPStatusCode() != 403 ||
		throttle.IsErrorThrottle(err) != aws.TrueTernary {
		t.Errorf("RequestThrottled: %v", err)
	}
	_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qurl})
	if ae := asAPIError(t, err); ae.ErrorCode() != "ThrottlingException" || ae.ErrorFault() != smithy.FaultClient ||
		throttle.IsErrorThrottle(err) != aws.TrueTernary {
		t.Errorf("ThrottlingException: %v", err)
	}
	_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qurl})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InternalError" || ae.ErrorFault() != smithy.FaultServer ||
		!errors.As(err, &re) || re.HTTPStatusCode() != 500 || !retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() {
		t.Errorf("InternalError: %v", err)
	}
	if len(srv.Messages("q")) != 0 {
		t.Error("a throttled batch stored messages")
	}
}

func TestRetriesRecover(t *testing.T) {
	srv := start(t, Options{Fault: FirstN(2, OnCall("SendMessageBatch", Throttle()))})
	c := sqs.New(sqs.Options{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		BaseEndpoint: aws.String(srv.URL()),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		}),
	})
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: entries(3, 1)})
	if err != nil || len(out.Successful) != 3 {
		t.Fatalf("%v %+v", err, out)
	}
	if srv.Requests("SendMessageBatch") != 3 || len(srv.Messages("q")) != 3 {
		t.Errorf("%d requests, %d messages", srv.Requests("SendMessageBatch"), len(srv.Messages("q")))
	}
}

func TestSlowHonoursCancellation(t *testing.T) {
	srv := start(t, Options{Fault: OnCall("SendMessage", Slow(30*time.Second))})
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client(srv, testSecret).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	// The server stops waiting once the client is gone; Close would hang
	// for 30 s otherwise.
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return: the delayed handler kept waiting")
	}
	if len(srv.Messages("q")) != 0 {
		t.Error("abandoned send stored a message")
	}
}

func TestSlowThenServed(t *testing.T) {
	srv := start(t, Options{Fault: OnCall("SendMessage", Slow(150*time.Millisecond))})
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	start := time.Now()
	if _, err := client(srv, testSecret).SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %s", d)
	}
	if len(srv.Messages("q")) != 1 {
		t.Error("message not stored")
	}
}

func TestWrongSecretRefused(t *testing.T) {
	srv := start(t, Options{})
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	_, err := client(srv, "wrong-secret").SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x")})
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden || asAPIError(t, err).ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("err %v", err)
	}
	if srv.SignatureFailures() != 1 || srv.Requests("SendMessage") != 0 || len(srv.Messages("q")) != 0 {
		t.Errorf("signature failures %d, requests %d", srv.SignatureFailures(), srv.Requests("SendMessage"))
	}
}

func TestQueueURLForms(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	mustQueue(t, srv, "q", nil)
	for _, u := range []string{
		"https://sqs.eu-west-1.amazonaws.com/000000000000/q",
		"http://localhost:4566/000000000000/q",
		"http://sqs.eu-west-1.localhost.localstack.cloud:4566/queue/eu-west-1/000000000000/q",
	} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String(u)}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if n := len(srv.Messages("q")); n != 3 {
		t.Errorf("%d messages", n)
	}
	for _, u := range []string{srv.QueueURL("missing"), srv.URL() + "/111111111111/q"} {
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("x")})
		var qne *types.QueueDoesNotExist
		if !errors.As(err, &qne) || qne.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" || qne.ErrorMessage() != "The specified queue does not exist." {
			t.Errorf("%s: %v", u, err)
		}
	}
	_, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var qne *types.QueueDoesNotExist
	if !errors.As(err, &qne) {
		t.Errorf("GetQueueUrl of a missing queue: %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("q"), MessageBody: aws.String("x")})
	var ia *types.InvalidAddress
	if !errors.As(err, &ia) {
		t.Errorf("bare name as URL: %v", err)
	}
}

func TestCreateQueueRules(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	create := func(name string, attrs map[string]string) error {
		_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		return err
	}
	if err := create("q", map[string]string{"VisibilityTimeout": "10"}); err != nil {
		t.Fatal(err)
	}
	if err := create("q", map[string]string{"VisibilityTimeout": "10"}); err != nil {
		t.Errorf("same attributes again: %v", err)
	}
	var exists *types.QueueNameExists
	if err := create("q", map[string]string{"VisibilityTimeout": "20"}); !errors.As(err, &exists) || exists.ErrorCode() != "QueueAlreadyExists" {
		t.Errorf("different attributes: %v", err)
	}
	var ian *types.InvalidAttributeName
	if err := create("r", map[string]string{"Colour": "blue"}); !errors.As(err, &ian) {
		t.Errorf("unknown attribute: %v", err)
	}
	if err := create("r", map[string]string{"ContentBasedDeduplication": "true"}); !errors.As(err, &ian) {
		t.Errorf("FIFO attribute on a standard queue: %v", err)
	}
	var iav *types.InvalidAttributeValue
	if err := create("r", map[string]string{"MaximumMessageSize": "100"}); !errors.As(err, &iav) {
		t.Errorf("bad value: %v", err)
	}
	for _, bad := range []struct {
		name  string
		attrs map[string]string
	}{{"r.fifo", nil}, {"r", map[string]string{"FifoQueue": "true"}}, {"bad name", nil}, {strings.Repeat("n", 81), nil}} {
		if err := create(bad.name, bad.attrs); err == nil || asAPIError(t, err).ErrorCode() != "InvalidParameterValue" {
			t.Errorf("CreateQueue(%q, %v): %v", bad.name, bad.attrs, err)
		}
	}
}

func TestLongPoll(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	got := make(chan []types.Message, 1)
	start := time.Now()
	go func() {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: qurl, WaitTimeSeconds: 5})
		if err != nil {
			t.Error(err)
		}
		got <- out.Messages
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("late")}); err != nil {
		t.Fatal(err)
	}
	select {
	case msgs := <-got:
		if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "late" {
			t.Errorf("received %+v", msgs)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("long poll answered after %s", d)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("long poll did not return")
	}

	// An empty queue answers an empty list once the wait is over.
	start = time.Now()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: qurl, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 || time.Since(start) < time.Second {
		t.Errorf("empty long poll: %v %d after %s", err, len(out.Messages), time.Since(start))
	}
}

func TestVisibilityAndDelay(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	srv := start(t, Options{Now: clock.now})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := aws.String(mustQueue(t, srv, "q", map[string]string{"VisibilityTimeout": "30"}))
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("later"), DelaySeconds: 10}); err != nil {
		t.Fatal(err)
	}
	count := func() string {
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qurl, AttributeNames: []types.QueueAttributeName{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		a := out.Attributes
		return a["ApproximateNumberOfMessages"] + "/" + a["ApproximateNumberOfMessagesNotVisible"] + "/" + a["ApproximateNumberOfMessagesDelayed"]
	}
	receive := func() int {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qurl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Messages)
	}
	if n, cnt := receive(), count(); n != 0 || cnt != "0/0/1" {
		t.Errorf("delayed: received %d, counts %s", n, cnt)
	}
	clock.advance(10 * time.Second)
	if n, cnt := receive(), count(); n != 1 || cnt != "0/1/0" {
		t.Errorf("after the delay: received %d, counts %s", n, cnt)
	}
	clock.advance(30 * time.Second)
	if n := receive(); n != 1 {
		t.Errorf("after the visibility timeout: received %d", n)
	}
	if m := srv.Messages("q"); len(m) != 1 || m[0].ReceiveCount != 2 {
		t.Errorf("stored %+v", m)
	}
}

func TestDeleteBatchAndPurge(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: entries(5, 3)}); err != nil {
		t.Fatal(err)
	}
	rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qurl, MaxNumberOfMessages: 3})
	if err != nil || len(rm.Messages) != 3 {
		t.Fatalf("%v %d", err, len(rm.Messages))
	}
	del := []types.DeleteMessageBatchRequestEntry{{Id: aws.String("bogus"), ReceiptHandle: aws.String("not-a-handle")}}
	for i, m := range rm.Messages {
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
	}
	out, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: qurl, Entries: del})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 3 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "ReceiptHandleIsInvalid" || !out.Failed[0].SenderFault {
		t.Errorf("delete batch %+v", out)
	}
	if n := len(srv.Messages("q")); n != 2 {
		t.Errorf("%d left, want 2", n)
	}
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: qurl, ReceiptHandle: aws.String("nope")})
	var rhi *types.ReceiptHandleIsInvalid
	if !errors.As(err, &rhi) {
		t.Errorf("bad handle: %v", err)
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: qurl}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages("q")); n != 0 {
		t.Errorf("%d left after purge", n)
	}
}

func TestReceiveValidation(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	_, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: qurl, MaxNumberOfMessages: 11})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "MaxNumberOfMessages") {
		t.Errorf("11 messages: %v", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	srv := start(t, Options{})
	srv.Close()
	srv.Close()
}

// tamper is a client transport that corrupts MD5OfMessageBody digests of
// the body "x" in responses.
type tamper struct{}

func (tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	b = bytes.ReplaceAll(b, []byte(md5Hex("x")), []byte(strings.Repeat("0", 32)))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
	return resp, nil
}

// TestSDKChecksSums shows the client does verify MD5OfMessageBody, so the
// round trips above passing means the digests sent are the right ones.
func TestSDKChecksSums(t *testing.T) {
	srv := start(t, Options{})
	qurl := aws.String(mustQueue(t, srv, "q", nil))
	c := sqs.New(sqs.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: tamper{}},
	})
	ctx := context.Background()
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("y")}); err != nil {
		t.Fatalf("untouched digest: %v", err)
	}
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qurl, MessageBody: aws.String("x")})
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted digest: %v", err)
	}
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: qurl, Entries: []types.SendMessageBatchRequestEntry{{Id: aws.String("a"), MessageBody: aws.String("x")}}})
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted batch digest: %v", err)
	}
	_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qurl, MaxNumberOfMessages: 10})
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted receive digest: %v", err)
	}
}
