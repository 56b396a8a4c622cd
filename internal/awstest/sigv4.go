// Package awstest holds what the local AWS endpoints used in tests share:
// an independent AWS Signature Version 4 verifier, an HTTP middleware
// that refuses requests whose signature does not verify, Loopback,
// which serves an endpoint on 127.0.0.1 until it is closed, and Endpoint,
// which puts the three together for an endpoint's Server to embed.
//
// The verifier is written from the SigV4 specification with crypto/hmac and
// crypto/sha256 only; it does not call the SDK's signer, so a test that signs
// with the SDK and verifies here checks the client against an implementation
// it does not share code with.
package awstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/penstock-dev/penstock/internal/uuid"
)

// Credentials is what a local endpoint accepts: the one access key pair it
// knows and the scope (region and service) requests must be signed for.
//
// An empty Region or Service accepts any region or service in the
// credential scope. Service also selects how the canonical URI is built:
// "s3" uses the path exactly as sent (single encoding), every other service
// URI-encodes the sent path once more, as the SDKs do for them.
//
// SessionToken, when set, makes the key pair temporary credentials (as STS
// issues them): a request must then carry that token in a signed
// X-Amz-Security-Token header (or query parameter). Empty accepts requests
// with or without a token.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Region          string
	Service         string
}

// MaxSkew is the largest difference VerifySigV4 accepts between the time a
// request was signed (X-Amz-Date) and the server's clock, in either
// direction. It matches AWS's limit.
const MaxSkew = 5 * time.Minute

