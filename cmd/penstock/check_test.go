package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if code != 0 || !strings.Contains(out, "all 6 checks passed") || !strings.Contains(out, "3 partitions") {
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
