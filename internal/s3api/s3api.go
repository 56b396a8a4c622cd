// Package s3api is a local Amazon S3 endpoint for tests: path-style S3 on
// 127.0.0.1 (plain HTTP, or HTTPS with a certificate of its own), every
// request's SigV4 signature verified, objects kept in memory, and the same
// wire format as S3, so that the real aws-sdk-go-v2 S3 client parses its
// answers into the same typed results and errors.
//
// It serves CreateBucket, HeadBucket, DeleteBucket, ListBuckets,
// PutObject, GetObject (with a single byte range), HeadObject,
// ListObjectsV2, DeleteObject, CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload and ListMultipartUploads;
// any other request is answered 501 NotImplemented.
//
// Uploads are checked as S3 checks them: aws-chunked bodies (what the SDK
// sends over HTTPS, with a trailing checksum) are decoded, every checksum
// sent in a header or trailer and Content-MD5 are verified (BadDigest on a
// mismatch), and the checksums are given back in the headers and elements
// the SDK reads and validates. An object uploaded without a checksum gets
// a CRC64NVME one, as S3's default integrity protection gives it.
//
// Faults are injected with Rules (see On, Nth, FirstN, Randomly and the
// Fault values SlowDown, InternalError, Slow, Hangup); Object, Keys,
// PendingUploads, Requests and SignatureFailures inspect what happened.
package s3api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

// DefaultMinPartSize is S3's smallest allowed size of a multipart
// upload's parts other than the last: 5 MiB.
const DefaultMinPartSize = 5 * 1024 * 1024

// MaxParts is the largest part number S3 accepts.
const MaxParts = 10000

// The operations, as Call.Op and Requests name them.
const (
	OpListBuckets             = "ListBuckets"
	OpCreateBucket            = "CreateBucket"
	OpHeadBucket              = "HeadBucket"
	OpDeleteBucket            = "DeleteBucket"
	OpPutObject               = "PutObject"
	OpGetObject               = "GetObject"
	OpHeadObject              = "HeadObject"
	OpListObjectsV2           = "ListObjectsV2"
	OpDeleteObject            = "DeleteObject"
	OpCreateMultipartUpload   = "CreateMultipartUpload"
	OpUploadPart              = "UploadPart"
	OpCompleteMultipartUpload = "CompleteMultipartUpload"
	OpAbortMultipartUpload    = "AbortMultipartUpload"
	OpListMultipartUploads    = "ListMultipartUploads"
	// OpUnknown is any request the endpoint does not serve.
	OpUnknown = "Unknown"
)

// Options configures Start.
type Options struct {
	// Region is the region requests must be signed for and buckets live
	// in; empty means us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
	// Buckets are created before the server starts.
	Buckets []string
	// MinPartSize is the smallest size CompleteMultipartUpload accepts for
	// the parts other than the last (smaller ones get 400
	// EntityTooSmall). 0 means DefaultMinPartSize; negative means no
	// minimum.
	MinPartSize int64
	// TLS serves HTTPS with a self-signed certificate for 127.0.0.1;
	// clients must use HTTPClient to trust it. Over HTTPS the SDK sends
	// PutObject and UploadPart bodies aws-chunked with a trailing checksum;
	// over HTTP it sends the checksum in a header.
	TLS bool
	// Rules inject faults (see Rule); more can be set later with
	// SetRules.
	Rules []Rule
	// Logger receives a debug record per request and a warning per
	// refused signature; nil discards.
	Logger *slog.Logger
}

