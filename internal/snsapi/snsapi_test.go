package snsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
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

func client(srv *Server, secret string) *sns.Client {
	return sns.New(sns.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, secret, ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
}

func mustTopic(t *testing.T, srv *Server, name string, attrs map[string]string) *string {
	t.Helper()
	arn, err := srv.CreateTopic(name, attrs)
	if err != nil {
		t.Fatal(err)
	}
	return aws.String(arn)
}

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

func batch(n, size int) []types.PublishBatchRequestEntry {
	out := make([]types.PublishBatchRequestEntry, n)
	for i := range out {
		out[i] = types.PublishBatchRequestEntry{Id: aws.String(fmt.Sprintf("e%d", i)), Message: aws.String(strings.Repeat("x", size))}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()

	ct, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders"), Attributes: map[string]string{"DisplayName": "Orders"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(ct.TopicArn)
	if arn != "arn:aws:sns:eu-west-1:000000000000:orders" {
		t.Errorf("topic ARN %s", arn)
	}
	again, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders")})
	if err != nil || aws.ToString(again.TopicArn) != arn {
		t.Errorf("CreateTopic again: %v %v", again, err)
	}

	body := `{"key":"k1","value":"héllo 😀"}`
	out, err := c.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(arn),
		Message:  aws.String(body),
		Subject:  aws.String("New order"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind":  {DataType: aws.String("String"), StringValue: aws.String("créé")},
			"n":     {DataType: aws.String("Number"), StringValue: aws.String("42")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
			"tags":  {DataType: aws.String("String.Array"), StringValue: aws.String(`["a","b"]`)},
			"label": {DataType: aws.String("String.custom"), StringValue: aws.String("v")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.MessageId) == "" || out.SequenceNumber != nil {
		t.Errorf("publish output %+v", out)
	}
	if id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); id == "" {
		t.Error("no request id")
	}
	ga, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if ga.Attributes["DisplayName"] != "Orders" || ga.Attributes["TopicArn"] != arn || ga.Attributes["MaximumMessageSize"] != "262144" {
		t.Errorf("attributes %v", ga.Attributes)
	}

	pub := srv.Published(arn)
	if len(pub) != 1 {
		t.Fatalf("%d published", len(pub))
	}
	m := pub[0]
	if m.MessageID != aws.ToString(out.MessageId) || m.Message != body || m.Subject != "New order" ||
		m.Attributes["kind"].StringValue != "créé" || string(m.Attributes["blob"].BinaryValue) != "\x00\x01\x02\xff" ||
		m.Attributes["n"].DataType != "Number" || m.Attributes["tags"].StringValue != `["a","b"]` || len(m.Attributes) != 5 {
		t.Errorf("published %+v", m)
	}
	if len(srv.Published("orders")) != 1 {
		t.Error("Published by name")
	}

	lt, err := c.ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil || len(lt.Topics) != 1 || aws.ToString(lt.Topics[0].TopicArn) != arn || lt.NextToken != nil {
		t.Errorf("ListTopics %+v %v", lt, err)
	}
	if srv.Requests("Publish") != 1 || srv.Requests("CreateTopic") != 2 || srv.SignatureFailures() != 0 {
		t.Errorf("requests: publish %d create %d, signature failures %d", srv.Requests("Publish"), srv.Requests("CreateTopic"), srv.SignatureFailures())
	}
}

func TestPublishBatch(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	arn := mustTopic(t, srv, "t", nil)
	entries := batch(3, 4)
	entries[1].MessageAttributes = map[string]types.MessageAttributeValue{"a": {DataType: aws.String("String"), StringValue: aws.String("1")}}
	entries[2].Subject = aws.String("line\nbreak")
	out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "e2" ||
		aws.ToString(out.Failed[0].Code) != "InvalidParameter" || !out.Failed[0].SenderFault ||
		aws.ToString(out.Failed[0].Message) != "Invalid parameter: Subject" {
		t.Errorf("batch %+v", out)
	}
	pub := srv.Published(aws.ToString(arn))
	if len(pub) != 2 || pub[0].MessageID != aws.ToString(out.Successful[0].MessageId) || pub[1].Attributes["a"].StringValue != "1" {
		t.Errorf("published %+v", pub)
	}
}

func TestBatchLimits(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	arn := mustTopic(t, srv, "t", nil)

	_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: batch(11, 1)})
	var tooMany *types.TooManyEntriesInBatchRequestException
	if !errors.As(err, &tooMany) || tooMany.ErrorCode() != "TooManyEntriesInBatchRequest" {
		t.Errorf("11 entries: %v", err)
	}
	dup := batch(3, 1)
	dup[2].Id = aws.String("e0")
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: dup})
	var notDistinct *types.BatchEntryIdsNotDistinctException
	if !errors.As(err, &notDistinct) || notDistinct.ErrorMessage() != "Two or more batch entries in the request have the same Id." {
		t.Errorf("repeated id: %v", err)
	}
	bad := batch(2, 1)
	bad[0].Id = aws.String(strings.Repeat("i", 81))
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: bad})
	var badID *types.InvalidBatchEntryIdException
	if !errors.As(err, &badID) {
		t.Errorf("invalid id: %v", err)
	}
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{}})
	var empty *types.EmptyBatchRequestException
	if !errors.As(err, &empty) {
		t.Errorf("no entries: %v", err)
	}

	// 256 KiB in all is the limit.
	ok := batch(8, DefaultMaxMessageSize/8)
	out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: ok})
	if err != nil || len(out.Successful) != 8 {
		t.Fatalf("exactly 256 KiB: %v %+v", err, out)
	}
	ok[3].MessageAttributes = map[string]types.MessageAttributeValue{"a": {DataType: aws.String("Binary"), BinaryValue: []byte{1}}}
	_, err = c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: ok})
	var tooLong *types.BatchRequestTooLongException
	if !errors.As(err, &tooLong) || tooLong.ErrorCode() != "BatchRequestTooLong" {
		t.Errorf("256 KiB + attribute: %v", err)
	}
	if n := len(srv.Published("t")); n != 8 {
		t.Errorf("%d published, want 8", n)
	}

	// A topic with a larger MaximumMessageSize takes larger batches.
	big := mustTopic(t, srv, "big", map[string]string{"MaximumMessageSize": "1048576"})
	if _, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: big, PublishBatchRequestEntries: batch(4, 200<<10)}); err != nil {
		t.Errorf("800 KiB to a 1 MiB topic: %v", err)
	}
}

