// Package mskapi is a local Amazon MSK (service "kafka") endpoint for
// tests: clusters registered with AddCluster, served on 127.0.0.1 in the
// REST-JSON protocol the current aws-sdk-go-v2 kafka client speaks, with
// every request's SigV4 signature verified, so that the real client parses
// its answers into the same typed results and errors as AWS's.
//
// It implements GetBootstrapBrokers (GET
// /v1/clusters/{ClusterArn}/bootstrap-brokers), answering the broker
// strings configured for the cluster (plaintext, TLS, SASL/SCRAM, SASL/IAM
// and their public and multi-VPC connectivity variants), and
// DescribeClusterV2 (GET /api/v2/clusters/{ClusterArn}) with the cluster's
// ARN, name, state, type (PROVISIONED or SERVERLESS) and the client
// authentication its broker strings imply.
//
// An unknown cluster is answered with NotFoundException (404) and a
// cluster registered as forbidden with ForbiddenException (403), which
// the SDK returns as *types.NotFoundException and
// *types.ForbiddenException; Throttle makes the next requests answer
// TooManyRequestsException (429). A request whose signature does not verify
// is refused as AWS refuses it (403 with the JSON error of awstest).
//
// Not implemented: every other operation of the MSK API (they answer a
// generic 404 error), pagination, tags and the IPv6 broker strings.
package mskapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

// Options configures Start.
type Options struct {
	// Region is the region requests must be signed for; empty means
	// us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
	// Logger receives a debug record per request and a warning per
	// refused signature; nil discards.
	Logger *slog.Logger
}

// Brokers describes a cluster: its kind and the bootstrap broker strings
// GetBootstrapBrokers answers with. A string left empty is a listener the
// cluster does not have, and is absent from the answer, as MSK omits it.
// Each string is a comma-separated list of host:port.
type Brokers struct {
	// Serverless marks an MSK Serverless cluster (IAM only); a serverless
	// cluster usually has only SaslIam set.
	Serverless bool
	// Forbidden makes every operation on the cluster answer
	// ForbiddenException, as when the caller lacks the kafka: permission.
	Forbidden bool

	// Plaintext is BootstrapBrokerString (port 9092 on MSK).
	Plaintext string
	// TLS is BootstrapBrokerStringTls (port 9094), used by unauthenticated
	// TLS and mutual TLS clients.
	TLS string
	// SaslScram is BootstrapBrokerStringSaslScram (port 9096).
	SaslScram string
	// SaslIam is BootstrapBrokerStringSaslIam (port 9098).
	SaslIam string

	// PublicTLS, PublicSaslScram and PublicSaslIam are the public-access
	// variants (BootstrapBrokerStringPublic*).
	PublicTLS       string
	PublicSaslScram string
	PublicSaslIam   string

	// VpcConnectivityTLS, VpcConnectivitySaslScram and
	// VpcConnectivitySaslIam are the multi-VPC private connectivity
	// variants (BootstrapBrokerStringVpcConnectivity*), used by clients
	// in other accounts through a vpc-connection.
	VpcConnectivityTLS       string
	VpcConnectivitySaslScram string
	VpcConnectivitySaslIam   string
}

// Server is a running local MSK endpoint. Its URL, Close and
// SignatureFailures are those of the embedded awstest.Endpoint.
type Server struct {
	*awstest.Endpoint
	opts Options

	mu       sync.Mutex
	clusters map[string]Brokers
	requests map[string]int
	throttle int // requests still to answer TooManyRequestsException
}