// Object is a stored object as Server.Object returns it.
type Object struct {
	// Body is the object's data (after aws-chunked decoding).
	Body []byte
	// ContentType is as sent, or binary/octet-stream as S3 defaults it.
	ContentType string
	// ContentEncoding is as sent, without the aws-chunked transfer coding.
	ContentEncoding string
	// Metadata holds the x-amz-meta-* headers, names lowercased.
	Metadata map[string]string
	// ETag is the quoted entity tag S3 answers with: the body's MD5, or
	// for a multipart object the MD5 of the parts' MD5s followed by "-N".
	ETag string
	// LastModified is when the object was written.
	LastModified time.Time
	// ChecksumAlgorithm, Checksum (base64) and ChecksumType (FULL_OBJECT
	// or COMPOSITE) are the checksum stored with the object.
	ChecksumAlgorithm, Checksum, ChecksumType string
	// Parts is the number of parts of a multipart object; 0 otherwise.
	Parts int
}

// Server is a running local S3 endpoint. Its Close and SignatureFailures
// are those of the embedded awstest.Endpoint.
type Server struct {
	*awstest.Endpoint
	opts   Options
	pool   *x509.CertPool
	active atomic.Int64
	rules  atomic.Pointer[[]Rule]

	mu      sync.Mutex
	buckets map[string]*bucket
	total   int64
	counts  map[string]int64
}

type bucket struct {
	name    string
	created time.Time
	objects map[string]*object
	uploads map[string]*upload
}

type object struct {
	body                         []byte
	contentType, contentEncoding string
	metadata                     map[string]string
	etag                         string
	modified                     time.Time
	sum                          checksum
	parts                        int
}

type upload struct {
	id, key                      string
	initiated                    time.Time
	contentType, contentEncoding string
	metadata                     map[string]string
	alg, typ                     string // requested checksum; "" when none
	parts                        map[int]*part
}

type part struct {
	body     []byte
	etag     string
	sums     map[string]string // algorithm -> base64
	modified time.Time
}

// Start listens on a random port of 127.0.0.1 and serves S3 until Close.
func Start(opts Options) (*Server, error) {
	e, err := awstest.NewEndpoint(awstest.EndpointOptions{
		Name: "s3api", Service: "s3", Region: opts.Region, Logger: opts.Logger,
		AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey,
	})
	if err != nil {
		return nil, err
	}
	opts.Region = e.Creds.Region
	if opts.MinPartSize == 0 {
		opts.MinPartSize = DefaultMinPartSize
	}
	s := &Server{
		Endpoint: e,
		opts:     opts,
		buckets:  map[string]*bucket{},
		counts:   map[string]int64{},
	}
	for _, b := range opts.Buckets {
		if err := validBucketName(b); err != nil {
			return nil, fmt.Errorf("s3api: bucket %q: %s", b, err.message)
		}
		s.buckets[b] = newBucket(b)
	}
	s.SetRules(opts.Rules...)

	var tlsConfig *tls.Config
	if opts.TLS {
		cert, pool, err := selfSigned()
		if err != nil {
			return nil, fmt.Errorf("s3api: certificate: %w", err)
		}
		s.pool = pool
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	// The loopback speaks HTTP/1.1 only, so Hangup can take the
	// connection over.
	if err := s.Serve(http.HandlerFunc(s.serveS3), http.HandlerFunc(s.serve), tlsConfig); err != nil {
		return nil, err
	}
	return s, nil
}

func newBucket(name string) *bucket {
	return &bucket{name: name, created: time.Now().UTC(), objects: map[string]*object{}, uploads: map[string]*upload{}}
}

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool
// trusting it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "s3api test endpoint"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// URL returns the endpoint's base URL, "http://127.0.0.1:PORT" (https
// with Options.TLS), for the client's BaseEndpoint; clients must use path
// style (UsePathStyle).
func (s *Server) URL() string { return s.Endpoint.URL() }

// HTTPClient returns a new HTTP client for the SDK's Options.HTTPClient,
// with its own connection pool; with Options.TLS it trusts the server's
// certificate.
func (s *Server) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if s.pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}
}

// SetRules replaces the fault rules; none serves every request normally.
// It may be called while requests are in flight.
func (s *Server) SetRules(rules ...Rule) {
	rs := slices.Clone(rules)
	s.rules.Store(&rs)
}

