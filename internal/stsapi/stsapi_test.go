package stsapi

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

const (
	region  = "eu-west-1"
	akid    = "AKIDSTSTEST"
	secret  = "sts-secret"
	writer  = "arn:aws:iam::210987654321:role/team/penstock-writer"
	guarded = "arn:aws:iam::210987654321:role/guarded"
)

// now is the clock of tests that check expirations; it is whole seconds,
// as Expiration is answered.
var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

var writerRole = Role{ARN: writer, AccessKeyID: "ASIAWRITER", SecretAccessKey: "writer-secret", SessionToken: "writer-token"}

func start(t *testing.T, clock func() time.Time) *Server {
	t.Helper()
	s, err := Start(Options{Region: region, AccessKeyID: akid, SecretAccessKey: secret, AccountID: "111122223333", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddRole(writerRole)
	s.AddRole(Role{ARN: guarded, ExternalID: "ext-1", AccessKeyID: "ASIAGUARDED", SecretAccessKey: "guarded-secret", SessionToken: "guarded-token"})
	return s
}

// client is an STS client signing with the key pair (akid, sec); optFns
// change its options, e.g. to drop the SDK's own input validation.
func client(s *Server, sec string, optFns ...func(*sts.Options)) *sts.Client {
	return sts.New(sts.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, sec, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	}, optFns...)
}

// withoutValidation drops the SDK's check of required parameters, so
// that a request without them reaches the endpoint.
func withoutValidation(o *sts.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		_, err := st.Initialize.Remove("OperationInputValidation")
		return err
	})
}

// answer returns the HTTP status, code and message err carries.
func answer(t *testing.T, err error) (status int, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Fatalf("got %v, want an STS API error", err)
	}
	return re.HTTPStatusCode(), ae.ErrorCode(), ae.ErrorMessage()
}

func TestAssumeRole(t *testing.T) {
	s := start(t, func() time.Time { return now })
	out, err := client(s, secret).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(writer), RoleSessionName: aws.String("job-1"), SourceIdentity: aws.String("alice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if c == nil || aws.ToString(c.AccessKeyId) != "ASIAWRITER" || aws.ToString(c.SecretAccessKey) != "writer-secret" ||
		aws.ToString(c.SessionToken) != "writer-token" {
		t.Fatalf("credentials %+v", c)
	}
	if got, want := aws.ToTime(c.Expiration), now.Add(time.Hour); !got.Equal(want) {
		t.Errorf("expiration %s, want %s", got, want)
	}
	u := out.AssumedRoleUser
	if u == nil || aws.ToString(u.Arn) != "arn:aws:sts::210987654321:assumed-role/penstock-writer/job-1" {
		t.Fatalf("assumed role user %+v", u)
	}
	roleID, session, _ := strings.Cut(aws.ToString(u.AssumedRoleId), ":")
	if !strings.HasPrefix(roleID, "AROA") || len(roleID) != 21 || session != "job-1" {
		t.Errorf("AssumedRoleId %s, want AROA + 17 characters:job-1", aws.ToString(u.AssumedRoleId))
	}
	if aws.ToString(out.SourceIdentity) != "alice" || out.PackedPolicySize != nil {
		t.Errorf("SourceIdentity %q, PackedPolicySize %v", aws.ToString(out.SourceIdentity), out.PackedPolicySize)
	}

	// The same role has the same id in every session.
	again, err := client(s, secret).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(writer), RoleSessionName: aws.String("job-2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(again.AssumedRoleUser.AssumedRoleId); got != roleID+":job-2" {
		t.Errorf("second AssumedRoleId %s, want %s:job-2", got, roleID)
	}
	if n := s.Requests("AssumeRole"); n != 2 {
		t.Errorf("Requests = %d, want 2", n)
	}
	if got := s.Sessions(); len(got) != 2 || got[0] != "job-1" || got[1] != "job-2" {
		t.Errorf("Sessions = %q, want [job-1 job-2]", got)
	}
}

func TestDurationSeconds(t *testing.T) {
	s := start(t, func() time.Time { return now })
	short := "arn:aws:iam::210987654321:role/short"
	s.AddRole(Role{ARN: short, AccessKeyID: "ASIASHORT", SecretAccessKey: "short-secret", Duration: 5 * time.Second})
	c := client(s, secret)
	for _, tc := range []struct {
		role    string
		seconds int32
		want    time.Duration
	}{
		{writer, 900, 15 * time.Minute},
		{writer, 43200, 12 * time.Hour},
		{short, 7200, 5 * time.Second}, // the role's Duration wins
	} {
		out, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String(tc.role), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(tc.seconds)})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToTime(out.Credentials.Expiration); !got.Equal(now.Add(tc.want)) {
			t.Errorf("%s for %ds: expires %s, want %s", tc.role, tc.seconds, got, now.Add(tc.want))
		}
	}
	for _, tc := range []struct {
		seconds int32
		want    string
	}{
		{899, "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{43201, "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
	} {
		_, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String(writer), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(tc.seconds)})
		if status, code, msg := answer(t, err); status != http.StatusBadRequest || code != "ValidationError" || msg != tc.want {
			t.Errorf("DurationSeconds %d: %d %s %q\nwant 400 ValidationError %q", tc.seconds, status, code, msg, tc.want)
		}
	}
	if n := s.Requests("AssumeRole"); n != 5 {
		t.Errorf("Requests = %d, want 5", n)
	}
}

