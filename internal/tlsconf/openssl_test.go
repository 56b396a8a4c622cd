package tlsconf

// Interoperability with an independent implementation: keys encrypted and
// certificates issued by the openssl command, when it is installed.

import (
	"bytes"
	"crypto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// openssl returns a function that runs the openssl command in a temporary
// directory, or nil (after saying so) if openssl is not installed.
func openssl(t *testing.T) func(stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Log("openssl is not installed: interoperability with it is not checked")
		return nil
	}
	dir := t.TempDir()
	return func(stdin []byte, args ...string) ([]byte, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdin = bytes.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, &opensslError{args, stderr.String(), err}
		}
		return out, nil
	}
}

type opensslError struct {
	args   []string
	stderr string
	err    error
}

func (e *opensslError) Error() string {
	return "openssl " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

// topk8 encrypts an unencrypted PEM key with openssl pkcs8 -topk8 and the
// given options, loading OpenSSL 3's legacy provider when the algorithm
// needs it (the DES and RC2/RC4 based schemes). ok is false if this
// openssl cannot produce the scheme at all.
func topk8(t *testing.T, run func([]byte, ...string) ([]byte, error), keyPEM []byte, pass string, opts ...string) (out []byte, ok bool) {
	t.Helper()
	args := append([]string{"pkcs8", "-topk8", "-passout", "pass:" + pass}, opts...)
	out, err := run(keyPEM, args...)
	if err == nil {
		return out, true
	}
	out, err2 := run(keyPEM, append(args, "-provider", "legacy", "-provider", "default")...)
	if err2 != nil {
		t.Logf("this openssl cannot encrypt with %v, not checked: %v", opts, err)
		return nil, false
	}
	return out, true
}

func TestOpenSSLEncryptedKeys(t *testing.T) {
	run := openssl(t)
	if run == nil {
		return
	}
	const pass = "pässwörd 1"
	keyTypes := []string{"rsa", "ecdsa", "ed25519"}
	pkis := map[string]*pki{}
	for _, k := range keyTypes {
		pkis[k] = newPKI(t, k)
	}
	n := 0
	for _, c := range []struct {
		opts  []string
		kind  Kind // "" if the key must decrypt
		parts []string
	}{
		{opts: []string{"-v2", "aes256"}},
		{opts: []string{"-v2", "aes128", "-v2prf", "hmacWithSHA1"}},
		{opts: []string{"-v2", "aes192", "-v2prf", "hmacWithSHA224"}},
		{opts: []string{"-v2", "aes256", "-v2prf", "hmacWithSHA256", "-iter", "20000"}},
		{opts: []string{"-v2", "aes256", "-v2prf", "hmacWithSHA384"}},
		{opts: []string{"-v2", "aes128", "-v2prf", "hmacWithSHA512"}},
		{opts: []string{"-v2", "aes256", "-v2prf", "hmacWithSHA512-224"}},
		{opts: []string{"-v2", "aes256", "-v2prf", "hmacWithSHA512-256"}},
		{opts: []string{"-v2", "des3"}},
		{opts: []string{"-v2", "des3", "-v2prf", "hmacWithSHA1"}},
		{opts: []string{"-v2", "des"}},
		{opts: []string{"-v1", "PBE-MD5-DES"}},
		{opts: []string{"-v1", "PBE-SHA1-DES"}},
		{opts: []string{"-v1", "PBE-SHA1-3DES"}},
		{opts: []string{"-v1", "PBE-SHA1-2DES"}},
		{opts: []string{"-scrypt"}, kind: KindKeyUnsupported, parts: []string{"scrypt", "1.3.6.1.4.1.11591.4.11"}},
		{opts: []string{"-v2", "camellia256"}, kind: KindKeyUnsupported, parts: []string{"Camellia-256-CBC", "1.2.392.200011.61.1.1.1.4"}},
		{opts: []string{"-v1", "PBE-SHA1-RC2-40"}, kind: KindKeyUnsupported, parts: []string{"1.2.840.113549.1.12.1.6"}},
		{opts: []string{"-v1", "PBE-SHA1-RC4-128"}, kind: KindKeyUnsupported, parts: []string{"1.2.840.113549.1.12.1.1"}},
	} {
		for i, keyType := range keyTypes {
			// Every scheme with one key type, in turn; AES-256 with all.
			if i != n%len(keyTypes) && !(c.opts[0] == "-v2" && c.opts[1] == "aes256" && len(c.opts) == 2) {
				continue
			}
			p := pkis[keyType]
			t.Run(strings.Join(c.opts, " ")+"/"+keyType, func(t *testing.T) {
				keyPEM, ok := topk8(t, run, pkcs8PEM(t, p.leaf.key), pass, c.opts...)
				if !ok {
					return
				}
				cert, err := ClientCert(chain(p.leaf, p.inter, p.root), keyPEM, pass)
				if c.kind != "" {
					wantKind(t, err, c.kind, c.parts...)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !sameKey(cert.PrivateKey.(crypto.Signer), p.leaf.key) {
					t.Fatal("decrypted key differs")
				}
				_, err = ClientCert(chain(p.leaf, p.inter, p.root), keyPEM, "pässwörd 2")
				wantKind(t, err, KindKeyPassword)
			})
		}
		n++
	}
}

func TestOpenSSLLegacyEncryptedKey(t *testing.T) {
	run := openssl(t)
	if run == nil {
		return
	}
	p := newPKI(t, "ecdsa")
	legacy, err := run(pkcs8PEM(t, p.leaf.key), "ec", "-aes256", "-passout", "pass:secret")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ClientCert(chain(p.leaf, p.inter), legacy, "secret")
	wantKind(t, err, KindKeyLegacyEncrypted, "openssl pkcs8 -topk8 -v2 aes256")
	// The conversion the message suggests gives a key that is accepted.
	converted, err := run(legacy, "pkcs8", "-topk8", "-v2", "aes256", "-passin", "pass:secret", "-passout", "pass:secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ClientCert(chain(p.leaf, p.inter), converted, "secret"); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSLChain uses a root CA, an intermediate and a client
// certificate all made by openssl.
func TestOpenSSLChain(t *testing.T) {
	run := openssl(t)
	if run == nil {
		return
	}
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	write := func(name, text string) {
		if err := os.WriteFile(path(name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(path(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
	write("client.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"}
	for _, args := range [][]string{
		append([]string{"req", "-x509", "-days", "1", "-subj", "/CN=OpenSSL Root", "-keyout", path("root.key"), "-out", path("root.pem"),
			"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"}, ec...),
		append([]string{"req", "-subj", "/CN=OpenSSL Intermediate", "-keyout", path("int.key"), "-out", path("int.csr")}, ec...),
		{"x509", "-req", "-days", "1", "-in", path("int.csr"), "-CA", path("root.pem"), "-CAkey", path("root.key"), "-set_serial", "2", "-extfile", path("ca.ext"), "-out", path("int.pem")},
		{"req", "-newkey", "rsa:2048", "-noenc", "-subj", "/CN=OpenSSL Client", "-keyout", path("client.key"), "-out", path("client.csr")},
		{"x509", "-req", "-days", "1", "-in", path("client.csr"), "-CA", path("int.pem"), "-CAkey", path("int.key"), "-set_serial", "3", "-extfile", path("client.ext"), "-out", path("client.pem")},
		{"pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", path("client.key"), "-passout", "pass:pw", "-out", path("client.enc")},
	} {
		if _, err := run(nil, args...); err != nil {
			t.Fatal(err)
		}
	}
	root, inter, client := read("root.pem"), read("int.pem"), read("client.pem")
	full := bytes.Join([][]byte{client, inter, root}, nil)
	cert, err := ClientCert(full, read("client.enc"), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf.Subject.CommonName != "OpenSSL Client" || len(cert.Certificate) != 3 {
		t.Fatalf("leaf %v, %d certificates", cert.Leaf.Subject, len(cert.Certificate))
	}
	if _, err := ClientCert(full, read("client.key"), ""); err != nil {
		t.Fatal(err)
	}
	_, err = ClientCert(bytes.Join([][]byte{root, client, inter}, nil), read("client.enc"), "pw")
	wantKind(t, err, KindChainOrder, "OpenSSL Root", "position 3")
	_, err = ClientCert(bytes.Join([][]byte{client, root}, nil), read("client.enc"), "pw")
	wantKind(t, err, KindChainBroken, "OpenSSL Intermediate")
	_, err = ClientCert(full, read("int.key"), "")
	wantKind(t, err, KindKeyMismatch)
	if _, err := RootCAs(root); err != nil {
		t.Fatal(err)
	}
	_, err = RootCAs(client)
	wantKind(t, err, KindNotCA)
}
