// Package secretsapi is a local AWS Secrets Manager endpoint for tests:
// secrets held in memory, served on 127.0.0.1 in the wire protocol the
// aws-sdk-go-v2 secretsmanager client speaks (AWS JSON 1.1: POST / with
// X-Amz-Target: secretsmanager.<Operation>), with every request's SigV4
// signature verified, so that the real client parses its answers into the
// same typed results and errors as AWS's.
//
// It implements GetSecretValue, CreateSecret, PutSecretValue and
// DescribeSecret with the rules a reader of secrets meets: a secret is
// found by name, by complete ARN (name, hyphen, six random characters) or
// by partial ARN (without the six characters); versions carry staging
// labels, AWSCURRENT by default and AWSPREVIOUS for the one it replaced;
// a value is a SecretString or a SecretBinary, never both, of at most
// 65,536 bytes; ClientRequestToken makes CreateSecret and PutSecretValue
// idempotent as in AWS.
//
// Errors are sent as Secrets Manager sends them: status 400 (500 for
// InternalServiceError) and the body {"__type":CODE,"Message":...}. The
// SDK turns the modeled ones into their types
// (*types.ResourceNotFoundException, *types.DecryptionFailure,
// *types.InternalServiceError, ...) and the others (AccessDeniedException,
// ThrottlingException, ValidationException) into a smithy.GenericAPIError
// with that code.
//
// Deny refuses IAM actions on a secret, as a missing permission would:
// AccessDeniedException for secretsmanager:* actions, DecryptionFailure
// for kms:Decrypt. Options.Fault injects failures into whole calls; see
// FaultFunc and the helpers Throttling, InternalServiceError,
// DecryptionFailure, Slow, OnCall, OnSecret, FirstN and Chain. Requests
// and SignatureFailures let a test see what the endpoint received.
//
// Not implemented: deletion and restore, rotation, replication, resource
// policies, tags beyond storing them, ListSecrets and BatchGetSecretValue,
// and the limit of 100 versions a secret keeps.
package secretsapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

// Limits and names of Secrets Manager that the endpoint applies.
const (
	// MaxSecretSize is the largest SecretString or SecretBinary: 65,536
	// bytes.
	MaxSecretSize = 65536
	// MaxNameLength is the longest secret name.
	MaxNameLength = 512
	// StageCurrent labels a secret's current version, the one
	// GetSecretValue returns by default.
	StageCurrent = "AWSCURRENT"
	// StagePrevious labels the version the current one replaced.
	StagePrevious = "AWSPREVIOUS"
	// StagePending labels a version being rotated in.
	StagePending = "AWSPENDING"
)

// The IAM actions Deny takes.
const (
	// ActionGetSecretValue denied makes GetSecretValue answer
	// AccessDeniedException.
	ActionGetSecretValue = "secretsmanager:GetSecretValue"
	// ActionDescribeSecret denied makes DescribeSecret answer
	// AccessDeniedException.
	ActionDescribeSecret = "secretsmanager:DescribeSecret"
	// ActionPutSecretValue denied makes PutSecretValue answer
	// AccessDeniedException.
	ActionPutSecretValue = "secretsmanager:PutSecretValue"
	// ActionCreateSecret denied makes CreateSecret answer
	// AccessDeniedException.
	ActionCreateSecret = "secretsmanager:CreateSecret"
	// ActionKMSDecrypt denied makes GetSecretValue fail with
	// DecryptionFailure, as for a secret encrypted with a customer managed
	// key the caller may not use.
	ActionKMSDecrypt = "kms:Decrypt"
)

const (
	targetPrefix = "secretsmanager."
	contentType  = "application/x-amz-json-1.1"
)

// Options configures Start.
type Options struct {
	// Region is the region requests must be signed for and ARNs name;
	// empty means us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
	// AccountID is the account that owns the secrets, in their ARNs;
	// empty means 123456789012.
	AccountID string
	// Logger receives a debug record per request and a warning per
	// refused signature; nil discards. Secret values are never logged.
	Logger *slog.Logger
	// Fault injects failures; nil injects none. See FaultFunc.
	Fault FaultFunc
	// Now is the clock of the secrets' dates; nil means time.Now.
	// Signatures are always checked against time.Now.
	Now func() time.Time
}

// Server is a running local Secrets Manager endpoint. Its URL, Close and
// SignatureFailures are those of the embedded awstest.Endpoint.
type Server struct {
	*awstest.Endpoint
	opts Options

	mu       sync.Mutex
	secrets  map[string]*secret // by name
	denied   map[string]map[string]bool
	requests map[string]int
}

