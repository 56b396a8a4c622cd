package engine

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/logtest"
	"github.com/penstock-dev/penstock/pipeline/config"
)

// The preflight checks also run when a pipeline starts: a permission the
// event source mapping requires but the source never exercises (here
// DescribeConfigs on the cluster) shows in the pipeline's status and log
// with its fix, and the pipeline keeps running; once records flow the
// status says OK again.
func TestPreflightAtStartShowsInStatus(t *testing.T) {
	ca := kafkatest.NewCA(t, "broker CA")
	allow := func(res kmsg.ACLResourceType, name string, op kmsg.ACLOperation) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: op, Allow: true}
	}
	opts := kafkatest.SecureOptions{ServerCA: ca, ACLs: true, Topics: []string{"orders"}, Users: []kafkatest.User{
		{Method: "SCRAM-SHA-512", Name: "admin", Password: "admin-pw"},
		{Method: "SCRAM-SHA-512", Name: "carol", Password: "carol-pw", ACLs: []kfake.ACL{
			allow(kmsg.ACLResourceTypeTopic, "orders", kmsg.ACLOperationRead), allow(kmsg.ACLResourceTypeTopic, "orders", kmsg.ACLOperationDescribe),
			allow(kmsg.ACLResourceTypeGroup, "g", kmsg.ACLOperationRead)}},
	}}
	cl := kafkatest.StartSecure(t, opts)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o600)
	t.Setenv("CAROL_PW", "carol-pw")
	t.Setenv("CAROL_USER", "carol")
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: [%q], topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s, consumer_group_id: g,
        tls: {root_ca: "file:ca.pem"}, auth: {mechanism: SASL_SCRAM_512_AUTH, username: "env:CAROL_USER", password: "env:CAROL_PW"}}}
    batch: {window: 10ms}
    target: {file: {path: out.jsonl}}
`, cl.Addrs[0])
	var logs logtest.Buffer
	e := startYAML(t, dir, yaml, &logs, Overrides{})
	deadline := time.Now().Add(20 * time.Second)
	for e.Checks("orders") == nil {
		if time.Now().After(deadline) {
			t.Fatal("the preflight did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var failed []CheckResult
	for _, r := range e.Checks("orders") {
		if r.Status == CheckFail {
			failed = append(failed, r)
		}
	}
	if len(failed) != 1 || failed[0].Check != "cluster" || failed[0].Error != "EVENT_SOURCE_AUTHZ_ERROR: Cluster failed to authorize Penstock" {
		t.Fatalf("failed checks: %+v", failed)
	}
	p := e.Pipelines()[0]
	if s := p.Stats(); s.LastProcessingResult != failed[0].Error || s.State != "Enabled" {
		t.Fatalf("status: state %s, last processing result %q", s.State, s.LastProcessingResult)
	}
	for _, w := range []string{"preflight check failed", "check=cluster", "grant the principal DescribeConfigs on the cluster"} {
		if !strings.Contains(logs.String(), w) {
			t.Fatalf("log lacks %q:\n%s", w, logs.String())
		}
	}
	if strings.Contains(logs.String(), "carol-pw") {
		t.Fatal("the password appears in the log")
	}
	kafkatest.ProduceSync(t, cl.SecureProducer(t, opts), orderRecords(5))
	waitLines(t, filepath.Join(dir, "out.jsonl"), 5)
	for p.Stats().LastProcessingResult != "OK" {
		if time.Now().After(deadline) {
			t.Fatalf("status after records flowed: %q", p.Stats().LastProcessingResult)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Turning TLS verification off works against a broker nobody vouches for,
// and says so with a warning every time the pipeline starts.
func TestInsecureSkipVerifyWarnsAtEveryStart(t *testing.T) {
	ca := kafkatest.NewCA(t, "unknown CA")
	opts := kafkatest.SecureOptions{ServerCA: ca, Topics: []string{"orders"}}
	cl := kafkatest.StartSecure(t, opts)
	kafkatest.ProduceSync(t, cl.SecureProducer(t, opts), orderRecords(3))
	dir := t.TempDir()
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: [%q], topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s,
        tls: {insecure_skip_verify: true}}}
    batch: {window: 10ms}
    target: {file: {path: out.jsonl}}
`, cl.Addrs[0])
	f, err := config.Parse(filepath.Join(dir, "pipelines.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	var logs logtest.Buffer
	for start := 1; start <= 2; start++ {
		e := New(slog.New(slog.NewTextHandler(&logs, nil)), Overrides{SkipPreflight: true})
		if err := e.Start(f); err != nil {
			t.Fatal(err)
		}
		if start == 1 {
			waitLines(t, filepath.Join(dir, "out.jsonl"), 3)
		}
		if err := e.StopAll(); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(logs.String(), "TLS certificate verification is OFF for this pipeline"); n != start {
			t.Fatalf("start %d: %d warnings:\n%s", start, n, logs.String())
		}
	}
}