// Payload hash values that stand for the body in the canonical request
// instead of its SHA-256.
const (
	// UnsignedPayload is the X-Amz-Content-Sha256 value of a request whose
	// body is not covered by the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// StreamingUnsignedPayloadTrailer is the X-Amz-Content-Sha256 value of
	// an unsigned aws-chunked upload with trailing checksums (S3).
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

const (
	algorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat = "20060102T150405Z"
	scopeDate     = "20060102"
	scopeEnd      = "aws4_request"
)

// Kind classifies why a request failed verification, so that an endpoint
// can choose the error code the real service would answer with.
type Kind int

// The kinds of verification failure.
const (
	// KindMissing: the request carries no Authorization header.
	KindMissing Kind = iota + 1
	// KindMalformed: the Authorization header, the date or the query
	// cannot be parsed, or a required part is absent.
	KindMalformed
	// KindUnknownKey: the access key ID is not the configured one.
	KindUnknownKey
	// KindScope: the credential scope names another region, service or
	// day than expected.
	KindScope
	// KindSkew: the signing time is more than MaxSkew from the server's.
	KindSkew
	// KindPayload: X-Amz-Content-Sha256 does not match the body.
	KindPayload
	// KindSignature: the signature does not match the one computed here.
	KindSignature
	// KindToken: the credentials are temporary and the request's
	// X-Amz-Security-Token is missing or is not their session token.
	KindToken
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindMissing:
		return "missing"
	case KindMalformed:
		return "malformed"
	case KindUnknownKey:
		return "unknown-key"
	case KindScope:
		return "scope"
	case KindSkew:
		return "skew"
	case KindPayload:
		return "payload"
	case KindSignature:
		return "signature"
	case KindToken:
		return "token"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// VerifyError is the error VerifySigV4 returns: Kind says what class of
// problem it is, Reason says exactly what is wrong.
type VerifyError struct {
	Kind   Kind
	Reason string
}

// Error returns Reason.
func (e *VerifyError) Error() string { return e.Reason }

func fail(k Kind, format string, args ...any) error {
	return &VerifyError{Kind: k, Reason: fmt.Sprintf(format, args...)}
}

// VerifySigV4 checks the AWS Signature Version 4 signature carried in r's
// Authorization header against c, with body as the request body (r.Body is
// not read) and now as the server's clock.
//
// It checks, in order: the header's form, the access key, the session
// token when c has one (X-Amz-Security-Token present and equal, compared
// in constant time), the credential scope's region, service and
// terminator, X-Amz-Date and its agreement with the scope's day, the
// clock skew (at most MaxSkew), that host, x-amz-date and (when c has a
// session token sent as a header) x-amz-security-token are signed,
// X-Amz-Content-Sha256 when present (the body's
// hash, UnsignedPayload or StreamingUnsignedPayloadTrailer), and finally
// the signature over the canonical request, compared in constant time. The
// returned error is a *VerifyError whose text says exactly what was wrong;
// a signature mismatch quotes the canonical request and string to sign
// computed here, to compare with the client's.
//
// The path is taken as sent (r.RequestURI for a server request, else
// r.URL.EscapedPath) and, except for S3, URI-encoded once more, as the
// SDKs sign it; it is not normalized. Presigned URLs (signature in the
// query string) and the Date header in place of X-Amz-Date are not
// supported.
func VerifySigV4(r *http.Request, body []byte, c Credentials, now time.Time) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if r.URL != nil && r.URL.Query().Has("X-Amz-Signature") {
			return fail(KindMalformed, "presigned URLs (X-Amz-Signature in the query) are not supported")
		}
		return fail(KindMissing, "missing Authorization header")
	}
	a, err := parseAuthorization(auth)
	if err != nil {
		return err
	}

	// Credential scope.
	if a.accessKey != c.AccessKeyID {
		return fail(KindUnknownKey, "unknown access key %q", a.accessKey)
	}
	tokenHeader, err := checkToken(r, c)
	if err != nil {
		return err
	}
	if c.Region != "" && a.region != c.Region {
		return fail(KindScope, "wrong region %s, want %s", a.region, c.Region)
	}
	if c.Service != "" && a.service != c.Service {
		return fail(KindScope, "wrong service %s, want %s", a.service, c.Service)
	}

	// Signing time.
	amzDate, dateHeader, err := requestTime(r)
	if err != nil {
		return err
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return fail(KindMalformed, "malformed %s %q: want the form %s", dateHeader, amzDate, amzDateFormat)
	}
	if a.date != amzDate[:len(scopeDate)] {
		return fail(KindScope, "credential scope date %s does not match %s %s", a.date, dateHeader, amzDate)
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return fail(KindSkew, "request time too skewed: signed at %s, server time %s (off by %s, at most %s allowed)",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), d.Abs().Round(time.Second), MaxSkew)
	}

	// Signed headers.
	signed := strings.Split(a.signedHeaders, ";")
	has := make(map[string]bool, len(signed))
	for _, h := range signed {
		if h == "" {
			return fail(KindMalformed, "SignedHeaders %q has an empty header name", a.signedHeaders)
		}
		has[strings.ToLower(h)] = true
	}
	if !has["host"] {
		return fail(KindMalformed, "host is not a signed header (SignedHeaders=%s)", a.signedHeaders)
	}
	if lh := strings.ToLower(dateHeader); !has[lh] {
		return fail(KindMalformed, "%s is not a signed header (SignedHeaders=%s)", lh, a.signedHeaders)
	}
	if tokenHeader && !has[securityTokenHeader] {
		return fail(KindMalformed, "%s is not a signed header (SignedHeaders=%s)", securityTokenHeader, a.signedHeaders)
	}

	// Payload.
	payloadHash := hexSHA256(body)
	if v, ok := headerValue(r, "x-amz-content-sha256"); ok {
		switch {
		case v == UnsignedPayload || v == StreamingUnsignedPayloadTrailer:
			payloadHash = v
		case strings.HasPrefix(v, "STREAMING-"):
			return fail(KindMalformed, "X-Amz-Content-Sha256 %s (signed aws-chunked payloads) is not supported", v)
		case v != payloadHash:
			return fail(KindPayload, "X-Amz-Content-Sha256 %s does not match the body's SHA-256 %s (%d bytes)", v, payloadHash, len(body))
		}
	}

	// Canonical request.
	var canon strings.Builder
	canon.WriteString(r.Method)
	canon.WriteByte('\n')
	canon.WriteString(canonicalURI(r, c.Service != "s3"))
	canon.WriteByte('\n')
	q, err := canonicalQuery(rawQuery(r))
	if err != nil {
		return err
	}
	canon.WriteString(q)
	canon.WriteByte('\n')
	for _, h := range signed {
		v, ok := headerValue(r, strings.ToLower(h))
		if !ok {
			return fail(KindMalformed, "signed header %q is missing from the request", h)
		}
		canon.WriteString(h)
		canon.WriteByte(':')
		canon.WriteString(v)
		canon.WriteByte('\n')
	}
	canon.WriteByte('\n')
	canon.WriteString(a.signedHeaders)
	canon.WriteByte('\n')
	canon.WriteString(payloadHash)
	canonical := canon.String()

	scope := a.date + "/" + a.region + "/" + a.service + "/" + scopeEnd
	stringToSign := algorithm + "\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canonical))

	key := hmacSHA256([]byte("AWS4"+c.SecretAccessKey), a.date)
	key = hmacSHA256(key, a.region)
	key = hmacSHA256(key, a.service)
	key = hmacSHA256(key, scopeEnd)
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))

	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.signature))) {
		return fail(KindSignature, "signature mismatch: canonical request was %q; string to sign was %q", canonical, stringToSign)
	}
	return nil
}