// Start listens on a random port of 127.0.0.1 and serves the Secrets
// Manager API until Close.
func Start(opts Options) (*Server, error) {
	e, err := awstest.NewEndpoint(awstest.EndpointOptions{
		Name: "secretsapi", Service: "secretsmanager", Region: opts.Region, Logger: opts.Logger,
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
		secrets:  map[string]*secret{},
		denied:   map[string]map[string]bool{},
		requests: map[string]int{},
	}
	if err := s.Serve(http.HandlerFunc(s.serveAPI), nil, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// Region returns the region the endpoint serves.
func (s *Server) Region() string { return s.opts.Region }

// AccountID returns the account that owns the secrets.
func (s *Server) AccountID() string { return s.opts.AccountID }

// Put stores value as the current (AWSCURRENT) version of the secret
// called name, as a SecretString: it creates the secret, or adds a version
// to it as PutSecretValue does (the version it replaces becomes
// AWSPREVIOUS). It returns the secret's ARN. Put panics when name or
// value break Secrets Manager's rules: it is for setting up tests.
func (s *Server) Put(name, value string) (arn string) {
	return s.put(name, &value, nil)
}

// PutBinary is Put for a SecretBinary value.
func (s *Server) PutBinary(name string, value []byte) (arn string) {
	if value == nil {
		value = []byte{}
	}
	return s.put(name, nil, value)
}

func (s *Server) put(name string, str *string, bin []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := checkName(name); e != nil {
		panic("secretsapi: Put: " + e.Message)
	}
	if e := checkValue(str, bin); e != nil {
		panic("secretsapi: Put: " + e.Message)
	}
	now := s.opts.Now()
	sec := s.secrets[name]
	if sec == nil {
		sec = s.newSecret(name, now)
	}
	sec.addVersion(uuid.New(), str, bin, nil, now)
	return sec.arn
}

// Deny refuses the IAM actions (ActionGetSecretValue, ActionKMSDecrypt,
// ...) on the secret called name, whether or not it exists yet, as a
// missing permission would; no actions means every action. A denied
// secretsmanager action answers AccessDeniedException; a denied
// kms:Decrypt makes GetSecretValue answer DecryptionFailure.
func (s *Server) Deny(name string, actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.denied[name]
	if d == nil {
		d = map[string]bool{}
		s.denied[name] = d
	}
	if len(actions) == 0 {
		actions = []string{"*"}
	}
	for _, a := range actions {
		d[a] = true
	}
}

// Allow lifts every Deny on the secret called name.
func (s *Server) Allow(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.denied, name)
}

// Requests returns how many requests for operation op (e.g.
// "GetSecretValue") passed signature verification, whatever their
// outcome.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// isDenied reports whether action is denied on the secret called name;
// s.mu must be held.
func (s *Server) isDenied(name, action string) bool {
	d := s.denied[name]
	return (d["*"] && !strings.HasPrefix(action, "kms:")) || d[action]
}

// call is one request being served.
type call struct {
	s   *Server
	ctx context.Context
	op  string
}

type handlerFunc func(c *call, body []byte) (any, *apiError)

var handlers = map[string]handlerFunc{
	"GetSecretValue": (*call).getSecretValue,
	"CreateSecret":   (*call).createSecret,
	"PutSecretValue": (*call).putSecretValue,
	"DescribeSecret": (*call).describeSecret,
}

// serveAPI handles a request whose signature verified.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	id := uuid.New()
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	if r.Method != http.MethodPost || !ok {
		writeError(w, id, newError("UnknownOperationException",
			"This endpoint speaks the AWS JSON 1.1 protocol: POST with X-Amz-Target: %s<Operation>.", targetPrefix))
		return
	}
	h := handlers[op]
	if h == nil {
		writeError(w, id, newError("UnknownOperationException", "Operation %s is not supported.", op))
		return
	}
	s.mu.Lock()
	s.requests[op]++
	s.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, id, newError("SerializationException", "Could not read the request body: %v", err))
		return
	}
	c := &call{s: s, ctx: r.Context(), op: op}
	res, aerr := h(c, body)
	if aerr == errAborted {
		s.Log.Debug("secretsapi: client gave up during delay", "op", op)
		return
	}
	s.Log.Debug("secretsapi: request", "op", op, "err", aerr)
	if aerr != nil {
		writeError(w, id, aerr)
		return
	}
	writeResult(w, id, res)
}

// decode parses a JSON request body into v.
func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return newError("SerializationException", "Could not parse the request body: %v", err)
	}
	return nil
}

// fault asks Options.Fault about the call, waits out the fault's Delay
// (errAborted when the client leaves first) and returns the error the
// call fails with, if any.
func (c *call) fault(secretID string) *apiError {
	if c.s.opts.Fault == nil {
		return nil
	}
	f := c.s.opts.Fault(c.op, secretID)
	if f == nil {
		return nil
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return errAborted
		}
	}
	if f.Code == "" {
		return nil
	}
	return f.asError()
}
