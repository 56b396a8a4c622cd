package tlsconf

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"hash"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxIterations bounds the iteration count of a key derivation, so that a
// hostile key cannot keep a pipeline busy for hours. Tools write a few
// thousand (openssl's default is 2048); ten million takes seconds.
const maxIterations = 10_000_000

// OIDs of the encryption schemes and key derivation functions.
const (
	oidPBES2  = "1.2.840.113549.1.5.13"
	oidPBKDF2 = "1.2.840.113549.1.5.12"
)

// encryptedPrivateKeyInfo is PKCS#8's EncryptedPrivateKeyInfo (RFC 5208).
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// pbes2Params is PBES2-params (RFC 8018, appendix A.4).
type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

// pbkdf2Params is PBKDF2-params (RFC 8018, appendix A.2). Salt is a CHOICE
// of which only "specified" (an OCTET STRING) is supported.
type pbkdf2Params struct {
	Salt           asn1.RawValue
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

// pbeParams is PBEParameter (RFC 8018, appendix A.3) and pkcs-12PbeParams
// (RFC 7292, appendix C), which have the same shape.
type pbeParams struct {
	Salt           []byte
	IterationCount int
}

// A prf is a PBKDF2 pseudorandom function: HMAC with a hash.
type prf struct {
	name    string
	newHash func() hash.Hash
}

// prfs are the supported PBKDF2 pseudorandom functions by OID (RFC 8018,
// appendix B.1). An absent PRF means HMAC-SHA1.
var prfs = map[string]prf{
	"1.2.840.113549.2.7":  {"HMAC-SHA1", sha1.New},
	"1.2.840.113549.2.8":  {"HMAC-SHA224", sha256.New224},
	"1.2.840.113549.2.9":  {"HMAC-SHA256", sha256.New},
	"1.2.840.113549.2.10": {"HMAC-SHA384", sha512.New384},
	"1.2.840.113549.2.11": {"HMAC-SHA512", sha512.New},
	"1.2.840.113549.2.12": {"HMAC-SHA512/224", sha512.New512_224},
	"1.2.840.113549.2.13": {"HMAC-SHA512/256", sha512.New512_256},
}

// A cbcCipher is a block cipher used in CBC mode.
type cbcCipher struct {
	name     string
	keyLen   int
	newBlock func(key []byte) (cipher.Block, error)
}

var (
	desCBC  = cbcCipher{"DES-CBC", 8, des.NewCipher}
	des3CBC = cbcCipher{"DES-EDE3-CBC", 24, des.NewTripleDESCipher}
)

// pbes2Ciphers are the supported PBES2 encryption schemes by OID (RFC
// 8018, appendix B.2, and RFC 3565); their parameter is the IV.
var pbes2Ciphers = map[string]cbcCipher{
	"2.16.840.1.101.3.4.1.2":  {"AES-128-CBC", 16, aes.NewCipher},
	"2.16.840.1.101.3.4.1.22": {"AES-192-CBC", 24, aes.NewCipher},
	"2.16.840.1.101.3.4.1.42": {"AES-256-CBC", 32, aes.NewCipher},
	"1.2.840.113549.3.7":      des3CBC,
	"1.3.14.3.2.7":            desCBC,
}

// A pbes1Scheme is a PBES1 scheme of PKCS#5 v1.5 (key and IV from
// PBKDF1), or a PBE scheme of PKCS#12 (key and IV from the PKCS#12 key
// derivation function, password as a BMPString).
type pbes1Scheme struct {
	name    string
	pkcs12  bool
	newHash func() hash.Hash
	cipher  cbcCipher
	keyLen  int // derived key length; two-key triple DES derives 16 bytes
}

// pbes1Schemes are the supported PBES1 and PKCS#12 schemes by OID.
var pbes1Schemes = map[string]pbes1Scheme{
	"1.2.840.113549.1.5.3":    {"pbeWithMD5AndDES-CBC", false, md5.New, desCBC, 8},
	"1.2.840.113549.1.5.10":   {"pbeWithSHA1AndDES-CBC", false, sha1.New, desCBC, 8},
	"1.2.840.113549.1.12.1.3": {"pbeWithSHAAnd3-KeyTripleDES-CBC", true, sha1.New, des3CBC, 24},
	"1.2.840.113549.1.12.1.4": {"pbeWithSHAAnd2-KeyTripleDES-CBC", true, sha1.New, des3CBC, 16},
}

// unsupportedNames names algorithms that are recognised but not supported,
// by OID, so that messages can say what a key uses.
var unsupportedNames = map[string]string{
	"1.2.840.113549.1.5.1":      "pbeWithMD2AndDES-CBC",
	"1.2.840.113549.1.5.4":      "pbeWithMD2AndRC2-CBC",
	"1.2.840.113549.1.5.6":      "pbeWithMD5AndRC2-CBC",
	"1.2.840.113549.1.5.11":     "pbeWithSHA1AndRC2-CBC",
	"1.2.840.113549.1.12.1.1":   "pbeWithSHAAnd128BitRC4",
	"1.2.840.113549.1.12.1.2":   "pbeWithSHAAnd40BitRC4",
	"1.2.840.113549.1.12.1.5":   "pbeWithSHAAnd128BitRC2-CBC",
	"1.2.840.113549.1.12.1.6":   "pbewithSHAAnd40BitRC2-CBC",
	"1.3.6.1.4.1.11591.4.11":    "scrypt",
	"1.2.840.113549.3.2":        "RC2-CBC",
	"1.2.840.113549.3.9":        "RC5-CBC-Pad",
	"2.16.840.1.101.3.4.1.6":    "AES-128-GCM",
	"2.16.840.1.101.3.4.1.26":   "AES-192-GCM",
	"2.16.840.1.101.3.4.1.46":   "AES-256-GCM",
	"1.2.392.200011.61.1.1.1.2": "Camellia-128-CBC",
	"1.2.392.200011.61.1.1.1.3": "Camellia-192-CBC",
	"1.2.392.200011.61.1.1.1.4": "Camellia-256-CBC",
	"1.2.410.200004.1.4":        "SEED-CBC",
	"1.2.156.10197.1.104.2":     "SM4-CBC",
	"1.3.6.1.5.5.8.1.1":         "HMAC-MD5",
	"1.2.840.113549.2.5":        "MD5",
	"2.16.840.1.101.3.4.2.13":   "HMAC-SHA3-224",
	"2.16.840.1.101.3.4.2.14":   "HMAC-SHA3-256",
	"2.16.840.1.101.3.4.2.15":   "HMAC-SHA3-384",
	"2.16.840.1.101.3.4.2.16":   "HMAC-SHA3-512",
	"1.2.643.7.1.1.4.2":         "HMAC-GOST R 34.11-2012 (512 bit)",
}

// unsupported is the error for an algorithm the key uses that is not
// supported; what says which part of the encryption it is.
func unsupported(what string, oid asn1.ObjectIdentifier) *Error {
	name := unsupportedNames[oid.String()]
	if name == "" {
		name = "unknown"
	}
	return newErr(KindKeyUnsupported, fmt.Sprintf(
		"the private key is encrypted with an unsupported %s, %s (OID %s); supported are PBES2 (PBKDF2 with HMAC-SHA1/224/256/384/512 and AES-128/192/256-CBC, DES-EDE3-CBC or DES-CBC), PBES1 (MD5 or SHA1 with DES-CBC) and PKCS#12 (SHA1 with 3-key or 2-key triple DES); re-encrypt it with: openssl pkcs8 -topk8 -v2 aes256 -in key.pem -out key-enc.pem",
		what, name, oid))
}

func malformedParams(what string, err error) *Error {
	return &Error{Kind: KindKeyFormat, Msg: "the encrypted private key's " + what + " are malformed; check that it was copied whole", Err: err}
}

// decryptPKCS8 decrypts a PKCS#8 EncryptedPrivateKeyInfo and returns the
// PrivateKeyInfo inside. Iteration counts above maxIter are refused.
func decryptPKCS8(der []byte, password string, maxIter int) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, &Error{Kind: KindKeyFormat, Msg: "the ENCRYPTED PRIVATE KEY is not a PKCS#8 EncryptedPrivateKeyInfo; check that it was copied whole", Err: err}
	}
	var (
		scheme string
		block  cipher.Block
		iv     []byte
		err    error
	)
	oid := info.Algorithm.Algorithm
	params := info.Algorithm.Parameters.FullBytes
	if oid.String() == oidPBES2 {
		scheme, block, iv, err = pbes2(params, password, maxIter)
	} else if s, ok := pbes1Schemes[oid.String()]; ok {
		scheme, block, iv, err = pbes1(s, params, password, maxIter)
	} else {
		err = unsupported("encryption scheme", oid)
	}
	if err != nil {
		return nil, err
	}
	data := info.EncryptedData
	bs := block.BlockSize()
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, newErr(KindKeyFormat, fmt.Sprintf("the encrypted private key's data is truncated: %d bytes is not a whole number of %d-byte cipher blocks; check that it was copied whole", len(data), bs))
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	plain, ok := unpad(plain, bs)
	if !ok || !looksLikePKCS8(plain) {
		if password == "" {
			return nil, newErr(KindKeyPassword, fmt.Sprintf("the private key is encrypted (%s) and no password was given: set privateKeyPassword to the key's password", scheme))
		}
		msg := fmt.Sprintf("the private key could not be decrypted (%s): privateKeyPassword is wrong, or the key is corrupt", scheme)
		if strings.TrimSpace(password) != password {
			msg += " (the password begins or ends with white space or a line break: check that it belongs there)"
		}
		return nil, newErr(KindKeyPassword, msg)
	}
	return plain, nil
}