// securityTokenHeader carries the session token of temporary credentials.
const securityTokenHeader = "x-amz-security-token"

// checkToken checks the session token of a request signed with c's access
// key when c has one: the X-Amz-Security-Token header, or else the query
// parameter of that name (which the signature covers with the query),
// must be c.SessionToken. inHeader reports that the token came in the
// header, which must then be signed.
func checkToken(r *http.Request, c Credentials) (inHeader bool, err error) {
	if c.SessionToken == "" {
		return false, nil
	}
	got, inHeader := headerValue(r, securityTokenHeader)
	if !inHeader {
		q, qerr := url.ParseQuery(rawQuery(r))
		if qerr != nil || !q.Has("X-Amz-Security-Token") {
			return false, fail(KindToken, "missing X-Amz-Security-Token: access key %s is temporary and needs its session token", c.AccessKeyID)
		}
		got = q.Get("X-Amz-Security-Token")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(c.SessionToken)) != 1 {
		return false, fail(KindToken, "X-Amz-Security-Token is not the session token of access key %s", c.AccessKeyID)
	}
	return inHeader, nil
}

type authorization struct {
	accessKey, date, region, service string
	signedHeaders, signature         string
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if scheme != algorithm {
		return a, fail(KindMalformed, "unsupported Authorization scheme %q, want %s", scheme, algorithm)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return a, fail(KindMalformed, "malformed Authorization component %q: want key=value", part)
		}
		if _, dup := fields[k]; dup {
			return a, fail(KindMalformed, "Authorization component %s given twice", k)
		}
		fields[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return a, fail(KindMalformed, "Authorization header lacks %s=", k)
		}
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 {
		return a, fail(KindMalformed, "malformed Credential %q: want AKID/YYYYMMDD/region/service/aws4_request", fields["Credential"])
	}
	if cred[4] != scopeEnd {
		return a, fail(KindMalformed, "credential scope ends in %q, want %s", cred[4], scopeEnd)
	}
	if _, err := time.Parse(scopeDate, cred[1]); err != nil {
		return a, fail(KindMalformed, "malformed credential scope date %q: want YYYYMMDD", cred[1])
	}
	sig := fields["Signature"]
	if len(sig) != 64 {
		return a, fail(KindMalformed, "malformed Signature %q: want 64 hex digits", sig)
	}
	if _, err := hex.DecodeString(sig); err != nil {
		return a, fail(KindMalformed, "malformed Signature %q: want 64 hex digits", sig)
	}
	a.accessKey, a.date, a.region, a.service = cred[0], cred[1], cred[2], cred[3]
	a.signedHeaders, a.signature = fields["SignedHeaders"], sig
	return a, nil
}

// requestTime returns the signing time string and the header it came
// from. SDKs always send X-Amz-Date; the Date header alternative the
// specification allows is not accepted.
func requestTime(r *http.Request) (value, header string, err error) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		return v, "X-Amz-Date", nil
	}
	return "", "", fail(KindMalformed, "missing X-Amz-Date header")
}

