package kafkatest

// These tests use kcat, librdkafka's command-line client, as a Kafka client
// that shares no code with franz-go (which both kfake and Penstock use), to
// check that the secured test clusters speak TLS, SASL and ACLs on the wire
// the way a production broker does.
//
// What does not work unmodified: librdkafka cannot authenticate with SASL
// to a kfake cluster as StartSecure starts it. kfake advertises
// SaslHandshake versions 1-1; Apache Kafka brokers (4.x too) advertise 0-1.
// librdkafka only considers SASL supported when the broker's SaslHandshake
// range includes version 0 (it then uses version 1), so it stops with "SASL
// Handshake not supported by broker" before sending a SASL request.
// AdvertiseSASLHandshakeV0 makes the cluster advertise 0-1 as Kafka does;
// the handshake and the PLAIN and SCRAM exchanges are still kfake's own.
// TestKcatSASLNeedsHandshakeV0Advertised records the gap, so that it is
// noticed when kfake or librdkafka changes.
//
// A difference that remains: on a wrong password kfake closes the
// connection, where Kafka answers SaslAuthenticate with
// SASL_AUTHENTICATION_FAILED and a message (for SCRAM, "Authentication
// failed during authentication due to invalid credentials ..."), which
// librdkafka reports as a SASL authentication error. Against kfake kcat exits non-zero with
// "Disconnected (after Nms in state AUTH_REQ)", the connection lost while
// authenticating, and, depending on timing, also "SASL authentication
// error: SaslAuthenticateRequest failed: Local: Broker transport failure";
// the test accepts either.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kcatTimeout bounds every kcat run; kcatMessageTimeout bounds librdkafka's
// own retries of a produce, well within it.
const (
	kcatTimeout        = 30 * time.Second
	kcatMessageTimeout = "message.timeout.ms=10000"
	kcatSocketTimeout  = "socket.timeout.ms=10000"
)

// kcatInput is what kcat produces in every test: key:value lines.
const kcatInput = "order-1:{\"id\":1,\"note\":\"first\"}\norder-2:{\"id\":2,\"note\":\"with spaces, commas\"}\norder-3:{\"id\":3}\n"

// kcatWant is kcatInput as kcat -C -f '%k=%s\n' prints it back.
const kcatWant = "order-1={\"id\":1,\"note\":\"first\"}\norder-2={\"id\":2,\"note\":\"with spaces, commas\"}\norder-3={\"id\":3}\n"

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// kcatX turns "key=value" settings into kcat -X arguments.
func kcatX(settings ...string) []string {
	args := make([]string, 0, 2*len(settings))
	for _, s := range settings {
		args = append(args, "-X", s)
	}
	return args
}

// kcatProduce runs kcat -P on topic with conn (the connection settings)
// and kcatInput, each record with the header source=kcat.
func kcatProduce(t *testing.T, broker, topic string, conn []string) KcatResult {
	t.Helper()
	args := append([]string{"-P", "-b", broker, "-t", topic, "-K", ":", "-H", "source=kcat"},
		kcatX(append(slices.Clone(conn), kcatMessageTimeout, kcatSocketTimeout)...)...)
	return RunKcat(t, kcatTimeout, kcatInput, args...)
}

// kcatConsume reads topic from the beginning to its end with kcat -C -e and
// returns what it printed, one "key=value" line a record.
func kcatConsume(t *testing.T, broker, topic string, conn []string) string {
	t.Helper()
	args := append([]string{"-C", "-e", "-b", broker, "-t", topic, "-o", "beginning", "-f", "%k=%s\n"},
		kcatX(append(slices.Clone(conn), kcatSocketTimeout)...)...)
	r := RunKcat(t, kcatTimeout, "", args...)
	if r.Err != nil {
		t.Fatalf("kcat -C: %v\n%s", r.Err, r.Stderr)
	}
	return r.Stdout
}

