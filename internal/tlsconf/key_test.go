package tlsconf

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"sort"
	"testing"
)

const password = "correct horse battery staple"

// sameKey reports whether two private keys are equal.
func sameKey(a, b crypto.Signer) bool {
	return a.(interface{ Equal(crypto.PrivateKey) bool }).Equal(b)
}

func TestEncryptedKeys(t *testing.T) {
	names := make([]string, 0, len(schemes))
	for name := range schemes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, keyType := range []string{"rsa", "ecdsa", "ed25519"} {
		p := newPKI(t, keyType)
		for _, name := range names {
			t.Run(keyType+"/"+name, func(t *testing.T) {
				keyPEM := encryptedPEM(schemes[name](t, pkcs8DER(t, p.leaf.key), password, 2048))
				cert, err := ClientCert(chain(p.leaf, p.inter, p.root), keyPEM, password)
				if err != nil {
					t.Fatal(err)
				}
				if !sameKey(cert.PrivateKey.(crypto.Signer), p.leaf.key) {
					t.Fatal("decrypted key differs")
				}
				_, err = ClientCert(chain(p.leaf, p.inter, p.root), keyPEM, "wrong password")
				wantKind(t, err, KindKeyPassword, "privateKeyPassword is wrong")
				_, err = ClientCert(chain(p.leaf, p.inter, p.root), keyPEM, "")
				wantKind(t, err, KindKeyPassword, "no password was given")
			})
		}
	}
}

// TestWrongPasswordManyTimes decrypts with many wrong passwords: about one
// in 256 yields valid padding, which the PKCS#8 check must still catch.
func TestWrongPasswordManyTimes(t *testing.T) {
	der := encPBES2(t, pkcs8DER(t, newKey(t, "ecdsa", 0)), password, specSHA256AES256, 1)
	for i := range 2000 {
		_, err := decryptPKCS8(der, fmt.Sprint("wrong", i), maxIterations)
		wantKind(t, err, KindKeyPassword)
	}
}

func TestPasswordWhiteSpaceHint(t *testing.T) {
	der := encPBES2(t, pkcs8DER(t, newKey(t, "ecdsa", 0)), password, specSHA256AES256, 1)
	_, err := decryptPKCS8(der, password+"\n", maxIterations)
	wantKind(t, err, KindKeyPassword, "line break")
}

func TestPaddingValidButNotPKCS8(t *testing.T) {
	// Data encrypted with the right password that is not a PrivateKeyInfo:
	// the padding checks out, the contents do not.
	der := encPBES2(t, []byte("not a key at all, though padded properly"), password, specSHA256AES256, 1)
	_, err := decryptPKCS8(der, password, maxIterations)
	wantKind(t, err, KindKeyPassword)
}

