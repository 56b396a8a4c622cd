package tlsconf

import "errors"

// Kind names the class of problem an [*Error] reports, so that callers can
// react to it and configuration errors can name it.
type Kind string

// The kinds of problem [ClientCert], [RootCAs] and [Config] report.
const (
	// KindNoCertificate means no certificate was given where one is needed.
	KindNoCertificate Kind = "no_certificate"
	// KindCertFormat means the certificate text is not PEM, holds a block that
	// is not a CERTIFICATE, or a certificate does not parse.
	KindCertFormat Kind = "certificate_format"
	// KindChainOrder means the chain holds the right certificates in the wrong
	// order (it must go client certificate, intermediates, root).
	KindChainOrder Kind = "chain_order"
	// KindChainBroken means a certificate of the chain was not signed by the
	// next one and no reordering fixes it (an intermediate is missing, or a
	// certificate does not belong to the chain), or the chain holds a
	// certificate twice.
	KindChainBroken Kind = "chain_broken"
	// KindNotCA means a certificate that must be a CA (an issuer in the chain,
	// or an entry of the root CA bundle) is not one.
	KindNotCA Kind = "not_ca"
	// KindExpired means a certificate's NotAfter is in the past.
	KindExpired Kind = "expired"
	// KindNotYetValid means a certificate's NotBefore is in the future.
	KindNotYetValid Kind = "not_yet_valid"
	// KindKeyUsage means the client certificate's extended key usage does not
	// allow TLS client authentication.
	KindKeyUsage Kind = "key_usage"
	// KindNoKey means a client certificate was given without a private key.
	KindNoKey Kind = "no_key"
	// KindKeyFormat means the private key is not PEM, not PKCS#8 (or PKCS#1 /
	// SEC1 when unencrypted), or its encryption parameters are malformed.
	KindKeyFormat Kind = "key_format"
	// KindKeyLegacyEncrypted means the private key is encrypted with the legacy
	// OpenSSL PEM scheme (Proc-Type: 4,ENCRYPTED) instead of PKCS#8.
	KindKeyLegacyEncrypted Kind = "key_legacy_encrypted"
	// KindKeyUnsupported means the key's encryption algorithm, key derivation
	// function, pseudorandom function, cipher or key algorithm is not
	// supported; the message names its OID.
	KindKeyUnsupported Kind = "key_unsupported"
	// KindKeyPassword means the private key is encrypted and the password is
	// missing or wrong.
	KindKeyPassword Kind = "key_password"
	// KindKeyMismatch means the private key does not belong to the client
	// certificate.
	KindKeyMismatch Kind = "key_mismatch"
	// KindSystemRoots means the system's root CA pool could not be loaded.
	KindSystemRoots Kind = "system_roots"
)

// Error is a problem with TLS material. Msg is a complete sentence that
// says what is wrong and what to do about it; Err, when set, is the
// underlying cause.
type Error struct {
	// Kind classifies the problem.
	Kind Kind
	// Msg describes the problem and its remedy.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

// Error returns the message, followed by the underlying error if any.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same Kind (and, if
// target's Msg is set, the same Msg), so that
// errors.Is(err, &tlsconf.Error{Kind: tlsconf.KindExpired}) matches any
// expired-certificate error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Msg == "" || t.Msg == e.Msg)
}

// KindOf returns the Kind of the first *Error in err's chain, or "" if
// there is none.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return ""
}

func newErr(k Kind, msg string) *Error { return &Error{Kind: k, Msg: msg} }
