package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
)

// Options are the TLS settings of a broker connection. The zero value
// means TLS with the system's root CAs and no client certificate.
type Options struct {
	// ClientChainPEM is the client certificate chain for mutual TLS: the
	// client certificate, any intermediates, then the root. Optional; when
	// set, ClientKeyPEM must be set too. See [ClientCert].
	ClientChainPEM []byte
	// ClientKeyPEM is the client certificate's private key, PKCS#8 PEM,
	// possibly encrypted. Optional; when set, ClientChainPEM must be set
	// too.
	ClientKeyPEM []byte
	// KeyPassword decrypts ClientKeyPEM when it is an ENCRYPTED PRIVATE
	// KEY; ignored otherwise.
	KeyPassword string
	// RootCAPEM is a PEM bundle of the CAs that issued the brokers'
	// certificates. Optional; default: the system's root CAs. See
	// [RootCAs].
	RootCAPEM []byte
	// ServerName is the name sent in SNI and checked against the broker's
	// certificate. Optional; default: the host name dialled.
	ServerName string
	// InsecureSkipVerify turns off verification of the broker's
	// certificate. Default false; for tests only.
	InsecureSkipVerify bool
}

// Config builds the tls.Config for broker connections: TLS 1.2 or later,
// RootCAs from o.RootCAPEM or else the system's pool, the client
// certificate (if any) from [ClientCert], and o.ServerName and
// o.InsecureSkipVerify as given. Problems are reported as an [*Error].
func Config(o Options) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         o.ServerName,
		InsecureSkipVerify: o.InsecureSkipVerify,
	}
	if given(o.RootCAPEM) {
		pool, err := RootCAs(o.RootCAPEM)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	} else {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, &Error{Kind: KindSystemRoots, Msg: "the system's root CA certificates cannot be loaded; give the brokers' root CA in SERVER_ROOT_CA_CERTIFICATE", Err: err}
		}
		cfg.RootCAs = pool
	}
	switch chain, key := given(o.ClientChainPEM), given(o.ClientKeyPEM); {
	case chain && key:
		cert, err := ClientCert(o.ClientChainPEM, o.ClientKeyPEM, o.KeyPassword)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	case chain:
		return nil, newErr(KindNoKey, "a client certificate was given without its private key: set privateKey to the certificate's PKCS#8 PEM key")
	case key:
		return nil, newErr(KindNoCertificate, "a private key was given without its client certificate: set certificate to the PEM chain (client certificate, intermediates, root)")
	}
	return cfg, nil
}

// given reports whether a PEM field holds more than white space.
func given(b []byte) bool { return len(bytes.TrimSpace(b)) > 0 }
