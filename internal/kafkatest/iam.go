package kafkatest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The SASL mechanisms of an MSK IAM listener.
const (
	// MechanismIAM is the AWS_MSK_IAM mechanism: a JSON object of the
	// query parameters of a SigV4-presigned request.
	MechanismIAM = "AWS_MSK_IAM"
	// MechanismOAuthBearer is MSK's OAUTHBEARER form: the token is a
	// SigV4-presigned URL, base64url-encoded.
	MechanismOAuthBearer = "OAUTHBEARER"
)

// What the signatures of both mechanisms are made over.
const (
	iamService        = "kafka-cluster"
	iamConnectAction  = "kafka-cluster:Connect"
	iamPayloadVersion = "2020_10_22"
	// iamMaxExpiry bounds X-Amz-Expires of an OAUTHBEARER token: MSK's
	// signer makes them valid for 15 minutes.
	iamMaxExpiry = 15 * time.Minute
	// iamClockSkew is how far ahead of the broker's clock a signing time
	// may be.
	iamClockSkew = 5 * time.Minute
)

// IAMOptions describe the IAM access of a test cluster.
type IAMOptions struct {
	// Region is the region signatures must be made for.
	Region string
	// Secrets maps each known access key id to its secret access key.
	Secrets map[string]string
	// Mechanisms are the SASL mechanisms the brokers offer; default both
	// AWS_MSK_IAM and OAUTHBEARER, as an MSK IAM listener does.
	Mechanisms []string
}

// IAMLogin is an authentication the brokers accepted.
type IAMLogin struct {
	Mechanism string
	AccessKey string
}

// IAMBroker verifies MSK IAM authentication on a kfake cluster: its
// SASLHandshake control hook accepts the configured mechanisms only, and
// its SASLAuthenticate hook checks the SigV4 signature of the payload (or
// of the OAUTHBEARER token) by recomputing it with the SDK's presigner and
// the secret that belongs to the access key, answering
// SASL_AUTHENTICATION_FAILED when it does not verify.
//
// The hooks cannot mark a connection as authenticated, so the brokers do
// not refuse clients that skip SASL: tests check Accepted to know that a
// client did authenticate.
type IAMBroker struct {
	o        IAMOptions
	mu       sync.Mutex
	accepted []IAMLogin
	refused  []error
}

// StartIAM starts a one-broker cluster as StartSecure does (o.Users must be
// empty: SASL is MSK IAM's) whose brokers verify MSK IAM authentication as
// iam says. A producer from SecureProducer(tb, o) does not authenticate.
func StartIAM(tb testing.TB, o SecureOptions, iam IAMOptions) (*Cluster, *IAMBroker) {
	tb.Helper()
	if len(o.Users) > 0 {
		tb.Fatal("StartIAM: SecureOptions.Users must be empty")
	}
	c := StartSecure(tb, o)
	return c, InstallIAM(c.Cluster, iam)
}

// InstallIAM installs the MSK IAM control hooks on c, which must have been
// started without SASL.
func InstallIAM(c *kfake.Cluster, o IAMOptions) *IAMBroker {
	if len(o.Mechanisms) == 0 {
		o.Mechanisms = []string{MechanismIAM, MechanismOAuthBearer}
	}
	b := &IAMBroker{o: o}
	c.ControlKey(int16(kmsg.SASLHandshake), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(*kmsg.SASLHandshakeRequest)
		resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
		resp.SupportedMechanisms = o.Mechanisms
		if !slices.Contains(o.Mechanisms, req.Mechanism) {
			resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
			b.refuse(fmt.Errorf("mechanism %q is not offered", req.Mechanism))
		}
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(*kmsg.SASLAuthenticateRequest)
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		mech, key, err := b.verify(req.SASLAuthBytes, time.Now())
		if err != nil {
			b.refuse(err)
			resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
			msg := "[" + mech + "] Access denied"
			resp.ErrorMessage = &msg
			return resp, nil, true
		}
		b.mu.Lock()
		b.accepted = append(b.accepted, IAMLogin{Mechanism: mech, AccessKey: key})
		b.mu.Unlock()
		if mech == MechanismIAM {
			resp.SASLAuthBytes = []byte(`{"version":"` + iamPayloadVersion + `","request-id":"00000000-0000-4000-8000-000000000000"}`)
		}
		return resp, nil, true
	})
	return b
}

