package sns_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/interop"
	"github.com/penstock-dev/penstock/targets/sns"
)

// The SNS target against fauxqs, an independent SNS/SQS emulator: the
// messages reach a subscribed queue, each the ESM record of its record.
func TestTargetAgainstFauxqs(t *testing.T) {
	srv := interop.Fauxqs(t)
	creds := credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")
	sc := awssns.New(awssns.Options{Region: srv.Region, Credentials: creds, BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
	qc := awssqs.New(awssqs.Options{Region: srv.Region, Credentials: creds, BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
	ctx := context.Background()
	topic, err := sc.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := qc.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("orders-sub")})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := qc.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(qa.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	tg, _ := sns.New(sns.Options{API: sc, TopicARN: *topic.TopicArn, Attributes: true})
	if res, err := tg.Deliver(ctx, records(13, 4)); err != nil || res.Partial {
		t.Fatalf("%v %+v", err, res)
	}
	seen := map[int64]bool{}
	for tries := 0; len(seen) < 13 && tries < 100; tries++ {
		r, err := qc.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Messages {
			var env struct{ Message string }
			if err := json.Unmarshal([]byte(*m.Body), &env); err != nil {
				t.Fatalf("notification %s: %v", *m.Body, err)
			}
			rec, err := esm.ParseRecord([]byte(env.Message))
			if err != nil {
				t.Fatalf("message %s: %v", env.Message, err)
			}
			seen[rec.Offset] = true
			qc.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(seen) != 13 {
		t.Fatalf("%d of 13 records reached the subscribed queue", len(seen))
	}
}
