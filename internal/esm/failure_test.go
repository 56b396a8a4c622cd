package esm

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/penstock-dev/penstock/pipeline"
)

func sampleFailure(cond pipeline.Condition) *pipeline.Failure {
	b := sampleBatch()
	f := &pipeline.Failure{TopicPartition: b.TopicPartition, Records: b.Records, Condition: cond,
		At: time.Date(2019, 11, 14, 0, 38, 6, 21e6, time.UTC)}
	if cond != pipeline.MaximumPayloadSizeExceeded {
		f.Attempts = 3
		f.Response = &pipeline.Response{RequestID: "316aa6d0-8154-4f2a-9af7-85d5f4a6bc81", StatusCode: 200,
			ExecutedVersion: "$LATEST", FunctionError: "Unhandled", PayloadSize: 2039086}
	}
	return f
}

// The on-failure records for SQS/SNS (no payload) and S3 (with payload),
// field for field against golden files (SPEC §6), for both conditions.
func TestFailureRecordGolden(t *testing.T) {
	src := Source{ARN: "arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2", BootstrapServers: "b-1:9092,b-2:9092"}
	for _, c := range []struct {
		name    string
		cond    pipeline.Condition
		payload bool
	}{
		{"retry-exhausted", pipeline.RetryAttemptsExhausted, false},
		{"retry-exhausted-s3", pipeline.RetryAttemptsExhausted, true},
		{"payload-size", pipeline.MaximumPayloadSizeExceeded, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := NewFailureRecord("arn:aws:lambda:us-east-1:123456789012:function:myfunction", src, c.payload)
			line, _ := w.Append(nil, nil, sampleFailure(c.cond))
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, line, "", "  "); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, line)
			}
			got := pretty.Bytes()
			// A payload-size failure has no response: its request id is random.
			if c.cond == pipeline.MaximumPayloadSizeExceeded {
				got = regexp.MustCompile(`"requestId": "[0-9a-f-]{36}"`).ReplaceAll(got, []byte(`"requestId": "<uuid>"`))
			}
			path := filepath.Join("testdata", "failure-"+c.name+".json")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				os.WriteFile(path, got, 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("record differs from %s:\n%s", path, got)
			}
			if c.payload {
				var rec struct{ Payload string }
				json.Unmarshal(line, &rec)
				var ev events.KafkaEvent
				if err := json.Unmarshal([]byte(rec.Payload), &ev); err != nil || len(ev.Records["mytopic-0"]) != 3 {
					t.Fatalf("payload is not the event of the failed records: %v %s", err, rec.Payload)
				}
			}
		})
	}
}
