package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/lambdaapi"
	"github.com/penstock-dev/penstock/internal/logtest"
	"github.com/penstock-dev/penstock/pipeline"
)

// buildExample builds the example orders function, an unmodified
// aws-lambda-go program.
func buildExample(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "orders-function")
	cmd := exec.Command("go", "build", "-o", bin, "../../examples/functions/orders")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func orderRecords(n int) []*kgo.Record {
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: "orders", Key: []byte(strconv.Itoa(i)),
			Value: fmt.Appendf(nil, `{"order_id":"o-%d","amount":10.5,"currency":"EUR"}`, i)})
	}
	return recs
}

// A pipeline from pipelines.yaml with a local function: the example
// aws-lambda-go function receives every record in ESM events, and the
// records it keeps reporting as failed in its partial batch response end up,
// after the retries, in the on-failure file with the ESM's record.
func TestLocalFunctionPipelineFromConfig(t *testing.T) {
	bin := buildExample(t)
	c := kafkatest.Start(t, 1, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), orderRecords(100))
	dir := t.TempDir()
	failures := filepath.Join(dir, "failures.jsonl")
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: [%q], topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s}}
    batch: {size: 10, window: 50ms}
    retry: {maximum_retry_attempts: 1, report_batch_item_failures: true, initial_backoff: 1ms, max_backoff: 5ms}
    on_failure: {destination: "file:%s"}
    target:
      lambda:
        command: [%q]
        environment: {ORDERS_FAIL_EVERY: "50"}
        timeout: 5s
`, c.Addrs[0], failures, bin)
	var logs logtest.Buffer
	e := startYAML(t, dir, yaml, &logs, Overrides{})
	waitCommitted(t, e, 100)

	// The function logged one line per invocation it handled.
	re := regexp.MustCompile(`orders: (\d+) records from orders-0 offsets (\d+)\.\.(\d+)`)
	seen := map[int]bool{}
	for _, m := range re.FindAllStringSubmatch(logs.String(), -1) {
		lo, _ := strconv.Atoi(m[2])
		hi, _ := strconv.Atoi(m[3])
		for o := lo; o <= hi; o++ {
			seen[o] = true
		}
	}
	if len(seen) != 100 {
		t.Fatalf("the function saw %d distinct offsets, want 100\n%s", len(seen), logs.String())
	}
	// Offsets 0 and 50 always fail: each time the function reports them,
	// the rest of their batch is retried from them, once, then given up.
	b, err := os.ReadFile(failures)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d on-failure records, want 2:\n%s", len(lines), b)
	}
	for i, want := range []string{"0", "50"} {
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
					Last  string `json:"lastRecordOffset"`
				} `json:"recordsInfo"`
			} `json:"KafkaBatchInfo"`
		}
		if err := json.Unmarshal(lines[i], &rec); err != nil {
			t.Fatal(err)
		}
		ri := rec.KafkaBatchInfo.RecordsInfo["orders-0"]
		if rec.RequestContext.Condition != "RetryAttemptsExhausted" || rec.RequestContext.ApproximateInvokeCount != 2 ||
			rec.KafkaBatchInfo.BatchSize != 10 || ri.First != want || rec.RequestContext.FunctionArn == "" {
			t.Fatalf("on-failure record %d: %s", i, lines[i])
		}
	}
}

func waitCommitted(t *testing.T, e *Engine, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ps := e.Pipelines()
		if len(ps) == 1 && ps[0].Committed()[pipeline.TopicPartition{Topic: "orders"}] == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not committed in time: %v", ps[0].Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An AWS function that does not exist stops its pipeline with the ESM's
// reason FUNCTION_CONFIG_NOT_VALID instead of retrying forever; the client
// reaches the endpoint from the config with credentials from the
// environment, signed with SigV4.
func TestMissingFunctionStopsPipelineWithConfigNotValid(t *testing.T) {
	srv, err := lambdaapi.Start(lambdaapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDENGINE", SecretAccessKey: "engine-secret",
		Handler: lambdaapi.NotFound()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	awsEnv(t, "AKIDENGINE", "engine-secret")
	c := kafkatest.Start(t, 1, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), orderRecords(5))
	dir := t.TempDir()
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: [%q], topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s}}
    batch: {window: 10ms}
    target:
      lambda: {function: "arn:aws:lambda:eu-west-1:123456789012:function:gone", endpoint_url: %q}
`, c.Addrs[0], srv.URL())
	e := startYAML(t, dir, yaml, nil, Overrides{})
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := e.Pipelines()[0].Stats()
		if s.State == pipeline.StateFailed {
			if s.Reason != "FUNCTION_CONFIG_NOT_VALID" {
				t.Fatalf("reason %q (%s), want FUNCTION_CONFIG_NOT_VALID", s.Reason, s.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline still %s", s.State)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.SignatureFailures(); n != 0 {
		t.Fatalf("%d requests failed signature verification", n)
	}
	if n := srv.Invocations(); n != 1 {
		t.Fatalf("%d invocations, want 1: a missing function is not retried", n)
	}
}