// franzRead reads want records from topic with franz-go, connecting as o
// says (o.Users[0], a certificate from o.ClientCA), and fails the test if
// they do not arrive within 15 s.
func franzRead(t *testing.T, c *Cluster, o SecureOptions, topic string, want int) []*kgo.Record {
	t.Helper()
	cl := c.SecureProducer(t, o, kgo.ConsumeTopics(topic))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("franz-go read %d of %d records from %s before the timeout", len(recs), want, topic)
		}
		if err := fs.Err0(); err != nil {
			t.Fatalf("franz-go read: %v", err)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// checkFranzRecords checks that recs are kcatInput's records, in order,
// with the header kcat was given.
func checkFranzRecords(t *testing.T, recs []*kgo.Record) {
	t.Helper()
	var got strings.Builder
	for _, r := range recs {
		got.WriteString(string(r.Key) + "=" + string(r.Value) + "\n")
		if len(r.Headers) != 1 || r.Headers[0].Key != "source" || string(r.Headers[0].Value) != "kcat" {
			t.Errorf("record %s: headers %v, want [source=kcat]", r.Key, r.Headers)
		}
	}
	if got.String() != kcatWant {
		t.Errorf("franz-go read back:\n%s\nwant:\n%s", got.String(), kcatWant)
	}
}

// TestKcatSASLOverTLS: kcat produces over TLS (broker hostname verified)
// with each SASL mechanism, and the records read back by kcat and by
// franz-go with the same credentials are the ones produced. A wrong
// password makes kcat exit non-zero, reporting the failed authentication,
// and writes nothing.
func TestKcatSASLOverTLS(t *testing.T) {
	KcatPath(t)
	ca := NewCA(t, "penstock-test-ca")
	caFile := writeFile(t, "ca.pem", ca.PEM)
	for _, mech := range []string{"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"} {
		t.Run(mech, func(t *testing.T) {
			const topic = "orders"
			// The password has characters that SCRAM and PLAIN messages
			// use as separators.
			o := SecureOptions{ServerCA: ca, Topics: []string{topic},
				Users: []User{{Method: mech, Name: "penstock", Password: "s3cret,=pass:word"}}}
			c := StartSecure(t, o)
			c.AdvertiseSASLHandshakeV0(t, o)
			conn := func(password string) []string {
				return []string{
					"security.protocol=SASL_SSL", "sasl.mechanisms=" + mech,
					"sasl.username=penstock", "sasl.password=" + password,
					"ssl.ca.location=" + caFile, "ssl.endpoint.identification.algorithm=https",
				}
			}

			if r := kcatProduce(t, c.Addrs[0], topic, conn(o.Users[0].Password)); r.Err != nil {
				t.Fatalf("kcat -P with %s: %v\n%s", mech, r.Err, r.Stderr)
			}

			bad := kcatProduce(t, c.Addrs[0], topic, conn("not-the-password"))
			if bad.Err == nil {
				t.Fatalf("kcat -P with a wrong %s password succeeded; stderr:\n%s", mech, bad.Stderr)
			}
			if errors.Is(bad.Err, context.DeadlineExceeded) {
				t.Fatalf("kcat with a wrong password did not give up by itself: %v\n%s", bad.Err, bad.Stderr)
			}
			// See the top of this file: the failure is reported either as a
			// SASL authentication error or as the connection dropped while
			// authenticating (librdkafka's state AUTH_REQ).
			if !strings.Contains(bad.Stderr, "SASL authentication error") && !strings.Contains(bad.Stderr, "in state AUTH_REQ") {
				t.Errorf("kcat with a wrong %s password: stderr does not report a failed SASL authentication:\n%s", mech, bad.Stderr)
			}

			// Only the records produced with the right password are there.
			if got := kcatConsume(t, c.Addrs[0], topic, conn(o.Users[0].Password)); got != kcatWant {
				t.Errorf("kcat -C read back:\n%s\nwant:\n%s", got, kcatWant)
			}
			checkFranzRecords(t, franzRead(t, c, o, topic, 3))
		})
	}
}

// TestKcatMutualTLS: against a cluster that requires client certificates,
// kcat produces and reads back with a certificate from the client CA,
// reaching the broker by name (localhost, bootstrap) and then by address
// (127.0.0.1, from metadata) with hostname verification on; without a
// certificate, or with one from another CA, the broker refuses it.
func TestKcatMutualTLS(t *testing.T) {
	KcatPath(t)
	const topic = "orders"
	serverCA, clientCA := NewCA(t, "penstock-server-ca"), NewCA(t, "penstock-client-ca")
	o := SecureOptions{ServerCA: serverCA, ClientCA: clientCA, Topics: []string{topic}}
	c := StartSecure(t, o)
	_, port, err := net.SplitHostPort(c.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	byName := net.JoinHostPort("localhost", port)
	caFile := writeFile(t, "ca.pem", serverCA.PEM)
	conn := func(chain, key []byte) []string {
		s := []string{"security.protocol=SSL", "ssl.ca.location=" + caFile, "ssl.endpoint.identification.algorithm=https"}
		if chain != nil {
			s = append(s, "ssl.certificate.location="+writeFile(t, "client.pem", chain), "ssl.key.location="+writeFile(t, "client.key", key))
		}
		return s
	}
	good := conn(clientCA.Issue(t, "kcat", true))

	t.Run("client certificate", func(t *testing.T) {
		if r := kcatProduce(t, byName, topic, good); r.Err != nil {
			t.Fatalf("kcat -P with a client certificate: %v\n%s", r.Err, r.Stderr)
		}
		if got := kcatConsume(t, c.Addrs[0], topic, good); got != kcatWant {
			t.Errorf("kcat -C read back:\n%s\nwant:\n%s", got, kcatWant)
		}
		checkFranzRecords(t, franzRead(t, c, o, topic, 3))
	})

	refused := []struct {
		name, stderr string
		conn         []string
	}{
		{"no client certificate", "certificate required", conn(nil, nil)},
		{"certificate from another CA", "unknown ca", conn(NewCA(t, "elsewhere").Issue(t, "kcat", true))},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := kcatProduce(t, c.Addrs[0], "refused", tc.conn)
			if r.Err == nil {
				t.Fatalf("kcat -P succeeded; stderr:\n%s", r.Stderr)
			}
			if !strings.Contains(r.Stderr, tc.stderr) {
				t.Errorf("kcat stderr does not say %q:\n%s", tc.stderr, r.Stderr)
			}
		})
	}
}

