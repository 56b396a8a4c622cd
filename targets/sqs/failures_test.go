package sqs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/sqsapi"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/sqs"
)

func failure() *pipeline.Failure {
	return &pipeline.Failure{
		TopicPartition: pipeline.TopicPartition{Topic: "orders", Partition: 3},
		Records: []pipeline.Record{{Topic: "orders", Partition: 3, Offset: 1502, Timestamp: 1764411301200, Value: []byte(`{"a":1}`)},
			{Topic: "orders", Partition: 3, Offset: 1503, Timestamp: 1764411301580, Value: []byte(`{"a":2}`)}},
		Condition: pipeline.RetryAttemptsExhausted, Attempts: 11,
		Response: &pipeline.Response{RequestID: "0d0ab2f4-3f8a-4a8e-9d34-5f3cbd1a7c11", StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled", PayloadSize: 1047},
		At:       time.Date(2026, 11, 29, 10, 15, 30, 21e6, time.UTC),
	}
}

// The SQS destination's message is the ESM's on-failure record, field for
// field (golden file), and a refused send is an error, so nothing is
// committed.
func TestFailuresGolden(t *testing.T) {
	srv := endpoint(t, nil)
	url, _ := srv.CreateQueue("orders-dlq", nil)
	rec := esm.NewFailureRecord("arn:aws:lambda:eu-west-1:123456789012:function:orders", esm.Source{BootstrapServers: "b-1:9092,b-2:9092"}, false)
	f := sqs.NewFailures(client(srv), url, rec)
	if err := f.HandleFailure(context.Background(), failure()); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages("orders-dlq")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(msgs[0].Body), "", "  "); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile("testdata/on-failure.json", pretty.Bytes(), 0o644)
	}
	want, _ := os.ReadFile("testdata/on-failure.json")
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Fatalf("on-failure message differs from testdata/on-failure.json:\n%s", pretty.Bytes())
	}

	down := endpoint(t, sqsapi.OnCall("SendMessage", sqsapi.InternalError()))
	url, _ = down.CreateQueue("orders-dlq", nil)
	if err := sqs.NewFailures(client(down), url, rec).HandleFailure(context.Background(), failure()); err == nil {
		t.Fatal("a failed send must be an error")
	}
}
