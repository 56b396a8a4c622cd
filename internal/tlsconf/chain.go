package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ClientCert parses a client certificate chain and its private key, the
// certificate and privateKey (and privateKeyPassword) of a
// CLIENT_CERTIFICATE_TLS_AUTH secret, into a certificate for mutual TLS.
//
// chainPEM holds PEM CERTIFICATE blocks in order: the client certificate,
// then any intermediates, then (optionally) the root, each certificate
// signed by the one after it. The root may be left out, since the broker
// has it. Every certificate must be within its validity period, and the
// client certificate's extended key usage must allow client
// authentication (clientAuth, anyExtendedKeyUsage, or no extended key
// usage at all).
//
// keyPEM holds one private key (RSA, ECDSA or Ed25519) as PKCS#8, either
// "PRIVATE KEY" or "ENCRYPTED PRIVATE KEY"; unencrypted PKCS#1 "RSA
// PRIVATE KEY" and SEC1 "EC PRIVATE KEY" blocks are accepted too. An
// encrypted key is decrypted with password, using one of:
//
//   - PBES2 (OID 1.2.840.113549.1.5.13) with PBKDF2 (1.2.840.113549.1.5.12)
//     and HMAC-SHA1, -SHA224, -SHA256, -SHA384, -SHA512, -SHA512/224 or
//     -SHA512/256 (1.2.840.113549.2.7 to .13), and AES-128-CBC,
//     AES-192-CBC, AES-256-CBC (2.16.840.1.101.3.4.1.2, .22, .42),
//     DES-EDE3-CBC (1.2.840.113549.3.7) or DES-CBC (1.3.14.3.2.7);
//   - PBES1 of PKCS#5 v1.5: pbeWithMD5AndDES-CBC (1.2.840.113549.1.5.3)
//     and pbeWithSHA1AndDES-CBC (1.2.840.113549.1.5.10);
//   - PKCS#12 PBE: pbeWithSHAAnd3-KeyTripleDES-CBC
//     (1.2.840.113549.1.12.1.3) and pbeWithSHAAnd2-KeyTripleDES-CBC
//     (1.2.840.113549.1.12.1.4).
//
// password is ignored when the key is not encrypted. Keys encrypted with
// the legacy OpenSSL PEM scheme (Proc-Type:
// 4,ENCRYPTED) are refused with a message saying how to convert them. The
// key must match the client certificate's public key.
//
// Every problem is reported as an [*Error].
func ClientCert(chainPEM, keyPEM []byte, password string) (tls.Certificate, error) {
	certs, err := parseCertificates(chainPEM, "the client certificate chain")
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := checkOrder(certs); err != nil {
		return tls.Certificate{}, err
	}
	if err := checkValidity(certs, time.Now()); err != nil {
		return tls.Certificate{}, err
	}
	leaf := certs[0]
	if !clientAuthAllowed(leaf) {
		return tls.Certificate{}, newErr(KindKeyUsage, fmt.Sprintf(
			"the client certificate, %s, has extended key usage %s, which does not allow TLS client authentication; issue it with extendedKeyUsage = clientAuth",
			describe(0, leaf), ekuNames(leaf)))
	}
	key, err := parsePrivateKey(keyPEM, password)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := checkKeyMatch(key, certs); err != nil {
		return tls.Certificate{}, err
	}
	chain := make([][]byte, len(certs))
	for i, c := range certs {
		chain[i] = c.Raw
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

// signedBy reports whether parent's key verified child's signature. err is
// what CheckSignatureFrom says, which may be an error even when the
// signature verifies: it refuses issuers that are not CAs before looking at
// the signature, and refuses SHA-1 signatures.
func signedBy(child, parent *x509.Certificate) (signed bool, err error) {
	err = child.CheckSignatureFrom(parent)
	if err == nil {
		return true, nil
	}
	return parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil, err
}

// checkOrder checks that each certificate is signed by the next one, and
// when it is not, tells a chain in the wrong order from a broken one.
func checkOrder(certs []*x509.Certificate) error {
	for i := range certs {
		for j := i + 1; j < len(certs); j++ {
			if certs[i].Equal(certs[j]) {
				return newErr(KindChainBroken, fmt.Sprintf("the client certificate chain holds %s twice, as certificates %d and %d; remove the second copy", describe(i, certs[i]), i+1, j+1))
			}
		}
	}
	for i := 0; i+1 < len(certs); i++ {
		child, parent := certs[i], certs[i+1]
		signed, err := signedBy(child, parent)
		if signed {
			if _, ok := errors.AsType[x509.ConstraintViolationError](err); ok {
				return newErr(KindNotCA, fmt.Sprintf(
					"the client certificate chain: %s signed %s but may not sign certificates (it needs basicConstraints CA:TRUE and, if it has a key usage, keyCertSign); reissue it as a CA certificate",
					describe(i+1, parent), describe(i, child)))
			}
			continue // signed; a SHA-1 signature is the broker's to judge
		}
		if order := findOrder(certs); order != nil {
			return orderError(certs, order)
		}
		msg := fmt.Sprintf("the client certificate chain is broken: %s was not signed by the certificate after it, %s; it was issued by %q",
			describe(i, child), describe(i+1, parent), child.Issuer.String())
		if selfSigned(child) {
			msg += ". That certificate is a self-signed root, so it must be the last one: remove the certificates after it, which do not belong to this chain"
		} else {
			msg += ". Add the missing intermediate certificate, or remove the certificate that does not belong to this chain; the order is: client certificate, intermediates, root"
		}
		return newErr(KindChainBroken, msg)
	}
	return nil
}

// maxReorder bounds the size of a chain for which checkOrder looks for the
// right order (a search over orderings).
const maxReorder = 10

// findOrder looks for an order of certs in which each certificate is signed
// by the next one and returns it as indexes into certs, or nil if there is
// none.
func findOrder(certs []*x509.Certificate) []int {
	n := len(certs)
	if n > maxReorder {
		return nil
	}
	// issuer[i][j]: certs[j] signed certs[i].
	issuer := make([][]bool, n)
	for i := range certs {
		issuer[i] = make([]bool, n)
		for j := range certs {
			if i != j {
				issuer[i][j], _ = signedBy(certs[i], certs[j])
			}
		}
	}
	used := make([]bool, n)
	path := make([]int, 0, n)
	var walk func(at int) bool
	walk = func(at int) bool {
		used[at] = true
		path = append(path, at)
		if len(path) == n {
			return true
		}
		for next := range certs {
			if !used[next] && issuer[at][next] && walk(next) {
				return true
			}
		}
		used[at] = false
		path = path[:len(path)-1]
		return false
	}
	for start := range certs {
		if walk(start) {
			return path
		}
	}
	return nil
}

// orderError describes a chain that is in the wrong order.
func orderError(certs []*x509.Certificate, order []int) *Error {
	misplaced := 0
	for pos, idx := range order {
		if pos != idx {
			misplaced = pos
			break
		}
	}
	want := 0
	for pos, idx := range order {
		if idx == misplaced {
			want = pos
		}
	}
	names := make([]string, len(order))
	for pos, idx := range order {
		names[pos] = describe(idx, certs[idx])
	}
	return newErr(KindChainOrder, fmt.Sprintf(
		"the client certificate chain is out of order: %s is out of place, it belongs at position %d. The chain must start with the client certificate, and each certificate must be followed by the one that signed it, ending with the root; reorder it as: %s",
		describe(misplaced, certs[misplaced]), want+1, strings.Join(names, ", ")))
}

// checkValidity checks that every certificate is valid at now.
func checkValidity(certs []*x509.Certificate, now time.Time) error {
	for i, c := range certs {
		role := "the client certificate"
		if i > 0 {
			role = "a certificate of the client certificate chain"
		}
		if now.Before(c.NotBefore) {
			return newErr(KindNotYetValid, fmt.Sprintf("%s, %s, is not valid yet: its NotBefore is %s; check this machine's clock, or use a certificate that is valid now",
				role, describe(i, c), c.NotBefore.UTC().Format(time.RFC3339)))
		}
		if now.After(c.NotAfter) {
			return newErr(KindExpired, fmt.Sprintf("%s, %s, has expired: its NotAfter is %s; renew it",
				role, describe(i, c), c.NotAfter.UTC().Format(time.RFC3339)))
		}
	}
	return nil
}

// clientAuthAllowed reports whether a certificate's extended key usage
// allows TLS client authentication.
func clientAuthAllowed(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// ekuNames lists a certificate's extended key usages for messages.
func ekuNames(c *x509.Certificate) string {
	known := map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageServerAuth:      "serverAuth",
		x509.ExtKeyUsageCodeSigning:     "codeSigning",
		x509.ExtKeyUsageEmailProtection: "emailProtection",
		x509.ExtKeyUsageTimeStamping:    "timeStamping",
		x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
		x509.ExtKeyUsageIPSECEndSystem:  "ipsecEndSystem",
		x509.ExtKeyUsageIPSECTunnel:     "ipsecTunnel",
		x509.ExtKeyUsageIPSECUser:       "ipsecUser",
	}
	var names []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := known[u]; ok {
			names = append(names, n)
		} else {
			names = append(names, fmt.Sprintf("#%d", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		names = append(names, oid.String())
	}
	return strings.Join(names, ", ")
}

// checkKeyMatch checks that key belongs to the client certificate.
func checkKeyMatch(key crypto.Signer, certs []*x509.Certificate) error {
	leaf := certs[0]
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if ok && pub.Equal(leaf.PublicKey) {
		return nil
	}
	msg := fmt.Sprintf("the private key does not belong to the client certificate, %s: the key is %s, the certificate's public key is %s; use the key the certificate was issued for",
		describe(0, leaf), keyDescription(key.Public()), keyDescription(leaf.PublicKey))
	for i, c := range certs[1:] {
		if ok && pub.Equal(c.PublicKey) {
			msg += fmt.Sprintf(" (the key belongs to %s: the chain must begin with the client certificate)", describe(i+1, c))
		}
	}
	if leaf.IsCA {
		msg += " (the first certificate is a CA certificate: the chain must begin with the client certificate)"
	}
	return newErr(KindKeyMismatch, msg)
}

// keyDescription names a public key's type and size.
func keyDescription(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}
