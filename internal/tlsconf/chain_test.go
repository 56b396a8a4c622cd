package tlsconf

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"
	"time"
)

func TestChainAccepted(t *testing.T) {
	p := newPKI(t, "ecdsa")
	direct := issue(t, clientTemplate("direct-client"), newKey(t, "ed25519", 0), p.root)
	selfSignedClient := issue(t, clientTemplate("self-signed-client"), newKey(t, "ecdsa", 0), nil)
	noEKU := clientTemplate("no-eku")
	noEKU.ExtKeyUsage = nil
	anyEKU := clientTemplate("any-eku")
	anyEKU.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	both := clientTemplate("server-and-client")
	both.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, c := range []struct {
		name  string
		certs []*issued
	}{
		{"client, intermediate, root", []*issued{p.leaf, p.inter, p.root}},
		{"root left out", []*issued{p.leaf, p.inter}},
		{"client only", []*issued{p.leaf}},
		{"no intermediate", []*issued{direct, p.root}},
		{"self-signed client", []*issued{selfSignedClient}},
		{"no extended key usage", []*issued{issue(t, noEKU, newKey(t, "ecdsa", 0), p.inter), p.inter, p.root}},
		{"any extended key usage", []*issued{issue(t, anyEKU, newKey(t, "ecdsa", 0), p.inter), p.inter, p.root}},
		{"serverAuth and clientAuth", []*issued{issue(t, both, newKey(t, "ecdsa", 0), p.inter), p.inter, p.root}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pemChain := chain(c.certs...)
			// Text around the blocks, as openssl prints it, is ignored.
			pemChain = append([]byte("subject=CN = penstock-client\n"), pemChain...)
			cert, err := ClientCert(pemChain, pkcs8PEM(t, c.certs[0].key), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(cert.Certificate) != len(c.certs) || !cert.Leaf.Equal(c.certs[0].cert) {
				t.Fatalf("%d certificates, leaf %v", len(cert.Certificate), cert.Leaf.Subject)
			}
		})
	}
}