// headerValue returns the canonical value of the lowercase header name h:
// the request's values joined with commas, each trimmed and with runs of
// spaces collapsed. Host and Content-Length, which net/http moves out of
// Header, are taken from the request's fields.
func headerValue(r *http.Request, h string) (string, bool) {
	switch h {
	case "host":
		host := r.Host
		if host == "" && r.URL != nil {
			host = r.URL.Host
		}
		return canonicalHeaderValue(host), host != ""
	case "content-length":
		if vs := r.Header.Values(h); len(vs) > 0 {
			return canonicalHeaderValue(vs[0]), true
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10), true
		}
		return "", false
	}
	vs := r.Header.Values(h)
	if len(vs) == 0 {
		// Header names that are not valid MIME keys are stored verbatim.
		for k, v := range r.Header {
			if strings.EqualFold(k, h) {
				vs = v
				break
			}
		}
	}
	if len(vs) == 0 {
		return "", false
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = canonicalHeaderValue(v)
	}
	return strings.Join(out, ","), true
}

func canonicalHeaderValue(v string) string {
	v = strings.TrimSpace(v)
	for strings.Contains(v, "  ") {
		v = strings.ReplaceAll(v, "  ", " ")
	}
	return v
}

// rawPath returns the request path exactly as it was sent: from
// RequestURI when the request came from a server, else the URL's escaped
// path.
func rawPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	if r.URL == nil {
		return ""
	}
	if r.URL.Opaque != "" {
		// "//host/path" or "/path" form set by some clients.
		o, _, _ := strings.Cut(r.URL.Opaque, "?")
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:]
		}
		return ""
	}
	return r.URL.EscapedPath()
}

func rawQuery(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		_, q, _ := strings.Cut(r.RequestURI, "?")
		return q
	}
	if r.URL == nil {
		return ""
	}
	return r.URL.RawQuery
}

// canonicalURI is the path as sent, URI-encoded once more when
// doubleEncode is set (every service but S3).
func canonicalURI(r *http.Request, doubleEncode bool) string {
	p := rawPath(r)
	if p == "" {
		return "/"
	}
	if doubleEncode {
		return uriEncode(p, false)
	}
	return p
}

