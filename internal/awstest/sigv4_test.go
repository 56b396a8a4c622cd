package awstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var testCreds = Credentials{
	AccessKeyID:     "AKIDEXAMPLE",
	SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	Region:          "eu-west-1",
	Service:         "lambda",
}

// signTime is a fixed signing time; tests verify against it.
var signTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

type reqSpec struct {
	name    string
	method  string
	path    string // decoded path (URL.Path)
	rawPath string // URL.RawPath, "" to let net/url escape path
	query   string // raw query
	header  http.Header
	body    string
	service string
	// contentSHA sets X-Amz-Content-Sha256: "hash" for the body's hash,
	// anything else verbatim.
	contentSHA string
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// build makes the request for s against base ("http://host:port").
func build(t *testing.T, base string, s reqSpec) *http.Request {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path, u.RawPath, u.RawQuery = s.path, s.rawPath, s.query
	method := s.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// NewRequest re-parses the string; keep the exact path form asked for.
	req.URL.Path, req.URL.RawPath = s.path, s.rawPath
	if s.body != "" {
		req.Body = io.NopCloser(strings.NewReader(s.body))
		req.ContentLength = int64(len(s.body))
		body := []byte(s.body)
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	for k, vs := range s.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	switch s.contentSHA {
	case "":
	case "hash":
		req.Header.Set("X-Amz-Content-Sha256", hashOf([]byte(s.body)))
	default:
		req.Header.Set("X-Amz-Content-Sha256", s.contentSHA)
	}
	return req
}

// sign signs req with the SDK's signer as the SDK's clients do: S3 without
// extra path escaping, everything else with it.
func sign(t *testing.T, req *http.Request, body []byte, c Credentials, at time.Time) {
	t.Helper()
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = c.Service == "s3"
	})
	hash := req.Header.Get("X-Amz-Content-Sha256")
	if hash == "" {
		hash = hashOf(body)
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	if err := signer.SignHTTP(context.Background(), creds, req, hash, c.Service, c.Region, at); err != nil {
		t.Fatal(err)
	}
}

var specs = []reqSpec{
	{
		name:    "lambda ARN with qualifier, escaped as the SDK does",
		path:    "/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:my-fn:prod/invocations",
		rawPath: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Amy-fn%3Aprod/invocations",
		query:   "Qualifier=prod",
		header:  http.Header{"X-Amz-Invocation-Type": {"RequestResponse"}, "Content-Type": {"application/json"}},
		body:    `{"hello":"world"}`,
	},
	{
		name: "colons left unescaped",
		path: "/2015-03-31/functions/123456789012:function:my-fn/invocations",
		body: `{}`,
	},
	{
		name:   "spaces in path and header values",
		method: http.MethodGet,
		path:   "/my folder/file  name.txt",
		header: http.Header{"X-Amz-Meta-Note": {"  lots   of    spaces  "}, "X-Custom": {"a", "b  c"}},
	},
	{
		name:   "percent sign in path",
		method: http.MethodPut,
		path:   "/rates/100%/off",
		body:   "x",
	},
	{
		name:    "percent-escaped percent kept raw",
		path:    "/a%b",
		rawPath: "/a%25b",
		body:    "y",
	},
	{
		name: "unicode path",
		path: "/données/日本語/ünï",
		body: `{"k":"é"}`,
	},
	{
		name:   "query sorted and encoded",
		method: http.MethodGet,
		path:   "/",
		query:  "b=2&a=1&a=0&space=a%20b&plus=1%2B1&slash=a%2Fb&dash=a-b&empty=&bare&tilde=~&unicode=%C3%A9",
	},
	{
		name:    "empty path",
		method:  http.MethodGet,
		path:    "",
		service: "sqs",
	},
	{
		name:       "s3 single encoding, signed payload hash",
		method:     http.MethodPut,
		path:       "/bucket/dir one/k:e%y/ü.json",
		rawPath:    "/bucket/dir%20one/k%3Ae%25y/%C3%BC.json",
		body:       `{"s3":true}`,
		service:    "s3",
		contentSHA: "hash",
	},
	{
		name:       "s3 unsigned payload",
		method:     http.MethodPut,
		path:       "/bucket/key",
		body:       "anything",
		service:    "s3",
		contentSHA: UnsignedPayload,
	},
}

func credsFor(s reqSpec) Credentials {
	c := testCreds
	if s.service != "" {
		c.Service = s.service
	}
	return c
}

// TestSDKSignedVerifyDirect verifies SDK-signed requests as built on the
// client side (no server in between).
func TestSDKSignedVerifyDirect(t *testing.T) {
	for _, s := range specs {
		t.Run(s.name, func(t *testing.T) {
			c := credsFor(s)
			req := build(t, "http://lambda.eu-west-1.amazonaws.com", s)
			sign(t, req, []byte(s.body), c, signTime)
			if err := VerifySigV4(req, []byte(s.body), c, signTime.Add(time.Minute)); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}

// TestSDKSignedVerifyOverWire sends SDK-signed requests through a real HTTP
// server and verifies what arrived.
func TestSDKSignedVerifyOverWire(t *testing.T) {
	var mu sync.Mutex
	var got error
	var gotBody []byte
	var c Credentials
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got, gotBody = VerifySigV4(r, b, c, signTime), b
	}))
	defer srv.Close()
	for _, s := range specs {
		t.Run(s.name, func(t *testing.T) {
			mu.Lock()
			c = credsFor(s)
			mu.Unlock()
			req := build(t, srv.URL, s)
			sign(t, req, []byte(s.body), c, signTime)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			if got != nil {
				t.Fatalf("verify: %v", got)
			}
			if string(gotBody) != s.body {
				t.Fatalf("body %q, want %q", gotBody, s.body)
			}
		})
	}
}

func TestCanonicalURIMatchesSDK(t *testing.T) {
	// The SDK escapes a non-S3 path once more; S3's is used as sent.
	r := httptest.NewRequest(http.MethodPost, "/2015-03-31/functions/a%3Ab%20c/invocations", nil)
	if got, want := canonicalURI(r, true), "/2015-03-31/functions/a%253Ab%2520c/invocations"; got != want {
		t.Errorf("double: %s, want %s", got, want)
	}
	if got, want := canonicalURI(r, false), "/2015-03-31/functions/a%3Ab%20c/invocations"; got != want {
		t.Errorf("single: %s, want %s", got, want)
	}
	q, err := canonicalQuery("b=2&a=a-b&a=a%2Fb&c=x+y&d")
	if err != nil {
		t.Fatal(err)
	}
	// Sorted after encoding: "a%2Fb" < "a-b" because '%' < '-'.
	if want := "a=a%2Fb&a=a-b&b=2&c=x%20y&d="; q != want {
		t.Errorf("query: %s, want %s", q, want)
	}
}

func TestVerifyFailures(t *testing.T) {
	base := reqSpec{
		path:    "/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:fn:1/invocations",
		rawPath: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Afn%3A1/invocations",
		header:  http.Header{"X-Amz-Invocation-Type": {"RequestResponse"}},
		body:    `{"n":1}`,
	}
	withSHA := base
	withSHA.contentSHA = "hash"

	cases := []struct {
		name string
		spec reqSpec
		// signAs are the credentials the client signs with; verifyAs
		// those the server checks against.
		signAs, verifyAs Credentials
		signAt           time.Time
		tamper           func(r *http.Request, body *[]byte)
		kind             Kind
		want             string
	}{
		{
			name: "tampered body", spec: base,
			tamper: func(_ *http.Request, b *[]byte) { *b = []byte(`{"n":2}`) },
			kind:   KindSignature, want: "signature mismatch: canonical request was",
		},
		{
			name: "tampered body with X-Amz-Content-Sha256", spec: withSHA,
			tamper: func(_ *http.Request, b *[]byte) { *b = []byte(`{"n":2}`) },
			kind:   KindPayload, want: "X-Amz-Content-Sha256 " + hashOf([]byte(base.body)) + " does not match the body's SHA-256",
		},
		{
			name: "tampered signed header", spec: base,
			tamper: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Invocation-Type", "Event") },
			kind:   KindSignature, want: `x-amz-invocation-type:Event\n`,
		},
		{
			name: "tampered path", spec: base,
			tamper: func(r *http.Request, _ *[]byte) {
				r.URL.Path = strings.Replace(r.URL.Path, "fn:1", "fn:2", 1)
				r.URL.RawPath = strings.Replace(r.URL.RawPath, "fn%3A1", "fn%3A2", 1)
			},
			kind: KindSignature, want: "function%253Afn%253A2/invocations",
		},
		{
			name: "tampered query", spec: base,
			tamper: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "Qualifier=2" },
			kind:   KindSignature, want: `invocations\nQualifier=2\n`,
		},
		{
			name: "wrong secret", spec: base,
			signAs: Credentials{SecretAccessKey: "not-the-secret"},
			kind:   KindSignature, want: "signature mismatch",
		},
		{
			name: "unknown access key", spec: base,
			signAs: Credentials{AccessKeyID: "AKIDOTHER"},
			kind:   KindUnknownKey, want: `unknown access key "AKIDOTHER"`,
		},
		{
			name: "wrong region", spec: base,
			signAs: Credentials{Region: "us-east-1"},
			kind:   KindScope, want: "wrong region us-east-1, want eu-west-1",
		},
		{
			name: "wrong service", spec: base,
			signAs: Credentials{Service: "sqs"},
			kind:   KindScope, want: "wrong service sqs, want lambda",
		},
		{
			name: "stale date", spec: base,
			signAt: signTime.Add(-6 * time.Minute),
			kind:   KindSkew, want: "request time too skewed: signed at 2026-03-14T15:03:26Z, server time 2026-03-14T15:09:26Z (off by 6m0s",
		},
		{
			name: "date from the future", spec: base,
			signAt: signTime.Add(10 * time.Minute),
			kind:   KindSkew, want: "off by 10m0s",
		},
		{
			name: "scope date disagrees with X-Amz-Date", spec: base,
			tamper: func(r *http.Request, _ *[]byte) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20260314/", "/20260313/", 1))
			},
			kind: KindScope, want: "credential scope date 20260313 does not match X-Amz-Date 20260314T150926Z",
		},
		{
			name: "host not signed", spec: base,
			tamper: func(r *http.Request, _ *[]byte) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=content-length;host;", "SignedHeaders=content-length;", 1))
			},
			kind: KindMalformed, want: "host is not a signed header",
		},
		{
			name: "signed header removed", spec: base,
			tamper: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Invocation-Type") },
			kind:   KindMalformed, want: `signed header "x-amz-invocation-type" is missing from the request`,
		},
		{
			name: "no Authorization", spec: base,
			tamper: func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") },
			kind:   KindMissing, want: "missing Authorization header",
		},
		{
			name: "other scheme", spec: base,
			tamper: func(r *http.Request, _ *[]byte) { r.Header.Set("Authorization", "Bearer xyz") },
			kind:   KindMalformed, want: `unsupported Authorization scheme "Bearer"`,
		},
		{
			name: "malformed date", spec: base,
			tamper: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Date", "2026-03-14") },
			kind:   KindMalformed, want: `malformed X-Amz-Date "2026-03-14"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			signAs := testCreds
			if tc.signAs.AccessKeyID != "" {
				signAs.AccessKeyID = tc.signAs.AccessKeyID
			}
			if tc.signAs.SecretAccessKey != "" {
				signAs.SecretAccessKey = tc.signAs.SecretAccessKey
			}
			if tc.signAs.Region != "" {
				signAs.Region = tc.signAs.Region
			}
			if tc.signAs.Service != "" {
				signAs.Service = tc.signAs.Service
			}
			at := signTime
			if !tc.signAt.IsZero() {
				at = tc.signAt
			}
			req := build(t, "http://127.0.0.1:9001", tc.spec)
			body := []byte(tc.spec.body)
			sign(t, req, body, signAs, at)
			if tc.tamper != nil {
				tc.tamper(req, &body)
			}
			err := VerifySigV4(req, body, testCreds, signTime)
			if err == nil {
				t.Fatal("verified; want failure")
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T, want *VerifyError", err)
			}
			if ve.Kind != tc.kind {
				t.Errorf("kind %v, want %v (%v)", ve.Kind, tc.kind, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEmptyScopeAcceptsAny(t *testing.T) {
	c := testCreds
	c.Region, c.Service = "ap-south-2", "sns"
	req := build(t, "http://127.0.0.1:1", reqSpec{path: "/", body: "Action=Publish"})
	sign(t, req, []byte("Action=Publish"), c, signTime)
	any := Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	if err := VerifySigV4(req, []byte("Action=Publish"), any, signTime); err != nil {
		t.Fatal(err)
	}
}

func TestGuard(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, string(b))
		mu.Unlock()
		w.Write([]byte("ok"))
	})
	h := Middleware(testCreds, next)
	g := h.(*Guard)
	g.Now = func() time.Time { return signTime }
	var reasons []string
	g.OnFailure = func(_ *http.Request, err error) { reasons = append(reasons, err.Error()) }
	srv := httptest.NewServer(g)
	defer srv.Close()

	spec := specs[0]
	good := build(t, srv.URL, spec)
	sign(t, good, []byte(spec.body), testCreds, signTime)
	resp, err := srv.Client().Do(good)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("good request: %d %s", resp.StatusCode, b)
	}
	if len(seen) != 1 || seen[0] != spec.body {
		t.Fatalf("next saw bodies %q, want [%q]", seen, spec.body)
	}

	bad := build(t, srv.URL, spec)
	wrong := testCreds
	wrong.SecretAccessKey = "nope"
	sign(t, bad, []byte(spec.body), wrong, signTime)
	resp, err = srv.Client().Do(bad)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bad request: status %d, want 403", resp.StatusCode)
	}
	if got := resp.Header.Get("X-Amzn-ErrorType"); got != "InvalidSignatureException" {
		t.Errorf("X-Amzn-ErrorType %q", got)
	}
	var doc struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	if doc.Type != "InvalidSignatureException" || !strings.Contains(doc.Message, "signature mismatch") {
		t.Errorf("error body %s", b)
	}
	if g.Failures() != 1 || len(seen) != 1 || len(reasons) != 1 {
		t.Errorf("failures %d, next calls %d, reasons %q", g.Failures(), len(seen), reasons)
	}
}

func TestGuardS3Dialect(t *testing.T) {
	c := testCreds
	c.Service = "s3"
	g := NewGuard(c, http.NotFoundHandler())
	g.Now = func() time.Time { return signTime }
	other := c
	other.AccessKeyID = "AKIDNOBODY"
	req := build(t, "http://127.0.0.1:1", reqSpec{method: http.MethodGet, path: "/bucket/key", service: "s3", contentSHA: UnsignedPayload})
	sign(t, req, nil, other, signTime)
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "<Code>InvalidAccessKeyId</Code>") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if g.Failures() != 1 {
		t.Errorf("failures %d", g.Failures())
	}
}
