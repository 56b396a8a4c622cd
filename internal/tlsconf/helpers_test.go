package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rsaKeys are generated once: RSA key generation is slow.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 2)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// newKey returns a key of the given type: "rsa" (one of two cached keys,
// by n), "ecdsa" or "ed25519".
func newKey(t testing.TB, typ string, n int) crypto.Signer {
	t.Helper()
	switch typ {
	case "rsa":
		return rsaKeys()[n%2]
	case "ecdsa":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	t.Fatalf("key type %q", typ)
	return nil
}

// issued is a certificate and its key.
type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// PEM returns the certificate as PEM.
func (c *issued) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})
}

var serial atomic.Int64

// issue signs tmpl with parent (or self-signs it when parent is nil).
func issue(t testing.TB, tmpl *x509.Certificate, key crypto.Signer, parent *issued) *issued {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issued{c, key}
}

func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Penstock test"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func clientTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
}

func serverTemplate() *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: "broker"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
}

// pki is a root CA, an intermediate CA, and a client certificate issued by
// the intermediate.
type pki struct {
	root, inter, leaf *issued
}

// newPKI builds a pki whose client key has type leafKey; the CAs use
// ECDSA.
func newPKI(t testing.TB, leafKey string) *pki {
	t.Helper()
	root := issue(t, caTemplate("Test Root CA"), newKey(t, "ecdsa", 0), nil)
	inter := issue(t, caTemplate("Test Intermediate CA"), newKey(t, "ecdsa", 0), root)
	leaf := issue(t, clientTemplate("penstock-client"), newKey(t, leafKey, 0), inter)
	return &pki{root, inter, leaf}
}

// chain concatenates certificates as PEM.
func chain(certs ...*issued) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, c.PEM()...)
	}
	return b
}

// pkcs8DER marshals a key as unencrypted PKCS#8.
func pkcs8DER(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// pkcs8PEM marshals a key as an unencrypted PKCS#8 PEM block.
func pkcs8PEM(t testing.TB, key crypto.Signer) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8DER(t, key)})
}

// wantKind fails the test unless err is an *Error of kind k whose message
// contains every one of parts.
func wantKind(t testing.TB, err error, k Kind, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", k)
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("error %T %q is not an *Error", err, err)
	}
	if e.Kind != k {
		t.Fatalf("kind %s, want %s: %v", e.Kind, k, err)
	}
	if !errors.Is(err, &Error{Kind: k}) || KindOf(err) != k {
		t.Fatalf("errors.Is / KindOf do not match kind %s", k)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

type (
	rsaKey   = rsa.PrivateKey
	ecdsaKey = ecdsa.PrivateKey
)

type asn1OID = asn1.ObjectIdentifier