func TestPublishValidation(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	arn := mustTopic(t, srv, "t", nil)

	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String(strings.Repeat("x", DefaultMaxMessageSize))}); err != nil {
		t.Errorf("256 KiB: %v", err)
	}
	cases := []struct {
		name string
		in   sns.PublishInput
		want string // error code
		msg  string
	}{
		{"too long", sns.PublishInput{Message: aws.String(strings.Repeat("x", DefaultMaxMessageSize+1))}, "InvalidParameter", "Invalid parameter: Message too long"},
		{"attributes count", sns.PublishInput{Message: aws.String(strings.Repeat("x", DefaultMaxMessageSize-4)),
			MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("String"), StringValue: aws.String("b")}}}, "InvalidParameter", "Invalid parameter: Message too long"},
		{"empty", sns.PublishInput{Message: aws.String("")}, "InvalidParameter", "Invalid parameter: Empty message"},
		{"subject", sns.PublishInput{Message: aws.String("x"), Subject: aws.String(strings.Repeat("s", 100))}, "InvalidParameter", "Invalid parameter: Subject"},
		{"structure", sns.PublishInput{Message: aws.String(`{"email":"x"}`), MessageStructure: aws.String("json")}, "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"},
		{"dedup on standard", sns.PublishInput{Message: aws.String("x"), MessageDeduplicationId: aws.String("d")}, "InvalidParameter", ""},
		{"attribute type", sns.PublishInput{Message: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("Text"), StringValue: aws.String("b")}}}, "ParameterValueInvalid", ""},
		{"number", sns.PublishInput{Message: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("Number"), StringValue: aws.String("ten")}}}, "ParameterValueInvalid", ""},
		{"string array", sns.PublishInput{Message: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("String.Array"), StringValue: aws.String("a,b")}}}, "ParameterValueInvalid", ""},
		{"reserved name", sns.PublishInput{Message: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"AWS.x": {DataType: aws.String("String"), StringValue: aws.String("b")}}}, "ParameterValueInvalid", ""},
	}
	for _, tc := range cases {
		in := tc.in
		in.TopicArn = arn
		_, err := c.Publish(ctx, &in)
		ae := asAPIError(t, err)
		if ae.ErrorCode() != tc.want || (tc.msg != "" && ae.ErrorMessage() != tc.msg) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.want == "InvalidParameter" {
			var ip *types.InvalidParameterException
			if !errors.As(err, &ip) {
				t.Errorf("%s: %T, want *types.InvalidParameterException", tc.name, err)
			}
		} else {
			var ipv *types.InvalidParameterValueException
			if !errors.As(err, &ipv) {
				t.Errorf("%s: %T, want *types.InvalidParameterValueException", tc.name, err)
			}
		}
	}
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String(`{"default":"d","email":"e"}`), MessageStructure: aws.String("json")}); err != nil {
		t.Errorf("JSON structure: %v", err)
	}
	if n := len(srv.Published("t")); n != 2 {
		t.Errorf("%d published, want 2", n)
	}

	_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(srv.TopicARN("missing")), Message: aws.String("x")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Topic does not exist" {
		t.Errorf("missing topic: %v", err)
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("not-an-arn"), Message: aws.String("x")})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) || ip.ErrorMessage() != "Invalid parameter: TopicArn" {
		t.Errorf("malformed ARN: %v", err)
	}
	if _, err := c.Publish(ctx, &sns.PublishInput{TargetArn: arn, Message: aws.String("via TargetArn")}); err != nil {
		t.Errorf("TargetArn: %v", err)
	}
}

