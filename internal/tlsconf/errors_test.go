package tlsconf

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorType(t *testing.T) {
	e := &Error{Kind: KindKeyFormat, Msg: "bad key", Err: io.ErrUnexpectedEOF}
	wrapped := fmt.Errorf("pipeline %q: source: %w", "orders", e)
	if KindOf(wrapped) != KindKeyFormat || KindOf(io.EOF) != "" || KindOf(nil) != "" {
		t.Fatal("KindOf")
	}
	if !errors.Is(wrapped, &Error{Kind: KindKeyFormat}) || errors.Is(wrapped, &Error{Kind: KindExpired}) {
		t.Fatal("errors.Is by kind")
	}
	if !errors.Is(wrapped, io.ErrUnexpectedEOF) {
		t.Fatal("Unwrap")
	}
	if e.Error() != "bad key: unexpected EOF" || newErr(KindExpired, "x").Error() != "x" {
		t.Fatalf("%q", e.Error())
	}
}

func TestMalformedEncryptionParameters(t *testing.T) {
	der := pkcs8DER(t, newKey(t, "ecdsa", 0))
	withParams := func(base []byte, f func(k *tEncryptedKey)) []byte {
		var k tEncryptedKey
		if _, err := asn1.Unmarshal(base, &k); err != nil {
			t.Fatal(err)
		}
		f(&k)
		return mustMarshal(t, k)
	}
	pbes2 := encPBES2(t, der, password, specSHA256AES256, 4)
	pbes1 := schemes["PBES1 SHA1 DES-CBC"](t, der, password, 4)
	p12 := schemes["PKCS#12 SHA1 3-key triple DES"](t, der, password, 4)
	garbage := asn1.RawValue{FullBytes: []byte{0x04, 0x01, 0x00}}
	pbes2Part := func(f func(p *tPBES2Params)) []byte {
		return withParams(pbes2, func(k *tEncryptedKey) {
			var p tPBES2Params
			if _, err := asn1.Unmarshal(k.Algorithm.Parameters.FullBytes, &p); err != nil {
				t.Fatal(err)
			}
			f(&p)
			k.Algorithm.Parameters = rawParams(t, p)
		})
	}
	for _, c := range []struct {
		name  string
		der   []byte
		kind  Kind
		parts []string
	}{
		{"PBES2 parameters", withParams(pbes2, func(k *tEncryptedKey) { k.Algorithm.Parameters = garbage }), KindKeyFormat, []string{"PBES2 parameters are malformed"}},
		{"PBKDF2 parameters", pbes2Part(func(p *tPBES2Params) { p.KDF.Parameters = garbage }), KindKeyFormat, []string{"PBKDF2 parameters are malformed"}},
		{"IV", pbes2Part(func(p *tPBES2Params) { p.Cipher.Parameters = rawParams(t, 5) }), KindKeyFormat, []string{"AES-256-CBC parameters are malformed"}},
		{"PBES1 parameters", withParams(pbes1, func(k *tEncryptedKey) { k.Algorithm.Parameters = garbage }), KindKeyFormat, []string{"pbeWithSHA1AndDES-CBC parameters are malformed"}},
		{"PBES1 iterations", withParams(pbes1, func(k *tEncryptedKey) {
			k.Algorithm.Parameters = rawParams(t, tPBEParams{make([]byte, 8), 0})
		}), KindKeyFormat, []string{"iteration count, 0"}},
		{"PKCS#12 iterations", withParams(p12, func(k *tEncryptedKey) {
			k.Algorithm.Parameters = rawParams(t, tPBEParams{make([]byte, 8), maxIterations + 1})
		}), KindKeyUnsupported, []string{"above the limit"}},
		{"trailing data", append(pbes2, 0), KindKeyFormat, []string{"EncryptedPrivateKeyInfo"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decryptPKCS8(c.der, password, maxIterations)
			wantKind(t, err, c.kind, c.parts...)
		})
	}
}

func TestKeyBlockErrors(t *testing.T) {
	p := newPKI(t, "ecdsa")
	// An RSA PrivateKeyInfo whose key is not an RSA key, encrypted.
	bogusRSA := mustMarshal(t, struct {
		Version   int
		Algorithm pkix.AlgorithmIdentifier
		Key       []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, Parameters: asn1.NullRawValue}, []byte{2, 1, 5}})
	encBogus := encryptedPEM(encPBES2(t, bogusRSA, password, specSHA256AES256, 4))
	_, err := ClientCert(chain(p.leaf), encBogus, password)
	wantKind(t, err, KindKeyFormat, "decrypted private key does not parse")

	_, err = ClientCert(chain(p.leaf), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), "")
	wantKind(t, err, KindKeyFormat, `"PUBLIC KEY" block`)

	// An Ed448 key: known to the messages, not supported.
	ed448 := mustMarshal(t, struct {
		Version   int
		Algorithm pkix.AlgorithmIdentifier
		Key       []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 101, 113}}, make([]byte, 59)})
	_, err = ClientCert(chain(p.leaf), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ed448}), "")
	wantKind(t, err, KindKeyUnsupported, "Ed448", "1.3.101.113")
	unknown := mustMarshal(t, struct {
		Version   int
		Algorithm pkix.AlgorithmIdentifier
		Key       []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3, 4, 5}}, []byte{1}})
	_, err = ClientCert(chain(p.leaf), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: unknown}), "")
	wantKind(t, err, KindKeyUnsupported, "unknown (OID 1.2.3.4.5)")
}
