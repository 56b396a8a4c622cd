package tlsconf

import (
	"errors"
	"sort"
	"testing"
)

// fuzzMaxIterations keeps each fuzz input fast: the seeds use fewer.
const fuzzMaxIterations = 64

// FuzzDecryptPKCS8 feeds arbitrary DER and passwords to the encrypted key
// parser: it must not panic, and every failure must be an *Error.
func FuzzDecryptPKCS8(f *testing.F) {
	der := pkcs8DER(f, newKey(f, "ecdsa", 0))
	names := make([]string, 0, len(schemes))
	for name := range schemes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f.Add(schemes[name](f, der, "pw", 8), "pw")
		f.Add(schemes[name](f, der, "pw", 8), "other")
	}
	f.Add([]byte{0x30, 0x00}, "")
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00}, "x")
	f.Fuzz(func(t *testing.T, data []byte, pw string) {
		plain, err := decryptPKCS8(data, pw, fuzzMaxIterations)
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			return
		}
		if !looksLikePKCS8(plain) {
			t.Fatal("decryption succeeded but the result is not a PrivateKeyInfo")
		}
		if _, err := parsePKCS8(plain, true); err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
		}
	})
}