// canonicalQuery decodes the raw query and re-encodes it: every name and
// value URI-encoded, pairs sorted by encoded name then encoded value.
func canonicalQuery(raw string) (string, error) {
	type pair struct{ k, v string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return "", fail(KindMalformed, "malformed query parameter name %q: %v", k, err)
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return "", fail(KindMalformed, "malformed query parameter value %q: %v", v, err)
		}
		pairs = append(pairs, pair{uriEncode(dk, true), uriEncode(dv, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// uriEncode percent-encodes (uppercase hex) every byte outside the
// unreserved set A-Z a-z 0-9 - . _ ~, and '/' too when encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b bytes.Buffer
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func hexSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// Dialect is the shape of the error document a Guard answers with, after
// the protocol of the service it stands in for.
type Dialect int

// The error dialects.
const (
	// DialectJSON is for JSON protocols (restJson1, awsJson1.0/1.1: Lambda,
	// SQS, ...): an X-Amzn-ErrorType header and a body
	// {"__type":CODE,"message":MESSAGE}.
	DialectJSON Dialect = iota + 1
	// DialectS3 is S3's XML: <Error><Code>..</Code><Message>..</Message>
	// <RequestId>..</RequestId></Error>.
	DialectS3
	// DialectQuery is the query protocol's XML (SNS, SQS's query API, STS):
	// <ErrorResponse><Error><Type>Sender</Type><Code>..</Code>
	// <Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>.
	DialectQuery
)

// DialectFor returns the error dialect of a service's signing name: S3 for
// "s3", Query for "sns" and "sts", JSON otherwise.
func DialectFor(service string) Dialect {
	switch service {
	case "s3":
		return DialectS3
	case "sns", "sts":
		return DialectQuery
	}
	return DialectJSON
}

// ErrorCode returns the error code the real service answers a failure of
// kind k with, in dialect d, together with AWS's own message for it.
func ErrorCode(d Dialect, k Kind) (code, message string) {
	const mismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	switch d {
	case DialectS3:
		switch k {
		case KindMissing:
			return "AccessDenied", "Access Denied"
		case KindMalformed, KindScope:
			return "AuthorizationHeaderMalformed", "The authorization header is malformed."
		case KindUnknownKey:
			return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
		case KindSkew:
			return "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
		case KindPayload:
			return "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
		case KindToken:
			return "InvalidToken", "The provided token is malformed or otherwise invalid."
		}
		return "SignatureDoesNotMatch", mismatch
	case DialectQuery:
		switch k {
		case KindMissing:
			return "MissingAuthenticationToken", "Request is missing Authentication Token"
		case KindMalformed:
			return "IncompleteSignature", "The request signature does not conform to AWS standards."
		case KindUnknownKey, KindToken:
			return "InvalidClientTokenId", "The security token included in the request is invalid."
		case KindSkew:
			return "SignatureDoesNotMatch", "Signature expired."
		}
		return "SignatureDoesNotMatch", mismatch
	}
	switch k {
	case KindMissing:
		return "MissingAuthenticationTokenException", "Missing Authentication Token"
	case KindMalformed:
		return "IncompleteSignatureException", "The request signature does not conform to AWS standards."
	case KindUnknownKey, KindToken:
		return "UnrecognizedClientException", "The security token included in the request is invalid."
	case KindScope:
		return "InvalidSignatureException", "Credential should be scoped to a valid region and service."
	case KindSkew:
		return "InvalidSignatureException", "Signature expired."
	}
	return "InvalidSignatureException", mismatch
}

// Guard is an http.Handler that verifies every request's SigV4 signature
// before passing it on, answers the ones that fail with 403 and an
// AWS-style error, and counts them. The body is read in full to verify it
// and given back to the next handler unchanged.
//
// Set the exported fields before the Guard serves its first request.
type Guard struct {
	// Now is the server clock; nil means time.Now.
	Now func() time.Time
	// Dialect is the error document's shape; zero means
	// DialectFor(Credentials.Service).
	Dialect Dialect
	// OnFailure, when set, is called with each refused request and why.
	OnFailure func(r *http.Request, err error)

	creds    Credentials
	next     http.Handler
	failures atomic.Int64
}

// NewGuard returns a Guard verifying requests against c before handing
// them to next.
func NewGuard(c Credentials, next http.Handler) *Guard {
	return &Guard{creds: c, next: next}
}

// Middleware returns NewGuard(c, next): next behind SigV4 verification.
// The handler returned is a *Guard, whose Failures method counts refused
// requests.
func Middleware(c Credentials, next http.Handler) http.Handler {
	return NewGuard(c, next)
}

// Failures returns how many requests the Guard has refused.
func (g *Guard) Failures() int64 { return g.failures.Load() }

// ServeHTTP verifies r and serves it with the next handler, or refuses it.
func (g *Guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			// The client went away or sent a broken body; nothing to verify.
			http.Error(w, "reading request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		body = b
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	err := g.check(r, body)
	if err == nil {
		g.next.ServeHTTP(w, r)
		return
	}
	kind := KindSignature
	var ve *VerifyError
	if errors.As(err, &ve) {
		kind = ve.Kind
	}
	d := g.Dialect
	if d == 0 {
		d = DialectFor(g.creds.Service)
	}
	WriteError(w, d, http.StatusForbidden, kind, err.Error())
}

// check verifies r, whose body is body, against the Guard's credentials
// and clock. A request that fails is counted and passed to OnFailure.
func (g *Guard) check(r *http.Request, body []byte) error {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	err := VerifySigV4(r, body, g.creds, now())
	if err != nil {
		g.failures.Add(1)
		if g.OnFailure != nil {
			g.OnFailure(r, err)
		}
	}
	return err
}

// WriteError answers with status and the error document the real service
// would send for a verification failure of kind k in dialect d. AWS's
// standard message is followed by detail, which says what exactly failed.
func WriteError(w http.ResponseWriter, d Dialect, status int, k Kind, detail string) {
	code, msg := ErrorCode(d, k)
	if detail != "" {
		msg += " (" + detail + ")"
	}
	id := uuid.New()
	h := w.Header()
	switch d {
	case DialectS3:
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", id)
		w.WriteHeader(status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>",
			xmlEscape(code), xmlEscape(msg), id)
	case DialectQuery:
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-RequestId", id)
		w.WriteHeader(status)
		fmt.Fprintf(w, "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>",
			xmlEscape(code), xmlEscape(msg), id)
	default:
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-RequestId", id)
		h.Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}{code, msg})
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
