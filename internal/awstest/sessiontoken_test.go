package awstest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const testToken = "FwoGZXIvYXdzEXAMPLE//session+token="

// tempCreds are testCreds as temporary credentials, with a session token.
func tempCreds() Credentials {
	c := testCreds
	c.SessionToken = testToken
	return c
}

// signWithToken signs req with the SDK's signer and credentials holding
// token ("" for long-term credentials), which the signer sends in a
// signed X-Amz-Security-Token header.
func signWithToken(t *testing.T, req *http.Request, body []byte, token string, at time.Time) {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey, SessionToken: token}
	err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hashOf(body), testCreds.Service, testCreds.Region, at)
	if err != nil {
		t.Fatal(err)
	}
}

// TestSessionTokenRequired verifies requests against temporary
// credentials: only the ones carrying their token, signed, pass.
func TestSessionTokenRequired(t *testing.T) {
	spec := specs[0]
	cases := []struct {
		name   string
		token  string // the token the client signs with
		query  string // the request's raw query instead of spec's
		tamper func(r *http.Request)
		kind   Kind // 0: verifies
		want   string
	}{
		{name: "token signed in the header", token: testToken},
		{
			name: "token in the query", query: "X-Amz-Security-Token=" + strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(testToken),
		},
		{
			name: "no token", kind: KindToken,
			want: "missing X-Amz-Security-Token: access key AKIDEXAMPLE is temporary and needs its session token",
		},
		{
			name: "another token", token: "another-token", kind: KindToken,
			want: "X-Amz-Security-Token is not the session token of access key AKIDEXAMPLE",
		},
		{
			name: "token header not signed", token: testToken, kind: KindMalformed,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-security-token", "", 1))
			},
			want: "x-amz-security-token is not a signed header",
		},
		{
			name: "token header swapped after signing", token: "another-token", kind: KindSignature,
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", testToken) },
			want:   "x-amz-security-token:" + testToken + `\n`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spec
			if tc.query != "" {
				s.query = tc.query
			}
			req := build(t, "http://127.0.0.1:9001", s)
			signWithToken(t, req, []byte(s.body), tc.token, signTime)
			if tc.tamper != nil {
				tc.tamper(req)
			}
			err := VerifySigV4(req, []byte(s.body), tempCreds(), signTime)
			if tc.kind == 0 {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v, want a *VerifyError", err)
			}
			if ve.Kind != tc.kind || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v %q\nwant %v containing %q", ve.Kind, err, tc.kind, tc.want)
			}
		})
	}
}

// TestSessionTokenOptional verifies that long-term credentials accept
// requests with or without a token, as before tokens were checked.
func TestSessionTokenOptional(t *testing.T) {
	spec := specs[0]
	for _, token := range []string{"", testToken} {
		req := build(t, "http://127.0.0.1:9001", spec)
		signWithToken(t, req, []byte(spec.body), token, signTime)
		if err := VerifySigV4(req, []byte(spec.body), testCreds, signTime); err != nil {
			t.Errorf("token %q: %v", token, err)
		}
	}
}

func TestTokenErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		d          Dialect
		code, want string
	}{
		{DialectJSON, "UnrecognizedClientException", "The security token included in the request is invalid."},
		{DialectQuery, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{DialectS3, "InvalidToken", "The provided token is malformed or otherwise invalid."},
	} {
		if code, msg := ErrorCode(tc.d, KindToken); code != tc.code || msg != tc.want {
			t.Errorf("dialect %d: %s %q, want %s %q", tc.d, code, msg, tc.code, tc.want)
		}
	}
	if s := KindToken.String(); s != "token" {
		t.Errorf("KindToken.String() = %q", s)
	}
}

// TestEndpointSessionToken serves an endpoint for temporary credentials
// and sends it SDK-signed requests with and without their token.
func TestEndpointSessionToken(t *testing.T) {
	o := endpointOptions(nil)
	o.SessionToken = testToken
	e, err := NewEndpoint(o)
	if err != nil {
		t.Fatal(err)
	}
	if e.Creds != tempCreds() {
		t.Errorf("Creds = %+v, want %+v", e.Creds, tempCreds())
	}
	if err := e.Serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), nil, nil); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	send := func(token string) (int, string) {
		spec := specs[0]
		req := build(t, e.URL(), spec)
		signWithToken(t, req, []byte(spec.body), token, time.Now())
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := send(testToken); status != http.StatusOK || body != "ok" {
		t.Fatalf("with the token: %d %s; want 200 ok", status, body)
	}
	if status, body := send(""); status != http.StatusForbidden || !strings.Contains(body, "UnrecognizedClientException") ||
		!strings.Contains(body, "missing X-Amz-Security-Token") {
		t.Fatalf("without the token: %d %s; want 403 UnrecognizedClientException", status, body)
	}
	if n := e.SignatureFailures(); n != 1 {
		t.Errorf("SignatureFailures = %d, want 1", n)
	}
}