func TestAssumeRoleRefused(t *testing.T) {
	s := start(t, nil)
	c := client(s, secret)
	denied := func(role string) string {
		return "User: arn:aws:iam::111122223333:user/penstock is not authorized to perform: sts:AssumeRole on resource: " + role
	}
	unknown := "arn:aws:iam::210987654321:role/nobody"
	for _, tc := range []struct {
		name, role string
		externalID *string
	}{
		{"unknown role", unknown, nil},
		{"external id missing", guarded, nil},
		{"wrong external id", guarded, aws.String("ext-2")},
	} {
		_, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String(tc.role), RoleSessionName: aws.String("penstock"), ExternalId: tc.externalID})
		if status, code, msg := answer(t, err); status != http.StatusForbidden || code != "AccessDenied" || msg != denied(tc.role) {
			t.Errorf("%s: %d %s %q", tc.name, status, code, msg)
		}
	}
	out, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(guarded), RoleSessionName: aws.String("penstock"), ExternalId: aws.String("ext-1")})
	if err != nil {
		t.Fatalf("right external id: %v", err)
	}
	if aws.ToString(out.Credentials.AccessKeyId) != "ASIAGUARDED" {
		t.Errorf("credentials %+v", out.Credentials)
	}
	if n, got := s.Requests("AssumeRole"), s.Sessions(); n != 4 || len(got) != 1 {
		t.Errorf("Requests = %d, Sessions = %q; want 4 and the one that succeeded", n, got)
	}
}

func TestAssumeRoleValidation(t *testing.T) {
	s := start(t, nil)
	c := client(s, secret, withoutValidation)
	for _, tc := range []struct {
		name string
		in   sts.AssumeRoleInput
		want string
	}{
		{
			name: "session name too short",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(writer), RoleSessionName: aws.String("a")},
			want: "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
		},
		{
			name: "session name with a space",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(writer), RoleSessionName: aws.String("my job")},
			want: `1 validation error detected: Value 'my job' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`,
		},
		{
			name: "session name too long",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(writer), RoleSessionName: aws.String(strings.Repeat("x", 65))},
			want: "Member must have length less than or equal to 64",
		},
		{
			name: "no RoleArn",
			in:   sts.AssumeRoleInput{RoleSessionName: aws.String("penstock")},
			want: "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
		},
		{
			name: "nothing",
			want: "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
		},
		{
			name: "not an ARN",
			in:   sts.AssumeRoleInput{RoleArn: aws.String("penstock-writer-role-name"), RoleSessionName: aws.String("penstock")},
			want: "Request ARN is invalid",
		},
	} {
		_, err := c.AssumeRole(context.Background(), &tc.in)
		if status, code, msg := answer(t, err); status != http.StatusBadRequest || code != "ValidationError" || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %s %q\nwant 400 ValidationError with %q", tc.name, status, code, msg, tc.want)
		}
	}
	if n, got := s.Requests("AssumeRole"), s.Sessions(); n != 6 || len(got) != 0 {
		t.Errorf("Requests = %d, Sessions = %q; want 6 and none", n, got)
	}
}