// TestKcatHostnameVerification: a broker certificate signed by the trusted
// CA but naming another host is refused by kcat with hostname verification
// on and accepted with it off, so the certificates kafkatest issues
// (localhost, 127.0.0.1) pass the other tests because they name the broker.
func TestKcatHostnameVerification(t *testing.T) {
	KcatPath(t)
	ca := NewCA(t, "penstock-test-ca")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "kafka.elsewhere.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"kafka.elsewhere.example"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	broker := cl.ListenAddrs()[0]
	caFile := writeFile(t, "ca.pem", ca.PEM)

	r := kcatProduce(t, broker, "orders", []string{"security.protocol=SSL", "ssl.ca.location=" + caFile, "ssl.endpoint.identification.algorithm=https"})
	if r.Err == nil {
		t.Fatalf("kcat accepted a certificate for kafka.elsewhere.example from %s", broker)
	}
	if !strings.Contains(r.Stderr, "certificate verify failed") {
		t.Errorf("kcat stderr does not report a failed certificate verification:\n%s", r.Stderr)
	}
	r = kcatProduce(t, broker, "orders", []string{"security.protocol=SSL", "ssl.ca.location=" + caFile, "ssl.endpoint.identification.algorithm=none"})
	if r.Err != nil {
		t.Fatalf("kcat without hostname verification refused the certificate too, so the refusal was not about the name: %v\n%s", r.Err, r.Stderr)
	}
}

