package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/logtest"
	"github.com/penstock-dev/penstock/internal/mskapi"
	"github.com/penstock-dev/penstock/internal/secretsapi"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/pipeline/config"
)

type pipelineStats = pipeline.Stats

// authCase is one access mode, consumed end to end from a pipelines file.
type authCase struct {
	name    string
	cluster kafkatest.SecureOptions
	// yaml is the source's tls and auth blocks; files (relative to the
	// config file) are written first; env is set.
	yaml  string
	files map[string][]byte
	env   map[string]string
}

// runAuthCase starts the case's cluster, produces 50 records, runs the
// pipeline from YAML into a file and waits until all 50 are committed. It
// returns the log the run wrote.
func runAuthCase(t *testing.T, c authCase) string {
	t.Helper()
	if len(c.cluster.Topics) == 0 {
		c.cluster.Topics = []string{"orders"}
	}
	cl := kafkatest.StartSecure(t, c.cluster)
	dir := t.TempDir()
	for name, b := range c.files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range c.env {
		t.Setenv(k, v)
	}
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source:
      kafka:
        bootstrap_servers: [%q]
        topic: orders
        starting_position: TRIM_HORIZON
        session_timeout: 2s
%s
    batch: {window: 10ms}
    target: {file: {path: out.jsonl}}
`, cl.Addrs[0], indent(c.yaml, "        "))
	var logs logtest.Buffer
	e := startYAML(t, dir, yaml, &logs, Overrides{})
	kafkatest.ProduceSync(t, cl.SecureProducer(t, c.cluster), orderRecords(50))
	waitCommitted(t, e, 50)
	if n := lines(filepath.Join(dir, "out.jsonl")); n != 50 {
		t.Fatalf("%d records delivered, want 50", n)
	}
	return logs.String()
}

func indent(s, pre string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		b.WriteString(pre + l + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// writeEncryptedKey encrypts a PKCS#8 key with openssl (an independent
// implementation) using the given scheme flags.
func writeEncryptedKey(t *testing.T, key []byte, pass string, flags ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skipf("openssl is not installed: the encrypted-key case needs it to make its fixture (internal/tlsconf covers the decryption itself)")
	}
	args := append([]string{"pkcs8", "-topk8", "-passout", "pass:" + pass}, flags...)
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(key)
	out, err := cmd.Output()
	if err != nil {
		cmd = exec.Command("openssl", append(args, "-provider", "legacy", "-provider", "default")...)
		cmd.Stdin = bytes.NewReader(key)
		if out, err = cmd.Output(); err != nil {
			t.Fatalf("openssl %v: %v", args, err)
		}
	}
	return out
}

// Every access mode consumes records end to end, from a pipelines file, with
// credentials from env, file and Secrets Manager references.
func TestAccessModesEndToEnd(t *testing.T) {
	ca := kafkatest.NewCA(t, "broker CA")
	clientCA := kafkatest.NewCA(t, "client CA")
	chain, key := clientCA.Issue(t, "penstock", true)

	sm, err := secretsapi.Start(secretsapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDSM", SecretAccessKey: "sm-secret", AccountID: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	scramSecret, _ := json.Marshal(map[string]string{"username": "bob", "password": "bob-password-512"})
	sm.Put("prod/kafka-scram", string(scramSecret))
	mtlsSecret, _ := json.Marshal(map[string]string{"certificate": string(chain), "privateKey": string(key)})
	sm.Put("prod/kafka-mtls", string(mtlsSecret))
	smEnv := map[string]string{"PENSTOCK_SECRETSMANAGER_ENDPOINT": sm.URL(), "AWS_REGION": "eu-west-1"}
	awsEnv(t, "AKIDSM", "sm-secret")

	admin := kafkatest.User{Method: "SCRAM-SHA-256", Name: "admin", Password: "admin-password"}
	cases := []authCase{
		{name: "TLS with a private root CA", cluster: kafkatest.SecureOptions{ServerCA: ca},
			yaml: "tls: {root_ca: \"file:ca.pem\"}", files: map[string][]byte{"ca.pem": ca.PEM}},
		{name: "SASL/PLAIN (BASIC_AUTH) from files", cluster: kafkatest.SecureOptions{ServerCA: ca,
			Users: []kafkatest.User{admin, {Method: "PLAIN", Name: "alice", Password: "alice-password"}}},
			yaml:  "tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: BASIC_AUTH, username: \"file:user\", password: \"file:pass\"}",
			files: map[string][]byte{"ca.pem": ca.PEM, "user": []byte("alice\n"), "pass": []byte("alice-password\n")}},
		{name: "SASL/SCRAM-SHA-256 from the environment", cluster: kafkatest.SecureOptions{ServerCA: ca,
			Users: []kafkatest.User{admin, {Method: "SCRAM-SHA-256", Name: "carol", Password: "carol-password-256"}}},
			yaml:  "tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: SASL_SCRAM_256_AUTH, username: \"env:KAFKA_USER\", password: \"env:KAFKA_PASSWORD\"}",
			files: map[string][]byte{"ca.pem": ca.PEM}, env: map[string]string{"KAFKA_USER": "carol", "KAFKA_PASSWORD": "carol-password-256"}},
		{name: "SASL/SCRAM-SHA-512 from Secrets Manager", cluster: kafkatest.SecureOptions{ServerCA: ca,
			Users: []kafkatest.User{admin, {Method: "SCRAM-SHA-512", Name: "bob", Password: "bob-password-512"}}},
			yaml:  "tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: SASL_SCRAM_512_AUTH, secret: \"secretsmanager:prod/kafka-scram\"}",
			files: map[string][]byte{"ca.pem": ca.PEM}, env: smEnv},
		{name: "client certificate from Secrets Manager", cluster: kafkatest.SecureOptions{ServerCA: ca, ClientCA: clientCA},
			yaml:  "tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: CLIENT_CERTIFICATE_TLS_AUTH, secret: \"secretsmanager:prod/kafka-mtls\"}",
			files: map[string][]byte{"ca.pem": ca.PEM}, env: smEnv},
		{name: "client certificate with a PBES2-encrypted key", cluster: kafkatest.SecureOptions{ServerCA: ca, ClientCA: clientCA},
			yaml:  "tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: CLIENT_CERTIFICATE_TLS_AUTH, certificate: \"file:client.pem\", private_key: \"file:client.key\", private_key_password: \"env:KEY_PASSWORD\"}",
			files: map[string][]byte{"ca.pem": ca.PEM, "client.pem": chain, "client.key": nil}, env: map[string]string{"KEY_PASSWORD": "key-pass"}},
		{name: "client certificate with a PBES1-encrypted key", cluster: kafkatest.SecureOptions{ServerCA: ca, ClientCA: clientCA},
			yaml:  "tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: CLIENT_CERTIFICATE_TLS_AUTH, certificate: \"file:client.pem\", private_key: \"file:client.key\", private_key_password: \"env:KEY_PASSWORD\"}",
			files: map[string][]byte{"ca.pem": ca.PEM, "client.pem": chain, "client.key": nil}, env: map[string]string{"KEY_PASSWORD": "key-pass"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			switch {
			case strings.Contains(c.name, "PBES2"):
				c.files["client.key"] = writeEncryptedKey(t, key, "key-pass", "-v2", "aes256", "-v2prf", "hmacWithSHA256")
			case strings.Contains(c.name, "PBES1"):
				c.files["client.key"] = writeEncryptedKey(t, key, "key-pass", "-v1", "PBE-SHA1-3DES")
			}
			logs := runAuthCase(t, c)
			for _, secret := range []string{"alice-password", "carol-password-256", "bob-password-512", "key-pass", "PRIVATE KEY"} {
				if strings.Contains(logs, secret) {
					t.Fatalf("a secret value appears in the log:\n%s", logs)
				}
			}
		})
	}
}

// Each misconfigured access reports its ESM error in the pipeline's
// status, and no secret value appears in the log or the status.
func TestAccessFailuresAreReported(t *testing.T) {
	ca := kafkatest.NewCA(t, "broker CA")
	otherCA := kafkatest.NewCA(t, "someone else's CA")
	clientCA := kafkatest.NewCA(t, "client CA")
	admin := kafkatest.User{Method: "SCRAM-SHA-256", Name: "admin", Password: "admin-password"}
	for _, c := range []struct {
		name    string
		cluster kafkatest.SecureOptions
		yaml    string
		files   map[string][]byte
		env     map[string]string
		want    string
	}{
		{"wrong password", kafkatest.SecureOptions{ServerCA: ca, Users: []kafkatest.User{admin, {Method: "SCRAM-SHA-256", Name: "carol", Password: "carol-right-password"}}},
			"tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: SASL_SCRAM_256_AUTH, username: \"env:KAFKA_USER\", password: \"env:KAFKA_PASSWORD\"}",
			map[string][]byte{"ca.pem": ca.PEM}, map[string]string{"KAFKA_USER": "carol", "KAFKA_PASSWORD": "carol-wrong-password"},
			"EVENT_SOURCE_AUTHN_ERROR: SASL authentication failed"},
		{"unknown user", kafkatest.SecureOptions{ServerCA: ca, Users: []kafkatest.User{admin}},
			"tls: {root_ca: \"file:ca.pem\"}\nauth: {mechanism: SASL_SCRAM_256_AUTH, username: \"env:KAFKA_USER\", password: \"env:KAFKA_PASSWORD\"}",
			map[string][]byte{"ca.pem": ca.PEM}, map[string]string{"KAFKA_USER": "mallory", "KAFKA_PASSWORD": "mallory-password"},
			"EVENT_SOURCE_AUTHN_ERROR: SASL authentication failed"},
		{"server certificate from an untrusted CA", kafkatest.SecureOptions{ServerCA: ca},
			"tls: {root_ca: \"file:ca.pem\"}", map[string][]byte{"ca.pem": otherCA.PEM}, nil,
			"EVENT_SOURCE_AUTHN_ERROR: Penstock failed to authenticate the server"},
		{"no client certificate where one is required", kafkatest.SecureOptions{ServerCA: ca, ClientCA: clientCA},
			"tls: {root_ca: \"file:ca.pem\"}", map[string][]byte{"ca.pem": ca.PEM}, nil,
			"EVENT_SOURCE_AUTHN_ERROR: Server failed to authenticate Penstock"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cluster.Topics = []string{"orders"}
			cl := kafkatest.StartSecure(t, c.cluster)
			dir := t.TempDir()
			for name, b := range c.files {
				os.WriteFile(filepath.Join(dir, name), b, 0o600)
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			yaml := fmt.Sprintf("version: 1\npipelines:\n  - name: orders\n    source:\n      kafka:\n        bootstrap_servers: [%q]\n        topic: orders\n        starting_position: TRIM_HORIZON\n%s\n    target: {stdout: {}}\n",
				cl.Addrs[0], indent(c.yaml, "        "))
			f, err := config.Parse(filepath.Join(dir, "pipelines.yaml"), []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			var logs logtest.Buffer
			e := New(slog.New(slog.NewTextHandler(&logs, nil)), Overrides{})
			if err := e.Start(f); err != nil {
				t.Fatal(err)
			}
			defer e.StopAll()
			deadline := time.Now().Add(15 * time.Second)
			var got string
			for time.Now().Before(deadline) {
				if got = e.Pipelines()[0].Stats().LastProcessingResult; got == c.want {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got != c.want {
				t.Fatalf("last processing result %q, want %q\n%s", got, c.want, logs.String())
			}
			status := fmt.Sprintf("%+v", e.Pipelines()[0].Stats())
			for _, secret := range []string{"carol-wrong-password", "carol-right-password", "mallory-password"} {
				if strings.Contains(logs.String(), secret) || strings.Contains(status, secret) {
					t.Fatalf("a secret value appears in the log or status")
				}
			}
		})
	}
}

// ACLs: a user allowed to read the topic and the group consumes; a user
// the group is denied to stops its pipeline with EVENT_SOURCE_AUTHZ_ERROR,
// while another pipeline of the same process goes on.
func TestACLsAllowAndDeny(t *testing.T) {
	ca := kafkatest.NewCA(t, "broker CA")
	read := func(res kmsg.ACLResourceType, name string) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationRead, Allow: true}
	}
	describe := func(res kmsg.ACLResourceType, name string) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationDescribe, Allow: true}
	}
	opts := kafkatest.SecureOptions{ServerCA: ca, ACLs: true, Topics: []string{"orders"}, Users: []kafkatest.User{
		{Method: "SCRAM-SHA-256", Name: "admin", Password: "admin-pw"},
		{Method: "SCRAM-SHA-256", Name: "reader", Password: "reader-pw", ACLs: []kfake.ACL{
			read(kmsg.ACLResourceTypeTopic, "orders"), describe(kmsg.ACLResourceTypeTopic, "orders"), read(kmsg.ACLResourceTypeGroup, "allowed-group")}},
		{Method: "SCRAM-SHA-256", Name: "nogroup", Password: "nogroup-pw", ACLs: []kfake.ACL{
			read(kmsg.ACLResourceTypeTopic, "orders"), describe(kmsg.ACLResourceTypeTopic, "orders")}},
	}}
	cl := kafkatest.StartSecure(t, opts)
	kafkatest.ProduceSync(t, cl.SecureProducer(t, opts), orderRecords(20))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o600)
	t.Setenv("READER_PW", "reader-pw")
	t.Setenv("NOGROUP_PW", "nogroup-pw")
	src := func(user, group string) string {
		return fmt.Sprintf(`{kafka: {bootstrap_servers: [%q], topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s, consumer_group_id: %s,
        tls: {root_ca: "file:ca.pem"}, auth: {mechanism: SASL_SCRAM_256_AUTH, username: "env:%s_USER", password: "env:%s_PW"}}}`,
			cl.Addrs[0], group, strings.ToUpper(user), strings.ToUpper(user))
	}
	t.Setenv("READER_USER", "reader")
	t.Setenv("NOGROUP_USER", "nogroup")
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: allowed
    source: %s
    batch: {window: 10ms}
    target: {file: {path: out.jsonl}}
  - name: denied
    source: %s
    target: {stdout: {}}
`, src("reader", "allowed-group"), src("nogroup", "denied-group"))
	e := startYAML(t, dir, yaml, nil, Overrides{})
	byName := func(n string) pipelineStats {
		for _, p := range e.Pipelines() {
			if p.Name() == n {
				return p.Stats()
			}
		}
		return pipelineStats{}
	}
	deadline := time.Now().Add(20 * time.Second)
	for byName("denied").State != "Failed" || lines(filepath.Join(dir, "out.jsonl")) < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("allowed delivered %d; denied %+v", lines(filepath.Join(dir, "out.jsonl")), byName("denied"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	d := byName("denied")
	if d.Reason != "EVENT_SOURCE_AUTHZ_ERROR" || !strings.Contains(d.LastError, "GROUP_AUTHORIZATION_FAILED") {
		t.Fatalf("denied pipeline: reason %q, error %q", d.Reason, d.LastError)
	}
	if a := byName("allowed"); a.State != "Enabled" {
		t.Fatalf("the allowed pipeline is %s", a.State)
	}
}

// A password rotated in Secrets Manager is picked up without a restart: the
// refused credentials are dropped from the cache, and the next connection
// reads the secret again.
func TestRotatedSecretPickedUpWithoutRestart(t *testing.T) {
	ca := kafkatest.NewCA(t, "broker CA")
	sm, err := secretsapi.Start(secretsapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDSM", SecretAccessKey: "sm-secret", AccountID: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	old, _ := json.Marshal(map[string]string{"username": "dave", "password": "dave-old-password"})
	sm.Put("prod/kafka", string(old))
	awsEnv(t, "AKIDSM", "sm-secret")
	t.Setenv("PENSTOCK_SECRETSMANAGER_ENDPOINT", sm.URL())
	t.Setenv("AWS_REGION", "eu-west-1")
	opts := kafkatest.SecureOptions{ServerCA: ca, Topics: []string{"orders"}, Users: []kafkatest.User{
		{Method: "SCRAM-SHA-512", Name: "admin", Password: "admin-pw"},
		{Method: "SCRAM-SHA-512", Name: "dave", Password: "dave-new-password"}}}
	cl := kafkatest.StartSecure(t, opts)
	kafkatest.ProduceSync(t, cl.SecureProducer(t, opts), orderRecords(10))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o600)
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: [%q], topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s,
      tls: {root_ca: "file:ca.pem"}, auth: {mechanism: SASL_SCRAM_512_AUTH, secret: "secretsmanager:prod/kafka"}}}
    batch: {window: 10ms}
    target: {file: {path: out.jsonl}}
