package tlsconf

// An encoder for encrypted PKCS#8 keys, written apart from the decoder
// (its own ASN.1 types and key derivations), so that the decoder is
// checked against a second implementation; openssl_test.go checks it
// against a third.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"hash"
	"math/big"
	"testing"
	"unicode/utf16"
)

var (
	tOIDPBES2       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	tOIDPBKDF2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	tOIDHMACSHA1    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	tOIDHMACSHA224  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	tOIDHMACSHA256  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	tOIDHMACSHA384  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	tOIDHMACSHA512  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	tOIDAES128CBC   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	tOIDAES192CBC   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	tOIDAES256CBC   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	tOIDDESEDE3CBC  = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	tOIDDESCBC      = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	tOIDMD5DES      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
	tOIDSHA1DES     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10}
	tOIDSHA1RC2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 11}
	tOIDP12SHA13DES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	tOIDP12SHA12DES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	tOIDScrypt      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	tOIDHMACMD5     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 8, 1, 1}
	tOIDCamellia256 = asn1.ObjectIdentifier{1, 2, 392, 200011, 61, 1, 1, 1, 4}
	tOIDAES256GCM   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
)

type tEncryptedKey struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type tPBES2Params struct {
	KDF, Cipher pkix.AlgorithmIdentifier
}

type tPBKDF2Params struct {
	Salt      []byte
	Iter      int
	KeyLength int                      `asn1:"optional"`
	PRF       pkix.AlgorithmIdentifier `asn1:"optional"`
}

type tPBEParams struct {
	Salt []byte
	Iter int
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rawParams(t testing.TB, v any) asn1.RawValue {
	return asn1.RawValue{FullBytes: mustMarshal(t, v)}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// cbcEncrypt pads (PKCS#7) and encrypts.
func cbcEncrypt(t testing.TB, block cipher.Block, iv, plain []byte) []byte {
	bs := block.BlockSize()
	n := bs - len(plain)%bs
	data := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(n)}, n)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	return data
}

// pbes2Spec says how to encrypt with PBES2; fields after block bend the
// encoding for negative tests.
type pbes2Spec struct {
	prf    asn1.ObjectIdentifier // nil: omitted, meaning HMAC-SHA1
	hash   func() hash.Hash
	cipher asn1.ObjectIdentifier
	keyLen int
	block  func([]byte) (cipher.Block, error)

	keyLengthField int                   // written as PBKDF2 keyLength if not 0
	kdf            asn1.ObjectIdentifier // replaces PBKDF2's OID if set
	writeIter      int                   // written instead of the real count if not 0
	ivLen          int                   // IV bytes written, if not the block size
}

// encPBES2 encrypts a PKCS#8 DER key with PBES2.
func encPBES2(t testing.TB, der []byte, password string, s pbes2Spec, iter int) []byte {
	t.Helper()
	salt := randBytes(16)
	key, err := pbkdf2.Key(s.hash, password, salt, iter, s.keyLen)
	if err != nil {
		t.Fatal(err)
	}
	block, err := s.block(key)
	if err != nil {
		t.Fatal(err)
	}
	iv := randBytes(block.BlockSize())
	data := cbcEncrypt(t, block, iv, der)
	kp := tPBKDF2Params{Salt: salt, Iter: iter, KeyLength: s.keyLengthField}
	if s.writeIter != 0 {
		kp.Iter = s.writeIter
	}
	if s.prf != nil {
		kp.PRF = pkix.AlgorithmIdentifier{Algorithm: s.prf, Parameters: asn1.NullRawValue}
	}
	kdf := tOIDPBKDF2
	if s.kdf != nil {
		kdf = s.kdf
	}
	writtenIV := iv
	if s.ivLen != 0 {
		writtenIV = randBytes(s.ivLen)
	}
	params := tPBES2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: kdf, Parameters: rawParams(t, kp)},
		Cipher: pkix.AlgorithmIdentifier{Algorithm: s.cipher, Parameters: rawParams(t, writtenIV)},
	}
	return mustMarshal(t, tEncryptedKey{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: tOIDPBES2, Parameters: rawParams(t, params)},
		Data:      data,
	})
}

// pbes1Spec says how to encrypt with a PBES1 or PKCS#12 scheme.
type pbes1Spec struct {
	oid    asn1.ObjectIdentifier
	pkcs12 bool
	hash   func() hash.Hash
	keyLen int // 8 DES, 24 three-key, 16 two-key triple DES
}

