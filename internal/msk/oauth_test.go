package msk

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/penstock-dev/penstock/internal/kafkatest"
)

// The OAUTHBEARER form authenticates against a broker that verifies the
// token's SigV4 signature; rotated credentials are used by the next
// connection, a wrong secret is refused with SASL_AUTHENTICATION_FAILED,
// and a broker that offers only AWS_MSK_IAM refuses the mechanism.
func TestOAuthMechanismAgainstBroker(t *testing.T) {
	const region = "eu-central-1"
	secrets := map[string]string{"AKIDGOOD": "good-secret", "AKIDROTATED": "rotated-secret"}
	c, b := kafkatest.StartIAM(t, kafkatest.SecureOptions{Topics: []string{"t"}},
		kafkatest.IAMOptions{Region: region, Secrets: secrets, Mechanisms: []string{OAuthMechanismName}})

	connect := func(addrs []string, p aws.CredentialsProvider) error { return ping(addrs, OAuthMechanism(p, region)) }

	p := &countingProvider{}
	p.set("AKIDGOOD", "good-secret")
	if err := connect(c.Addrs, p); err != nil {
		t.Fatalf("good credentials: %v (refused: %v)", err, b.Refused())
	}
	if p.calls.Load() == 0 {
		t.Error("credentials were not retrieved for the connection")
	}
	p.set("AKIDROTATED", "rotated-secret")
	if err := connect(c.Addrs, p); err != nil {
		t.Fatalf("rotated credentials: %v (refused: %v)", err, b.Refused())
	}
	accepted := b.Accepted()
	if len(accepted) < 2 || accepted[0] != (kafkatest.IAMLogin{Mechanism: "OAUTHBEARER", AccessKey: "AKIDGOOD"}) ||
		accepted[len(accepted)-1] != (kafkatest.IAMLogin{Mechanism: "OAUTHBEARER", AccessKey: "AKIDROTATED"}) {
		t.Errorf("accepted = %v, want AKIDGOOD then AKIDROTATED over OAUTHBEARER", accepted)
	}

	bad := &countingProvider{}
	bad.set("AKIDGOOD", "wrong-secret")
	if err := connect(c.Addrs, bad); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong secret: err = %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	if refused := b.Refused(); len(refused) == 0 || !strings.Contains(refused[len(refused)-1].Error(), "signature does not match") {
		t.Errorf("refusals = %v, want a signature mismatch", refused)
	}

	iamOnly, _ := kafkatest.StartIAM(t, kafkatest.SecureOptions{Topics: []string{"t"}},
		kafkatest.IAMOptions{Region: region, Secrets: secrets, Mechanisms: []string{IAMMechanismName}})
	if err := connect(iamOnly.Addrs, p); !errors.Is(err, kerr.UnsupportedSaslMechanism) {
		t.Fatalf("OAUTHBEARER against an AWS_MSK_IAM-only broker: err = %v, want UNSUPPORTED_SASL_MECHANISM", err)
	}
}

// token returns the bearer token of an OAUTHBEARER first message.
func token(t *testing.T, msg []byte) string {
	t.Helper()
	tok, err := kafkatest.ParseOAuthBearer(msg)
	if err != nil {
		t.Fatalf("%v in %q", err, msg)
	}
	return tok
}

// The token is MSK's: a base64url presigned URL for
// kafka-cluster:Connect, carrying the session token, signed for the region
// of an MSK host name or else the configured one; the verifier refuses it
// with another secret, for another region, once expired, or altered.
func TestOAuthToken(t *testing.T) {
	p := &countingProvider{}
	p.creds = aws.Credentials{AccessKeyID: "AKIDTOKEN", SecretAccessKey: "s3cret", SessionToken: "tok+en/=="}
	m := OAuthMechanism(p, "us-west-2")
	if m.Name() != "OAUTHBEARER" {
		t.Fatalf("Name = %q", m.Name())
	}
	secrets := map[string]string{"AKIDTOKEN": "s3cret"}
	now := time.Now()

	sess, msg, err := m.Authenticate(context.Background(), "10.0.0.7:9098")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(msg), "n,,\x01auth=Bearer ") || !strings.HasSuffix(string(msg), "\x01\x01") {
		t.Fatalf("message %q is not an OAUTHBEARER client first message", msg)
	}
	if key, err := kafkatest.VerifyOAuthBearer(msg, secrets, "us-west-2", now); err != nil || key != "AKIDTOKEN" {
		t.Fatalf("verify: %q, %v", key, err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token(t, msg))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "kafka.us-west-2.amazonaws.com" || q.Get("Action") != "kafka-cluster:Connect" ||
		q.Get("X-Amz-Security-Token") != "tok+en/==" || !strings.HasPrefix(q.Get("User-Agent"), "aws-msk-iam-sasl-signer-go/") {
		t.Errorf("token URL %s", raw)
	}
	if done, _, err := sess.Challenge(nil); !done || err != nil {
		t.Errorf("Challenge = %v, %v", done, err)
	}

	for _, c := range []struct {
		name    string
		msg     []byte
		secrets map[string]string
		region  string
		now     time.Time
		want    string
	}{
		{"another secret", msg, map[string]string{"AKIDTOKEN": "other"}, "us-west-2", now, "signature does not match"},
		{"unknown access key", msg, map[string]string{"AKIDOTHER": "s3cret"}, "us-west-2", now, "unknown access key"},
		{"another region", msg, secrets, "eu-west-1", now, "eu-west-1"},
		{"expired", msg, secrets, "us-west-2", now.Add(16 * time.Minute), "expired"},
		{"altered action", alter(t, msg, "Action", "kafka-cluster:AlterCluster"), secrets, "us-west-2", now, "Action"},
		{"altered expiry", alter(t, msg, "X-Amz-Expires", "600"), secrets, "us-west-2", now, "signature does not match"},
		{"altered session token", alter(t, msg, "X-Amz-Security-Token", "other"), secrets, "us-west-2", now, "signature does not match"},
	} {
		if _, err := kafkatest.VerifyOAuthBearer(c.msg, c.secrets, c.region, c.now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}

	// A host in another region is signed for the region its name carries.
	_, msg, err = m.Authenticate(context.Background(), "b-1.x.kafka.eu-west-1.amazonaws.com:9098")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kafkatest.VerifyOAuthBearer(msg, secrets, "eu-west-1", now); err != nil {
		t.Errorf("host region: %v", err)
	}
	if p.calls.Load() != 2 {
		t.Errorf("Retrieve called %d times, want once per Authenticate (2)", p.calls.Load())
	}

	// Without credentials or a region there is no token.
	if _, _, err := OAuthMechanism(nil, "us-west-2").Authenticate(context.Background(), "10.0.0.7:9098"); err == nil {
		t.Error("no credentials: no error")
	}
	if _, _, err := OAuthMechanism(p, "").Authenticate(context.Background(), "10.0.0.7:9098"); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("no region: %v", err)
	}
}

// alter returns msg with one query parameter of its token's URL replaced.
func alter(t *testing.T, msg []byte, key, value string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token(t, msg))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(string(raw))
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return []byte("n,,\x01auth=Bearer " + base64.RawURLEncoding.EncodeToString([]byte(u.String())) + "\x01\x01")
}