func TestFIFO(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := start(t, Options{Now: clock.now})
	c := client(srv, testSecret)
	ctx := context.Background()

	ct, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events.fifo"), Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := ct.TopicArn

	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("x"), MessageDeduplicationId: aws.String("d")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameter" || !strings.Contains(ae.ErrorMessage(), "MessageGroupId parameter is required") {
		t.Errorf("no group: %v", err)
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("x"), MessageGroupId: aws.String("g")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidParameter" || !strings.Contains(ae.ErrorMessage(), "ContentBasedDeduplication") {
		t.Errorf("no deduplication id: %v", err)
	}

	pub := func(group, dedup, body string) *sns.PublishOutput {
		t.Helper()
		out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String(body), MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(dedup)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := pub("g1", "d1", "a")
	dup := pub("g1", "d1", "a again")
	if aws.ToString(dup.MessageId) != aws.ToString(first.MessageId) || aws.ToString(dup.SequenceNumber) != aws.ToString(first.SequenceNumber) ||
		len(aws.ToString(first.SequenceNumber)) != 20 {
		t.Errorf("duplicate %s/%s, first %s/%s", aws.ToString(dup.MessageId), aws.ToString(dup.SequenceNumber), aws.ToString(first.MessageId), aws.ToString(first.SequenceNumber))
	}
	second := pub("g2", "d2", "b")
	if aws.ToString(second.SequenceNumber) <= aws.ToString(first.SequenceNumber) {
		t.Errorf("sequence numbers %s then %s", aws.ToString(first.SequenceNumber), aws.ToString(second.SequenceNumber))
	}

	out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: []types.PublishBatchRequestEntry{
		{Id: aws.String("1"), Message: aws.String("c"), MessageGroupId: aws.String("g1"), MessageDeduplicationId: aws.String("d3")},
		{Id: aws.String("2"), Message: aws.String("c"), MessageGroupId: aws.String("g1"), MessageDeduplicationId: aws.String("d3")},
		{Id: aws.String("3"), Message: aws.String("a"), MessageGroupId: aws.String("g1"), MessageDeduplicationId: aws.String("d1")},
		{Id: aws.String("4"), Message: aws.String("no group"), MessageDeduplicationId: aws.String("d4")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 3 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "4" ||
		aws.ToString(out.Successful[0].MessageId) != aws.ToString(out.Successful[1].MessageId) ||
		aws.ToString(out.Successful[2].MessageId) != aws.ToString(first.MessageId) || aws.ToString(out.Successful[0].SequenceNumber) == "" {
		t.Errorf("batch %+v", out)
	}

	var got []string
	for _, m := range srv.Published(aws.ToString(arn)) {
		got = append(got, m.GroupID+":"+m.Message+":"+m.DeduplicationID)
	}
	if want := "g1:a:d1 g2:b:d2 g1:c:d3"; strings.Join(got, " ") != want {
		t.Errorf("published %q, want %q", strings.Join(got, " "), want)
	}

	clock.advance(DeduplicationInterval - time.Second)
	if aws.ToString(pub("g1", "d1", "a").MessageId) != aws.ToString(first.MessageId) {
		t.Error("duplicate not caught just inside the window")
	}
	clock.advance(time.Second)
	if aws.ToString(pub("g1", "d1", "a").MessageId) == aws.ToString(first.MessageId) {
		t.Error("deduplication id remembered past the window")
	}
	if n := len(srv.Published("events.fifo")); n != 4 {
		t.Errorf("%d published, want 4", n)
	}
}

func TestContentBasedDeduplication(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	arn := mustTopic(t, srv, "cbd.fifo", map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"})
	var ids []string
	for _, body := range []string{"same", "same", "other"} {
		out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String(body), MessageGroupId: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.MessageId))
	}
	if ids[0] != ids[1] || ids[1] == ids[2] || len(srv.Published("cbd.fifo")) != 2 {
		t.Errorf("ids %v, %d published", ids, len(srv.Published("cbd.fifo")))
	}
	scoped := mustTopic(t, srv, "scoped.fifo", map[string]string{"FifoTopic": "true", "FifoThroughputScope": "MessageGroup"})
	for _, g := range []string{"g1", "g2", "g1"} {
		if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: scoped, Message: aws.String("m"), MessageGroupId: aws.String(g), MessageDeduplicationId: aws.String("d")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Published("scoped.fifo")); n != 2 {
		t.Errorf("MessageGroup scope: %d published, want 2", n)
	}
}

func TestCreateTopicRules(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	create := func(name string, attrs map[string]string) error {
		_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
		return err
	}
	if err := create("t", map[string]string{"DisplayName": "T"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name  string
		attrs map[string]string
	}{
		{"t", map[string]string{"DisplayName": "other"}},
		{"u.fifo", nil},
		{"u", map[string]string{"FifoTopic": "true"}},
		{"u", map[string]string{"ContentBasedDeduplication": "true"}},
		{"u", map[string]string{"Colour": "blue"}},
		{"u", map[string]string{"MaximumMessageSize": "2000000"}},
		{"bad name", nil},
	} {
		err := create(bad.name, bad.attrs)
		var ip *types.InvalidParameterException
		if !errors.As(err, &ip) {
			t.Errorf("CreateTopic(%q, %v): %v", bad.name, bad.attrs, err)
		}
	}
}

func TestEntryFaults(t *testing.T) {
	srv := start(t, Options{Fault: FailEntriesRandomly(0.5, 3)})
	c := client(srv, testSecret)
	ctx := context.Background()
	arn := mustTopic(t, srv, "t", nil)
	pending := batch(10, 5)
	failed, rounds := 0, 0
	for len(pending) > 0 && rounds < 20 {
		rounds++
		out, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: pending})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Successful)+len(out.Failed) != len(pending) {
			t.Fatalf("%d + %d results for %d entries", len(out.Successful), len(out.Failed), len(pending))
		}
		retry := map[string]bool{}
		for _, f := range out.Failed {
			if f.SenderFault || aws.ToString(f.Code) != "InternalError" {
				t.Errorf("failed entry %+v", f)
			}
			retry[aws.ToString(f.Id)] = true
		}
		failed += len(out.Failed)
		var next []types.PublishBatchRequestEntry
		for _, e := range pending {
			if retry[aws.ToString(e.Id)] {
				next = append(next, e)
			}
		}
		pending = next
	}
	if failed == 0 || len(pending) != 0 || len(srv.Published("t")) != 10 {
		t.Errorf("%d failures, %d pending after %d rounds, %d published", failed, len(pending), rounds, len(srv.Published("t")))
	}
}

