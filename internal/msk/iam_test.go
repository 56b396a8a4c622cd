package msk

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/penstock-dev/penstock/internal/kafkatest"
)

// countingProvider hands out the current credentials and counts calls.
type countingProvider struct {
	calls atomic.Int32
	mu    sync.Mutex
	creds aws.Credentials
}

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	p.calls.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.creds, nil
}

func (p *countingProvider) set(key, secret string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.creds = aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
}

func TestIAMMechanismAgainstBroker(t *testing.T) {
	const region = "eu-central-1"
	c, b := kafkatest.StartIAM(t, kafkatest.SecureOptions{Topics: []string{"t"}}, kafkatest.IAMOptions{Region: region,
		Secrets: map[string]string{"AKIDGOOD": "good-secret", "AKIDROTATED": "rotated-secret"}, Mechanisms: []string{IAMMechanismName}})

	connect := func(p aws.CredentialsProvider) error { return ping(c.Addrs, IAMMechanism(p, region)) }

	p := &countingProvider{}
	p.set("AKIDGOOD", "good-secret")
	if err := connect(p); err != nil {
		t.Fatalf("good credentials: %v (refused: %v)", err, b.Refused())
	}
	if p.calls.Load() == 0 {
		t.Error("credentials were not retrieved for the connection")
	}

	// Rotated credentials are picked up by the next connection.
	p.set("AKIDROTATED", "rotated-secret")
	if err := connect(p); err != nil {
		t.Fatalf("rotated credentials: %v (refused: %v)", err, b.Refused())
	}
	accepted := b.Accepted()
	if len(accepted) < 2 || accepted[0] != (kafkatest.IAMLogin{Mechanism: IAMMechanismName, AccessKey: "AKIDGOOD"}) ||
		accepted[len(accepted)-1].AccessKey != "AKIDROTATED" {
		t.Errorf("accepted keys = %v, want AKIDGOOD then AKIDROTATED", accepted)
	}

	// A wrong secret is refused with SASL_AUTHENTICATION_FAILED.
	bad := &countingProvider{}
	bad.set("AKIDGOOD", "wrong-secret")
	err := connect(bad)
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong secret: err = %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	if refused := b.Refused(); len(refused) == 0 || !strings.Contains(refused[len(refused)-1].Error(), "signature does not match") {
		t.Errorf("refusals = %v, want a signature mismatch", refused)
	}
}

// TestIAMPayloadBothPaths checks that the payload of an MSK host name
// (signed by franz-go's mechanism) and of any other host (signed here)
// verify the same way, with a session token.
func TestIAMPayloadBothPaths(t *testing.T) {
	p := &countingProvider{}
	p.creds = aws.Credentials{AccessKeyID: "AKIDTOKEN", SecretAccessKey: "s3cret", SessionToken: "tok+en/=="}
	m := IAMMechanism(p, "us-west-2")
	if m.Name() != "AWS_MSK_IAM" {
		t.Fatalf("Name = %q", m.Name())
	}
	secrets := map[string]string{"AKIDTOKEN": "s3cret"}
	for _, host := range []string{
		"b-1.demo.abc123.c2.kafka.us-west-2.amazonaws.com:9098", // franz-go's path
		"10.0.0.7:9098", // signed for the given region
	} {
		sess, payload, err := m.Authenticate(context.Background(), host)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if _, err := kafkatest.VerifyIAMPayload(payload, secrets, "us-west-2", time.Now()); err != nil {
			t.Errorf("%s: %v\npayload %s", host, err, payload)
		}
		var kv map[string]string
		json.Unmarshal(payload, &kv)
		if kv["x-amz-security-token"] != "tok+en/==" {
			t.Errorf("%s: session token = %q", host, kv["x-amz-security-token"])
		}
		if done, _, err := sess.Challenge([]byte(`{"version":"2020_10_22"}`)); !done || err != nil {
			t.Errorf("%s: Challenge = %v, %v", host, done, err)
		}
		if _, err := kafkatest.VerifyIAMPayload(payload, map[string]string{"AKIDTOKEN": "other"}, "us-west-2", time.Now()); err == nil {
			t.Errorf("%s: payload verified with the wrong secret", host)
		}
	}
	if p.calls.Load() != 2 {
		t.Errorf("Retrieve called %d times, want once per Authenticate (2)", p.calls.Load())
	}
	// A host in another region is signed for the region its name carries.
	_, payload, err := m.Authenticate(context.Background(), "b-1.x.kafka.eu-west-1.amazonaws.com:9098")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kafkatest.VerifyIAMPayload(payload, secrets, "eu-west-1", time.Now()); err != nil {
		t.Errorf("host region: %v", err)
	}
}

// ping connects to addrs, authenticating with m, and pings the cluster
// without retries.
func ping(addrs []string, m sasl.Mechanism) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.SASL(m), kgo.RequestRetries(0), kgo.RetryTimeout(2*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}
