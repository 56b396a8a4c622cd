package secretsapi

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

const (
	testRegion  = "eu-west-1"
	testKey     = "AKIDLOCAL"
	testSecret  = "local-secret"
	testAccount = "210987654321"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Region, opts.AccessKeyID, opts.SecretAccessKey = testRegion, testKey, testSecret
	if opts.AccountID == "" {
		opts.AccountID = testAccount
	}
	srv, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func client(srv *Server, secret string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, secret, ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
}

func get(t *testing.T, c *secretsmanager.Client, in *secretsmanager.GetSecretValueInput) *secretsmanager.GetSecretValueOutput {
	t.Helper()
	out, err := c.GetSecretValue(context.Background(), in)
	if err != nil {
		t.Fatalf("GetSecretValue(%s): %v", aws.ToString(in.SecretId), err)
	}
	return out
}

func asAPIError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an API error", err, err)
	}
	return ae
}

// fakeClock is a settable Options.Now.
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

var arnRE = regexp.MustCompile(`^arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod/kafka-[A-Za-z0-9]{6}$`)

func TestLookupByNameAndARN(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	value := `{"username":"alice","password":"pw"}`
	arn := srv.Put("prod/kafka", value)
	if !arnRE.MatchString(arn) {
		t.Fatalf("ARN %q", arn)
	}
	partial := strings.TrimSuffix(arn, arn[len(arn)-7:])
	for _, id := range []string{"prod/kafka", arn, partial} {
		out := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if aws.ToString(out.SecretString) != value || aws.ToString(out.ARN) != arn || aws.ToString(out.Name) != "prod/kafka" ||
			out.SecretBinary != nil || !slices.Equal(out.VersionStages, []string{"AWSCURRENT"}) || out.CreatedDate == nil {
			t.Errorf("%s: got %+v", id, out)
		}
	}
	notFound := []string{
		"prod/kafka" + arn[len(arn)-7:], // the name with the ARN's suffix
		"prod/kafk",
		strings.Replace(arn, "eu-west-1", "us-east-1", 1),
		strings.Replace(arn, testAccount, "123456789012", 1),
		partial + "-zzzzzz", // looks complete, is not
		"arn:aws:secretsmanager:eu-west-1:210987654321:secret:",
		"arn:aws:sqs:eu-west-1:210987654321:prod/kafka",
	}
	for _, id := range notFound {
		_, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || nf.ErrorMessage() != "Secrets Manager can't find the specified secret." {
			t.Errorf("%s: %v, want ResourceNotFoundException", id, err)
		}
	}
	if n := srv.Requests("GetSecretValue"); n != 3+len(notFound) {
		t.Errorf("Requests = %d", n)
	}
}

func TestPartialARNOfNameEndingLikeSuffix(t *testing.T) {
	// AWS warns against names ending in a hyphen and six characters: a
	// partial ARN of one is taken for a complete ARN and finds nothing.
	srv := start(t, Options{})
	c := client(srv, testSecret)
	arn := srv.Put("db-abcdef", "v")
	if _, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn[:len(arn)-7])}); err == nil {
		t.Error("partial ARN of db-abcdef found the secret")
	}
	for _, id := range []string{arn, "db-abcdef"} {
		if out := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}); aws.ToString(out.SecretString) != "v" {
			t.Errorf("%s: %q", id, aws.ToString(out.SecretString))
		}
	}
}

