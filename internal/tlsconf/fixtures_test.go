package tlsconf

// Fixtures made by openssl and committed in testdata/pkcs8 (see gen.sh
// there): certificate chains and PKCS#8 keys, unencrypted, PBES2 and PBES1,
// that ClientCert must read as openssl wrote them, without openssl being
// installed.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const fixtureDir = "testdata/pkcs8"

// fixtureKeyTypes are the client certificates of the fixtures: a chain
// client-TYPE-chain.pem and keys client-TYPE-key-NAME.pem for each
// fixtureKeys NAME.
var fixtureKeyTypes = []struct {
	name, commonName string
	check            func(crypto.PrivateKey) bool
}{
	{"rsa", "Penstock Fixture Client RSA", func(k crypto.PrivateKey) bool {
		r, ok := k.(*rsa.PrivateKey)
		return ok && r.N.BitLen() == 2048
	}},
	{"ecdsa", "Penstock Fixture Client ECDSA", func(k crypto.PrivateKey) bool {
		e, ok := k.(*ecdsa.PrivateKey)
		return ok && e.Curve == elliptic.P256()
	}},
}

// fixtureKeys are the encryptions of the key files: the password gen.sh
// used, the name ClientCert gives the scheme in its messages, and the OIDs
// of the encryption scheme, and for PBES2 of the PBKDF2 pseudorandom
// function and the cipher.
var fixtureKeys = []struct {
	name, password, scheme string
	oids                   []string
}{
	{name: "plain"},
	{"pbes2-sha256-aes256", "Penstock AES-256 fixture", "PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC",
		[]string{oidPBES2, "1.2.840.113549.2.9", "2.16.840.1.101.3.4.1.42"}},
	{"pbes2-sha256-aes128", "penstock-aes128", "PBES2 with PBKDF2-HMAC-SHA256 and AES-128-CBC",
		[]string{oidPBES2, "1.2.840.113549.2.9", "2.16.840.1.101.3.4.1.2"}},
	{"pbes2-sha1-des3", "penstock-des3", "PBES2 with PBKDF2-HMAC-SHA1 and DES-EDE3-CBC",
		[]string{oidPBES2, "1.2.840.113549.2.7", "1.2.840.113549.3.7"}},
	{"pbes1-sha1-3des", "pässwörd-3des", "pbeWithSHAAnd3-KeyTripleDES-CBC",
		[]string{"1.2.840.113549.1.12.1.3"}},
	{"pbes1-md5-des", "penstock-md5-des", "pbeWithMD5AndDES-CBC",
		[]string{"1.2.840.113549.1.5.3"}},
}

// fixtureFiles returns every file gen.sh makes, with its password ("-"
// for none), as the fixture tables above describe them.
func fixtureFiles() map[string]string {
	files := map[string]string{"root-ca.pem": "-", "intermediate-ca.pem": "-", "README.md": "-"}
	for _, kt := range fixtureKeyTypes {
		files["client-"+kt.name+"-chain.pem"] = "-"
		for _, k := range fixtureKeys {
			files["client-"+kt.name+"-key-"+k.name+".pem"] = cmp.Or(k.password, "-")
		}
	}
	return files
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("fixture missing (re-run %s/gen.sh): %v", fixtureDir, err)
	}
	return b
}

// encryptionOIDs returns the OIDs of an ENCRYPTED PRIVATE KEY's encryption:
// the scheme and, for PBES2, the PBKDF2 pseudorandom function (HMAC-SHA1
// when absent, as RFC 8018 says) and the cipher.
func encryptionOIDs(t *testing.T, der []byte) []string {
	t.Helper()
	var info encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		t.Fatal(err)
	}
	oids := []string{info.Algorithm.Algorithm.String()}
	if oids[0] != oidPBES2 {
		return oids
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &p); err != nil {
		t.Fatal(err)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(p.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		t.Fatal(err)
	}
	prf := kdf.PRF.Algorithm.String()
	if len(kdf.PRF.Algorithm) == 0 {
		prf = "1.2.840.113549.2.7"
	}
	return append(oids, prf, p.EncryptionScheme.Algorithm.String())
}