`, cl.Addrs[0])
	var logs logtest.Buffer
	e := startYAML(t, dir, yaml, &logs, Overrides{})
	deadline := time.Now().Add(15 * time.Second)
	for e.Pipelines()[0].Stats().LastProcessingResult != "EVENT_SOURCE_AUTHN_ERROR: SASL authentication failed" {
		if time.Now().After(deadline) {
			t.Fatalf("the old password was not refused: %+v", e.Pipelines()[0].Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	rotated, _ := json.Marshal(map[string]string{"username": "dave", "password": "dave-new-password"})
	sm.Put("prod/kafka", string(rotated))
	waitCommitted(t, e, 10)
	if r := e.Pipelines()[0].Stats().LastProcessingResult; r != "OK" {
		t.Fatalf("last processing result %q after the rotation", r)
	}
	if strings.Contains(logs.String(), "dave-old-password") || strings.Contains(logs.String(), "dave-new-password") {
		t.Fatal("a secret value appears in the log")
	}
}

// An MSK cluster named by its ARN: the brokers are looked up with
// GetBootstrapBrokers (against a local MSK API endpoint), the SCRAM
// listener is chosen for SCRAM credentials, and the records are consumed.
// A cluster without the listener the access mode needs is an error that
// does not fall back to another listener.
func TestMSKClusterARN(t *testing.T) {
	ca := kafkatest.NewCA(t, "MSK CA")
	opts := kafkatest.SecureOptions{ServerCA: ca, Topics: []string{"orders"}, Users: []kafkatest.User{
		{Method: "SCRAM-SHA-512", Name: "admin", Password: "admin-pw"}, {Method: "SCRAM-SHA-512", Name: "erin", Password: "erin-pw"}}}
	cl := kafkatest.StartSecure(t, opts)
	kafkatest.ProduceSync(t, cl.SecureProducer(t, opts), orderRecords(10))
	awsEnv(t, "AKIDMSK", "msk-secret")
	api, err := mskapi.Start(mskapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDMSK", SecretAccessKey: "msk-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	const arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/6a1e2b3c-1111-2222-3333-444455556666-2"
	const tlsOnly = "arn:aws:kafka:eu-west-1:123456789012:cluster/tls-only/6a1e2b3c-1111-2222-3333-444455556666-2"
	api.AddCluster(arn, mskapi.Brokers{SaslScram: cl.Addrs[0], TLS: "127.0.0.1:1"})
	api.AddCluster(tlsOnly, mskapi.Brokers{TLS: cl.Addrs[0]})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o600)
	t.Setenv("ERIN_USER", "erin")
	t.Setenv("ERIN_PW", "erin-pw")
	yaml := func(cluster string) string {
		return fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {msk: {cluster_arn: %q, endpoint_url: %q}, topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s,
      tls: {root_ca: "file:ca.pem"}, auth: {mechanism: SASL_SCRAM_512_AUTH, username: "env:ERIN_USER", password: "env:ERIN_PW"}}}
    batch: {window: 10ms}
    target: {file: {path: out.jsonl}}
`, cluster, api.URL())
	}
	f, err := config.Parse(filepath.Join(dir, "pipelines.yaml"), []byte(yaml(arn)))
	if err != nil {
		t.Fatal(err)
	}
	e := New(slog.New(slog.DiscardHandler), Overrides{})
	if err := e.Start(f); err != nil {
		t.Fatal(err)
	}
	defer e.StopAll()
	waitCommitted(t, e, 10)

	f, err = config.Parse(filepath.Join(dir, "pipelines.yaml"), []byte(yaml(tlsOnly)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(f, &f.Pipelines[0], Overrides{}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "ESM_CONFIG_NOT_VALID") || !strings.Contains(err.Error(), "SaslScram") {
		t.Fatalf("a cluster without a SCRAM listener: %v", err)
	}
}

// Bad client certificate material is refused when the pipeline starts,
// with Lambda's message and the reason: a key of another certificate, a
// chain in the wrong order, a wrong key password.
func TestInvalidClientCertificate(t *testing.T) {
	ca := kafkatest.NewCA(t, "client CA")
	chain, key := ca.Issue(t, "penstock", true)
	_, otherKey := ca.Issue(t, "someone else", true)
	blocks := bytes.SplitAfter(chain, []byte("-----END CERTIFICATE-----\n"))
	reversed := append(append([]byte{}, blocks[1]...), blocks[0]...)
	encrypted := writeEncryptedKey(t, key, "right-pass", "-v2", "aes256")
	for _, c := range []struct {
		name       string
		chain, key []byte
		password   string
		want       string
	}{
		{"key of another certificate", chain, otherKey, "", "does not belong to the client certificate"},
		{"chain in the wrong order", reversed, key, "", "out of order"},
		{"wrong key password", chain, encrypted, "wrong-pass", "privatekeypassword is wrong"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "client.pem"), c.chain, 0o600)
			os.WriteFile(filepath.Join(dir, "client.key"), c.key, 0o600)
			t.Setenv("KEY_PASSWORD", c.password)
			pw := ""
			if c.password != "" {
				pw = `, private_key_password: "env:KEY_PASSWORD"`
			}
			yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: ["127.0.0.1:9094"], topic: orders, starting_position: LATEST,
      auth: {mechanism: CLIENT_CERTIFICATE_TLS_AUTH, certificate: "file:client.pem", private_key: "file:client.key"%s}}}
    target: {stdout: {}}
`, pw)
			f, err := config.Parse(filepath.Join(dir, "pipelines.yaml"), []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Build(f, &f.Pipelines[0], Overrides{}, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), "Provided certificate or private key is invalid") ||
				!strings.Contains(strings.ToLower(err.Error()), c.want) || !strings.Contains(err.Error(), "pipelines.yaml:5:") {
				t.Fatalf("error %v: want Lambda's message, %q, and the line", err, c.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "wrong-pass") {
				t.Fatal("key material or password in the error")
			}
		})
	}
}
