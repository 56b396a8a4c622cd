package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/penstock-dev/penstock/internal/kafkatest"
)

func checkFile(t *testing.T, addr, topic, tlsAuth string, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for n, b := range files {
		os.WriteFile(filepath.Join(dir, n), b, 0o600)
	}
	path := filepath.Join(dir, "pipelines.yaml")
	y := fmt.Sprintf("version: 1\npipelines:\n  - name: orders\n    source:\n      kafka:\n        bootstrap_servers: [%q]\n        topic: %s\n        starting_position: LATEST\n", addr, topic)
	for _, l := range strings.Split(tlsAuth, "\n") {
		if l != "" {
			y += "        " + l + "\n"
		}
	}
	y += "    target: {stdout: {}}\n"
	os.WriteFile(path, []byte(y), 0o644)
	return path
}

// penstock check passes on a healthy setup (exit 0) and names each failure
// with the ESM's error and a fix (exit 1).
func TestCheck(t *testing.T) {
	ca := kafkatest.NewCA(t, "broker CA")
	other := kafkatest.NewCA(t, "other CA")
	users := []kafkatest.User{{Method: "SCRAM-SHA-256", Name: "admin", Password: "admin-pw"}, {Method: "SCRAM-SHA-512", Name: "bob", Password: "bob-pw-512"}}
	cl := kafkatest.StartSecure(t, kafkatest.SecureOptions{ServerCA: ca, Users: users, Topics: []string{"orders"}, Partitions: 3})
	t.Setenv("KAFKA_USER", "bob")
	t.Setenv("KAFKA_PASSWORD", "bob-pw-512")
	auth := "tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: SASL_SCRAM_512_AUTH, username: \"env:KAFKA_USER\", password: \"env:KAFKA_PASSWORD\"}"

	code, out, errOut := runCLI("check", checkFile(t, cl.Addrs[0], "orders", auth, map[string][]byte{"ca.pem": ca.PEM}))
	t.Logf("healthy:\n%s", out)
	if code != 0 || !strings.Contains(out, "8 checks passed, 1 skipped") || !strings.Contains(out, "3 partitions") {
		t.Fatalf("healthy setup: exit %d\n%s%s", code, out, errOut)
	}

	for _, c := range []struct {
		name, topic, auth string
		files             map[string][]byte
		env               map[string]string
		want              []string
	}{
		{"wrong password", "orders", auth, map[string][]byte{"ca.pem": ca.PEM}, map[string]string{"KAFKA_PASSWORD": "not-bobs-pw"},
			[]string{"authentication", "FAIL", "EVENT_SOURCE_AUTHN_ERROR: SASL authentication failed", "fix: check the username and password"}},
		{"untrusted server", "orders", auth, map[string][]byte{"ca.pem": other.PEM}, nil,
			[]string{"tls", "FAIL", "EVENT_SOURCE_AUTHN_ERROR: Penstock failed to authenticate the server", "fix: check tls.root_ca"}},
		{"missing topic", "payments", auth, map[string][]byte{"ca.pem": ca.PEM}, nil,
			[]string{"topic", "payments", "FAIL", "ESM_CONFIG_NOT_VALID: the topic does not exist"}},
		{"nothing listening", "orders", auth, map[string][]byte{"ca.pem": ca.PEM}, nil,
			[]string{"tcp", "FAIL", "EVENT_SOURCE_CONNECTION_ERROR"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			addr := cl.Addrs[0]
			if c.name == "nothing listening" {
				addr = "127.0.0.1:1"
			}
			code, out, errOut := runCLI("check", checkFile(t, addr, c.topic, c.auth, c.files))
			t.Logf("%s:\n%s", c.name, out)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out+errOut, "not-bobs-pw") || strings.Contains(out+errOut, "bob-pw-512") {
				t.Fatal("a secret value appears in the output")
			}
		})
	}

	code, out, _ = runCLI("check", "--json", checkFile(t, cl.Addrs[0], "payments", auth, map[string][]byte{"ca.pem": ca.PEM}))
	var res struct {
		OK      bool
		Results []struct{ Check, Status, Error string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.OK || code != 1 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
}

// penstock check verifies, with the Kafka APIs, each authorization the
// event source mapping needs: DescribeConfigs on the cluster, Describe
// and Read on the topic, Describe and Read on the group.
func TestCheckAuthorization(t *testing.T) {
	ca := kafkatest.NewCA(t, "broker CA")
	acl := func(res kmsg.ACLResourceType, name string, op kmsg.ACLOperation) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: op, Allow: true}
	}
	const (
		topic, group = kmsg.ACLResourceTypeTopic, kmsg.ACLResourceTypeGroup
		read, desc   = kmsg.ACLOperationRead, kmsg.ACLOperationDescribe
	)
	configs := acl(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLOperationDescribeConfigs)
	user := func(name string, acls ...kfake.ACL) kafkatest.User {
		return kafkatest.User{Method: "SCRAM-SHA-256", Name: name, Password: name + "-pw", ACLs: acls}
	}
	opts := kafkatest.SecureOptions{ServerCA: ca, ACLs: true, Topics: []string{"orders"}, Partitions: 2, Users: []kafkatest.User{
		{Method: "SCRAM-SHA-256", Name: "admin", Password: "admin-pw"},
		user("full", configs, acl(topic, "orders", desc), acl(topic, "orders", read), acl(group, "g", desc), acl(group, "g", read)),
		user("noconfigs", acl(topic, "orders", desc), acl(topic, "orders", read), acl(group, "g", desc), acl(group, "g", read)),
		user("noread", configs, acl(topic, "orders", desc), acl(group, "g", desc), acl(group, "g", read)),
		user("groupdescribe", configs, acl(topic, "orders", desc), acl(topic, "orders", read), acl(group, "g", desc)),
		user("nogroup", configs, acl(topic, "orders", desc), acl(topic, "orders", read)),
	}}
	cl := kafkatest.StartSecure(t, opts)
	// The group exists, with committed offsets, as for a pipeline that ran.
	prod := cl.SecureProducer(t, opts)
	kafkatest.ProduceSync(t, prod, kafkatest.Numbered("orders", 2, 0, 10, 50))
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 3, LeaderEpoch: -1})
	if _, err := kadm.NewClient(prod).CommitOffsets(context.Background(), "g", offs); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		user string
		code int
		want []string
	}{
		{"full", 0, []string{"topic read", "records readable", `DescribeConfigs\s+OK`, "group read", "the group can be joined", "all 9 checks passed"}},
		{"noconfigs", 1, []string{"cluster", `DescribeConfigs\s+FAIL`, "EVENT_SOURCE_AUTHZ_ERROR: Cluster failed to authorize Penstock",
			"fix: grant the principal DescribeConfigs on the cluster", "1 of 9 checks failed"}},
		{"noread", 1, []string{"topic read", "orders", "FAIL", "EVENT_SOURCE_AUTHZ_ERROR: Cluster failed to authorize Penstock: not authorized to read the topic's records",
			"fix: grant the principal Read on topic orders", "1 of 9 checks failed"}},
		{"groupdescribe", 1, []string{"group read", "g", "FAIL", "not authorized to join the group", "fix: grant the principal Read on group g", "1 of 9 checks failed"}},
		{"nogroup", 1, []string{"group", "FAIL", "not authorized to describe the group or read its offsets", "fix: grant the principal Describe and Read on group g", "1 of 8 checks failed"}},
	} {
		t.Run(c.user, func(t *testing.T) {
			t.Setenv("KAFKA_USER", c.user)
			t.Setenv("KAFKA_PASSWORD", c.user+"-pw")
			auth := "consumer_group_id: g\ntls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: SASL_SCRAM_256_AUTH, username: \"env:KAFKA_USER\", password: \"env:KAFKA_PASSWORD\"}"
			code, out, errOut := runCLI("check", checkFile(t, cl.Addrs[0], "orders", auth, map[string][]byte{"ca.pem": ca.PEM}))
			t.Logf("%s:\n%s", c.user, out)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			for _, w := range c.want {
				if !regexp.MustCompile(regexp.QuoteMeta(w)).MatchString(out) && !regexp.MustCompile(w).MatchString(out) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// The broker's name and certificate: a name that does not resolve, a
// certificate for another host name, and one about to expire each fail
// with what to do.
func TestCheckBrokerNameAndCertificate(t *testing.T) {
	ca := kafkatest.NewCA(t, "broker CA")
	files := map[string][]byte{"ca.pem": ca.PEM}
	const tlsOn = "tls: {root_ca: \"file:ca.pem\"}"
	otherName, otherKey := ca.IssueServer(t, time.Now().Add(365*24*time.Hour), []string{"kafka-1.example.internal"}, nil)
	wrongHost := kafkatest.StartSecure(t, kafkatest.SecureOptions{ServerCA: ca, ServerCert: otherName, ServerKey: otherKey, Topics: []string{"orders"}})
	soonCert, soonKey := ca.IssueServer(t, time.Now().Add(3*24*time.Hour), []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	expiring := kafkatest.StartSecure(t, kafkatest.SecureOptions{ServerCA: ca, ServerCert: soonCert, ServerKey: soonKey, Topics: []string{"orders"}})

	clientCA := kafkatest.NewCA(t, "client CA")
	mtls := kafkatest.StartSecure(t, kafkatest.SecureOptions{ServerCA: ca, ClientCA: clientCA, Topics: []string{"orders"}})
	chain, _ := clientCA.Issue(t, "penstock", true)
	_, otherKey2 := clientCA.Issue(t, "someone else", true)
	files["client.pem"], files["other-key.pem"] = chain, otherKey2

	for _, c := range []struct {
		name, addr string
		yaml       string
		want       []string
	}{
		{"broker wants a client certificate", mtls.Addrs[0], "", []string{"tls", "FAIL", "EVENT_SOURCE_AUTHN_ERROR: Server failed to authenticate Penstock",
			"fix: the broker requires a client certificate it trusts"}},
		{"client key of another certificate", mtls.Addrs[0],
			"auth: {mechanism: CLIENT_CERTIFICATE_TLS_AUTH, certificate: \"file:client.pem\", private_key: \"file:other-key.pem\"}",
			[]string{"credentials", "FAIL", "EVENT_SOURCE_AUTHN_ERROR: /", "Provided certificate or private key is invalid: the private key does not belong to the client certificate", "fix: use the certificate chain"}},
		{"name does not resolve", "kafka-1.penstock.invalid:9094", "", []string{"dns", "FAIL", "ESM_CONFIG_NOT_VALID", "fix: check the host name in bootstrap_servers"}},
		{"certificate for another host", wrongHost.Addrs[0], "", []string{"tls", "FAIL", "EVENT_SOURCE_AUTHN_ERROR: Penstock failed to authenticate the server",
			"fix: the broker's certificate is not for 127.0.0.1: connect with a name it lists (kafka-1.example.internal), or set tls.server_name to one"}},
		{"certificate about to expire", expiring.Addrs[0], "", []string{"tls", "FAIL", "(2 days)", "fix: the broker's certificate expires in less than 14 days: renew it"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI("check", checkFile(t, c.addr, "orders", tlsOn+"\n"+c.yaml, files))
			t.Logf("%s:\n%s", c.name, out)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