// encPBES1 encrypts a PKCS#8 DER key with a PBES1 or PKCS#12 scheme.
func encPBES1(t testing.TB, der []byte, password string, s pbes1Spec, iter int) []byte {
	t.Helper()
	salt := randBytes(8)
	var key, iv []byte
	if s.pkcs12 {
		pw := testBMP(password)
		key = testPKCS12KDF(s.hash, pw, salt, 1, iter, s.keyLen)
		iv = testPKCS12KDF(s.hash, pw, salt, 2, iter, 8)
	} else {
		dk := testPBKDF1(s.hash, []byte(password), salt, iter)
		key, iv = dk[:8], dk[8:]
	}
	var block cipher.Block
	var err error
	switch s.keyLen {
	case 8:
		block, err = des.NewCipher(key)
	case 16:
		block, err = des.NewTripleDESCipher(append(key, key[:8]...))
	default:
		block, err = des.NewTripleDESCipher(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return mustMarshal(t, tEncryptedKey{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: s.oid, Parameters: rawParams(t, tPBEParams{salt, iter})},
		Data:      cbcEncrypt(t, block, iv, der),
	})
}

// testPBKDF1 is PBKDF1 with a 16-byte output.
func testPBKDF1(h func() hash.Hash, password, salt []byte, iter int) []byte {
	d := h()
	d.Write(append(bytes.Clone(password), salt...))
	t := d.Sum(nil)
	for range iter - 1 {
		d = h()
		d.Write(t)
		t = d.Sum(nil)
	}
	return t[:16]
}

// testBMP is a password as a NUL-terminated UTF-16BE string.
func testBMP(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u&0xff))
	}
	return append(b, 0, 0)
}

// testPKCS12KDF is RFC 7292 appendix B.2, with big-integer arithmetic.
func testPKCS12KDF(h func() hash.Hash, password, salt []byte, id byte, iter, n int) []byte {
	v := h().BlockSize()
	extend := func(x []byte) []byte {
		var out []byte
		for len(x) > 0 && len(out) < v*((len(x)+v-1)/v) {
			out = append(out, x[len(out)%len(x)])
		}
		return out
	}
	I := append(extend(salt), extend(password)...)
	var A []byte
	for len(A) < n {
		d := h()
		d.Write(bytes.Repeat([]byte{id}, v))
		d.Write(I)
		Ai := d.Sum(nil)
		for range iter - 1 {
			d = h()
			d.Write(Ai)
			Ai = d.Sum(nil)
		}
		A = append(A, Ai...)
		B := new(big.Int).SetBytes(extend(Ai)[:v])
		B.Add(B, big.NewInt(1))
		mod := new(big.Int).Lsh(big.NewInt(1), uint(8*v))
		for j := 0; j < len(I); j += v {
			x := new(big.Int).SetBytes(I[j : j+v])
			x.Add(x, B).Mod(x, mod)
			x.FillBytes(I[j : j+v])
		}
	}
	return A[:n]
}

// encryptedPEM wraps encrypted DER in an ENCRYPTED PRIVATE KEY block.
func encryptedPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

var (
	specSHA256AES256 = pbes2Spec{prf: tOIDHMACSHA256, hash: sha256.New, cipher: tOIDAES256CBC, keyLen: 32, block: aes.NewCipher}
	specSHA1DES3     = pbes2Spec{hash: sha1.New, cipher: tOIDDESEDE3CBC, keyLen: 24, block: des.NewTripleDESCipher, keyLengthField: 24}
)

