package kafkatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// CA is a certificate authority made for a test.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// PEM is the CA certificate, PEM-encoded.
	PEM []byte
}

// NewCA makes a self-signed CA.
func NewCA(tb testing.TB, name string) *CA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Issue makes a certificate signed by ca for commonName: a server
// certificate for 127.0.0.1 and localhost, or a client certificate. It
// returns the chain (leaf, then ca) and the PKCS#8 key, both PEM.
func (ca *CA) Issue(tb testing.TB, commonName string, client bool) (chainPEM, keyPEM []byte) {
	tb.Helper()
	if client {
		return ca.issue(tb, commonName, true, time.Now().Add(365*24*time.Hour), nil, nil)
	}
	return ca.issue(tb, commonName, false, time.Now().Add(365*24*time.Hour), []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
}

// IssueServer issues a broker certificate valid until notAfter for the
// given names and addresses (its subject alternative names).
func (ca *CA) IssueServer(tb testing.TB, notAfter time.Time, dnsNames []string, ips []net.IP) (chainPEM, keyPEM []byte) {
	tb.Helper()
	return ca.issue(tb, "kafka", false, notAfter, dnsNames, ips)
}

func (ca *CA) issue(tb testing.TB, commonName string, client bool, notAfter time.Time, dnsNames []string, ips []net.IP) (chainPEM, keyPEM []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: commonName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames, tmpl.IPAddresses = dnsNames, ips
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	chainPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	chainPEM = append(chainPEM, ca.PEM...)
	return chainPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
}

// SecureOptions describe a cluster with TLS and authentication.
type SecureOptions struct {
	// ServerCA signs the brokers' certificate; nil means no TLS.
	ServerCA *CA
	// ClientCA, when set, makes the brokers require client certificates
	// signed by it (mutual TLS).
	ClientCA *CA
	// Users are SASL users: method (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512),
	// name and password. The first is a superuser; with ACLs set, the
	// others have only the ACLs given.
	Users []User
	// ACLs turns on authorization.
	ACLs bool
	// Topics are created with Partitions partitions (default 1).
	Topics     []string
	Partitions int32
	// ServerCert and ServerKey, when set, replace the broker certificate
	// ServerCA would issue (see CA.IssueServer).
	ServerCert, ServerKey []byte
	// Extra are more kfake options (a data directory, fixed ports).
	Extra []kfake.Opt
}

// User is a SASL user of a secure test cluster.
type User struct {
	Method, Name, Password string
	ACLs                   []kfake.ACL
}

// StartSecure starts a one-broker cluster with TLS and SASL as o says.
func StartSecure(tb testing.TB, o SecureOptions) *Cluster {
	tb.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(500 * time.Millisecond)}
	if len(o.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(max(o.Partitions, 1), o.Topics...))
	}
	if o.ServerCA != nil {
		chain, key := o.ServerCert, o.ServerKey
		if chain == nil {
			chain, key = o.ServerCA.Issue(tb, "kafka", false)
		}
		cert, err := tls.X509KeyPair(chain, key)
		if err != nil {
			tb.Fatal(err)
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if o.ClientCA != nil {
			pool := x509.NewCertPool()
			pool.AddCert(o.ClientCA.Cert)
			cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		opts = append(opts, kfake.TLS(cfg))
	}
	if len(o.Users) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for i, u := range o.Users {
			if i == 0 {
				opts = append(opts, kfake.Superuser(u.Method, u.Name, u.Password))
			} else {
				opts = append(opts, kfake.User(u.Method, u.Name, u.Password, u.ACLs...))
			}
		}
	}
	if o.ACLs {
		opts = append(opts, kfake.EnableACLs())
	}
	opts = append(opts, o.Extra...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatalf("start kfake: %v", err)
	}
	tb.Cleanup(c.Close)
	return &Cluster{Cluster: c, Addrs: c.ListenAddrs()}
}

// SecureProducer returns a producer for a cluster started with o: it
// trusts o.ServerCA, presents a certificate from o.ClientCA, and
// authenticates as the superuser (o.Users[0]). extra are more options (to
// consume, for one).
func (c *Cluster) SecureProducer(tb testing.TB, o SecureOptions, extra ...kgo.Opt) *kgo.Client {
	tb.Helper()
	var opts []kgo.Opt
	if o.ServerCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(o.ServerCA.Cert)
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if o.ClientCA != nil {
			chain, key := o.ClientCA.Issue(tb, "producer", true)
			cert, err := tls.X509KeyPair(chain, key)
			if err != nil {
				tb.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if len(o.Users) > 0 {
		u := o.Users[0]
		switch u.Method {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: u.Name, Pass: u.Password}.AsMechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: u.Name, Pass: u.Password}.AsSha512Mechanism()))
		default:
			opts = append(opts, kgo.SASL(scram.Auth{User: u.Name, Pass: u.Password}.AsSha256Mechanism()))
		}
	}
	return c.Producer(tb, append(opts, extra...)...)
}