// verify checks one SASLAuthenticate payload. The hook does not know which
// mechanism the connection's handshake chose; the two forms are told
// apart by their payload: a JSON object, or a GS2 header.
func (b *IAMBroker) verify(payload []byte, now time.Time) (mech, key string, err error) {
	mech = MechanismIAM
	if bytes.HasPrefix(payload, []byte("n,")) {
		mech = MechanismOAuthBearer
	}
	if !slices.Contains(b.o.Mechanisms, mech) {
		return mech, "", fmt.Errorf("mechanism %q is not offered", mech)
	}
	if mech == MechanismOAuthBearer {
		key, err = VerifyOAuthBearer(payload, b.o.Secrets, b.o.Region, now)
	} else {
		key, err = VerifyIAMPayload(payload, b.o.Secrets, b.o.Region, now)
	}
	return mech, key, err
}

func (b *IAMBroker) refuse(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refused = append(b.refused, err)
}

// Accepted returns the authentications accepted so far, oldest first.
func (b *IAMBroker) Accepted() []IAMLogin {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.accepted)
}

// Refused returns why authentications were refused so far, oldest first.
func (b *IAMBroker) Refused() []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.refused)
}

// emptySHA256 is the hex SHA-256 of an empty payload.
var emptySHA256 = func() string {
	h := sha256.Sum256(nil)
	return hex.EncodeToString(h[:])
}()

// VerifyIAMPayload checks an AWS_MSK_IAM authentication payload as MSK
// does: its fields, then its signature, recomputed with the SDK's SigV4
// presigner over GET kafka://HOST/?Action=kafka-cluster:Connect&... with
// the secret that belongs to the access key. It returns the access key.
func VerifyIAMPayload(payload []byte, secrets map[string]string, region string, now time.Time) (string, error) {
	var kv map[string]string
	if err := json.Unmarshal(payload, &kv); err != nil {
		return "", fmt.Errorf("payload is not a JSON object of strings: %v", err)
	}
	for k, want := range map[string]string{
		"version":             iamPayloadVersion,
		"action":              iamConnectAction,
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
	key, secret, signedAt, err := checkScope(kv["x-amz-credential"], kv["x-amz-date"], secrets, region, now)
	if err != nil {
		return "", err
	}
	if end := signedAt.Add(300 * time.Second); !now.Before(end) {
		return "", fmt.Errorf("payload expired at %v", end)
	}
	q := url.Values{"Action": {iamConnectAction}, "X-Amz-Expires": {"300"}}
	want, err := presignature("kafka://"+kv["host"]+"/?"+q.Encode(), key, secret, kv["x-amz-security-token"], region, signedAt)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(want), []byte(kv["x-amz-signature"])) {
		return "", errors.New("signature does not match")
	}
	return key, nil
}