// schemes are the encryptions the tests produce, by name.
var schemes = map[string]func(t testing.TB, der []byte, pw string, iter int) []byte{
	"PBES2 PBKDF2-SHA256 AES-256-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES2(t, der, pw, specSHA256AES256, iter)
	},
	"PBES2 PBKDF2-SHA1 (default PRF) DES-EDE3-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES2(t, der, pw, specSHA1DES3, iter)
	},
	"PBES2 PBKDF2-SHA1 AES-128-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES2(t, der, pw, pbes2Spec{prf: tOIDHMACSHA1, hash: sha1.New, cipher: tOIDAES128CBC, keyLen: 16, block: aes.NewCipher}, iter)
	},
	"PBES2 PBKDF2-SHA224 AES-192-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES2(t, der, pw, pbes2Spec{prf: tOIDHMACSHA224, hash: sha256.New224, cipher: tOIDAES192CBC, keyLen: 24, block: aes.NewCipher}, iter)
	},
	"PBES2 PBKDF2-SHA384 AES-128-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES2(t, der, pw, pbes2Spec{prf: tOIDHMACSHA384, hash: sha512.New384, cipher: tOIDAES128CBC, keyLen: 16, block: aes.NewCipher, keyLengthField: 16}, iter)
	},
	"PBES2 PBKDF2-SHA512 AES-256-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES2(t, der, pw, pbes2Spec{prf: tOIDHMACSHA512, hash: sha512.New, cipher: tOIDAES256CBC, keyLen: 32, block: aes.NewCipher}, iter)
	},
	"PBES2 PBKDF2-SHA256 DES-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES2(t, der, pw, pbes2Spec{prf: tOIDHMACSHA256, hash: sha256.New, cipher: tOIDDESCBC, keyLen: 8, block: des.NewCipher}, iter)
	},
	"PBES1 MD5 DES-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES1(t, der, pw, pbes1Spec{oid: tOIDMD5DES, hash: md5.New, keyLen: 8}, iter)
	},
	"PBES1 SHA1 DES-CBC": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES1(t, der, pw, pbes1Spec{oid: tOIDSHA1DES, hash: sha1.New, keyLen: 8}, iter)
	},
	"PKCS#12 SHA1 3-key triple DES": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES1(t, der, pw, pbes1Spec{oid: tOIDP12SHA13DES, pkcs12: true, hash: sha1.New, keyLen: 24}, iter)
	},
	"PKCS#12 SHA1 2-key triple DES": func(t testing.TB, der []byte, pw string, iter int) []byte {
		return encPBES1(t, der, pw, pbes1Spec{oid: tOIDP12SHA12DES, pkcs12: true, hash: sha1.New, keyLen: 16}, iter)
	},
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKDFKnownAnswers checks the key derivations against values computed
// with openssl kdf (PKCS12KDF, PBKDF1).
func TestKDFKnownAnswers(t *testing.T) {
	ff := bytes.Repeat([]byte{0xff}, 8)
	long := make([]byte, 65)
	for i := range long {
		long[i] = byte(i + 1)
	}
	for _, c := range []struct {
		name          string
		password      string
		salt          []byte
		id            byte
		iter, n       int
		want          string
		checkTestImpl bool
	}{
		{"key", "sesame", ff, 1, 2048, 24, "7cd9fd3e2b3be7691a44e3bef0f9ea0fb9b897d4e325d9d1", true},
		{"iv", "sesame", ff, 2, 2048, 8, "3f5a277f9c21ff82", true},
		{"long salt, non-ASCII password, several blocks", "pässwörd", long, 1, 3, 70,
			"252c8842e21524a9888f90b33cfea0d1df9681886fd75c1794e758055c9dcbd0b33144eb6c090e4f8d81233a46968ebe3cad7559b8dd3775f934343f4bbd11b1d519ec8d87e5", true},
		{"empty password", "", unhex(t, "0102030405060708"), 1, 1, 20, "2bbd27af16eb22f296aaced12543545e08a50a33", true},
	} {
		t.Run("PKCS12 "+c.name, func(t *testing.T) {
			got := pkcs12KDF(sha1.New, bmpString(c.password), c.salt, c.id, c.iter, c.n)
			if hex.EncodeToString(got) != c.want {
				t.Fatalf("pkcs12KDF = %x, want %s", got, c.want)
			}
			if got := testPKCS12KDF(sha1.New, testBMP(c.password), c.salt, c.id, c.iter, c.n); hex.EncodeToString(got) != c.want {
				t.Fatalf("test encoder's KDF = %x, want %s", got, c.want)
			}
		})
	}
	t.Run("PBKDF1 MD5", func(t *testing.T) {
		const want = "3b91822763d712658fcbfae6c67bd400"
		if got := pbkdf1(md5.New, []byte("secret"), unhex(t, "0102030405060708"), 1000); hex.EncodeToString(got) != want {
			t.Fatalf("pbkdf1 = %x, want %s", got, want)
		}
		if got := testPBKDF1(md5.New, []byte("secret"), unhex(t, "0102030405060708"), 1000); hex.EncodeToString(got) != want {
			t.Fatalf("test encoder's pbkdf1 = %x, want %s", got, want)
		}
	})
	t.Run("BMPString", func(t *testing.T) {
		if got := bmpString("a😀"); !bytes.Equal(got, []byte{0, 'a', 0xd8, 0x3d, 0xde, 0x00, 0, 0}) {
			t.Fatalf("bmpString = %x", got)
		}
		if got := bmpString("\xff"); !bytes.Equal(got, []byte{0, 0xff, 0, 0}) {
			t.Fatalf("bmpString of invalid UTF-8 = %x", got)
		}
	})
}