func TestCommittedFault(t *testing.T) {
	srv := start(t, Options{Fault: FirstN(1, OnCall("Publish", &Fault{Code: "InternalError", Commit: true}))})
	c := client(srv, testSecret)
	arn := mustTopic(t, srv, "t.fifo", map[string]string{"FifoTopic": "true"})
	in := &sns.PublishInput{TopicArn: arn, Message: aws.String("m"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d")}
	_, err := c.Publish(context.Background(), in)
	var ie *types.InternalErrorException
	if !errors.As(err, &ie) {
		t.Fatalf("lost acknowledgement: %v", err)
	}
	if _, err := c.Publish(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Published("t.fifo")); n != 1 {
		t.Errorf("%d published, want 1", n)
	}
}

func TestThrottlingAndServerErrors(t *testing.T) {
	srv := start(t, Options{Fault: Chain(
		OnCall("PublishBatch", Throttle()),
		OnCall("Publish", Throttled()),
		OnCall("ListTopics", InternalError()),
	)})
	c := client(srv, testSecret)
	ctx := context.Background()
	arn := mustTopic(t, srv, "t", nil)
	throttle := retry.IsErrorThrottles(retry.DefaultThrottles)
	var re *smithyhttp.ResponseError

	_, err := c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: arn, PublishBatchRequestEntries: batch(2, 1)})
	if ae := asAPIError(t, err); ae.ErrorCode() != "Throttling" || ae.ErrorMessage() != "Rate exceeded" ||
		!errors.As(err, &re) || re.HTTPStatusCode() != 400 || throttle.IsErrorThrottle(err) != aws.TrueTernary {
		t.Errorf("Throttling: %v", err)
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("x")})
	var te *types.ThrottledException
	if !errors.As(err, &te) || !errors.As(err, &re) || re.HTTPStatusCode() != 429 {
		t.Errorf("Throttled: %v", err)
	}
	_, err = c.ListTopics(ctx, &sns.ListTopicsInput{})
	var ie *types.InternalErrorException
	if !errors.As(err, &ie) || !errors.As(err, &re) || re.HTTPStatusCode() != 500 ||
		!retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() {
		t.Errorf("InternalError: %v", err)
	}
	if len(srv.Published("t")) != 0 {
		t.Error("a throttled call published")
	}
}

