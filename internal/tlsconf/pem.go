package tlsconf

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// pemBlocks decodes every PEM block of data. Text around the blocks (such
// as the "subject=" lines openssl prints) is ignored, but a "-----BEGIN"
// that does not start a well-formed block makes malformed true: a block
// whose line breaks were lost on the way into a secret would otherwise be
// skipped without a word.
func pemBlocks(data []byte) (blocks []*pem.Block, malformed bool) {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	return blocks, bytes.Count(data, []byte("-----BEGIN")) != len(blocks)
}

// malformedPEM is the error for a text whose PEM framing is damaged; what
// names the text ("the certificate chain").
func malformedPEM(k Kind, what string, data []byte) *Error {
	msg := what + " has a malformed PEM block: each -----BEGIN ...----- and -----END ...----- line must be on a line of its own, with the base64 body on the lines between them"
	if bytes.Contains(data, []byte(`\n`)) {
		msg += ` (the text contains literal \n sequences: undo the JSON escaping so that they become line breaks)`
	}
	return newErr(k, msg)
}

// parseCertificates decodes a PEM text that must hold only CERTIFICATE
// blocks; what names the text in errors.
func parseCertificates(data []byte, what string) ([]*x509.Certificate, error) {
	blocks, malformed := pemBlocks(data)
	if malformed {
		return nil, malformedPEM(KindCertFormat, what, data)
	}
	if len(blocks) == 0 {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, newErr(KindNoCertificate, what+" is empty: give at least one PEM certificate (-----BEGIN CERTIFICATE-----)")
		}
		msg := what + " is not PEM: expected -----BEGIN CERTIFICATE----- blocks"
		if _, err := x509.ParseCertificates(data); err == nil {
			msg += "; it looks like DER, convert it with: openssl x509 -inform der -in cert.der -out cert.pem"
		}
		return nil, newErr(KindCertFormat, msg)
	}
	certs := make([]*x509.Certificate, 0, len(blocks))
	for i, b := range blocks {
		switch b.Type {
		case "CERTIFICATE":
		case "TRUSTED CERTIFICATE":
			return nil, newErr(KindCertFormat, fmt.Sprintf("%s: block %d is an OpenSSL TRUSTED CERTIFICATE; write it as a plain certificate with: openssl x509 -in trusted.pem -out cert.pem", what, i+1))
		default:
			msg := fmt.Sprintf("%s: block %d is a %q block, not a CERTIFICATE", what, i+1, b.Type)
			if isKeyBlock(b.Type) {
				msg += "; private keys go in the privateKey field, only certificates go here"
			}
			return nil, newErr(KindCertFormat, msg)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, &Error{Kind: KindCertFormat, Msg: fmt.Sprintf("%s: certificate %d does not parse; check that it was copied whole", what, i+1), Err: err}
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// isKeyBlock reports whether a PEM block type names a private key.
func isKeyBlock(typ string) bool {
	switch typ {
	case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY":
		return true
	}
	return false
}

// describe names a certificate in messages: its position (1-based) and
// subject.
func describe(i int, c *x509.Certificate) string {
	subject := c.Subject.String()
	if subject == "" {
		subject = "serial " + c.SerialNumber.String()
	}
	return fmt.Sprintf("certificate %d (%q)", i+1, subject)
}

// selfSigned reports whether c names itself as issuer and its signature
// verifies with its own key.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
