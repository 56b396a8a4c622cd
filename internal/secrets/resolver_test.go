package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/secretsapi"
)

const (
	testRegion  = "eu-west-1"
	testKey     = "AKIDLOCAL"
	testSecret  = "local-secret"
	testAccount = "210987654321"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func startServer(t *testing.T, region string, fault secretsapi.FaultFunc) *secretsapi.Server {
	t.Helper()
	srv, err := secretsapi.Start(secretsapi.Options{
		Region: region, AccessKeyID: testKey, SecretAccessKey: testSecret, AccountID: testAccount, Fault: fault,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func newClient(srv *secretsapi.Server) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           srv.Region(),
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
}

// fixture is a Resolver reading from a local Secrets Manager endpoint,
// with a fake clock and the refresh failures it reported.
type fixture struct {
	srv   *secretsapi.Server
	clock *fakeClock
	r     *Resolver

	mu       sync.Mutex
	refreshs []error
}

func newFixture(t *testing.T, fault secretsapi.FaultFunc, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{srv: startServer(t, testRegion, fault), clock: &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}}
	c := newClient(f.srv)
	opts = append([]Option{WithClock(f.clock.now), WithRefreshError(func(_ Ref, err error) {
		f.mu.Lock()
		f.refreshs = append(f.refreshs, err)
		f.mu.Unlock()
	})}, opts...)
	f.r = NewResolver(func(_ context.Context, region string) (SecretsManagerAPI, error) {
		if region != "" && region != testRegion {
			return nil, fmt.Errorf("unexpected region %s", region)
		}
		return c, nil
	}, opts...)
	return f
}

func (f *fixture) refreshErrors() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.refreshs...)
}

