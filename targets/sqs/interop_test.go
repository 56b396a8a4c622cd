package sqs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/interop"
	"github.com/penstock-dev/penstock/targets/sqs"
)

// receiveAll drains a queue.
func receiveAll(t *testing.T, c *awssqs.Client, url string, want int) []types.Message {
	t.Helper()
	var out []types.Message
	for tries := 0; len(out) < want && tries < 200; tries++ {
		r, err := c.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Messages {
			out = append(out, m)
			if _, err := c.DeleteMessage(context.Background(), &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// The SQS target against fauxqs, an independent SQS emulator: messages,
// attributes, and FIFO deduplication of a batch delivered twice.
func TestTargetAgainstFauxqs(t *testing.T) {
	srv := interop.Fauxqs(t)
	c := awssqs.New(awssqs.Options{Region: srv.Region, Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
		BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
	ctx := context.Background()

	q, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := sqs.New(sqs.Options{API: c, QueueURL: *q.QueueUrl, Attributes: true})
	if res, err := tg.Deliver(ctx, records(15)); err != nil || res.Partial {
		t.Fatalf("%v %+v", err, res)
	}
	msgs := receiveAll(t, c, *q.QueueUrl, 15)
	if len(msgs) != 15 {
		t.Fatalf("received %d messages, want 15", len(msgs))
	}
	seen := map[int64]bool{}
	for _, m := range msgs {
		r, err := esm.ParseRecord([]byte(*m.Body))
		if err != nil {
			t.Fatal(err)
		}
		seen[r.Offset] = true
		if a := m.MessageAttributes["type"]; aws.ToString(a.StringValue) != "order" {
			t.Fatalf("attributes %+v", m.MessageAttributes)
		}
	}
	if len(seen) != 15 {
		t.Fatalf("offsets %v", seen)
	}

	fq, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("orders.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := sqs.New(sqs.Options{API: c, QueueURL: *fq.QueueUrl})
	for range 2 { // the second delivery is a retry: deduplicated
		b := records(12)
		if res, err := ft.Deliver(ctx, b); err != nil || res.Partial {
			t.Fatalf("%v %+v", err, res)
		}
	}
	msgs = receiveAll(t, c, *fq.QueueUrl, 12)
	if len(msgs) != 12 {
		t.Fatalf("received %d messages from the FIFO queue, want 12 (duplicates dropped)", len(msgs))
	}
	last := map[string]int64{}
	for _, m := range msgs {
		r, _ := esm.ParseRecord([]byte(*m.Body))
		g := m.Attributes["MessageGroupId"]
		if g != string(r.Key) {
			t.Fatalf("group %q for key %q", g, r.Key)
		}
		if p, ok := last[g]; ok && r.Offset <= p {
			t.Fatalf("group %s out of order: %d after %d", g, r.Offset, p)
		}
		last[g] = r.Offset
		if want := fmt.Sprintf("orders-1-%d", r.Offset); m.Attributes["MessageDeduplicationId"] != want {
			t.Fatalf("dedup id %q, want %q", m.Attributes["MessageDeduplicationId"], want)
		}
	}
}