func TestVersionStages(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	srv.Put("s", "one")
	v1 := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPREVIOUS")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "staging label: AWSPREVIOUS") {
		t.Errorf("AWSPREVIOUS of a one-version secret: %v", err)
	}
	srv.Put("s", "two")
	cur := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	prev := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPREVIOUS")})
	if aws.ToString(cur.SecretString) != "two" || aws.ToString(prev.SecretString) != "one" ||
		aws.ToString(prev.VersionId) != aws.ToString(v1.VersionId) || !slices.Equal(prev.VersionStages, []string{"AWSPREVIOUS"}) {
		t.Errorf("current %q, previous %q %v", aws.ToString(cur.SecretString), aws.ToString(prev.SecretString), prev.VersionStages)
	}
	// A version being rotated in does not become current.
	put, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("s"), SecretString: aws.String("three"), VersionStages: []string{"AWSPENDING"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(put.VersionStages, []string{"AWSPENDING"}) || len(aws.ToString(put.VersionId)) != 36 {
		t.Errorf("PutSecretValue: %+v", put)
	}
	if out := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")}); aws.ToString(out.SecretString) != "two" {
		t.Errorf("current after AWSPENDING: %q", aws.ToString(out.SecretString))
	}
	byID := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: put.VersionId})
	if aws.ToString(byID.SecretString) != "three" {
		t.Errorf("by VersionId: %q", aws.ToString(byID.SecretString))
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: put.VersionId, VersionStage: aws.String("AWSCURRENT")})
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) {
		t.Errorf("VersionId and a stage it lacks: %v", err)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(strings.Repeat("0", 32))})
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "VersionId") {
		t.Errorf("unknown VersionId: %v", err)
	}

	// PutSecretValue without stages makes the new version current and the
	// old current previous.
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("four")}); err != nil {
		t.Fatal(err)
	}
	prev = get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPREVIOUS")})
	if aws.ToString(prev.SecretString) != "two" {
		t.Errorf("previous after a third put: %q", aws.ToString(prev.SecretString))
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	for _, st := range d.VersionIdsToStages {
		stages = append(stages, st...)
	}
	slices.Sort(stages)
	if !slices.Equal(stages, []string{"AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"}) || len(d.VersionIdsToStages) != 3 {
		t.Errorf("VersionIdsToStages %v", d.VersionIdsToStages)
	}
}

func TestBinarySecrets(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	blob := []byte{0, 1, 2, 0xff, 'x'}
	srv.PutBinary("bin/put", blob)
	cr, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bin/create"), SecretBinary: blob})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"bin/put", aws.ToString(cr.ARN)} {
		out := get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if string(out.SecretBinary) != string(blob) || out.SecretString != nil {
			t.Errorf("%s: binary %v string %v", id, out.SecretBinary, out.SecretString)
		}
	}
}

func TestCreateSecret(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)}
	srv := start(t, Options{Now: clock.now})
	c := client(srv, testSecret)
	ctx := context.Background()
	token := "11111111-2222-3333-4444-555555555555"
	in := &secretsmanager.CreateSecretInput{
		Name: aws.String("prod/kafka"), SecretString: aws.String(`{"username":"u"}`), ClientRequestToken: aws.String(token),
		Description: aws.String("Kafka SASL"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
	}
	out, err := c.CreateSecret(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !arnRE.MatchString(aws.ToString(out.ARN)) || aws.ToString(out.Name) != "prod/kafka" || aws.ToString(out.VersionId) != token {
		t.Errorf("CreateSecret: %+v", out)
	}
	// A retry with the same token and value succeeds with the same ARN.
	again, err := c.CreateSecret(ctx, in)
	if err != nil || aws.ToString(again.ARN) != aws.ToString(out.ARN) {
		t.Errorf("idempotent retry: %v %+v", err, again)
	}
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/kafka"), SecretString: aws.String("x")})
	var exists *types.ResourceExistsException
	if !errors.As(err, &exists) || !strings.Contains(exists.ErrorMessage(), "prod/kafka already exists") {
		t.Errorf("duplicate: %v", err)
	}

	clock.advance(26 * time.Hour)
	get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/kafka")})
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Name) != "prod/kafka" || aws.ToString(d.Description) != "Kafka SASL" || len(d.Tags) != 1 ||
		!d.CreatedDate.Equal(time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)) ||
		!d.LastAccessedDate.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) ||
		!slices.Equal(d.VersionIdsToStages[token], []string{"AWSCURRENT"}) {
		t.Errorf("DescribeSecret: %+v", d)
	}

	// A secret without a value has no current version.
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("empty")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "staging label: AWSCURRENT") {
		t.Errorf("secret without a value: %v", err)
	}
}

