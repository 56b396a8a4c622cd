package tlsconf

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"strings"
)

// privateKeyInfo is PKCS#8's PrivateKeyInfo (RFC 5208), or RFC 5958's
// OneAsymmetricKey, whose trailing optional fields are ignored.
type privateKeyInfo struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// keyAlgorithms names private key algorithms by OID, for messages.
var keyAlgorithms = map[string]string{
	"1.2.840.113549.1.1.1":  "RSA",
	"1.2.840.10045.2.1":     "EC",
	"1.3.101.112":           "Ed25519",
	"1.3.101.110":           "X25519",
	"1.3.101.111":           "X448",
	"1.3.101.113":           "Ed448",
	"1.2.840.10040.4.1":     "DSA",
	"1.2.840.113549.1.1.10": "RSASSA-PSS",
	"1.2.156.10197.1.301":   "SM2",
}

// supportedCurves are the named curves of ECDSA keys that crypto/x509
// parses, by OID.
var supportedCurves = map[string]bool{
	"1.3.132.0.33":        true, // P-224
	"1.2.840.10045.3.1.7": true, // P-256
	"1.3.132.0.34":        true, // P-384
	"1.3.132.0.35":        true, // P-521
}

// parsePrivateKey reads the one private key of keyPEM, decrypting it with
// password if it is an encrypted PKCS#8 key.
func parsePrivateKey(keyPEM []byte, password string) (crypto.Signer, error) {
	blocks, malformed := pemBlocks(keyPEM)
	if malformed {
		return nil, malformedPEM(KindKeyFormat, "the private key", keyPEM)
	}
	var key *pem.Block
	for _, b := range blocks {
		switch {
		case b.Type == "EC PARAMETERS":
			continue // openssl ecparam -genkey writes it before the key
		case isKeyBlock(b.Type):
			if key != nil {
				return nil, newErr(KindKeyFormat, "the private key field holds more than one private key; keep only the client certificate's key")
			}
			key = b
		case b.Type == "CERTIFICATE":
			return nil, newErr(KindKeyFormat, "the private key field holds a CERTIFICATE block; certificates go in the certificate field, and only the private key goes here")
		default:
			return nil, newErr(KindKeyFormat, fmt.Sprintf("the private key field holds a %q block; expected a PKCS#8 PRIVATE KEY or ENCRYPTED PRIVATE KEY", b.Type))
		}
	}
	if key == nil {
		if len(bytes.TrimSpace(keyPEM)) == 0 {
			return nil, newErr(KindNoKey, "no private key was given for the client certificate: set privateKey to the certificate's PKCS#8 PEM key")
		}
		msg := "the private key is not PEM: expected -----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----"
		if _, err := x509.ParsePKCS8PrivateKey(keyPEM); err == nil {
			msg += "; it looks like DER, convert it with: openssl pkcs8 -topk8 -inform der -in key.der -v2 aes256 -out key.pem"
		}
		return nil, newErr(KindKeyFormat, msg)
	}
	if strings.Contains(key.Headers["Proc-Type"], "ENCRYPTED") || key.Headers["DEK-Info"] != "" {
		cipher := ""
		if dek := key.Headers["DEK-Info"]; dek != "" {
			cipher = ", DEK-Info " + strings.SplitN(dek, ",", 2)[0]
		}
		return nil, newErr(KindKeyLegacyEncrypted, fmt.Sprintf(
			"the private key (%s) is encrypted with the legacy OpenSSL PEM scheme (Proc-Type: 4,ENCRYPTED%s), which is not supported; convert it to an encrypted PKCS#8 key with: openssl pkcs8 -topk8 -v2 aes256 -in old.pem -out new.pem",
			key.Type, cipher))
	}
	switch key.Type {
	case "PRIVATE KEY":
		return parsePKCS8(key.Bytes, false)
	case "ENCRYPTED PRIVATE KEY":
		der, err := decryptPKCS8(key.Bytes, password, maxIterations)
		if err != nil {
			return nil, err
		}
		return parsePKCS8(der, true)
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(key.Bytes)
		if err != nil {
			return nil, &Error{Kind: KindKeyFormat, Msg: "the RSA PRIVATE KEY (PKCS#1) does not parse; check that it was copied whole", Err: err}
		}
		return k, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(key.Bytes)
		if err != nil {
			return nil, &Error{Kind: KindKeyFormat, Msg: "the EC PRIVATE KEY (SEC1) does not parse; check that it was copied whole", Err: err}
		}
		return k, nil
	}
	return nil, newErr(KindKeyUnsupported, fmt.Sprintf("the private key is a %q, which is not supported; use an RSA, ECDSA or Ed25519 key in PKCS#8 (openssl pkcs8 -topk8)", key.Type))
}

// parsePKCS8 parses an unencrypted PKCS#8 key; decrypted says whether it
// came out of an encrypted one.
func parsePKCS8(der []byte, decrypted bool) (crypto.Signer, error) {
	var info privateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
			return nil, newErr(KindKeyFormat, "the PRIVATE KEY block holds a PKCS#1 RSA key, not PKCS#8; convert it with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key8.pem (or label it RSA PRIVATE KEY)")
		}
		if _, err := x509.ParseECPrivateKey(der); err == nil {
			return nil, newErr(KindKeyFormat, "the PRIVATE KEY block holds a SEC1 EC key, not PKCS#8; convert it with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key8.pem (or label it EC PRIVATE KEY)")
		}
		return nil, newErr(KindKeyFormat, "the private key is not a PKCS#8 PrivateKeyInfo; check that it was copied whole")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		oid := info.Algorithm.Algorithm.String()
		if name, ok := keyAlgorithms[oid]; !ok || (name != "RSA" && name != "EC" && name != "Ed25519") {
			return nil, unsupportedKeyAlgorithm(oid)
		}
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &curve); err == nil && keyAlgorithms[oid] == "EC" && !supportedCurves[curve.String()] {
			return nil, newErr(KindKeyUnsupported, fmt.Sprintf("the private key's elliptic curve (OID %s) is not supported; use P-256, P-384 or P-521", curve))
		}
		msg := "the private key does not parse"
		if decrypted {
			msg = "the decrypted private key does not parse"
		}
		return nil, &Error{Kind: KindKeyFormat, Msg: msg + "; use an RSA, ECDSA (P-256, P-384, P-521) or Ed25519 key", Err: err}
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	case *ecdh.PrivateKey:
		return nil, unsupportedKeyAlgorithm(info.Algorithm.Algorithm.String())
	}
	return nil, newErr(KindKeyUnsupported, fmt.Sprintf("private keys of type %T are not supported; use an RSA, ECDSA or Ed25519 key", k))
}

func unsupportedKeyAlgorithm(oid string) *Error {
	name := keyAlgorithms[oid]
	if name == "" {
		name = "unknown"
	}
	return newErr(KindKeyUnsupported, fmt.Sprintf("the private key's algorithm, %s (OID %s), is not supported for TLS client certificates; use an RSA, ECDSA (P-256, P-384, P-521) or Ed25519 key", name, oid))
}
