// Package stsapi is a local AWS STS endpoint for tests: roles registered
// with AddRole, served on 127.0.0.1 in the wire protocol the
// aws-sdk-go-v2 sts client speaks (AWS Query: POST / with a form-encoded
// body Action=AssumeRole&Version=2011-06-15, XML responses), with every
// request's SigV4 signature verified, so that the real client, and the
// stscreds provider on top of it, parse its answers into the same typed
// results and errors as AWS's. A test points the SDK at it with
// AWS_ENDPOINT_URL_STS (or the client's BaseEndpoint).
//
// It implements AssumeRole: the caller (the one key pair of Options) may
// assume every role added, and receives the fixed credentials of the
// Role, with an Expiration the role's Duration (or the DurationSeconds
// asked, or an hour) after Options.Now, and the assumed-role user
// arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION. Parameters are
// validated as STS validates them: RoleArn and RoleSessionName are
// required, RoleSessionName (and SourceIdentity) must match
// [\w+=,.@-]{2,64}, DurationSeconds must be in 900..43200, ExternalId
// must match [\w+=,.@:/-]{2,1224}; a request breaking these rules is
// answered 400 ValidationError ("N validation error(s) detected: Value
// ... at 'roleSessionName' failed to satisfy constraint: ..."). An
// unknown role, or a role with an ExternalID asked without it or with
// another one, is answered 403 AccessDenied ("User:
// arn:aws:iam::ACCOUNT:user/penstock is not authorized to perform:
// sts:AssumeRole on resource: ROLE_ARN"). The SDK has no types for these
// errors: it returns a smithy.GenericAPIError whose ErrorCode is the code.
//
// Errors are sent as STS sends them: <ErrorResponse><Error><Type>Sender
// </Type><Code>..</Code><Message>..</Message></Error><RequestId>..
// </RequestId></ErrorResponse>. A request whose signature does not verify
// is refused by the awstest.Guard in front, in the same document (403
// SignatureDoesNotMatch, InvalidClientTokenId for an unknown key, ...),
// and counted by SignatureFailures.
//
// Not implemented: every other STS action (answered InvalidAction), trust
// policies beyond the external id, role chaining (temporary credentials
// calling AssumeRole), session policies, tags and MFA (Policy,
// PolicyArns, Tags, TransitiveTagKeys, SerialNumber, TokenCode and
// ProvidedContexts are accepted and ignored; PackedPolicySize is never
// answered), and a role's MaxSessionDuration (any DurationSeconds up to
// 43200 is granted).
package stsapi

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

// APIVersion is the only Version the endpoint accepts, the one the SDK
// sends.
const APIVersion = "2011-06-15"

// DefaultDuration is the lifetime of the credentials AssumeRole issues
// when neither the role's Duration nor the request's DurationSeconds says
// otherwise: an hour, as STS.
const DefaultDuration = time.Hour

// Options configures Start.
type Options struct {
	// Region is the region requests must be signed for; empty means
	// us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the caller's credentials, the
	// only ones accepted; both are required.
	AccessKeyID     string
	SecretAccessKey string
	// AccountID is the caller's account, which names the caller
	// (arn:aws:iam::ACCOUNT:user/penstock) in AccessDenied messages;
	// empty means 123456789012.
	AccountID string
	// Logger receives a debug record per request and a warning per
	// refused signature; nil discards.
	Logger *slog.Logger
	// Now is the clock issued credentials expire by; nil means time.Now.
	// Signatures are checked against the real clock whatever Now says,
	// and a credentials cache checks expiry against it too: a Now far
	// from it hands out credentials the SDK takes as already expired, or
	// as never expiring.
	Now func() time.Time
}

// Role is a role callers may assume, and the temporary credentials
// AssumeRole hands out for it.
type Role struct {
	// ARN is the role's ARN, arn:aws:iam::ACCOUNT:role/NAME (or
	// role/PATH/NAME; partitions aws, aws-cn and aws-us-gov).
	ARN string
	// ExternalID, when set, must be passed to AssumeRole as ExternalId,
	// as a trust policy with an sts:ExternalId condition requires.
	ExternalID string
	// AccessKeyID, SecretAccessKey and SessionToken are the credentials
	// issued, fixed so that a test can start the service the role is for
	// with them. AccessKeyID and SecretAccessKey are required.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Duration is the lifetime of the credentials issued, whatever
	// DurationSeconds asks (a test may give a short one to see them
	// refreshed); 0 means the DurationSeconds asked, or DefaultDuration
	// when the request names none.
	Duration time.Duration
}

