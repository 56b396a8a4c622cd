package engine

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/logtest"
	"github.com/penstock-dev/penstock/pipeline/config"
)

// iamRun is a pipeline consuming from a cluster that verifies MSK IAM
// authentication.
type iamRun struct {
	e      *Engine
	broker *kafkatest.IAMBroker
	logs   *logtest.Buffer
	dir    string
}

// startIAM starts a TLS cluster whose brokers offer only the SASL mechanism
// form and know the access key AKIDPIPELINE with the secret
// "pipeline-secret-value", produces n records, and runs a pipeline from
// YAML with auth: {mechanism: AWS_MSK_IAM, region: eu-west-1, ...} whose
// AWS credentials come from the environment: AKIDPIPELINE and secret.
func startIAM(t *testing.T, form, authYAML, secret string, n int) *iamRun {
	t.Helper()
	return startIAMWith(t, form, authYAML, map[string]string{"AKIDPIPELINE": "pipeline-secret-value"}, "AKIDPIPELINE", secret, n)
}

// startIAMWith is startIAM with the keys the brokers know (access key id →
// secret) and the environment's credentials given.
func startIAMWith(t *testing.T, form, authYAML string, brokerKeys map[string]string, envKey, envSecret string, n int) *iamRun {
	t.Helper()
	ca := kafkatest.NewCA(t, "MSK CA")
	opts := kafkatest.SecureOptions{ServerCA: ca, Topics: []string{"orders"}}
	cl, broker := kafkatest.StartIAM(t, opts, kafkatest.IAMOptions{Region: "eu-west-1",
		Secrets: brokerKeys, Mechanisms: []string{form}})
	kafkatest.ProduceSync(t, cl.SecureProducer(t, opts), orderRecords(n))
	awsEnv(t, envKey, envSecret)
	// The region to sign for is the config's, not the environment's.
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source:
      kafka:
        bootstrap_servers: [%q]
        topic: orders
        starting_position: TRIM_HORIZON
        session_timeout: 2s
        tls: {root_ca: "file:ca.pem"}
        auth: %s
    batch: {window: 10ms}
    target: {file: {path: out.jsonl}}
`, cl.Addrs[0], authYAML)
	f, err := config.Parse(filepath.Join(dir, "pipelines.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	e := New(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Overrides{})
	if err := e.Start(f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.StopAll() })
	return &iamRun{e: e, broker: broker, logs: logs, dir: dir}
}

// noSecretIn fails the test when a secret value appears in the log or in
// the pipeline's status.
func (r *iamRun) noSecretIn(t *testing.T, secrets ...string) {
	t.Helper()
	status := fmt.Sprintf("%+v", r.e.Pipelines()[0].Stats())
	for _, s := range secrets {
		if strings.Contains(r.logs.String(), s) || strings.Contains(status, s) {
			t.Fatalf("the secret %q appears in the log or status:\n%s\n%s", s, status, r.logs.String())
		}
	}
}

var iamForms = []struct {
	name, form, auth string
}{
	{"AWS_MSK_IAM", kafkatest.MechanismIAM, "{mechanism: AWS_MSK_IAM, region: eu-west-1}"},
	{"OAUTHBEARER", kafkatest.MechanismOAuthBearer, "{mechanism: AWS_MSK_IAM, region: eu-west-1, sasl_mechanism: OAUTHBEARER}"},
}

// A pipeline from YAML with AWS_MSK_IAM, in both SASL forms, signs with the
// credentials of the environment for the config's region; the brokers
// verify the signature and every record is consumed end to end.
func TestMSKIAMEndToEnd(t *testing.T) {
	for _, c := range iamForms {
		t.Run(c.name, func(t *testing.T) {
			r := startIAM(t, c.form, c.auth, "pipeline-secret-value", 50)
			waitCommitted(t, r.e, 50)
			if n := lines(filepath.Join(r.dir, "out.jsonl")); n != 50 {
				t.Fatalf("%d records delivered, want 50", n)
			}
			want := kafkatest.IAMLogin{Mechanism: c.form, AccessKey: "AKIDPIPELINE"}
			if got := r.broker.Accepted(); !slices.Contains(got, want) {
				t.Fatalf("the brokers accepted %v, want %v (refused: %v)", got, want, r.broker.Refused())
			}
			if r := r.e.Pipelines()[0].Stats().LastProcessingResult; r != "OK" {
				t.Errorf("last processing result %q", r)
			}
			r.noSecretIn(t, "pipeline-secret-value")
		})
	}
}

// A wrong secret access key is refused by the brokers: the pipeline reports
// EVENT_SOURCE_AUTHN_ERROR, and neither secret appears in the log or status.
func TestMSKIAMWrongSecretIsReported(t *testing.T) {
	for _, c := range iamForms {
		t.Run(c.name, func(t *testing.T) {
			r := startIAM(t, c.form, c.auth, "wrong-secret-value", 5)
			const want = "EVENT_SOURCE_AUTHN_ERROR: SASL authentication failed"
			deadline := time.Now().Add(15 * time.Second)
			var got string
			for time.Now().Before(deadline) {
				if got = r.e.Pipelines()[0].Stats().LastProcessingResult; got == want {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got != want {
				t.Fatalf("last processing result %q, want %q\n%s", got, want, r.logs.String())
			}
			refused := r.broker.Refused()
			if len(refused) == 0 || !strings.Contains(refused[0].Error(), "signature does not match") {
				t.Fatalf("the brokers refused %v, want a signature mismatch", refused)
			}
			if a := r.broker.Accepted(); len(a) != 0 {
				t.Fatalf("the brokers accepted %v", a)
			}
			if !strings.Contains(r.logs.String(), "SASL_AUTHENTICATION_FAILED") {
				t.Fatalf("the log does not show the refusal:\n%s", r.logs.String())
			}
			if n := lines(filepath.Join(r.dir, "out.jsonl")); n != 0 {
				t.Fatalf("%d records delivered without authentication", n)
			}
			r.noSecretIn(t, "wrong-secret-value", "pipeline-secret-value")
		})
	}
}
