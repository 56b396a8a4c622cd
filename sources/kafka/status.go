package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Processing results a source reports, in the ESM's words: its error code,
// then the message Lambda gives for the same failure.
const (
	ResultSASLFailed        = "EVENT_SOURCE_AUTHN_ERROR: SASL authentication failed"
	ResultServerUntrusted   = "EVENT_SOURCE_AUTHN_ERROR: Penstock failed to authenticate the server"
	ResultClientRejected    = "EVENT_SOURCE_AUTHN_ERROR: Server failed to authenticate Penstock"
	ResultNotAuthorized     = "EVENT_SOURCE_AUTHZ_ERROR: Cluster failed to authorize Penstock"
	ResultBrokerUnreachable = "EVENT_SOURCE_CONNECTION_ERROR: cannot connect to the broker"
)

// Classify returns the processing result of a connection or request error,
// or "" when it is none of the known kinds.
func Classify(err error) string {
	if err == nil {
		return ""
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var ae tls.AlertError
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.IllegalSaslState), errors.Is(err, kerr.UnsupportedSaslMechanism):
		return ResultSASLFailed
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.GroupAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		return ResultNotAuthorized
	case errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
		return ResultServerUntrusted
	case errors.As(err, &ae) && (ae == 42 || ae == 48 || ae == 116): // bad_certificate, unknown_ca, certificate_required
		return ResultClientRejected
	case strings.Contains(err.Error(), "remote error: tls: bad certificate"), strings.Contains(err.Error(), "certificate required"):
		return ResultClientRejected
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return ResultBrokerUnreachable
	}
	return ""
}

// statusHook watches the client's connections and reports failures the
// client itself only retries: TLS handshakes that fail, and SASL
// authentications the broker refuses (some brokers close the connection
// instead of answering).
type statusHook struct {
	report func(result string, err error)
}

var (
	_ kgo.HookBrokerConnect = statusHook{}
	_ kgo.HookBrokerRead    = statusHook{}
)

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (h statusHook) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if r := Classify(err); r != "" {
		h.report(r, err)
	}
}

// OnBrokerRead implements kgo.HookBrokerRead.
func (h statusHook) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	const saslAuthenticate = 36
	if key == saslAuthenticate && err != nil {
		h.report(ResultSASLFailed, err)
	}
}
