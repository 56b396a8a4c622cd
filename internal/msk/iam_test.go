package msk

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// verifyIAMPayload checks an AWS_MSK_IAM authentication payload as MSK
// does: its fields, then its signature, recomputed with the SDK's SigV4
// presigner over GET kafka://HOST/?Action=kafka-cluster:Connect&... with
// the secret that belongs to the access key. It returns the access key.
func verifyIAMPayload(payload []byte, secrets map[string]string, region string, now time.Time) (string, error) {
	var kv map[string]string
	if err := json.Unmarshal(payload, &kv); err != nil {
		return "", fmt.Errorf("payload is not a JSON object of strings: %v", err)
	}
	for k, want := range map[string]string{
		"version":             IAMPayloadVersion,
		"action":              IAMConnectAction,
		"x-amz-algorithm":     "AWS4-HMAC-SHA256",
		"x-amz-expires":       "300",
		"x-amz-signedheaders": "host",
	} {
		if kv[k] != want {
			return "", fmt.Errorf("%s = %q, want %q", k, kv[k], want)
		}
	}
	if kv["host"] == "" || kv["user-agent"] == "" {
		return "", errors.New("host or user-agent missing")
	}
	cred := strings.Split(kv["x-amz-credential"], "/")
	if len(cred) != 5 || cred[3] != IAMSigningService || cred[4] != "aws4_request" {
		return "", fmt.Errorf("bad credential scope %q", kv["x-amz-credential"])
	}
	if cred[2] != region {
		return "", fmt.Errorf("signed for region %q, want %q", cred[2], region)
	}
	secret, ok := secrets[cred[0]]
	if !ok {
		return "", fmt.Errorf("unknown access key %q", cred[0])
	}
	signedAt, err := time.Parse("20060102T150405Z", kv["x-amz-date"])
	if err != nil || cred[1] != signedAt.Format("20060102") {
		return "", fmt.Errorf("bad x-amz-date %q for scope date %q", kv["x-amz-date"], cred[1])
	}
	if d := now.Sub(signedAt); d > 5*time.Minute || d < -5*time.Minute {
		return "", fmt.Errorf("signed at %v, too far from %v", signedAt, now)
	}
	q := url.Values{"Action": {IAMConnectAction}, "X-Amz-Expires": {"300"}}
	req, _ := http.NewRequest(http.MethodGet, "kafka://"+kv["host"]+"/?"+q.Encode(), nil)
	creds := aws.Credentials{AccessKeyID: cred[0], SecretAccessKey: secret, SessionToken: kv["x-amz-security-token"]}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptySHA256, IAMSigningService, region, signedAt)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(signed)
	if want := u.Query().Get("X-Amz-Signature"); !hmac.Equal([]byte(want), []byte(kv["x-amz-signature"])) {
		return "", errors.New("signature does not match")
	}
	return cred[0], nil
}

// iamBroker answers SASL on a kfake cluster started without SASL:
// SASLHandshake accepts AWS_MSK_IAM only, SASLAuthenticate verifies the
// payload and answers SASL_AUTHENTICATION_FAILED when it does not verify.
type iamBroker struct {
	mu       sync.Mutex
	accepted []string // access keys authenticated
	refused  []error
}

func (b *iamBroker) install(c *kfake.Cluster, secrets map[string]string, region string) {
	c.ControlKey(int16(kmsg.SASLHandshake), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(*kmsg.SASLHandshakeRequest)
		resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
		resp.SupportedMechanisms = []string{IAMMechanismName}
		if req.Mechanism != IAMMechanismName {
			resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		}
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(*kmsg.SASLAuthenticateRequest)
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		key, err := verifyIAMPayload(req.SASLAuthBytes, secrets, region, time.Now())
		b.mu.Lock()
		defer b.mu.Unlock()
		if err != nil {
			b.refused = append(b.refused, err)
			resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
			msg := "[" + IAMMechanismName + "] access denied: " + err.Error()
			resp.ErrorMessage = &msg
			return resp, nil, true
		}
		b.accepted = append(b.accepted, key)
		resp.SASLAuthBytes = []byte(`{"version":"2020_10_22","request-id":"test"}`)
		return resp, nil, true
	})
}

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
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	b := &iamBroker{}
	b.install(c, map[string]string{"AKIDGOOD": "good-secret", "AKIDROTATED": "rotated-secret"}, region)

	connect := func(p aws.CredentialsProvider) error {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.SASL(IAMMechanism(p, region)),
			kgo.RequestRetries(0), kgo.RetryTimeout(2*time.Second))
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cl.Ping(ctx)
	}

	p := &countingProvider{}
	p.set("AKIDGOOD", "good-secret")
	if err := connect(p); err != nil {
		t.Fatalf("good credentials: %v (refused: %v)", err, b.refused)
	}
	if p.calls.Load() == 0 {
		t.Error("credentials were not retrieved for the connection")
	}

	// Rotated credentials are picked up by the next connection.
	p.set("AKIDROTATED", "rotated-secret")
	if err := connect(p); err != nil {
		t.Fatalf("rotated credentials: %v (refused: %v)", err, b.refused)
	}
	b.mu.Lock()
	accepted := append([]string(nil), b.accepted...)
	b.mu.Unlock()
	if len(accepted) < 2 || accepted[0] != "AKIDGOOD" || accepted[len(accepted)-1] != "AKIDROTATED" {
		t.Errorf("accepted keys = %v, want AKIDGOOD then AKIDROTATED", accepted)
	}

	// A wrong secret is refused with SASL_AUTHENTICATION_FAILED.
	bad := &countingProvider{}
	bad.set("AKIDGOOD", "wrong-secret")
	err = connect(bad)
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong secret: err = %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.refused) == 0 || !strings.Contains(b.refused[len(b.refused)-1].Error(), "signature does not match") {
		t.Errorf("refusals = %v, want a signature mismatch", b.refused)
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
		if _, err := verifyIAMPayload(payload, secrets, "us-west-2", time.Now()); err != nil {
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
		if _, err := verifyIAMPayload(payload, map[string]string{"AKIDTOKEN": "other"}, "us-west-2", time.Now()); err == nil {
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
	if _, err := verifyIAMPayload(payload, secrets, "eu-west-1", time.Now()); err != nil {
		t.Errorf("host region: %v", err)
	}
}
