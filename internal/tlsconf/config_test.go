package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	p := newPKI(t, "ecdsa")
	cfg, err := Config(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.RootCAs == nil || len(cfg.Certificates) != 0 || cfg.InsecureSkipVerify || cfg.ServerName != "" {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, err = Config(Options{
		ClientChainPEM: chain(p.leaf, p.inter, p.root),
		ClientKeyPEM:   encryptedPEM(encPBES2(t, pkcs8DER(t, p.leaf.key), password, specSHA256AES256, 16)),
		KeyPassword:    password,
		RootCAPEM:      chain(p.root),
		ServerName:     "broker-1.internal",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "broker-1.internal" || len(cfg.Certificates) != 1 || len(cfg.Certificates[0].Certificate) != 3 || cfg.RootCAs == nil {
		t.Fatalf("%+v", cfg)
	}
	if cfg, err = Config(Options{InsecureSkipVerify: true, RootCAPEM: []byte(" \n")}); err != nil || !cfg.InsecureSkipVerify {
		t.Fatalf("%v %+v", err, cfg)
	}

	_, err = Config(Options{ClientChainPEM: chain(p.leaf)})
	wantKind(t, err, KindNoKey, "without its private key")
	_, err = Config(Options{ClientKeyPEM: pkcs8PEM(t, p.leaf.key), KeyPassword: "x"})
	wantKind(t, err, KindNoCertificate, "without its client certificate")
	_, err = Config(Options{RootCAPEM: chain(p.leaf)})
	wantKind(t, err, KindNotCA)
	_, err = Config(Options{ClientChainPEM: chain(p.root, p.inter, p.leaf), ClientKeyPEM: pkcs8PEM(t, p.leaf.key)})
	wantKind(t, err, KindChainOrder)
}

// handshake runs a TLS server that requires a client certificate verified
// by serverRoots, connects to it with client, and returns the client's
// error and the subject the server saw.
func handshake(t *testing.T, server tls.Certificate, serverRoots *x509.CertPool, client *tls.Config) (string, error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    serverRoots,
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan string, 1)
	go func() {
		defer close(seen)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if tc.Handshake() != nil {
			return
		}
		seen <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
		io.WriteString(tc, "ok")
	}()
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), client)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// With TLS 1.3 the server's verdict on the client certificate arrives
	// after the client's handshake is done: read the server's reply.
	buf := make([]byte, 2)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return "", err
	}
	return <-seen, nil
}

func TestHandshake(t *testing.T) {
	p := newPKI(t, "ecdsa")
	broker := issue(t, serverTemplate(), newKey(t, "ecdsa", 0), p.inter)
	serverCert := tls.Certificate{Certificate: [][]byte{broker.cert.Raw, p.inter.cert.Raw}, PrivateKey: broker.key}
	serverRoots := x509.NewCertPool()
	serverRoots.AddCert(p.root.cert)

	for _, keyType := range []string{"rsa", "ecdsa", "ed25519"} {
		t.Run(keyType, func(t *testing.T) {
			leaf := issue(t, clientTemplate("client-"+keyType), newKey(t, keyType, 1), p.inter)
			cfg, err := Config(Options{
				ClientChainPEM: chain(leaf, p.inter, p.root),
				ClientKeyPEM:   encryptedPEM(schemes["PKCS#12 SHA1 3-key triple DES"](t, pkcs8DER(t, leaf.key), password, 16)),
				KeyPassword:    password,
				RootCAPEM:      chain(p.root),
				ServerName:     "localhost",
			})
			if err != nil {
				t.Fatal(err)
			}
			subject, err := handshake(t, serverCert, serverRoots, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if subject != "client-"+keyType {
				t.Fatalf("server saw client %q", subject)
			}
		})
	}

	t.Run("TLS 1.2", func(t *testing.T) {
		cfg, err := Config(Options{ClientChainPEM: chain(p.leaf, p.inter), ClientKeyPEM: pkcs8PEM(t, p.leaf.key), RootCAPEM: chain(p.root), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxVersion = tls.VersionTLS12
		if _, err := handshake(t, serverCert, serverRoots, cfg); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("wrong root CA", func(t *testing.T) {
		other := newPKI(t, "ecdsa")
		cfg, err := Config(Options{ClientChainPEM: chain(p.leaf, p.inter, p.root), ClientKeyPEM: pkcs8PEM(t, p.leaf.key), RootCAPEM: chain(other.root), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = handshake(t, serverCert, serverRoots, cfg)
		if _, ok := errors.AsType[x509.UnknownAuthorityError](err); !ok {
			t.Fatalf("want an x509 unknown authority error, got %v", err)
		}
	})

	t.Run("client certificate the broker does not trust", func(t *testing.T) {
		other := newPKI(t, "ecdsa")
		cfg, err := Config(Options{ClientChainPEM: chain(other.leaf, other.inter, other.root), ClientKeyPEM: pkcs8PEM(t, other.leaf.key), RootCAPEM: chain(p.root), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := handshake(t, serverCert, serverRoots, cfg); err == nil {
			t.Fatal("the broker accepted a client certificate from another CA")
		}
	})

	t.Run("wrong server name", func(t *testing.T) {
		cfg, err := Config(Options{ClientChainPEM: chain(p.leaf, p.inter), ClientKeyPEM: pkcs8PEM(t, p.leaf.key), RootCAPEM: chain(p.root), ServerName: "other.example"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = handshake(t, serverCert, serverRoots, cfg)
		if _, ok := errors.AsType[x509.HostnameError](err); !ok {
			t.Fatalf("want a host name error, got %v", err)
		}
	})
}
