package engine

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/penstock-dev/penstock/internal/kafkatest"
	"github.com/penstock-dev/penstock/internal/logtest"
	"github.com/penstock-dev/penstock/internal/mskapi"
)

// An MSK cluster's bootstrap brokers are resolved again when the ones the
// pipeline knows stop answering: after the cluster's broker moved to
// another address (here, restarted from its data on another port), the
// running pipeline finds it through kafka:GetBootstrapBrokers and goes on
// consuming from its committed offsets, without a restart.
func TestMSKBootstrapBrokersChangeOnReconnect(t *testing.T) {
	ca := kafkatest.NewCA(t, "MSK CA")
	opts := kafkatest.SecureOptions{ServerCA: ca, Topics: []string{"orders"}, Extra: []kfake.Opt{kfake.DataDir(t.TempDir())}}
	before := kafkatest.StartSecure(t, opts)
	kafkatest.ProduceSync(t, before.SecureProducer(t, opts), orderRecords(10))
	awsEnv(t, "AKIDMSK", "msk-secret")
	api, err := mskapi.Start(mskapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDMSK", SecretAccessKey: "msk-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	const arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/6a1e2b3c-1111-2222-3333-444455556666-2"
	api.AddCluster(arn, mskapi.Brokers{TLS: before.Addrs[0]})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.PEM, 0o600)
	yaml := fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {msk: {cluster_arn: %q, endpoint_url: %q}, topic: orders, starting_position: TRIM_HORIZON, session_timeout: 2s,
      tls: {root_ca: "file:ca.pem"}}}
    batch: {window: 10ms}
    target: {file: {path: out.jsonl}}
`, arn, api.URL())
	var logs logtest.Buffer
	startYAML(t, dir, yaml, &logs, Overrides{SkipPreflight: true})
	out := filepath.Join(dir, "out.jsonl")
	waitLines(t, out, 10)
	resolved := api.Requests("GetBootstrapBrokers")

	before.Close()
	opts.Extra = append(opts.Extra, kfake.Ports(otherPort(t, before.Addrs[0])))
	after := kafkatest.StartSecure(t, opts)
	kafkatest.ProduceSync(t, after.SecureProducer(t, opts), orderRecords(7))
	api.AddCluster(arn, mskapi.Brokers{TLS: after.Addrs[0]})
	deadline := time.Now().Add(60 * time.Second)
	for lines(out) < 17 {
		if time.Now().After(deadline) {
			t.Fatalf("%d records after the brokers moved; log:\n%s", lines(out), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if api.Requests("GetBootstrapBrokers") <= resolved {
		t.Fatal("the bootstrap brokers were not resolved again")
	}
	if !strings.Contains(logs.String(), "bootstrap brokers changed") || !strings.Contains(logs.String(), after.Addrs[0]) {
		t.Fatalf("log does not say the brokers changed:\n%s", logs.String())
	}
}

// otherPort returns a free loopback port other than addr's.
func otherPort(t *testing.T, addr string) int {
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !strings.HasSuffix(addr, fmt.Sprintf(":%d", port)) {
			return port
		}
	}
}
