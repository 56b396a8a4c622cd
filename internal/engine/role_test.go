package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/sqsapi"
	"github.com/penstock-dev/penstock/internal/stsapi"
	"github.com/penstock-dev/penstock/pipeline"
)

const writerRole = "arn:aws:iam::123456789012:role/penstock-writer"

// roleSetup starts a local STS that lets the environment's credentials
// assume writerRole (with external id ext-1), and an SQS endpoint that
// accepts only the role's temporary credentials, session token included.
func roleSetup(t *testing.T) (*stsapi.Server, *sqsapi.Server) {
	t.Helper()
	awsEnv(t, "AKIDBASE", "base-secret")
	sts, err := stsapi.Start(stsapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDBASE", SecretAccessKey: "base-secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sts.Close)
	sts.AddRole(stsapi.Role{ARN: writerRole, ExternalID: "ext-1",
		AccessKeyID: "ASIAWRITER", SecretAccessKey: "writer-secret", SessionToken: "writer-session-token"})
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL())
	sqs, err := sqsapi.Start(sqsapi.Options{Region: "eu-west-1", AccountID: "123456789012",
		AccessKeyID: "ASIAWRITER", SecretAccessKey: "writer-secret", SessionToken: "writer-session-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sqs.Close)
	sqs.CreateQueue("orders", nil)
	return sts, sqs
}

func roleYAML(brokers, sqsURL, externalID string) string {
	return fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: [%q], topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s}}
    batch: {size: 10, window: 20ms}
    target:
      sqs:
        queue: arn:aws:sqs:eu-west-1:123456789012:orders
        endpoint_url: %q
        role_arn: %s
        external_id: %s
`, brokers, sqsURL, writerRole, externalID)
}

// A target with role_arn writes with the role's credentials: Penstock
// assumes the role with STS (signed with the environment's credentials,
// with the external id and session name "penstock"), signs every request
// with the temporary credentials and session token, and assumes the role
// once for the whole run (the credentials are cached until they expire).
func TestTargetAssumesRoleFromConfig(t *testing.T) {
	sts, sqs := roleSetup(t)
	c := kafkatest.Start(t, 1, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), orderRecords(50))
	e := startYAML(t, t.TempDir(), roleYAML(c.Addrs[0], sqs.URL(), "ext-1"), nil, Overrides{})
	waitCommitted(t, e, 50)
	if n := len(sqs.Messages("orders")); n != 50 {
		t.Fatalf("%d messages in the queue, want 50", n)
	}
	if n := sqs.SignatureFailures(); n != 0 {
		t.Errorf("%d SQS requests refused", n)
	}
	if n := sts.Requests("AssumeRole"); n != 1 {
		t.Errorf("%d AssumeRole calls, want 1", n)
	}
	if got := sts.Sessions(); len(got) != 1 || got[0] != "penstock" {
		t.Errorf("sessions %v, want [penstock]", got)
	}
}

// A role Penstock may not assume (here: a wrong external id) stops the
// pipeline (Failed) with STS's refusal, which names the role, and commits
// nothing; the queue receives
// nothing signed with the environment's own credentials.
func TestTargetRoleRefused(t *testing.T) {
	sts, sqs := roleSetup(t)
	c := kafkatest.Start(t, 1, "orders")
	kafkatest.ProduceSync(t, c.Producer(t), orderRecords(5))
	e := startYAML(t, t.TempDir(), roleYAML(c.Addrs[0], sqs.URL(), "wrong-id"), nil, Overrides{})
	deadline := time.Now().Add(30 * time.Second)
	var s pipeline.Stats
	for {
		s = e.Pipelines()[0].Stats()
		if s.State == pipeline.StateFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pipeline did not stop: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(s.LastError, "api error AccessDenied") || !strings.Contains(s.LastError, "AssumeRole") || !strings.Contains(s.LastError, writerRole) {
		t.Errorf("the error does not say which role could not be assumed: %s", s.LastError)
	}
	if got := e.Pipelines()[0].Committed(); got[pipeline.TopicPartition{Topic: "orders"}] > 0 {
		t.Errorf("committed %v with no record delivered", got)
	}
	if n := len(sqs.Messages("orders")); n != 0 {
		t.Errorf("%d messages in the queue", n)
	}
	if n := sqs.Requests("SendMessageBatch"); n != 0 {
		t.Errorf("%d SendMessageBatch requests reached SQS without the role's credentials", n)
	}
	if n := sts.Requests("AssumeRole"); n == 0 {
		t.Error("STS was not asked")
	}
}

// MSK IAM with role_arn: the source assumes the role (signed with the
// environment's credentials, which the brokers do not know) and
// authenticates to the brokers with the role's temporary credentials, in
// both SASL forms.
func TestMSKIAMAssumesRoleFromConfig(t *testing.T) {
	for _, c := range iamForms {
		t.Run(c.name, func(t *testing.T) {
			const role = "arn:aws:iam::123456789012:role/orders-reader"
			sts, err := stsapi.Start(stsapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDBASE", SecretAccessKey: "base-secret"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sts.Close)
			sts.AddRole(stsapi.Role{ARN: role, AccessKeyID: "ASIAREADER", SecretAccessKey: "reader-secret", SessionToken: "reader-token"})
			t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL())
			auth := strings.TrimSuffix(c.auth, "}") + ", role_arn: " + role + "}"
			r := startIAMWith(t, c.form, auth, map[string]string{"ASIAREADER": "reader-secret"}, "AKIDBASE", "base-secret", 20)
			waitCommitted(t, r.e, 20)
			want := kafkatest.IAMLogin{Mechanism: c.form, AccessKey: "ASIAREADER"}
			if got := r.broker.Accepted(); !slices.Contains(got, want) {
				t.Fatalf("the brokers accepted %v, want %v (refused: %v)", got, want, r.broker.Refused())
			}
			if n := sts.Requests("AssumeRole"); n < 1 {
				t.Errorf("%d AssumeRole calls", n)
			}
			r.noSecretIn(t, "reader-secret", "base-secret", "reader-token")
		})
	}
}