// TestFixtureKeys: every key file uses the encryption its name says, and
// decrypts with its password to the private key of its client
// certificate; a wrong or missing password is a KindKeyPassword error that
// names the scheme; the key does not pass for the other certificate.
func TestFixtureKeys(t *testing.T) {
	for i, kt := range fixtureKeyTypes {
		chainPEM := readFixture(t, "client-"+kt.name+"-chain.pem")
		otherChain := readFixture(t, "client-"+fixtureKeyTypes[(i+1)%len(fixtureKeyTypes)].name+"-chain.pem")
		plain, err := ClientCert(chainPEM, readFixture(t, "client-"+kt.name+"-key-plain.pem"), "")
		if err != nil {
			t.Fatalf("%s: unencrypted key: %v", kt.name, err)
		}
		for j, k := range fixtureKeys {
			file := "client-" + kt.name + "-key-" + k.name + ".pem"
			t.Run(file, func(t *testing.T) {
				keyPEM := readFixture(t, file)
				block, _ := pem.Decode(keyPEM)
				if block == nil {
					t.Fatal("not PEM")
				}
				if k.password == "" {
					if block.Type != "PRIVATE KEY" {
						t.Fatalf("block %q, want an unencrypted PKCS#8 PRIVATE KEY", block.Type)
					}
				} else {
					if block.Type != "ENCRYPTED PRIVATE KEY" {
						t.Fatalf("block %q, want ENCRYPTED PRIVATE KEY", block.Type)
					}
					if got := encryptionOIDs(t, block.Bytes); !slices.Equal(got, k.oids) {
						t.Fatalf("encryption OIDs %v, want %v (%s)", got, k.oids, k.scheme)
					}
				}

				cert, err := ClientCert(chainPEM, keyPEM, k.password)
				if err != nil {
					t.Fatalf("with password %q: %v", k.password, err)
				}
				if !kt.check(cert.PrivateKey) {
					t.Fatalf("key is a %T, want a %s key", cert.PrivateKey, kt.name)
				}
				pub := cert.PrivateKey.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool })
				if !pub.Equal(cert.Leaf.PublicKey) {
					t.Fatal("the decrypted key is not the client certificate's key")
				}
				if !sameKey(cert.PrivateKey.(crypto.Signer), plain.PrivateKey.(crypto.Signer)) {
					t.Fatal("the decrypted key differs from the unencrypted one")
				}

				_, err = ClientCert(otherChain, keyPEM, k.password)
				wantKind(t, err, KindKeyMismatch)

				if k.password == "" {
					// The password of an unencrypted key is ignored.
					if _, err := ClientCert(chainPEM, keyPEM, "unused"); err != nil {
						t.Fatalf("unencrypted key with a password: %v", err)
					}
					return
				}
				// Another fixture's password is wrong for this one.
				wrong := fixtureKeys[1+j%(len(fixtureKeys)-1)].password
				if wrong == k.password {
					wrong = fixtureKeys[1+(j+1)%(len(fixtureKeys)-1)].password
				}
				_, err = ClientCert(chainPEM, keyPEM, wrong)
				wantKind(t, err, KindKeyPassword, k.scheme, "privateKeyPassword is wrong")
				_, err = ClientCert(chainPEM, keyPEM, "")
				wantKind(t, err, KindKeyPassword, k.scheme, "no password was given")
			})
		}
	}
}

