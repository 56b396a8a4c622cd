package tlsconf

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
)

func TestRootCAs(t *testing.T) {
	p := newPKI(t, "ecdsa")
	selfSignedBroker := issue(t, serverTemplate(), newKey(t, "ecdsa", 0), nil)
	broker := issue(t, serverTemplate(), newKey(t, "ecdsa", 0), p.inter)
	for _, c := range []struct {
		name   string
		bundle []byte
		verify *issued // a certificate the pool must verify
	}{
		{"root", chain(p.root), broker},
		{"root and intermediate, with text around", append(append([]byte("# our CAs\n"), chain(p.root)...), append([]byte("\nsubject=intermediate\n"), chain(p.inter)...)...), broker},
		{"self-signed broker certificate", chain(selfSignedBroker), selfSignedBroker},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool, err := RootCAs(c.bundle)
			if err != nil {
				t.Fatal(err)
			}
			inter := x509.NewCertPool()
			inter.AddCert(p.inter.cert)
			if _, err := c.verify.cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, DNSName: "localhost"}); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, c := range []struct {
		name   string
		bundle []byte
		kind   Kind
		parts  []string
	}{
		{"empty", nil, KindNoCertificate, []string{"server root CA bundle is empty"}},
		{"broker certificate", chain(p.root, broker), KindNotCA, []string{`certificate 2 ("CN=broker")`, "neither a CA certificate nor self-signed"}},
		{"client certificate", chain(p.leaf), KindNotCA, []string{"penstock-client"}},
		{"private key", pkcs8PEM(t, p.root.key), KindCertFormat, []string{`"PRIVATE KEY"`}},
		{"garbage", []byte("not a certificate"), KindCertFormat, []string{"not PEM"}},
		{"corrupt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0}}), KindCertFormat, []string{"does not parse"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := RootCAs(c.bundle)
			wantKind(t, err, c.kind, c.parts...)
		})
	}
}
