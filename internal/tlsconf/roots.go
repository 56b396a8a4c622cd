package tlsconf

import (
	"crypto/x509"
	"fmt"
)

// RootCAs parses a PEM bundle of CA certificates, the certificate of a
// SERVER_ROOT_CA_CERTIFICATE secret: the private or self-signed CAs that
// issued the brokers' certificates. Every PEM block must be a CERTIFICATE
// that is a CA (basicConstraints CA:TRUE) or self-signed; text between the
// blocks is ignored. An empty bundle is an error.
func RootCAs(pemBundle []byte) (*x509.CertPool, error) {
	const what = "the server root CA bundle"
	certs, err := parseCertificates(pemBundle, what)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for i, c := range certs {
		if !c.IsCA && !selfSigned(c) {
			return nil, newErr(KindNotCA, fmt.Sprintf(
				"%s: %s, issued by %q, is neither a CA certificate nor self-signed; put the root CA certificate that issued the brokers' certificates here, not a broker or client certificate",
				what, describe(i, c), c.Issuer.String()))
		}
		pool.AddCert(c)
	}
	return pool, nil
}