// TestKcatACLDenied: with ACLs on, a SASL user allowed only to read a
// topic authenticates, but kcat's produce to it fails with the broker's
// TOPIC_AUTHORIZATION_FAILED.
func TestKcatACLDenied(t *testing.T) {
	KcatPath(t)
	const topic = "orders"
	ca := NewCA(t, "penstock-test-ca")
	o := SecureOptions{ServerCA: ca, ACLs: true, Topics: []string{topic}, Users: []User{
		{Method: "SCRAM-SHA-256", Name: "admin", Password: "admin-pass"},
		{Method: "SCRAM-SHA-256", Name: "reader", Password: "reader-pass", ACLs: []kfake.ACL{
			{Resource: kmsg.ACLResourceTypeTopic, Name: topic, Operation: kmsg.ACLOperationRead, Allow: true},
		}},
	}}
	c := StartSecure(t, o)
	c.AdvertiseSASLHandshakeV0(t, o)
	r := kcatProduce(t, c.Addrs[0], topic, []string{
		"security.protocol=SASL_SSL", "sasl.mechanisms=SCRAM-SHA-256", "sasl.username=reader", "sasl.password=reader-pass",
		"ssl.ca.location=" + writeFile(t, "ca.pem", ca.PEM),
	})
	if r.Err == nil {
		t.Fatalf("kcat produced as a user without write permission; stderr:\n%s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "Topic authorization failed") {
		t.Errorf("kcat stderr does not report the authorization failure:\n%s", r.Stderr)
	}
	if strings.Contains(r.Stderr, "SASL authentication error") {
		t.Errorf("the reader failed to authenticate, so the ACL was not what refused it:\n%s", r.Stderr)
	}
}

// TestKcatSASLNeedsHandshakeV0Advertised records why the SASL tests call
// AdvertiseSASLHandshakeV0: against the cluster exactly as StartSecure
// starts it, librdkafka refuses to authenticate. If this test fails because
// kcat succeeded, kfake or librdkafka has closed the gap and
// AdvertiseSASLHandshakeV0 can go.
func TestKcatSASLNeedsHandshakeV0Advertised(t *testing.T) {
	KcatPath(t)
	ca := NewCA(t, "penstock-test-ca")
	o := SecureOptions{ServerCA: ca, Topics: []string{"orders"},
		Users: []User{{Method: "SCRAM-SHA-512", Name: "penstock", Password: "pass"}}}
	c := StartSecure(t, o)
	r := kcatProduce(t, c.Addrs[0], "orders", []string{
		"security.protocol=SASL_SSL", "sasl.mechanisms=SCRAM-SHA-512", "sasl.username=penstock", "sasl.password=pass",
		"ssl.ca.location=" + writeFile(t, "ca.pem", ca.PEM),
	})
	if r.Err == nil {
		t.Fatal("kcat authenticated to an unmodified kfake cluster: the SaslHandshake v0 gap is closed; drop AdvertiseSASLHandshakeV0 and this test")
	}
	if !strings.Contains(r.Stderr, "SASL Handshake not supported by broker") {
		t.Errorf("kcat failed against the unmodified cluster, but not for the known reason:\n%s", r.Stderr)
	}
}

// TestAdvertiseSASLHandshakeV0 checks that the shim changes only the lower
// SaslHandshake version of what the cluster advertises.
func TestAdvertiseSASLHandshakeV0(t *testing.T) {
	o := SecureOptions{Users: []User{{Method: "PLAIN", Name: "penstock", Password: "pass"}}}
	c := StartSecure(t, o)
	apiVersions := func() map[int16][2]int16 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// A fresh client each time: franz-go caches versions per connection.
		kresp, err := c.SecureProducer(t, o).Request(ctx, kmsg.NewPtrApiVersionsRequest())
		if err != nil {
			t.Fatal(err)
		}
		m := map[int16][2]int16{}
		for _, k := range kresp.(*kmsg.ApiVersionsResponse).ApiKeys {
			m[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
		}
		return m
	}
	before := apiVersions()
	c.AdvertiseSASLHandshakeV0(t, o)
	after := apiVersions()
	sh := int16(kmsg.SASLHandshake)
	if before[sh] != [2]int16{1, 1} {
		t.Logf("kfake now advertises SaslHandshake %v", before[sh])
	}
	if after[sh] != [2]int16{0, before[sh][1]} {
		t.Errorf("SaslHandshake advertised as %v after the shim, want [0 %d]", after[sh], before[sh][1])
	}
	delete(before, sh)
	delete(after, sh)
	if len(before) != len(after) {
		t.Errorf("the shim changed the number of advertised keys: %d -> %d", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("key %d advertised as %v after the shim, was %v", k, after[k], v)
		}
	}
}