func mustParse(t *testing.T, s string) Ref {
	t.Helper()
	r, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func value(t *testing.T, r *Resolver, ref string) string {
	t.Helper()
	v, err := r.Value(context.Background(), mustParse(t, ref))
	if err != nil {
		t.Fatalf("Value(%s): %v", ref, err)
	}
	return string(v)
}

const saslValue = `{"username":"alice","password":"pa55-w0rd-\"quoted\"-é"}`

func TestSecretsManagerByNameAndARN(t *testing.T) {
	f := newFixture(t, nil)
	arn := f.srv.Put("prod/kafka", saslValue)
	partial := arn[:len(arn)-7]

	for _, id := range []string{"prod/kafka", arn, partial} {
		if got := value(t, f.r, "secretsmanager:"+id); got != saslValue {
			t.Errorf("%s: whole secret %q", id, got)
		}
		if got := value(t, f.r, "${secretsmanager:"+id+":username}"); got != "alice" {
			t.Errorf("%s: username %q", id, got)
		}
		if got := value(t, f.r, "secretsmanager:"+id+":password"); got != `pa55-w0rd-"quoted"-é` {
			t.Errorf("%s: password %q", id, got)
		}
		var s struct{ Username, Password string }
		if err := f.r.JSON(context.Background(), mustParse(t, "secretsmanager:"+id), &s); err != nil || s.Username != "alice" {
			t.Errorf("%s: JSON %+v %v", id, s, err)
		}
		var u string
		if err := f.r.JSON(context.Background(), mustParse(t, "secretsmanager:"+id+":username"), &u); err != nil || u != "alice" {
			t.Errorf("%s: JSON of a key %q %v", id, u, err)
		}
	}
	// One fetch per way of naming the secret, whatever the keys read.
	if n := f.srv.Requests("GetSecretValue"); n != 3 {
		t.Errorf("GetSecretValue requests %d, want 3", n)
	}
}

func TestMTLSSecret(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Put("kafka/mtls", `{"privateKeyPassword":"testpassword","certificate":"-----BEGIN CERTIFICATE-----\nMIIE\n-----END CERTIFICATE-----\n","privateKey":"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----"}`)
	var s struct {
		Certificate        string `json:"certificate"`
		PrivateKey         string `json:"privateKey"`
		PrivateKeyPassword string `json:"privateKeyPassword"`
	}
	if err := f.r.JSON(context.Background(), mustParse(t, "secretsmanager:kafka/mtls"), &s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Certificate, "-----BEGIN CERTIFICATE-----\n") || !strings.Contains(s.PrivateKey, "ENCRYPTED") || s.PrivateKeyPassword != "testpassword" {
		t.Errorf("%+v", s)
	}
}

func TestKeyValues(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Put("db", `{"port":5432,"tls":true,"opts":{"a":[1,2]},"gone":null,"text":"x\ty"}`)
	for key, want := range map[string]string{"port": "5432", "tls": "true", "opts": `{"a":[1,2]}`, "text": "x\ty"} {
		if got := value(t, f.r, "secretsmanager:db:"+key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	var port int
	if err := f.r.JSON(context.Background(), mustParse(t, "secretsmanager:db:port"), &port); err != nil || port != 5432 {
		t.Errorf("JSON port %d %v", port, err)
	}
	_, err := f.r.Value(context.Background(), mustParse(t, "secretsmanager:db:gone"))
	if !errors.Is(err, ErrKeyMissing) || !strings.Contains(err.Error(), `key "gone" is null`) {
		t.Errorf("null key: %v", err)
	}
}

func TestBinarySecrets(t *testing.T) {
	f := newFixture(t, nil)
	blob := []byte{0xde, 0xad, 0xbe, 0xef, 0, '\n'}
	f.srv.PutBinary("bin/raw", blob)
	f.srv.PutBinary("bin/json", []byte(`{"username":"bob"}`))
	v, err := f.r.Value(context.Background(), mustParse(t, "secretsmanager:bin/raw"))
	if err != nil || !bytes.Equal(v, blob) {
		t.Fatalf("binary %v %v", v, err)
	}
	v[0] = 0 // the caller's copy
	if again := value(t, f.r, "secretsmanager:bin/raw"); again != string(blob) {
		t.Errorf("cached value changed by the caller: %v", []byte(again))
	}
	if got := value(t, f.r, "secretsmanager:bin/json:username"); got != "bob" {
		t.Errorf("key of a binary JSON secret: %q", got)
	}
	_, err = f.r.Value(context.Background(), mustParse(t, "secretsmanager:bin/raw:username"))
	if !errors.Is(err, ErrNotJSON) || !strings.Contains(err.Error(), "binary secret (SecretBinary) that is not JSON") {
		t.Errorf("key of a binary non-JSON secret: %v", err)
	}
}

func TestCacheAndRefresh(t *testing.T) {
	f := newFixture(t, nil, WithTTL(5*time.Minute))
	f.srv.Put("s", "one")
	if got := value(t, f.r, "secretsmanager:s"); got != "one" {
		t.Fatal(got)
	}
	f.srv.Put("s", "two")
	f.clock.advance(4*time.Minute + 59*time.Second)
	if got := value(t, f.r, "secretsmanager:s"); got != "one" {
		t.Errorf("within the TTL: %q", got)
	}
	if n := f.srv.Requests("GetSecretValue"); n != 1 {
		t.Errorf("requests within the TTL: %d", n)
	}
	f.clock.advance(time.Second)
	if got := value(t, f.r, "secretsmanager:s"); got != "two" {
		t.Errorf("after the TTL: %q", got)
	}
	if got := value(t, f.r, "secretsmanager:s"); got != "two" || f.srv.Requests("GetSecretValue") != 2 {
		t.Errorf("after the refresh: %q, %d requests", got, f.srv.Requests("GetSecretValue"))
	}

	// Invalidate fetches again before the TTL.
	f.srv.Put("s", "three")
	f.r.Invalidate(mustParse(t, "secretsmanager:s:anykey"))
	if got := value(t, f.r, "secretsmanager:s"); got != "three" || f.srv.Requests("GetSecretValue") != 3 {
		t.Errorf("after Invalidate: %q, %d requests", got, f.srv.Requests("GetSecretValue"))
	}
	if len(f.refreshErrors()) != 0 {
		t.Errorf("refresh errors %v", f.refreshErrors())
	}
}

func TestStaleValueDuringGrace(t *testing.T) {
	const val = "S3CRET-grace-value"
	f := newFixture(t, nil, WithTTL(time.Minute), WithGrace(10*time.Minute), WithRetryInterval(30*time.Second))
	f.srv.Put("s", val)
	ref := "secretsmanager:s"
	value(t, f.r, ref)

	f.srv.Deny("s")
	f.clock.advance(2 * time.Minute)
	if got := value(t, f.r, ref); got != val {
		t.Errorf("during grace: %q", got)
	}
	errs := f.refreshErrors()
	if len(errs) != 1 || !errors.Is(errs[0], ErrAccessDenied) {
		t.Fatalf("refresh errors %v", errs)
	}
	// No new attempt within the retry interval.
	f.clock.advance(29 * time.Second)
	value(t, f.r, ref)
	if n := f.srv.Requests("GetSecretValue"); n != 2 {
		t.Errorf("requests within the retry interval: %d", n)
	}
	f.clock.advance(time.Second)
	value(t, f.r, ref)
	if n := f.srv.Requests("GetSecretValue"); n != 3 || len(f.refreshErrors()) != 2 {
		t.Errorf("after the retry interval: %d requests, %d refresh errors", n, len(f.refreshErrors()))
	}

	// Recovery.
	f.srv.Allow("s")
	f.srv.Put("s", "rotated")
	f.clock.advance(30 * time.Second)
	if got := value(t, f.r, ref); got != "rotated" {
		t.Errorf("after recovery: %q", got)
	}

	// Past TTL and grace the failure is the caller's, and the value goes.
	f.srv.Deny("s")
	f.clock.advance(11 * time.Minute)
	_, err := f.r.Value(context.Background(), mustParse(t, ref))
	if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "past its TTL and grace period") {
		t.Errorf("past grace: %v", err)
	}
	_, err = f.r.Value(context.Background(), mustParse(t, ref))
	if !errors.Is(err, ErrAccessDenied) || strings.Contains(err.Error(), "past its TTL") {
		t.Errorf("after the value went: %v", err)
	}
	for _, e := range append(f.refreshErrors(), err) {
		if strings.Contains(e.Error(), val) || strings.Contains(e.Error(), "rotated") {
			t.Errorf("error quotes the secret: %v", e)
		}
	}
}

func TestRefreshFailureIsLogged(t *testing.T) {
	srv := startServer(t, testRegion, nil)
	c := newClient(srv)
	clock := &fakeClock{t: time.Now()}
	var logs bytes.Buffer
	r := NewResolver(func(context.Context, string) (SecretsManagerAPI, error) { return c, nil },
		WithClock(clock.now), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	srv.Put("s", `{"password":"L0GGED-NEVER"}`)
	value(t, r, "secretsmanager:s:password")
	srv.Deny("s", secretsapi.ActionKMSDecrypt)
	clock.advance(DefaultTTL)
	if got := value(t, r, "secretsmanager:s:password"); got != "L0GGED-NEVER" {
		t.Errorf("stale value %q", got)
	}
	out := logs.String()
	if !strings.Contains(out, "secret refresh failed") || !strings.Contains(out, "kms:Decrypt") || !strings.Contains(out, "ref=secretsmanager:s:password") {
		t.Errorf("log: %s", out)
	}
	if strings.Contains(out, "L0GGED-NEVER") {
		t.Errorf("log quotes the secret: %s", out)
	}
}

func TestConcurrentUseFetchesOnce(t *testing.T) {
	f := newFixture(t, secretsapi.OnCall("GetSecretValue", secretsapi.Slow(50*time.Millisecond)))
	f.srv.Put("s", `{"a":"1","b":"2"}`)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			key := []string{"a", "b"}[i%2]
			v, err := f.r.Value(context.Background(), mustParse(t, "secretsmanager:s:"+key))
			if err == nil && string(v) != map[string]string{"a": "1", "b": "2"}[key] {
				err = fmt.Errorf("%s = %q", key, v)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := f.srv.Requests("GetSecretValue"); n != 1 {
		t.Errorf("%d GetSecretValue requests for 40 concurrent uses", n)
	}
}

func TestContextCancelled(t *testing.T) {
	f := newFixture(t, secretsapi.OnCall("GetSecretValue", secretsapi.Slow(time.Second)))
	f.srv.Put("s", "v")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := f.r.Value(ctx, mustParse(t, "secretsmanager:s"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "secret secretsmanager:s: ") {
		t.Errorf("%v", err)
	}
}

func TestRegions(t *testing.T) {
	eu := startServer(t, "eu-west-1", nil)
	us := startServer(t, "us-east-1", nil)
	eu.Put("s", "from eu")
	usARN := us.Put("s", "from us")
	endpoints := map[string]string{"eu-west-1": eu.URL(), "us-east-1": us.URL()}
	var mu sync.Mutex
	built := map[string]int{}
	clients := ClientsFromConfig(aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(endpoints[o.Region]) })
	r := NewResolver(func(ctx context.Context, region string) (SecretsManagerAPI, error) {
		mu.Lock()
		built[region]++
		mu.Unlock()
		return clients(ctx, region)
	})
	for range 2 {
		if got := value(t, r, "secretsmanager:s"); got != "from eu" {
			t.Errorf("by name: %q", got)
		}
		if got := value(t, r, "secretsmanager:"+usARN); got != "from us" {
			t.Errorf("by ARN: %q", got)
		}
	}
	if built[""] != 1 || built["us-east-1"] != 1 || len(built) != 2 {
		t.Errorf("clients built: %v", built)
	}
	_, err := r.Value(context.Background(), mustParse(t, "secretsmanager:arn:aws:secretsmanager:eu-west-1:"+testAccount+":secret:nope"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no such secret in eu-west-1") {
		t.Errorf("not found: %v", err)
	}
	_, err = r.Value(context.Background(), mustParse(t, "secretsmanager:nope"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no such secret in eu-west-1") {
		t.Errorf("not found in the default region: %v", err)
	}

	noRegion := ClientsFromConfig(aws.Config{})
	if _, err := noRegion(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Errorf("no region: %v", err)
	}
}

func TestEnvAndFile(t *testing.T) {
	t.Setenv("PENSTOCK_TEST_PASSWORD", "from-env")
	t.Setenv("PENSTOCK_TEST_EMPTY", "")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw := write("password.txt", "from-file\n")
	crlf := write("crlf.txt", "windows\r\n")
	bin := write("key.der", "\xff\xfe\n")
	creds := write("creds.json", `{"username":"carol","password":"x"}`)

	clock := &fakeClock{t: time.Now()}
	r := NewResolver(nil, WithClock(clock.now), WithTTL(time.Minute))
	if got := value(t, r, "env:PENSTOCK_TEST_PASSWORD"); got != "from-env" {
		t.Errorf("env: %q", got)
	}
	t.Setenv("PENSTOCK_TEST_PASSWORD", "changed")
	if got := value(t, r, "${env:PENSTOCK_TEST_PASSWORD}"); got != "changed" {
		t.Errorf("env is read at every use: %q", got)
	}
	if got := value(t, r, "file:"+pw); got != "from-file" {
		t.Errorf("file: %q", got)
	}
	if got := value(t, r, "file:"+crlf); got != "windows" {
		t.Errorf("CRLF file: %q", got)
	}
	if got := value(t, r, "file:"+bin); got != "\xff\xfe\n" {
		t.Errorf("binary file: %q", got)
	}
	rel := mustParse(t, "file:password.txt").RelativeTo(dir)
	if v, err := r.Value(context.Background(), rel); err != nil || string(v) != "from-file" {
		t.Errorf("relative file: %q %v", v, err)
	}
	var s struct{ Username string }
	if err := r.JSON(context.Background(), mustParse(t, "file:"+creds), &s); err != nil || s.Username != "carol" {
		t.Errorf("JSON file: %+v %v", s, err)
	}

	// Files are cached for the TTL.
	write("password.txt", "rotated")
	if got := value(t, r, "file:"+pw); got != "from-file" {
		t.Errorf("file within the TTL: %q", got)
	}
	clock.advance(time.Minute)
	if got := value(t, r, "file:"+pw); got != "rotated" {
		t.Errorf("file after the TTL: %q", got)
	}
}

// TestErrors checks each failure's kind and message, and that no message
// quotes the secret.
func TestErrors(t *testing.T) {
	const val = "TOPSECRET-v4lue"
	f := newFixture(t, secretsapi.Chain(
		secretsapi.OnSecret("throttled", secretsapi.Throttling()),
		secretsapi.OnSecret("broken", secretsapi.InternalServiceError()),
	))
	for _, n := range []string{"denied", "kms", "throttled", "broken"} {
		f.srv.Put(n, `{"password":"`+val+`"}`)
	}
	f.srv.Deny("denied")
	f.srv.Deny("kms", secretsapi.ActionKMSDecrypt)
	f.srv.Put("json", `{"password":"`+val+`","username":"`+val+`","Port":"`+val+`","n":98765432100,"t":"`+val+`"}`)
	f.srv.Put("plain", val)
	f.srv.Put("array", `["`+val+`"]`)
	f.srv.Put("empty-object", `{}`)
	if _, err := newClient(f.srv).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("novalue")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "plain"), []byte(val), 0o600)
	t.Setenv("PENSTOCK_TEST_EMPTY", "")

	type into struct {
		dst  any
		want string
	}
	cases := []struct {
		ref  string
		json *into // JSON(ref, dst) instead of Value(ref)
		kind error
		want []string
	}{
		{ref: "secretsmanager:missing", kind: ErrNotFound,
			want: []string{"secret secretsmanager:missing: Secrets Manager has no such secret in eu-west-1", "ResourceNotFoundException"}},
		{ref: "secretsmanager:novalue", kind: ErrNotFound, want: []string{"no current value (no version labelled AWSCURRENT)"}},
		{ref: "secretsmanager:denied:password", kind: ErrAccessDenied,
			want: []string{"needs secretsmanager:GetSecretValue on the secret", "AccessDeniedException"}},
		{ref: "secretsmanager:kms", kind: ErrAccessDenied, want: []string{"needs kms:Decrypt on the secret's KMS key", "DecryptionFailure"}},
		{ref: "secretsmanager:throttled", kind: ErrUnavailable, want: []string{"throttling", "ThrottlingException"}},
		{ref: "secretsmanager:broken", kind: ErrUnavailable, want: []string{"Secrets Manager failed", "InternalServiceError"}},
		{ref: "secretsmanager:json:pasword", kind: ErrKeyMissing,
			want: []string{`no key "pasword" in the secret's JSON object; its keys are "Port", "n", "password", "t", "username"`}},
		{ref: "secretsmanager:json:port", kind: ErrKeyMissing, want: []string{`(did you mean "Port"? keys are case-sensitive)`}},
		{ref: "secretsmanager:empty-object:password", kind: ErrKeyMissing, want: []string{"the secret is an empty JSON object"}},
		{ref: "secretsmanager:plain:password", kind: ErrNotJSON,
			want: []string{`key "password" asked for, but the secret is not JSON (syntax error at byte 1 of 15), not a JSON object`}},
		{ref: "secretsmanager:array:password", kind: ErrNotJSON, want: []string{"the secret is a JSON array, not a JSON object"}},
		{ref: "secretsmanager:plain", json: &into{new(map[string]string), "is not valid JSON (syntax error at byte 1 of 15)"}, kind: ErrNotJSON},
		{ref: "secretsmanager:json", json: &into{new(struct{ Port int }), "does not fit *struct { Port int }: field Port is a JSON string, which does not fit Go type int"}, kind: ErrNotJSON},
		{ref: "secretsmanager:json", json: &into{new(struct{ N int8 }), "field N is a JSON number, which does not fit Go type int8"}, kind: ErrNotJSON},
		{ref: "secretsmanager:json", json: &into{new(struct{ T time.Time }), "the decoder's message is withheld"}, kind: ErrNotJSON},
		{ref: "secretsmanager:json:password", json: &into{new(int), "does not fit *int: the secret is a JSON string, which does not fit Go type int"}, kind: ErrNotJSON},
		{ref: "env:PENSTOCK_TEST_UNSET_VARIABLE", kind: ErrNotFound, want: []string{"secret env:PENSTOCK_TEST_UNSET_VARIABLE: environment variable PENSTOCK_TEST_UNSET_VARIABLE is not set"}},
		{ref: "env:PENSTOCK_TEST_EMPTY", kind: ErrNotFound, want: []string{"is set but empty"}},
		{ref: "file:" + filepath.Join(dir, "missing.pem"), kind: ErrNotFound, want: []string{"cannot read " + filepath.Join(dir, "missing.pem"), "no such file"}},
		{ref: "file:" + dir, kind: ErrNotFound, want: []string{dir + " is a directory"}},
		{ref: "file:" + filepath.Join(dir, "empty"), kind: ErrNotFound, want: []string{"empty"}},
		{ref: "file:" + filepath.Join(dir, "plain"), json: &into{new(map[string]string), "is not valid JSON"}, kind: ErrNotJSON},
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			ref := mustParse(t, tc.ref)
			var err error
			want := tc.want
			if tc.json != nil {
				err = f.r.JSON(context.Background(), ref, tc.json.dst)
				want = append(want, tc.json.want)
			} else {
				_, err = f.r.Value(context.Background(), ref)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %v is not %v", err, tc.kind)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "secret "+ref.String()+": ") {
				t.Errorf("error %q does not name the reference", msg)
			}
			for _, w := range want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, s := range []string{val, "TOPSECRET", "98765432100", fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if s == val || s == "TOPSECRET" || s == "98765432100" {
					if strings.Contains(msg, s) {
						t.Errorf("error %q quotes the secret", msg)
					}
				} else if strings.Contains(s, val) {
					t.Errorf("formatted error quotes the secret: %s", s)
				}
			}
		})
	}

	// The typed SDK error stays reachable.
	_, err := f.r.Value(context.Background(), mustParse(t, "secretsmanager:missing"))
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("errors.As ResourceNotFoundException: %v", err)
	}

	// Without a Secrets Manager client, secretsmanager references fail.
	_, err = NewResolver(nil).Value(context.Background(), mustParse(t, "secretsmanager:s"))
	if err == nil || !strings.Contains(err.Error(), "secretsmanager references are not available here") {
		t.Errorf("nil client factory: %v", err)
	}
	// A factory's error is the reference's.
	_, err = NewResolver(func(context.Context, string) (SecretsManagerAPI, error) {
		return nil, errors.New("no credentials")
	}).Value(context.Background(), mustParse(t, "secretsmanager:arn:aws:secretsmanager:ap-south-1:123456789012:secret:s"))
	if err == nil || !strings.Contains(err.Error(), "cannot make a Secrets Manager client for region ap-south-1: no credentials") {
		t.Errorf("factory error: %v", err)
	}
	// A key on a reference that cannot have one (built by hand).
	_, err = NewResolver(nil).Value(context.Background(), Ref{Scheme: SchemeFile, Name: "x", Key: "k"})
	if !errors.Is(err, ErrInvalidRef) {
		t.Errorf("file key: %v", err)
	}
}

func TestRefusedCredentials(t *testing.T) {
	srv := startServer(t, testRegion, nil)
	srv.Put("s", "v")
	c := secretsmanager.New(secretsmanager.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, "wrong", ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
	r := NewResolver(func(context.Context, string) (SecretsManagerAPI, error) { return c, nil })
	_, err := r.Value(context.Background(), mustParse(t, "secretsmanager:s"))
	if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "AWS refused the credentials") {
		t.Errorf("%v", err)
	}
}

func TestConcurrentFailureIsShared(t *testing.T) {
	f := newFixture(t, secretsapi.OnCall("GetSecretValue", secretsapi.Slow(50*time.Millisecond)))
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, err := f.r.Value(context.Background(), mustParse(t, "secretsmanager:missing"))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%v", err)
		}
	}
	if n := f.srv.Requests("GetSecretValue"); n != 1 {
		t.Errorf("%d GetSecretValue requests for 10 concurrent uses of a missing secret", n)
	}
}

func TestWaiterOutlivesCancelledFetch(t *testing.T) {
	f := newFixture(t, secretsapi.OnCall("GetSecretValue", secretsapi.Slow(100*time.Millisecond)))
	f.srv.Put("s", "v")
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := f.r.Value(ctx, mustParse(t, "secretsmanager:s"))
		first <- err
	}()
	for f.srv.Requests("GetSecretValue") == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan string, 1)
	go func() {
		v, err := f.r.Value(context.Background(), mustParse(t, "secretsmanager:s"))
		if err != nil {
			t.Error(err)
		}
		second <- string(v)
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first: %v", err)
	}
	if v := <-second; v != "v" {
		t.Errorf("second: %q", v)
	}
}