// Start listens on a random port of 127.0.0.1 and serves the MSK API
// until Close.
func Start(opts Options) (*Server, error) {
	e, err := awstest.NewEndpoint(awstest.EndpointOptions{
		Name: "mskapi", Service: "kafka", Region: opts.Region, Logger: opts.Logger,
		AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey,
	})
	if err != nil {
		return nil, err
	}
	opts.Region = e.Creds.Region
	s := &Server{
		Endpoint: e,
		opts:     opts,
		clusters: map[string]Brokers{},
		requests: map[string]int{},
	}
	if err := s.Serve(http.HandlerFunc(s.serveAPI), nil, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// AddCluster registers (or replaces) the cluster with ARN arn.
func (s *Server) AddCluster(arn string, brokers Brokers) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clusters[arn] = brokers
}

// Throttle makes the next n requests that pass signature verification
// answer TooManyRequestsException (429), as MSK answers callers over its
// request rate; they count in Requests.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Requests returns how many requests for operation op
// ("GetBootstrapBrokers", "DescribeClusterV2") passed signature
// verification, whatever their outcome.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// route matches a request to an operation and its cluster ARN. The ARN
// is a single path segment, percent-encoded by the client (its '/' as
// %2F), so the path is split before it is unescaped.
func route(r *http.Request) (op, arn string, ok bool) {
	if r.Method != http.MethodGet {
		return "", "", false
	}
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	var raw string
	switch {
	case len(segs) == 4 && segs[0] == "v1" && segs[1] == "clusters" && segs[3] == "bootstrap-brokers":
		op, raw = "GetBootstrapBrokers", segs[2]
	case len(segs) == 4 && segs[0] == "api" && segs[1] == "v2" && segs[2] == "clusters":
		op, raw = "DescribeClusterV2", segs[3]
	default:
		return "", "", false
	}
	arn, err := url.PathUnescape(raw)
	if err != nil || arn == "" {
		return "", "", false
	}
	return op, arn, true
}

// serveAPI handles a request whose signature verified.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	op, arn, ok := route(r)
	if !ok {
		writeError(w, http.StatusNotFound, "NotFoundException", "",
			fmt.Sprintf("%s %s is not an operation this endpoint serves", r.Method, r.URL.EscapedPath()))
		return
	}
	s.mu.Lock()
	s.requests[op]++
	b, known := s.clusters[arn]
	throttled := s.throttle > 0
	if throttled {
		s.throttle--
	}
	s.mu.Unlock()
	s.Log.Debug("mskapi: request", "op", op, "cluster", arn, "known", known, "throttled", throttled)
	switch {
	case throttled:
		writeError(w, http.StatusTooManyRequests, "TooManyRequestsException", "", "Too Many Requests")
		return
	case !known:
		writeError(w, http.StatusNotFound, "NotFoundException", "clusterArn",
			fmt.Sprintf("The requested resource %s doesn't exist.", arn))
		return
	case b.Forbidden:
		writeError(w, http.StatusForbidden, "ForbiddenException", "clusterArn",
			fmt.Sprintf("User is not authorized to perform kafka:%s on resource %s.", op, arn))
		return
	}
	switch op {
	case "GetBootstrapBrokers":
		writeResult(w, bootstrapBrokers(b))
	default:
		writeResult(w, describeCluster(arn, b))
	}
}

// bootstrapBrokers is the GetBootstrapBrokers response body: the
// configured strings under their JSON names, empty ones left out.
func bootstrapBrokers(b Brokers) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{
		"bootstrapBrokerString":                         b.Plaintext,
		"bootstrapBrokerStringTls":                      b.TLS,
		"bootstrapBrokerStringSaslScram":                b.SaslScram,
		"bootstrapBrokerStringSaslIam":                  b.SaslIam,
		"bootstrapBrokerStringPublicTls":                b.PublicTLS,
		"bootstrapBrokerStringPublicSaslScram":          b.PublicSaslScram,
		"bootstrapBrokerStringPublicSaslIam":            b.PublicSaslIam,
		"bootstrapBrokerStringVpcConnectivityTls":       b.VpcConnectivityTLS,
		"bootstrapBrokerStringVpcConnectivitySaslScram": b.VpcConnectivitySaslScram,
		"bootstrapBrokerStringVpcConnectivitySaslIam":   b.VpcConnectivitySaslIam,
	} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

type enabled struct {
	Enabled bool `json:"enabled"`
}

// describeCluster is the DescribeClusterV2 response body.
func describeCluster(arn string, b Brokers) any {
	name := arn
	if i := strings.Index(arn, ":cluster/"); i >= 0 {
		name, _, _ = strings.Cut(arn[i+len(":cluster/"):], "/")
	}
	info := map[string]any{
		"clusterArn":     arn,
		"clusterName":    name,
		"state":          "ACTIVE",
		"currentVersion": "K1",
	}
	if b.Serverless {
		info["clusterType"] = "SERVERLESS"
		info["serverless"] = map[string]any{
			"clientAuthentication": map[string]any{"sasl": map[string]any{"iam": enabled{true}}},
			"vpcConfigs":           []any{},
		}
	} else {
		info["clusterType"] = "PROVISIONED"
		info["provisioned"] = map[string]any{
			"numberOfBrokerNodes": brokerCount(b),
			"clientAuthentication": map[string]any{
				"sasl": map[string]any{
					"iam":   enabled{b.SaslIam != ""},
					"scram": enabled{b.SaslScram != ""},
				},
				"tls":             enabled{b.TLS != ""},
				"unauthenticated": enabled{b.Plaintext != "" || b.TLS != ""},
			},
		}
	}
	return map[string]any{"clusterInfo": info}
}

// brokerCount is the number of hosts in the cluster's longest broker
// string, at least 1.
func brokerCount(b Brokers) int {
	n := 1
	for _, s := range []string{b.Plaintext, b.TLS, b.SaslScram, b.SaslIam} {
		if s != "" {
			n = max(n, len(strings.Split(s, ",")))
		}
	}
	return n
}

// writeError answers with an MSK error as restJson1 sends it: the
// X-Amzn-ErrorType header naming the shape and a body with its members
// ("message", "invalidParameter").
func writeError(w http.ResponseWriter, status int, code, param, msg string) {
	body := map[string]string{"message": msg}
	if param != "" {
		body["invalidParameter"] = param
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-RequestId", uuid.New())
	h.Set("X-Amzn-ErrorType", code)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeResult answers 200 with v as the JSON body.
func writeResult(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-RequestId", uuid.New())
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