// unpad removes PKCS#7 padding; ok is false if the padding is invalid,
// which, after decryption, most often means the password was wrong.
func unpad(b []byte, blockSize int) ([]byte, bool) {
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize || n > len(b) {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}

// looksLikePKCS8 reports whether b is a DER PrivateKeyInfo. Decryption
// with a wrong password yields valid padding about once in 256 tries; it
// almost never yields this.
func looksLikePKCS8(b []byte) bool {
	var info privateKeyInfo
	rest, err := asn1.Unmarshal(b, &info)
	return err == nil && len(rest) == 0 && (info.Version == 0 || info.Version == 1) &&
		len(info.Algorithm.Algorithm) > 0 && len(info.PrivateKey) > 0
}

// checkIterations checks a key derivation's iteration count.
func checkIterations(n, maxIter int) error {
	if n < 1 {
		return newErr(KindKeyFormat, fmt.Sprintf("the encrypted private key's iteration count, %d, is not positive; check that it was copied whole", n))
	}
	if n > maxIter {
		return newErr(KindKeyUnsupported, fmt.Sprintf("the encrypted private key's iteration count, %d, is above the limit of %d; re-encrypt it with fewer iterations (openssl pkcs8 -topk8 -v2 aes256 -iter 600000)", n, maxIter))
	}
	return nil
}

// pbes2 derives the cipher and IV of a PBES2-encrypted key.
func pbes2(params []byte, password string, maxIter int) (string, cipher.Block, []byte, error) {
	var p pbes2Params
	if rest, err := asn1.Unmarshal(params, &p); err != nil || len(rest) > 0 {
		return "", nil, nil, malformedParams("PBES2 parameters", err)
	}
	if p.KeyDerivationFunc.Algorithm.String() != oidPBKDF2 {
		return "", nil, nil, unsupported("key derivation function", p.KeyDerivationFunc.Algorithm)
	}
	var kp pbkdf2Params
	if rest, err := asn1.Unmarshal(p.KeyDerivationFunc.Parameters.FullBytes, &kp); err != nil || len(rest) > 0 {
		return "", nil, nil, malformedParams("PBKDF2 parameters", err)
	}
	if kp.Salt.Class != asn1.ClassUniversal || kp.Salt.Tag != asn1.TagOctetString || kp.Salt.IsCompound {
		return "", nil, nil, newErr(KindKeyUnsupported, "the encrypted private key's PBKDF2 salt is not an OCTET STRING (a salt from another source is not supported); re-encrypt it with: openssl pkcs8 -topk8 -v2 aes256")
	}
	if err := checkIterations(kp.IterationCount, maxIter); err != nil {
		return "", nil, nil, err
	}
	f := prfs["1.2.840.113549.2.7"]
	if len(kp.PRF.Algorithm) > 0 {
		var ok bool
		if f, ok = prfs[kp.PRF.Algorithm.String()]; !ok {
			return "", nil, nil, unsupported("PBKDF2 pseudorandom function", kp.PRF.Algorithm)
		}
	}
	c, ok := pbes2Ciphers[p.EncryptionScheme.Algorithm.String()]
	if !ok {
		return "", nil, nil, unsupported("cipher", p.EncryptionScheme.Algorithm)
	}
	scheme := fmt.Sprintf("PBES2 with PBKDF2-%s and %s", f.name, c.name)
	if kp.KeyLength != 0 && kp.KeyLength != c.keyLen {
		return "", nil, nil, newErr(KindKeyFormat, fmt.Sprintf("the encrypted private key's PBKDF2 key length, %d, does not fit %s, which takes %d-byte keys; check that it was copied whole", kp.KeyLength, c.name, c.keyLen))
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(p.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 {
		return "", nil, nil, malformedParams(c.name+" parameters", err)
	}
	key, err := pbkdf2.Key(f.newHash, password, kp.Salt.Bytes, kp.IterationCount, c.keyLen)
	if err != nil {
		return "", nil, nil, &Error{Kind: KindKeyUnsupported, Msg: "the private key's encryption key cannot be derived (" + scheme + ")", Err: err}
	}
	block, err := c.newBlock(key)
	if err != nil {
		return "", nil, nil, &Error{Kind: KindKeyUnsupported, Msg: "the private key's cipher cannot be set up (" + scheme + ")", Err: err}
	}
	if len(iv) != block.BlockSize() {
		return "", nil, nil, newErr(KindKeyFormat, fmt.Sprintf("the encrypted private key's IV is %d bytes, but %s takes %d; check that it was copied whole", len(iv), c.name, block.BlockSize()))
	}
	return scheme, block, iv, nil
}

// pbes1 derives the cipher and IV of a key encrypted with a PBES1 or
// PKCS#12 scheme.
func pbes1(s pbes1Scheme, params []byte, password string, maxIter int) (string, cipher.Block, []byte, error) {
	var p pbeParams
	if rest, err := asn1.Unmarshal(params, &p); err != nil || len(rest) > 0 {
		return "", nil, nil, malformedParams(s.name+" parameters", err)
	}
	if err := checkIterations(p.IterationCount, maxIter); err != nil {
		return "", nil, nil, err
	}
	var key, iv []byte
	if s.pkcs12 {
		pw := bmpString(password)
		key = pkcs12KDF(s.newHash, pw, p.Salt, 1, p.IterationCount, s.keyLen)
		iv = pkcs12KDF(s.newHash, pw, p.Salt, 2, p.IterationCount, 8)
		if s.keyLen == 16 { // two-key triple DES: K1, K2, K1
			key = append(key, key[:8]...)
		}
	} else {
		dk := pbkdf1(s.newHash, []byte(password), p.Salt, p.IterationCount)
		key, iv = dk[:8], dk[8:16]
	}
	block, err := s.cipher.newBlock(key)
	if err != nil {
		return "", nil, nil, &Error{Kind: KindKeyUnsupported, Msg: "the private key's cipher cannot be set up (" + s.name + ")", Err: err}
	}
	return s.name, block, iv, nil
}

// pbkdf1 is PBKDF1 (RFC 8018, section 5.1) with a 16-byte output, which
// PBES1 splits into a DES key and an IV.
func pbkdf1(newHash func() hash.Hash, password, salt []byte, iter int) []byte {
	h := newHash()
	h.Write(password)
	h.Write(salt)
	t := h.Sum(nil)
	for i := 1; i < iter; i++ {
		h.Reset()
		h.Write(t)
		t = h.Sum(t[:0])
	}
	return t[:16]
}

// bmpString encodes a password for the PKCS#12 key derivation: UTF-16
// big-endian with a two-byte terminator (RFC 7292, appendix B.1). Like
// OpenSSL, a password that is not valid UTF-8 is taken byte by byte.
func bmpString(password string) []byte {
	var units []uint16
	if utf8.ValidString(password) {
		units = utf16.Encode([]rune(password))
	} else {
		for i := 0; i < len(password); i++ {
			units = append(units, uint16(password[i]))
		}
	}
	out := make([]byte, 0, 2*len(units)+2)
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return append(out, 0, 0)
}

// pkcs12KDF is the PKCS#12 key derivation function (RFC 7292, appendix
// B.2): it derives n bytes of key material for purpose id (1 key, 2 IV,
// 3 MAC) from a BMPString password and a salt.
func pkcs12KDF(newHash func() hash.Hash, password, salt []byte, id byte, iter, n int) []byte {
	h := newHash()
	u, v := h.Size(), h.BlockSize()
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	// I = S || P, salt and password each repeated to a multiple of v bytes.
	fill := func(x []byte) []byte {
		if len(x) == 0 {
			return nil
		}
		out := make([]byte, v*((len(x)+v-1)/v))
		for i := range out {
			out[i] = x[i%len(x)]
		}
		return out
	}
	in := append(fill(salt), fill(password)...)
	out := make([]byte, 0, n+u)
	b := make([]byte, v)
	for {
		h.Reset()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for r := 1; r < iter; r++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= n {
			return out[:n]
		}
		// Each v-byte block of I becomes (I_j + B + 1) mod 2^(8v), where
		// B is A repeated to v bytes.
		for i := range b {
			b[i] = a[i%u]
		}
		for j := 0; j < len(in); j += v {
			blk := in[j : j+v]
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(blk[k]) + int(b[k]) + carry
				blk[k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
}