func TestChainErrors(t *testing.T) {
	p := newPKI(t, "ecdsa")
	otherRoot := issue(t, caTemplate("Other Root CA"), newKey(t, "ecdsa", 0), nil)
	now := time.Now()
	expired := clientTemplate("expired-client")
	expired.NotBefore, expired.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	future := clientTemplate("future-client")
	future.NotBefore, future.NotAfter = now.Add(24*time.Hour), now.Add(48*time.Hour)
	oldInterTmpl := caTemplate("Expired Intermediate CA")
	oldInterTmpl.NotBefore, oldInterTmpl.NotAfter = now.Add(-48*time.Hour), now.Add(-time.Hour)
	oldInter := issue(t, oldInterTmpl, newKey(t, "ecdsa", 0), p.root)
	serverOnly := clientTemplate("server-only")
	serverOnly.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	notCATmpl := clientTemplate("not-a-ca")
	notCA := issue(t, notCATmpl, newKey(t, "ecdsa", 0), p.root)
	underNotCA := issue(t, clientTemplate("under-not-a-ca"), newKey(t, "ecdsa", 0), notCA)
	broken := []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	keyBlock := pkcs8PEM(t, p.leaf.key)

	type certsAndKey struct {
		chain []byte
		key   *issued
	}
	for _, c := range []struct {
		name  string
		in    certsAndKey
		kind  Kind
		parts []string
	}{
		{"reversed", certsAndKey{chain(p.root, p.inter, p.leaf), p.leaf}, KindChainOrder,
			[]string{"out of order", `certificate 1 ("CN=Test Root CA,O=Penstock test") is out of place, it belongs at position 3`,
				`reorder it as: certificate 3 ("CN=penstock-client"), certificate 2 ("CN=Test Intermediate CA,O=Penstock test"), certificate 1 ("CN=Test Root CA,O=Penstock test")`}},
		{"root before intermediate", certsAndKey{chain(p.leaf, p.root, p.inter), p.leaf}, KindChainOrder,
			[]string{`certificate 2 ("CN=Test Root CA,O=Penstock test") is out of place, it belongs at position 3`}},
		{"client not first", certsAndKey{chain(p.inter, p.leaf, p.root), p.leaf}, KindChainOrder,
			[]string{`certificate 1 ("CN=Test Intermediate CA,O=Penstock test") is out of place, it belongs at position 2`}},
		{"intermediate missing between client and root", certsAndKey{chain(p.leaf, p.root), p.leaf}, KindChainBroken,
			[]string{"was not signed by the certificate after it", `issued by "CN=Test Intermediate CA,O=Penstock test"`, "missing intermediate"}},
		{"client signed by a CA not in the chain", certsAndKey{chain(p.leaf, otherRoot), p.leaf}, KindChainBroken,
			[]string{`certificate 2 ("CN=Other Root CA,O=Penstock test")`, "Test Intermediate CA"}},
		{"unrelated certificate after the root", certsAndKey{chain(p.leaf, p.inter, p.root, otherRoot), p.leaf}, KindChainBroken,
			[]string{"self-signed root, so it must be the last one"}},
		{"issuer is not a CA", certsAndKey{chain(underNotCA, notCA, p.root), underNotCA}, KindNotCA,
			[]string{`certificate 2 ("CN=not-a-ca")`, "CA:TRUE"}},
		{"expired client", certsAndKey{chain(issue(t, expired, newKey(t, "ecdsa", 0), p.inter), p.inter, p.root), nil}, KindExpired,
			[]string{"the client certificate", "expired-client", "NotAfter is " + expired.NotAfter.UTC().Format(time.RFC3339), "renew"}},
		{"client not yet valid", certsAndKey{chain(issue(t, future, newKey(t, "ecdsa", 0), p.inter), p.inter, p.root), nil}, KindNotYetValid,
			[]string{"future-client", "NotBefore is " + future.NotBefore.UTC().Format(time.RFC3339), "clock"}},
		{"expired intermediate", certsAndKey{chain(issue(t, clientTemplate("c"), newKey(t, "ecdsa", 0), oldInter), oldInter, p.root), nil}, KindExpired,
			[]string{"certificate 2", "Expired Intermediate CA"}},
		{"serverAuth only", certsAndKey{chain(issue(t, serverOnly, newKey(t, "ecdsa", 0), p.inter), p.inter), nil}, KindKeyUsage,
			[]string{"serverAuth", "clientAuth"}},
		{"duplicate intermediate", certsAndKey{chain(p.leaf, p.inter, p.inter, p.root), p.leaf}, KindChainBroken,
			[]string{"Test Intermediate CA", "twice, as certificates 2 and 3"}},
		{"empty", certsAndKey{[]byte("\n "), p.leaf}, KindNoCertificate, []string{"empty"}},
		{"not PEM", certsAndKey{[]byte("MIIB..."), p.leaf}, KindCertFormat, []string{"not PEM"}},
		{"DER", certsAndKey{p.leaf.cert.Raw, p.leaf}, KindCertFormat, []string{"DER", "openssl x509 -inform der"}},
		{"key in the chain", certsAndKey{append(chain(p.leaf), keyBlock...), p.leaf}, KindCertFormat, []string{`block 2 is a "PRIVATE KEY"`, "privateKey field"}},
		{"trusted certificate", certsAndKey{pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: p.leaf.cert.Raw}), p.leaf}, KindCertFormat, []string{"TRUSTED CERTIFICATE"}},
		{"corrupt certificate", certsAndKey{append(chain(p.leaf), broken...), p.leaf}, KindCertFormat, []string{"certificate 2 does not parse"}},
		{"one line", certsAndKey{bytes.ReplaceAll(chain(p.leaf, p.inter), []byte("\n"), []byte(" ")), p.leaf}, KindCertFormat, []string{"malformed PEM block"}},
		{"second block cut short", certsAndKey{append(chain(p.leaf), p.inter.PEM()[:200]...), p.leaf}, KindCertFormat, []string{"malformed PEM block"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := keyBlock
			if c.in.key != nil {
				key = pkcs8PEM(t, c.in.key.key)
			}
			_, err := ClientCert(c.in.chain, key, "")
			wantKind(t, err, c.kind, c.parts...)
		})
	}
}

func TestUnknownExtKeyUsage(t *testing.T) {
	p := newPKI(t, "ecdsa")
	tmpl := clientTemplate("odd-eku")
	tmpl.ExtKeyUsage = nil
	tmpl.UnknownExtKeyUsage = []asn1OID{{1, 2, 3, 4}}
	leaf := issue(t, tmpl, newKey(t, "ecdsa", 0), p.inter)
	_, err := ClientCert(chain(leaf, p.inter), pkcs8PEM(t, leaf.key), "")
	wantKind(t, err, KindKeyUsage, "1.2.3.4")
}

func TestCertificateWithoutSubject(t *testing.T) {
	p := newPKI(t, "ecdsa")
	tmpl := clientTemplate("")
	tmpl.Subject = pkix.Name{}
	tmpl.DNSNames = []string{"client.example"}
	tmpl.NotAfter = time.Now().Add(-time.Minute)
	leaf := issue(t, tmpl, newKey(t, "ecdsa", 0), p.inter)
	_, err := ClientCert(chain(leaf, p.inter), pkcs8PEM(t, leaf.key), "")
	wantKind(t, err, KindExpired, "serial "+leaf.cert.SerialNumber.String())
}
