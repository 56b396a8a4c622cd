package awstest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// DefaultRegion is the region an endpoint serves when its options name
// none.
const DefaultRegion = "us-east-1"

// Endpoint is what every local AWS endpoint (sqsapi, s3api, ...) shares:
// the one key pair it accepts, its logger, the Guard that verifies
// signatures in front of its API and the Loopback it is served on. Each
// endpoint's Server embeds it, so that URL, Close and SignatureFailures
// are the server's own.
type Endpoint struct {
	// Log receives the endpoint's records; it discards them when
	// EndpointOptions.Logger was nil.
	Log *slog.Logger
	// Creds are the credentials and scope requests must be signed with,
	// with the default region filled in.
	Creds Credentials
	// Guard verifies each request's signature and hands the ones that
	// verify to the API handler given to Serve. It logs every refusal.
	Guard *Guard

	name string
	lb   *Loopback
}

// EndpointOptions configures NewEndpoint.
type EndpointOptions struct {
	// Name is the endpoint's package name ("sqsapi"), which begins its
	// errors and log messages.
	Name string
	// Service is the signing name requests must be scoped to ("sqs",
	// "s3", ...); it also picks the Guard's error dialect.
	Service string
	// AccessKeyID and SecretAccessKey are the only credentials accepted;
	// both are required.
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, makes the key pair temporary credentials:
	// requests must carry this token in a signed X-Amz-Security-Token
	// header, as clients using credentials from STS do. Empty accepts
	// requests with or without a token.
	SessionToken string
	// Region is the region requests must be signed for; empty means
	// DefaultRegion.
	Region string
	// Logger receives a warning per refused request; nil discards.
	Logger *slog.Logger
}

// NewEndpoint checks o and fills in its defaults. The endpoint serves
// nothing until Serve.
func NewEndpoint(o EndpointOptions) (*Endpoint, error) {
	if o.AccessKeyID == "" || o.SecretAccessKey == "" {
		return nil, errors.New(o.Name + ": AccessKeyID and SecretAccessKey are required")
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Endpoint{
		Log: o.Logger,
		Creds: Credentials{
			AccessKeyID:     o.AccessKeyID,
			SecretAccessKey: o.SecretAccessKey,
			SessionToken:    o.SessionToken,
			Region:          o.Region,
			Service:         o.Service,
		},
		name: o.Name,
	}
	e.Guard = NewGuard(e.Creds, nil)
	e.Guard.OnFailure = e.logRefused
	return e, nil
}

// Serve serves on a free port of 127.0.0.1 until Close, over HTTPS with
// tlsCfg when it is not nil. The Guard hands the requests that verify to
// api. Serve listens on the Guard, or on front when it is not nil: an
// endpoint whose every request needs some work before verification gives
// a front handler that calls Guard itself, and one that verifies
// signatures itself (see Verify) gives only a front handler.
func (e *Endpoint) Serve(api, front http.Handler, tlsCfg *tls.Config) error {
	e.Guard.next = api
	h := front
	if h == nil {
		h = e.Guard
	}
	lb, err := ListenTLS(h, tlsCfg)
	if err != nil {
		return fmt.Errorf("%s: %w", e.name, err)
	}
	e.lb = lb
	return nil
}

// Verify checks the signature of r, whose body is body, as the Guard
// would, for an endpoint that answers refusals in its own error format
// instead of the Guard's: a request that fails is counted by
// SignatureFailures and logged.
func (e *Endpoint) Verify(r *http.Request, body []byte) error {
	return e.Guard.check(r, body)
}

// URL returns the endpoint's base URL, "http://127.0.0.1:PORT", for the
// client's BaseEndpoint.
func (e *Endpoint) URL() string { return e.lb.URL() }

// Close stops the server: open connections are closed (cancelling the
// contexts of requests in flight) and Close returns once every handler has
// returned. It may be called more than once.
func (e *Endpoint) Close() { e.lb.Close() }

// SignatureFailures returns how many requests were refused because their
// signature did not verify.
func (e *Endpoint) SignatureFailures() int64 { return e.Guard.Failures() }

// logRefused logs a request refused for its signature. The operation is
// in the path (REST protocols) or in X-Amz-Target (JSON protocols), so
// the record carries both when present.
func (e *Endpoint) logRefused(r *http.Request, err error) {
	attrs := []any{"method", r.Method, "path", r.URL.EscapedPath()}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		attrs = append(attrs, "target", t)
	}
	e.Log.Warn(e.name+": request refused", append(attrs, "err", err)...)
}