func TestBadRequests(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	srv.Put("s", "v")

	_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name"), SecretString: aws.String("v")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "ValidationException" || !strings.HasPrefix(ae.ErrorMessage(), "Invalid name.") {
		t.Errorf("bad name: %v", err)
	}
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("v"), SecretBinary: []byte("v")})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("string and binary: %v", err)
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(strings.Repeat("x", MaxSecretSize+1))})
	if ae := asAPIError(t, err); ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), "65536") {
		t.Errorf("too large: %v", err)
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s")})
	if !errors.As(err, &ip) {
		t.Errorf("no value: %v", err)
	}
	token := aws.String(strings.Repeat("a", 32))
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("v2"), ClientRequestToken: token}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("v3"), ClientRequestToken: token})
	var exists *types.ResourceExistsException
	if !errors.As(err, &exists) {
		t.Errorf("same token, other value: %v", err)
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("v")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("put to a missing secret: %v", err)
	}
	_, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("nope")})
	if !errors.As(err, &nf) {
		t.Errorf("describe a missing secret: %v", err)
	}
	assertPanics(t, func() { srv.Put("bad name", "v") })
	assertPanics(t, func() { srv.Put("big", strings.Repeat("x", MaxSecretSize+1)) })
}

func assertPanics(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	f()
}

func TestDeny(t *testing.T) {
	srv := start(t, Options{})
	c := client(srv, testSecret)
	ctx := context.Background()
	arn := srv.Put("locked", "v")
	srv.Put("kms", "v")
	srv.Deny("locked")
	srv.Deny("kms", ActionKMSDecrypt)
	srv.Deny("not-yet", ActionGetSecretValue)

	for _, id := range []string{"locked", arn, "not-yet"} {
		_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		ae := asAPIError(t, err)
		want := "is not authorized to perform: secretsmanager:GetSecretValue on resource: " + id
		if ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), want) {
			t.Errorf("%s: %v", id, err)
		}
	}
	_, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("locked")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "secretsmanager:DescribeSecret") {
		t.Errorf("describe: %v", err)
	}

	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("kms")})
	var df *types.DecryptionFailure
	if !errors.As(err, &df) {
		t.Errorf("kms:Decrypt denied: %v", err)
	}
	if _, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("kms")}); err != nil {
		t.Errorf("DescribeSecret needs no kms:Decrypt: %v", err)
	}

	srv.Allow("locked")
	get(t, c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("locked")})
}

func TestFaults(t *testing.T) {
	srv := start(t, Options{Fault: Chain(
		OnSecret("throttled", Throttling()),
		OnSecret("broken", InternalServiceError()),
		OnSecret("undecryptable", DecryptionFailure()),
		OnSecret("slow", Slow(time.Second)),
		FirstN(2, OnSecret("flaky", InternalServiceError())),
		OnCall("DescribeSecret", &Fault{Code: "ServiceUnavailable"}),
	)})
	c := client(srv, testSecret)
	ctx := context.Background()
	for _, n := range []string{"throttled", "broken", "undecryptable", "slow", "flaky"} {
		srv.Put(n, "v")
	}

	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("throttled")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "ThrottlingException" || ae.ErrorMessage() != "Rate exceeded" ||
		!retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		t.Errorf("throttled: %v", err)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("broken")})
	var ise *types.InternalServiceError
	if !errors.As(err, &ise) {
		t.Errorf("broken: %v", err)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("undecryptable")})
	var df *types.DecryptionFailure
	if !errors.As(err, &df) {
		t.Errorf("undecryptable: %v", err)
	}
	_, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("other")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "ServiceUnavailable" {
		t.Errorf("describe: %v", err)
	}

	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.GetSecretValue(tctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("slow")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow: %v", err)
	}

	// The SDK's own retries get through a service that recovers.
	retrying := secretsmanager.New(secretsmanager.Options{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		BaseEndpoint: aws.String(srv.URL()),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		}),
	})
	before := srv.Requests("GetSecretValue")
	if out, err := retrying.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("flaky")}); err != nil || aws.ToString(out.SecretString) != "v" {
		t.Errorf("flaky: %v", err)
	}
	if n := srv.Requests("GetSecretValue") - before; n != 3 {
		t.Errorf("flaky took %d requests, want 3", n)
	}
}

func TestSignatures(t *testing.T) {
	srv := start(t, Options{})
	srv.Put("s", "v")
	_, err := client(srv, "wrong-secret").GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	if ae := asAPIError(t, err); ae.ErrorCode() != "InvalidSignatureException" {
		t.Errorf("bad signature: %v", err)
	}
	resp, err := http.Post(srv.URL(), contentType, strings.NewReader(`{"SecretId":"s"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned request: status %d", resp.StatusCode)
	}
	if srv.SignatureFailures() != 2 || srv.Requests("GetSecretValue") != 0 {
		t.Errorf("signature failures %d, requests %d", srv.SignatureFailures(), srv.Requests("GetSecretValue"))
	}
}