// role is a Role as the endpoint keeps it, with its ARN taken apart.
type role struct {
	Role
	partition, account, name string
	// id is the role's unique id (AROA...), the same for the same ARN.
	id string
}

// roleARNRe matches a role ARN: its partition, account, path and name.
var roleARNRe = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/(?:[\x21-\x7e]+/)?([\w+=,.@-]{1,64})$`)

// Server is a running local STS endpoint. Its URL, Close and
// SignatureFailures are those of the embedded awstest.Endpoint.
type Server struct {
	*awstest.Endpoint
	opts Options

	mu       sync.Mutex
	roles    map[string]role // by ARN
	sessions []string
	requests map[string]int
}

// Start listens on a random port of 127.0.0.1 and serves the STS API
// until Close.
func Start(opts Options) (*Server, error) {
	e, err := awstest.NewEndpoint(awstest.EndpointOptions{
		Name: "stsapi", Service: "sts", Region: opts.Region, Logger: opts.Logger,
		AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey,
	})
	if err != nil {
		return nil, err
	}
	opts.Region = e.Creds.Region
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		Endpoint: e,
		opts:     opts,
		roles:    map[string]role{},
		requests: map[string]int{},
	}
	if err := s.Serve(http.HandlerFunc(s.serveAPI), nil, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// AddRole registers (or replaces) a role callers may assume. It panics
// when the role's ARN is malformed or its credentials lack a key or
// secret: it is for setting up tests.
func (s *Server) AddRole(r Role) {
	m := roleARNRe.FindStringSubmatch(r.ARN)
	if m == nil {
		panic(fmt.Sprintf("stsapi: AddRole: %q is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", r.ARN))
	}
	if r.AccessKeyID == "" || r.SecretAccessKey == "" {
		panic(fmt.Sprintf("stsapi: AddRole %s: the credentials issued need an AccessKeyID and a SecretAccessKey", r.ARN))
	}
	sum := sha256.Sum256([]byte(r.ARN))
	id := "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[r.ARN] = role{Role: r, partition: m[1], account: m[2], name: m[3], id: id}
}

// Requests returns how many requests for action op ("AssumeRole") passed
// signature verification, answered with credentials or with an error.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// Sessions returns the RoleSessionName of each AssumeRole that issued
// credentials, in order.
func (s *Server) Sessions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sessions...)
}

// principal is the caller's ARN, as AccessDenied messages name it.
func (s *Server) principal() string {
	return "arn:aws:iam::" + s.opts.AccountID + ":user/penstock"
}

// serveAPI handles a request whose signature verified.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	id := uuid.New()
	form, aerr := parseForm(r)
	if aerr != nil {
		writeError(w, id, aerr)
		return
	}
	op := form.Get("Action")
	switch {
	case op != "AssumeRole":
		writeError(w, id, newError(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", op, form.Get("Version")))
		return
	case form.Get("Version") != APIVersion:
		writeError(w, id, newError(http.StatusBadRequest, "InvalidParameterValue", "Version %q is not supported; use %s.", form.Get("Version"), APIVersion))
		return
	}
	s.mu.Lock()
	s.requests[op]++
	s.mu.Unlock()
	res, aerr := s.assumeRole(form)
	attrs := []any{"op", op, "role", form.Get("RoleArn"), "session", form.Get("RoleSessionName")}
	if aerr != nil {
		s.Log.Debug("stsapi: request", append(attrs, "err", aerr.Error())...)
		writeError(w, id, aerr)
		return
	}
	s.Log.Debug("stsapi: request", attrs...)
	res.RequestID = id
	write(w, id, http.StatusOK, res)
}

// parseForm returns the parameters of a query protocol request: the
// form-encoded body's, and the URL query's that the body does not set.
func parseForm(r *http.Request) (url.Values, *apiError) {
	if r.Method != http.MethodPost {
		return nil, newError(http.StatusBadRequest, "InvalidAction", "This endpoint takes POST requests with a form-encoded body.")
	}
	if err := r.ParseForm(); err != nil {
		return nil, newError(http.StatusBadRequest, "MalformedQueryString", "The request is not a valid form: %v", err)
	}
	return r.Form, nil
}