// VerifyOAuthBearer checks the client's first OAUTHBEARER message (RFC
// 7628: "n,,\x01auth=Bearer TOKEN\x01\x01") carrying MSK's IAM token: the
// token, base64url-decoded, is a presigned
// https://kafka.REGION.amazonaws.com/?Action=kafka-cluster:Connect URL,
// unexpired, signed for region; its signature is recomputed with the SDK's
// presigner and the secret that belongs to the access key. It returns the
// access key.
func VerifyOAuthBearer(msg []byte, secrets map[string]string, region string, now time.Time) (string, error) {
	token, err := ParseOAuthBearer(msg)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(token, "="))
	if err != nil {
		return "", fmt.Errorf("token is not base64url: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return "", fmt.Errorf("token is not a URL: %v", err)
	}
	if wantHost := "kafka." + region + ".amazonaws.com"; u.Scheme != "https" || u.Host != wantHost || u.Path != "/" {
		return "", fmt.Errorf("token URL %s://%s%s, want https://%s/", u.Scheme, u.Host, u.Path, wantHost)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"Action":              iamConnectAction,
		"X-Amz-Algorithm":     "AWS4-HMAC-SHA256",
		"X-Amz-SignedHeaders": "host",
	} {
		if q.Get(k) != want {
			return "", fmt.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	key, secret, signedAt, err := checkScope(q.Get("X-Amz-Credential"), q.Get("X-Amz-Date"), secrets, region, now)
	if err != nil {
		return "", err
	}
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires <= 0 || time.Duration(expires)*time.Second > iamMaxExpiry {
		return "", fmt.Errorf("X-Amz-Expires = %q, want 1 to %d seconds", q.Get("X-Amz-Expires"), int(iamMaxExpiry.Seconds()))
	}
	if end := signedAt.Add(time.Duration(expires) * time.Second); !now.Before(end) {
		return "", fmt.Errorf("token expired at %v", end)
	}
	signed := url.Values{"Action": {iamConnectAction}, "X-Amz-Expires": {q.Get("X-Amz-Expires")}}
	want, err := presignature("https://"+u.Host+"/?"+signed.Encode(), key, secret, q.Get("X-Amz-Security-Token"), region, signedAt)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(want), []byte(q.Get("X-Amz-Signature"))) {
		return "", errors.New("signature does not match")
	}
	return key, nil
}

// ParseOAuthBearer returns the bearer token of a client's first
// OAUTHBEARER message (RFC 7628 section 3.1).
func ParseOAuthBearer(msg []byte) (string, error) {
	s, ok := strings.CutSuffix(string(msg), "\x01\x01")
	if !ok {
		return "", errors.New("OAUTHBEARER message does not end with \\x01\\x01")
	}
	parts := strings.Split(s, "\x01")
	if !strings.HasPrefix(parts[0], "n,") || !strings.HasSuffix(parts[0], ",") {
		return "", fmt.Errorf("OAUTHBEARER GS2 header %q, want n,[a=ID],", parts[0])
	}
	for _, kv := range parts[1:] {
		if token, ok := strings.CutPrefix(kv, "auth=Bearer "); ok && token != "" {
			return token, nil
		}
	}
	return "", errors.New("OAUTHBEARER message has no auth=Bearer TOKEN")
}

// checkScope checks a credential scope (KEY/DATE/REGION/kafka-cluster/
// aws4_request) and a signing time not in the future, and returns the
// access key, its secret and the signing time.
func checkScope(credential, date string, secrets map[string]string, region string, now time.Time) (key, secret string, at time.Time, err error) {
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[3] != iamService || scope[4] != "aws4_request" {
		return "", "", at, fmt.Errorf("bad credential scope %q", credential)
	}
	if scope[2] != region {
		return "", "", at, fmt.Errorf("signed for region %q, want %q", scope[2], region)
	}
	secret, ok := secrets[scope[0]]
	if !ok {
		return "", "", at, fmt.Errorf("unknown access key %q", scope[0])
	}
	at, err = time.Parse("20060102T150405Z", date)
	if err != nil || scope[1] != at.Format("20060102") {
		return "", "", at, fmt.Errorf("bad X-Amz-Date %q for scope date %q", date, scope[1])
	}
	if at.Sub(now) > iamClockSkew {
		return "", "", at, fmt.Errorf("signed at %v, in the future of %v", at, now)
	}
	return scope[0], secret, at, nil
}

// presignature returns the X-Amz-Signature the SDK's presigner gives
// rawURL for the key, secret and session token at signing time at.
func presignature(rawURL, key, secret, token, region string, at time.Time) (string, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return "", err
	}
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptySHA256, iamService, region, at)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(signed)
	if err != nil {
		return "", err
	}
	return u.Query().Get("X-Amz-Signature"), nil
}
