package sns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/snsapi"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/sns"
)

const (
	region = "eu-west-1"
	key    = "AKIDSNSTEST"
	secret = "sns-test-secret"
)

func endpoint(t testing.TB, fault snsapi.FaultFunc) *snsapi.Server {
	t.Helper()
	srv, err := snsapi.Start(snsapi.Options{Region: region, AccessKeyID: key, SecretAccessKey: secret, AccountID: "123456789012", Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n := srv.SignatureFailures(); n > 0 {
			t.Errorf("%d requests failed signature verification", n)
		}
		srv.Close()
	})
	return srv
}

func client(srv *snsapi.Server) *awssns.Client {
	return awssns.New(awssns.Options{Region: region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(srv.URL()), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
}

func records(n int, keys int) *pipeline.Batch {
	recs := make([]pipeline.Record, n)
	for i := range recs {
		recs[i] = pipeline.Record{Topic: "orders", Partition: 1, Offset: int64(i), Timestamp: 1764411301200,
			Key: fmt.Appendf(nil, "cust-%d", i%keys), Value: fmt.Appendf(nil, `{"seq":%d}`, i),
			Headers: []pipeline.Header{{Key: "type", Value: []byte("order")}}}
	}
	return pipeline.NewBatch(pipeline.TopicPartition{Topic: "orders", Partition: 1}, recs)
}

func TestPublishesOneMessagePerRecord(t *testing.T) {
	srv := endpoint(t, nil)
	arn, err := srv.CreateTopic("orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := sns.New(sns.Options{API: client(srv), TopicARN: arn, Attributes: true})
	if res, err := tg.Deliver(context.Background(), records(23, 3)); err != nil || res.Partial {
		t.Fatalf("%v %+v", err, res)
	}
	msgs := srv.Published(arn)
	if len(msgs) != 23 || srv.Requests("PublishBatch") != 3 {
		t.Fatalf("%d messages in %d requests", len(msgs), srv.Requests("PublishBatch"))
	}
	r, err := esm.ParseRecord([]byte(msgs[5].Message))
	if err != nil || r.Offset != 5 || msgs[5].Attributes["type"].StringValue != "order" {
		t.Fatalf("message %+v: %v", msgs[5], err)
	}
}

// A FIFO topic with 20% of the entries failing keeps every key in order
// and has no duplicate.
func TestFIFOTopicUnderEntryFailures(t *testing.T) {
	srv := endpoint(t, snsapi.Chain(
		snsapi.Randomly(0.02, 3, snsapi.OnEntry("PublishBatch", &snsapi.Fault{Code: "InternalError", Commit: true})),
		snsapi.Randomly(0.2, 5, snsapi.OnEntry("PublishBatch", snsapi.EntryFailure("InternalError", "random", false)))))
	arn, err := srv.CreateTopic("orders.fifo", map[string]string{"FifoTopic": "true"})
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := sns.New(sns.Options{API: client(srv), TopicARN: arn})
	b := records(1000, 17)
	for attempt := 0; ; attempt++ {
		res, err := tg.Deliver(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Partial {
			break
		}
		if attempt > 1000 {
			t.Fatal("no progress")
		}
		for i, s := range b.Status { // what the pipeline does after a partial result
			switch s {
			case pipeline.Active:
				b.Status[i] = pipeline.Delivered
			case pipeline.Failed:
				b.Status[i] = pipeline.Active
			}
		}
	}
	msgs := srv.Published(arn)
	if len(msgs) != 1000 {
		t.Fatalf("%d messages, want 1000", len(msgs))
	}
	last := map[string]int64{}
	for _, m := range msgs {
		r, err := esm.ParseRecord([]byte(m.Message))
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := last[m.GroupID]; ok && r.Offset <= p {
			t.Fatalf("group %s: offset %d after %d", m.GroupID, r.Offset, p)
		}
		last[m.GroupID] = r.Offset
	}
}

func TestErrorsAndFailuresGolden(t *testing.T) {
	for code, permanent := range map[string]bool{"NotFound": true, "AuthorizationError": true, "Throttling": false, "InternalError": false} {
		srv := endpoint(t, snsapi.OnCall("PublishBatch", &snsapi.Fault{Code: code}))
		arn, _ := srv.CreateTopic("orders", nil)
		tg, _ := sns.New(sns.Options{API: client(srv), TopicARN: arn})
		if _, err := tg.Deliver(context.Background(), records(2, 1)); err == nil || pipeline.IsPermanent(err) != permanent {
			t.Errorf("%s: %v, permanent want %v", code, err, permanent)
		}
	}
	srv := endpoint(t, nil)
	arn, _ := srv.CreateTopic("orders-dlq", nil)
	rec := esm.NewFailureRecord("arn:aws:lambda:eu-west-1:123456789012:function:orders", esm.Source{BootstrapServers: "b-1:9092"}, false)
	fl := &pipeline.Failure{TopicPartition: pipeline.TopicPartition{Topic: "orders", Partition: 3},
		Records:   []pipeline.Record{{Topic: "orders", Partition: 3, Offset: 1502, Timestamp: 1764411301200}},
		Condition: pipeline.MaximumPayloadSizeExceeded, At: time.Date(2026, 11, 29, 10, 15, 30, 0, time.UTC)}
	if err := sns.NewFailures(client(srv), arn, rec).HandleFailure(context.Background(), fl); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Published(arn)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	var m map[string]any
	json.Unmarshal([]byte(msgs[0].Message), &m)
	m["requestContext"].(map[string]any)["requestId"] = "<uuid>" // random without a response
	got, _ := json.MarshalIndent(m, "", "  ")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile("testdata/on-failure.json", got, 0o644)
	}
	want, _ := os.ReadFile("testdata/on-failure.json")
	if !bytes.Equal(got, want) {
		t.Fatalf("on-failure message differs from testdata/on-failure.json:\n%s", got)
	}
}
