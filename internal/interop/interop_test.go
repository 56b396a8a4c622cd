package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

func creds(srv *Server) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")
}

func TestVersityGWRoundTrip(t *testing.T) {
	srv := VersityGW(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The checksum settings are what config.LoadDefaultConfig gives.
	c := s3.New(s3.Options{
		Region:                     srv.Region,
		Credentials:                creds(srv),
		BaseEndpoint:               aws.String(srv.Endpoint),
		UsePathStyle:               true,
		RetryMaxAttempts:           1,
		HTTPClient:                 awsconf.HTTPClient(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
	bucket := aws.String("penstock-interop")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte(`{"order":1}`+"\n"), 1000)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: bucket, Key: aws.String("out/part-0001.json"), Body: bytes.NewReader(body),
		ContentType: aws.String("application/x-ndjson"), Metadata: map[string]string{"pipeline": "orders"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("out/part-0001.json")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) || aws.ToString(out.ContentType) != "application/x-ndjson" || out.Metadata["pipeline"] != "orders" {
		t.Errorf("got %d bytes, content type %q, metadata %v", len(got), aws.ToString(out.ContentType), out.Metadata)
	}

	// A multipart upload as the SDK sends it by default: no checksum
	// algorithm on CreateMultipartUpload, a CRC32 with each part.
	key := aws.String("out/big.bin")
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), []byte("tail")}
	var completed []s3types.CompletedPart
	for i, p := range parts {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		completed = append(completed, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: cr.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: completed}}); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != 5<<20+4 {
		t.Errorf("multipart object of %d bytes", aws.ToInt64(head.ContentLength))
	}
}

func sqsClient(srv *Server) *sqs.Client {
	return sqs.New(sqs.Options{Region: srv.Region, Credentials: creds(srv), BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
}

func TestFauxqsSQS(t *testing.T) {
	srv := Fauxqs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sqsClient(srv)
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("penstock-interop")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: q.QueueUrl, MessageBody: aws.String(`{"order":1}`),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"pipeline": {DataType: aws.String("String"), StringValue: aws.String("orders")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1,
		MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rcv.Messages) != 1 || aws.ToString(rcv.Messages[0].Body) != `{"order":1}` ||
		aws.ToString(rcv.Messages[0].MessageAttributes["pipeline"].StringValue) != "orders" {
		t.Fatalf("received %+v", rcv.Messages)
	}
}

func TestFauxqsSNS(t *testing.T) {
	srv := Fauxqs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sns.New(sns.Options{Region: srv.Region, Credentials: creds(srv), BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("penstock-interop")})
	if err != nil {
		t.Fatal(err)
	}
	// Deliver to a queue, to see the message arrive.
	qc := sqsClient(srv)
	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("penstock-interop-sub")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := c.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"order":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(pub.MessageId) == "" {
		t.Error("no message id")
	}
	rcv, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rcv.Messages) != 1 {
		t.Fatalf("received %d messages", len(rcv.Messages))
	}
	var envelope struct{ Type, Message, TopicArn, MessageId string }
	if err := json.Unmarshal([]byte(aws.ToString(rcv.Messages[0].Body)), &envelope); err != nil {
		t.Fatalf("body %s: %v", aws.ToString(rcv.Messages[0].Body), err)
	}
	if envelope.Type != "Notification" || envelope.Message != `{"order":2}` || envelope.TopicArn != aws.ToString(topic.TopicArn) ||
		envelope.MessageId != aws.ToString(pub.MessageId) {
		t.Errorf("envelope %+v", envelope)
	}
}

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"v22.5.0": true, "v22.23.5": true, "v23.0.0": true, "v22.4.9": false, "v20.20.2": false, "v22": false} {
		if versionAtLeast(v, nodeMin) != want {
			t.Errorf("%s: want %v", v, want)
		}
	}
}