func TestUnencryptedKeys(t *testing.T) {
	for _, keyType := range []string{"rsa", "ecdsa", "ed25519"} {
		t.Run(keyType, func(t *testing.T) {
			p := newPKI(t, keyType)
			cert, err := ClientCert(chain(p.leaf, p.inter, p.root), pkcs8PEM(t, p.leaf.key), "ignored")
			if err != nil {
				t.Fatal(err)
			}
			if !sameKey(cert.PrivateKey.(crypto.Signer), p.leaf.key) || !cert.Leaf.Equal(p.leaf.cert) {
				t.Fatal("wrong key or leaf")
			}
			if len(cert.Certificate) != 3 || !bytes.Equal(cert.Certificate[0], p.leaf.cert.Raw) {
				t.Fatal("chain not kept in order")
			}
		})
	}
	t.Run("PKCS#1", func(t *testing.T) {
		p := newPKI(t, "rsa")
		k := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(p.leaf.key.(*rsaKey))})
		if _, err := ClientCert(chain(p.leaf), k, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SEC1 after EC PARAMETERS", func(t *testing.T) {
		p := newPKI(t, "ecdsa")
		sec1, err := x509.MarshalECPrivateKey(p.leaf.key.(*ecdsaKey))
		if err != nil {
			t.Fatal(err)
		}
		params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: mustMarshal(t, asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})})
		k := append(params, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)
		if _, err := ClientCert(chain(p.leaf), k, ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestKeyErrors(t *testing.T) {
	p := newPKI(t, "ecdsa")
	leafChain := chain(p.leaf, p.inter, p.root)
	keyDER := pkcs8DER(t, p.leaf.key)
	other := newPKI(t, "rsa")

	enc := func(s pbes2Spec) []byte { return encryptedPEM(encPBES2(t, keyDER, password, s, 16)) }
	withPRF := func(oid asn1.ObjectIdentifier) pbes2Spec {
		s := specSHA256AES256
		s.prf = oid
		return s
	}
	withCipher := func(oid asn1.ObjectIdentifier) pbes2Spec {
		s := specSHA256AES256
		s.cipher = oid
		return s
	}
	spec := func(f func(*pbes2Spec)) pbes2Spec {
		s := specSHA256AES256
		f(&s)
		return s
	}
	rc2 := mustMarshal(t, tEncryptedKey{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: tOIDSHA1RC2, Parameters: rawParams(t, tPBEParams{randBytes(8), 2048})},
		Data:      randBytes(64),
	})
	unknownScheme := mustMarshal(t, tEncryptedKey{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3, 4}},
		Data:      randBytes(64),
	})
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519DER, err := x509.MarshalPKCS8PrivateKey(x25519)
	if err != nil {
		t.Fatal(err)
	}
	dsaDER := mustMarshal(t, struct {
		Version   int
		Algorithm pkix.AlgorithmIdentifier
		Key       []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}}, []byte{2, 1, 5}})
	secp256k1DER := mustMarshal(t, struct {
		Version   int
		Algorithm pkix.AlgorithmIdentifier
		Key       []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, Parameters: rawParams(t, asn1.ObjectIdentifier{1, 3, 132, 0, 10})}, []byte{2, 1, 5}})
	truncated := encPBES2(t, keyDER, password, specSHA256AES256, 16)
	truncated = encPBES2TruncatedData(t, truncated)
	legacy := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{
		"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: randBytes(128)})
	block := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }

	for _, c := range []struct {
		name  string
		key   []byte
		kind  Kind
		parts []string
	}{
		{"key of another certificate", pkcs8PEM(t, other.leaf.key), KindKeyMismatch, []string{"does not belong", "penstock-client", "RSA-2048", "ECDSA P-256"}},
		{"no key", []byte("  \n"), KindNoKey, []string{"privateKey"}},
		{"not PEM", []byte("hello"), KindKeyFormat, []string{"not PEM"}},
		{"DER key", keyDER, KindKeyFormat, []string{"DER"}},
		{"certificate in the key field", p.leaf.PEM(), KindKeyFormat, []string{"CERTIFICATE block"}},
		{"two keys", append(pkcs8PEM(t, p.leaf.key), pkcs8PEM(t, p.leaf.key)...), KindKeyFormat, []string{"more than one"}},
		{"line breaks lost", bytes.ReplaceAll(pkcs8PEM(t, p.leaf.key), []byte("\n"), []byte(`\n`)), KindKeyFormat, []string{"malformed", `literal \n`}},
		{"PKCS#1 labelled PRIVATE KEY", block("PRIVATE KEY", x509.MarshalPKCS1PrivateKey(other.leaf.key.(*rsaKey))), KindKeyFormat, []string{"PKCS#1"}},
		{"garbage PKCS#8", block("PRIVATE KEY", []byte{1, 2, 3}), KindKeyFormat, []string{"PKCS#8"}},
		{"garbage PKCS#1", block("RSA PRIVATE KEY", []byte{1, 2, 3}), KindKeyFormat, []string{"PKCS#1"}},
		{"garbage encrypted", block("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}), KindKeyFormat, []string{"EncryptedPrivateKeyInfo"}},
		{"legacy PEM encryption", legacy, KindKeyLegacyEncrypted, []string{"Proc-Type: 4,ENCRYPTED", "AES-256-CBC", "openssl pkcs8 -topk8 -v2 aes256"}},
		{"X25519 key", block("PRIVATE KEY", x25519DER), KindKeyUnsupported, []string{"X25519", "1.3.101.110"}},
		{"DSA key", block("PRIVATE KEY", dsaDER), KindKeyUnsupported, []string{"DSA", "1.2.840.10040.4.1"}},
		{"secp256k1 key", block("PRIVATE KEY", secp256k1DER), KindKeyUnsupported, []string{"1.3.132.0.10"}},
		{"DSA PEM", block("DSA PRIVATE KEY", []byte{1}), KindKeyUnsupported, []string{"DSA PRIVATE KEY"}},
		{"unsupported PRF", enc(withPRF(tOIDHMACMD5)), KindKeyUnsupported, []string{"pseudorandom function", "HMAC-MD5", "1.3.6.1.5.5.8.1.1"}},
		{"unknown PRF", enc(withPRF(asn1.ObjectIdentifier{1, 2, 3, 99})), KindKeyUnsupported, []string{"1.2.3.99", "unknown"}},
		{"unsupported cipher", enc(withCipher(tOIDCamellia256)), KindKeyUnsupported, []string{"cipher", "Camellia-256-CBC", "1.2.392.200011.61.1.1.1.4"}},
		{"AES-GCM", enc(withCipher(tOIDAES256GCM)), KindKeyUnsupported, []string{"AES-256-GCM", "2.16.840.1.101.3.4.1.46"}},
		{"scrypt", enc(spec(func(s *pbes2Spec) { s.kdf = tOIDScrypt })), KindKeyUnsupported, []string{"key derivation function", "scrypt", "1.3.6.1.4.1.11591.4.11"}},
		{"PBES1 RC2", encryptedPEM(rc2), KindKeyUnsupported, []string{"pbeWithSHA1AndRC2-CBC", "1.2.840.113549.1.5.11"}},
		{"unknown scheme", encryptedPEM(unknownScheme), KindKeyUnsupported, []string{"encryption scheme", "1.2.3.4"}},
		{"key length mismatch", enc(spec(func(s *pbes2Spec) { s.keyLengthField = 16 })), KindKeyFormat, []string{"key length, 16", "AES-256-CBC"}},
		{"IV length", enc(spec(func(s *pbes2Spec) { s.ivLen = 8 })), KindKeyFormat, []string{"IV is 8 bytes"}},
		{"zero iterations", enc(spec(func(s *pbes2Spec) { s.writeIter = -1 })), KindKeyFormat, []string{"iteration count, -1"}},
		{"too many iterations", enc(spec(func(s *pbes2Spec) { s.writeIter = maxIterations + 1 })), KindKeyUnsupported, []string{"above the limit"}},
		{"truncated data", encryptedPEM(truncated), KindKeyFormat, []string{"truncated"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ClientCert(leafChain, c.key, password)
			wantKind(t, err, c.kind, c.parts...)
		})
	}
}

// encPBES2TruncatedData cuts the last byte off the encrypted data.
func encPBES2TruncatedData(t testing.TB, der []byte) []byte {
	var k tEncryptedKey
	if _, err := asn1.Unmarshal(der, &k); err != nil {
		t.Fatal(err)
	}
	k.Data = k.Data[:len(k.Data)-1]
	return mustMarshal(t, k)
}

func TestKeyMismatchHints(t *testing.T) {
	p := newPKI(t, "ecdsa")
	// The chain begins with the intermediate, and the key is the
	// intermediate's: the hint points at the missing client certificate.
	_, err := ClientCert(chain(p.inter, p.root), pkcs8PEM(t, p.leaf.key), "")
	wantKind(t, err, KindKeyMismatch, "first certificate is a CA certificate")
	_, err = ClientCert(chain(p.leaf, p.inter, p.root), pkcs8PEM(t, p.inter.key), "")
	wantKind(t, err, KindKeyMismatch, "the key belongs to certificate 2")
}

func TestPBES2Parameters(t *testing.T) {
	// keyLength present and matching is accepted.
	key := newKey(t, "ecdsa", 0)
	s := specSHA256AES256
	s.keyLengthField = 32
	got, err := decryptPKCS8(encPBES2(t, pkcs8DER(t, key), password, s, 10), password, maxIterations)
	if err != nil || !bytes.Equal(got, pkcs8DER(t, key)) {
		t.Fatalf("%v", err)
	}
	// The iteration limit applies.
	_, err = decryptPKCS8(encPBES2(t, pkcs8DER(t, key), password, s, 11), password, 10)
	wantKind(t, err, KindKeyUnsupported, "above the limit of 10")
	// A salt that is not an OCTET STRING.
	var k tEncryptedKey
	asn1.Unmarshal(encPBES2(t, pkcs8DER(t, key), password, s, 10), &k)
	var p tPBES2Params
	asn1.Unmarshal(k.Algorithm.Parameters.FullBytes, &p)
	p.KDF.Parameters = rawParams(t, struct {
		Salt pkix.AlgorithmIdentifier
		Iter int
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3}}, 10})
	k.Algorithm.Parameters = rawParams(t, p)
	_, err = decryptPKCS8(mustMarshal(t, k), password, maxIterations)
	wantKind(t, err, KindKeyUnsupported, "salt")
}