func TestSlowHonoursCancellation(t *testing.T) {
	srv := start(t, Options{Fault: OnCall("Publish", Slow(30*time.Second))})
	arn := mustTopic(t, srv, "t", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := client(srv, testSecret).Publish(ctx, &sns.PublishInput{TopicArn: arn, Message: aws.String("x")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return: the delayed handler kept waiting")
	}
	if len(srv.Published("t")) != 0 {
		t.Error("abandoned publish was recorded")
	}
}

func TestWrongSecretRefused(t *testing.T) {
	srv := start(t, Options{})
	arn := mustTopic(t, srv, "t", nil)
	_, err := client(srv, "wrong-secret").Publish(context.Background(), &sns.PublishInput{TopicArn: arn, Message: aws.String("x")})
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden || asAPIError(t, err).ErrorCode() != "SignatureDoesNotMatch" {
		t.Fatalf("err %v", err)
	}
	if srv.SignatureFailures() != 1 || srv.Requests("Publish") != 0 || len(srv.Published("t")) != 0 {
		t.Errorf("signature failures %d, requests %d", srv.SignatureFailures(), srv.Requests("Publish"))
	}
}

func TestListTopicsPages(t *testing.T) {
	srv := start(t, Options{})
	for i := range 150 {
		mustTopic(t, srv, fmt.Sprintf("t%03d", i), nil)
	}
	if _, err := client(srv, testSecret).DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: aws.String(srv.TopicARN("t000"))}); err != nil {
		t.Fatal(err)
	}
	p := sns.NewListTopicsPaginator(client(srv, testSecret), &sns.ListTopicsInput{})
	var arns []string
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range page.Topics {
			arns = append(arns, aws.ToString(tp.TopicArn))
		}
	}
	if len(arns) != 149 || arns[0] != srv.TopicARN("t001") || arns[148] != srv.TopicARN("t149") {
		t.Errorf("%d topics: first %s", len(arns), arns[0])
	}
}

func TestCloseIdempotent(t *testing.T) {
	srv := start(t, Options{})
	srv.Close()
	srv.Close()
}