// TestFixtureChains: each chain file loads as client certificate,
// intermediate, root, which are the certificates of intermediate-ca.pem
// and root-ca.pem; crypto/x509 verifies it too; its certificates are valid
// until after 2100; reversed, it is refused as out of order.
func TestFixtureChains(t *testing.T) {
	root := readFixture(t, "root-ca.pem")
	inter := readFixture(t, "intermediate-ca.pem")
	rootBlock, _ := pem.Decode(root)
	interBlock, _ := pem.Decode(inter)
	if rootBlock == nil || interBlock == nil {
		t.Fatal("root-ca.pem or intermediate-ca.pem is not PEM")
	}
	pool, err := RootCAs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, kt := range fixtureKeyTypes {
		t.Run(kt.name, func(t *testing.T) {
			chainPEM := readFixture(t, "client-"+kt.name+"-chain.pem")
			keyPEM := readFixture(t, "client-"+kt.name+"-key-plain.pem")
			cert, err := ClientCert(chainPEM, keyPEM, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(cert.Certificate) != 3 {
				t.Fatalf("%d certificates, want 3", len(cert.Certificate))
			}
			if cert.Leaf.Subject.CommonName != kt.commonName {
				t.Errorf("first certificate %q, want the client certificate %q", cert.Leaf.Subject.CommonName, kt.commonName)
			}
			if !bytes.Equal(cert.Certificate[1], interBlock.Bytes) {
				t.Error("second certificate is not intermediate-ca.pem")
			}
			if !bytes.Equal(cert.Certificate[2], rootBlock.Bytes) {
				t.Error("third certificate is not root-ca.pem")
			}
			var certs []*x509.Certificate
			for _, der := range cert.Certificate {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				certs = append(certs, c)
				if c.NotBefore.After(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || c.NotAfter.Year() < 2100 {
					t.Errorf("%s is valid from %v to %v; the fixtures are meant to be valid from 2020 for a century", c.Subject.CommonName, c.NotBefore, c.NotAfter)
				}
			}
			inters := x509.NewCertPool()
			inters.AddCert(certs[1])
			if _, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inters,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("crypto/x509 does not verify the chain: %v", err)
			}

			var blocks [][]byte
			for rest := chainPEM; ; {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				blocks = append(blocks, pem.EncodeToMemory(b))
			}
			slices.Reverse(blocks)
			_, err = ClientCert(bytes.Join(blocks, nil), keyPEM, "")
			wantKind(t, err, KindChainOrder)
		})
	}
}

// TestFixturesMatchGenerator: the files gen.sh says it makes (gen.sh
// --list), the files in testdata/pkcs8 and the fixture tables of this test
// are the same set with the same passwords, and README.md lists each file
// with its password. It fails when gen.sh gains or loses an output and the
// fixtures were not made again, or this test was not updated.
func TestFixturesMatchGenerator(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed: cannot ask gen.sh for its list of files")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bash, filepath.Join(fixtureDir, "gen.sh"), "--list")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gen.sh --list: %v\n%s", err, stderr.Bytes())
	}
	generated := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		file, pass, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("gen.sh --list line %q is not FILE<TAB>PASSWORD", sc.Text())
		}
		generated[file] = pass
	}

	want := fixtureFiles()
	for f, p := range generated {
		if wp, ok := want[f]; !ok {
			t.Errorf("gen.sh makes %s, which this test does not know", f)
		} else if wp != p {
			t.Errorf("gen.sh gives %s the password %q, this test %q", f, p, wp)
		}
	}
	for f := range want {
		if _, ok := generated[f]; !ok {
			t.Errorf("this test expects %s, which gen.sh does not make", f)
		}
	}

	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		if e.Name() == "gen.sh" {
			continue
		}
		present[e.Name()] = true
		if _, ok := generated[e.Name()]; !ok {
			t.Errorf("%s/%s is not made by gen.sh: remove it, or make it in gen.sh", fixtureDir, e.Name())
		}
	}
	for f := range generated {
		if !present[f] {
			t.Errorf("gen.sh makes %s, which is missing from %s: run gen.sh", f, fixtureDir)
		}
	}

	readme := string(readFixture(t, "README.md"))
	for f, p := range generated {
		if f == "README.md" {
			continue
		}
		cell := "| -"
		if p != "-" {
			cell = "| `" + p + "`"
		}
		found := false
		for line := range strings.SplitSeq(readme, "\n") {
			if strings.Contains(line, "`"+f+"`") && strings.Contains(line, cell) {
				found = true
			}
		}
		if !found {
			t.Errorf("README.md has no line for %s with the password %q", f, p)
		}
	}
}