// Requests returns how many requests of operation op (one of the Op
// constants) passed signature verification, faulted ones included; op ""
// counts all of them.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		return int(s.total)
	}
	return int(s.counts[op])
}

// Object returns a copy of the object stored under bucket and key.
func (s *Server) Object(bucketName, key string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucketName]
	if b == nil {
		return Object{}, false
	}
	o := b.objects[key]
	if o == nil {
		return Object{}, false
	}
	return Object{
		Body:              slices.Clone(o.body),
		ContentType:       o.contentType,
		ContentEncoding:   o.contentEncoding,
		Metadata:          maps.Clone(o.metadata),
		ETag:              o.etag,
		LastModified:      o.modified,
		ChecksumAlgorithm: o.sum.alg,
		Checksum:          o.sum.value,
		ChecksumType:      o.sum.typ,
		Parts:             o.parts,
	}, true
}

// Keys returns the keys of the objects in bucket, sorted; nil when the
// bucket does not exist.
func (s *Server) Keys(bucketName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucketName]
	if b == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(b.objects))
}

// PendingUploads returns how many multipart uploads of bucket were
// created and neither completed nor aborted.
func (s *Server) PendingUploads(bucketName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.buckets[bucketName]; b != nil {
		return len(b.uploads)
	}
	return 0
}

// serve counts the request as active and gives it S3's request ids
// before the guard and serveS3 handle it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	h := w.Header()
	h.Set("X-Amz-Request-Id", requestID())
	h.Set("X-Amz-Id-2", hostID())
	s.Guard.ServeHTTP(w, r)
}

// requestID is an S3-style request id: 16 uppercase hex digits.
func requestID() string {
	return strings.ToUpper(strings.ReplaceAll(uuid.New(), "-", "")[:16])
}

func hostID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// serveS3 handles a request whose signature verified: it names the
// operation, counts it, applies the fault rules and serves it.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	rt := route(r)
	s.mu.Lock()
	s.total++
	s.counts[rt.op]++
	call := &Call{Op: rt.op, Bucket: rt.bucket, Key: rt.key, PartNumber: rt.partNumber, N: s.total, OpN: s.counts[rt.op]}
	s.mu.Unlock()

	var fault *Fault
	for _, rule := range *s.rules.Load() {
		if f := rule(call); f != nil && fault == nil {
			fault = f
		}
	}
	s.Log.Debug("s3api: request", "op", rt.op, "bucket", rt.bucket, "key", rt.key, "n", call.N, "fault", fault.active())
	if !fault.active() {
		rt.handler(s, w, r, rt)
		return
	}

	ctx := r.Context()
	if fault.Delay > 0 {
		t := time.NewTimer(fault.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.Log.Debug("s3api: client gave up during delay", "op", rt.op, "n", call.N, "err", context.Cause(ctx))
			return
		}
	}
	failing := fault.Status >= 400 || fault.Hangup
	if !failing {
		rt.handler(s, w, r, rt)
		return
	}
	if fault.AfterCommit {
		rt.handler(s, &discard{header: http.Header{}}, r, rt)
	}
	if fault.Hangup {
		hangup(w)
		return
	}
	code := fault.Code
	if code == "" {
		code = defaultCode(fault.Status)
	}
	msg := fault.Message
	if msg == "" {
		msg = defaultMessage(code)
	}
	e := &apiError{status: fault.Status, code: code, message: msg}
	if fault.With200 {
		hdr := w.Header()
		body := errorDocument(e, hdr.Get("X-Amz-Request-Id"), hdr.Get("X-Amz-Id-2"))
		hdr.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("\n \n"))
		w.Write(body)
		return
	}
	writeError(w, r, e)
}

// hangup closes the client's connection without answering.
func hangup(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// discard is a ResponseWriter that drops the answer, for an operation
// performed before a fault answers in its place.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
