package engine

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/sqsapi"
	"github.com/penstock-dev/penstock/pipeline"
)

// awsEnv points the SDK's default credential chain at static test
// credentials, independent of the machine's AWS configuration.
func awsEnv(t *testing.T, key, secret string) {
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CA_BUNDLE", "") // the endpoints are plain HTTP; the machine's bundle plays no part
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// A pipeline from YAML into an SQS queue, with an input template and an
// SQS on-failure destination: the messages the queue refuses for good end
// up, after the retries, in the dead-letter queue as the ESM's on-failure
// record, and the offsets are committed only then.
func TestSQSTargetWithSQSOnFailureFromConfig(t *testing.T) {
	awsEnv(t, "AKIDENGINE", "engine-secret")
	// Every message of the record with offset 7 is refused.
	srv, err := sqsapi.Start(sqsapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDENGINE", SecretAccessKey: "engine-secret", AccountID: "123456789012",
		Fault: func(op string, i int, e *sqsapi.Entry) *sqsapi.Fault {
			if op == "SendMessageBatch" && e != nil && e.Queue == "orders" && json.Valid([]byte(e.Body)) {
				var v struct{ Offset int }
				json.Unmarshal([]byte(e.Body), &v)
				if v.Offset == 7 && i >= 0 {
					return sqsapi.EntryFailure("InternalError", "refused", false)
				}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.CreateQueue("orders", nil)
	srv.CreateQueue("orders-dlq", nil)
	c := kafkatest.Start(t, 1, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), orderRecords(20))
	dir := t.TempDir()
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: [%[1]q], topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s}}
    batch: {size: 10, window: 20ms}
    retry: {maximum_retry_attempts: 2, initial_backoff: 1ms, max_backoff: 5ms}
    on_failure:
      destination: arn:aws:sqs:eu-west-1:123456789012:orders-dlq
      endpoint_url: %[2]q
    target:
      sqs:
        queue: arn:aws:sqs:eu-west-1:123456789012:orders
        endpoint_url: %[2]q
        input_template: '{"order": <$.value.order_id>, "offset": <offset>}'
`, c.Addrs[0], srv.URL())
	e := startYAML(t, dir, yaml, nil, Overrides{})
	waitCommitted(t, e, 20)
	if n := len(srv.Messages("orders")); n != 19 {
		t.Fatalf("%d messages in the queue, want 19", n)
	}
	dlq := srv.Messages("orders-dlq")
	if len(dlq) != 1 {
		t.Fatalf("%d on-failure messages, want 1", len(dlq))
	}
	var rec struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
			FunctionArn            string `json:"functionArn"`
		} `json:"requestContext"`
		KafkaBatchInfo struct {
			BatchSize   int `json:"batchSize"`
			RecordsInfo map[string]struct {
				First string `json:"firstRecordOffset"`
			} `json:"recordsInfo"`
		} `json:"KafkaBatchInfo"`
	}
	if err := json.Unmarshal([]byte(dlq[0].Body), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.Condition != "RetryAttemptsExhausted" || rec.RequestContext.ApproximateInvokeCount != 3 ||
		rec.KafkaBatchInfo.BatchSize != 1 || rec.KafkaBatchInfo.RecordsInfo["orders-0"].First != "7" {
		t.Fatalf("on-failure record %s", dlq[0].Body)
	}
	if s := e.Pipelines()[0].Stats(); s.Rejected != 1 || s.State != pipeline.StateEnabled {
		t.Fatalf("stats %+v", s)
	}
}