func TestOtherActionInvalid(t *testing.T) {
	s := start(t, nil)
	_, err := client(s, secret).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if status, code, _ := answer(t, err); status != http.StatusBadRequest || code != "InvalidAction" {
		t.Errorf("GetCallerIdentity: %d %s, want 400 InvalidAction", status, code)
	}
}

func TestWrongSecretRefused(t *testing.T) {
	s := start(t, nil)
	_, err := client(s, "wrong-secret").AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(writer), RoleSessionName: aws.String("penstock")})
	if status, code, _ := answer(t, err); status != http.StatusForbidden || code != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %d %s, want 403 SignatureDoesNotMatch", status, code)
	}
	if s.SignatureFailures() != 1 || s.Requests("AssumeRole") != 0 || len(s.Sessions()) != 0 {
		t.Errorf("signature failures %d, requests %d, sessions %q", s.SignatureFailures(), s.Requests("AssumeRole"), s.Sessions())
	}
}

// TestAssumeRoleProvider takes the role's credentials as Penstock does
// (internal/awsconf): stscreds behind a credentials cache, which asks STS
// once and keeps them until they near their expiration.
func TestAssumeRoleProvider(t *testing.T) {
	s := start(t, nil)
	prov := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(client(s, secret), guarded, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "penstock"
		o.ExternalID = aws.String("ext-1")
	}))
	before := time.Now()
	var first aws.Credentials
	for i := range 2 {
		got, err := prov.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
		}
		if got.AccessKeyID != "ASIAGUARDED" || got.SecretAccessKey != "guarded-secret" || got.SessionToken != "guarded-token" ||
			!got.CanExpire || !got.Expires.Equal(first.Expires) {
			t.Errorf("retrieve %d: %+v", i, got)
		}
	}
	// stscreds asks for 15 minutes unless told otherwise.
	if exp := first.Expires; exp.Before(before.Add(15*time.Minute).Truncate(time.Second)) || exp.After(time.Now().Add(15*time.Minute)) {
		t.Errorf("expires %s, want 15 minutes from now", exp)
	}
	if n := s.Requests("AssumeRole"); n != 1 {
		t.Errorf("Requests = %d after two Retrieve calls, want 1", n)
	}
	if got := s.Sessions(); len(got) != 1 || got[0] != "penstock" {
		t.Errorf("Sessions = %q, want [penstock]", got)
	}
}

// TestAwsconfRoleARN assumes a role through Penstock's own configuration,
// with the SDK pointed at the endpoint by AWS_ENDPOINT_URL_STS.
func TestAwsconfRoleARN(t *testing.T) {
	s := start(t, nil)
	t.Setenv("AWS_ACCESS_KEY_ID", akid)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ENDPOINT_URL_STS", s.URL())
	cfg, err := awsconf.Load(context.Background(), awsconf.Settings{Region: region, RoleARN: guarded, ExternalID: "ext-1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != "ASIAGUARDED" || got.SessionToken != "guarded-token" {
		t.Errorf("credentials %+v", got)
	}
	if sessions := s.Sessions(); len(sessions) != 1 || sessions[0] != "penstock" {
		t.Errorf("Sessions = %q, want [penstock]", sessions)
	}
}

func TestAddRolePanicsOnMalformedARN(t *testing.T) {
	s := start(t, nil)
	for _, arn := range []string{"", "penstock-writer", "arn:aws:iam::1234:role/x", "arn:aws:iam::123456789012:user/x", "arn:aws:sts::123456789012:role/x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddRole(%q) did not panic", arn)
				}
			}()
			s.AddRole(Role{ARN: arn, AccessKeyID: "k", SecretAccessKey: "s"})
		}()
	}
}

func TestStartRequiresCredentials(t *testing.T) {
	if s, err := Start(Options{AccessKeyID: akid}); err == nil || s != nil {
		t.Fatalf("Start without a secret = %v, %v; want an error", s, err)
	}
}
