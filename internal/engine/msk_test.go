package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/penstock-dev/penstock/internal/mskapi"
	"github.com/penstock-dev/penstock/pipeline/config"
)

// The MSK lookup of a cluster's brokers is made once, at start or when
// the brokers change, outside any pipeline retry: throttled, it is tried
// again with backoff; throttled three times in a row, the error says so.
func TestMSKLookupRetriesThrottling(t *testing.T) {
	shortBackoff(t)
	awsEnv(t, "AKIDMSK", "msk-secret")
	api, err := mskapi.Start(mskapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDMSK", SecretAccessKey: "msk-secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	const arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/6a1e2b3c-1111-2222-3333-444455556666-2"
	api.AddCluster(arn, mskapi.Brokers{SaslScram: "b-1.orders.kafka.eu-west-1.amazonaws.com:9096,b-2.orders.kafka.eu-west-1.amazonaws.com:9096"})
	f, err := config.Parse(filepath.Join(t.TempDir(), "pipelines.yaml"), []byte(fmt.Sprintf(`version: 1
pipelines:
  - name: orders
    source: {kafka: {msk: {cluster_arn: %q, endpoint_url: %q}, topic: orders, starting_position: LATEST, tls: {},
      auth: {mechanism: SASL_SCRAM_512_AUTH, username: "env:U", password: "env:P"}}}
    target: {file: {path: out.jsonl}}
`, arn, api.URL())))
	if err != nil {
		t.Fatal(err)
	}
	pc := &f.Pipelines[0]

	api.Throttle(2)
	brokers, err := mskBrokers(context.Background(), f, pc)
	want := []string{"b-1.orders.kafka.eu-west-1.amazonaws.com:9096", "b-2.orders.kafka.eu-west-1.amazonaws.com:9096"}
	if err != nil || !slices.Equal(brokers, want) {
		t.Fatalf("brokers %v, %v; want %v", brokers, err, want)
	}
	if n := api.Requests("DescribeClusterV2") + api.Requests("GetBootstrapBrokers"); n != 4 {
		t.Errorf("%d MSK requests, want 4 (two throttled)", n)
	}

	api.Throttle(3)
	if _, err := mskBrokers(context.Background(), f, pc); err == nil || !strings.Contains(err.Error(), "TooManyRequestsException") {
		t.Errorf("throttled three times: %v, want the TooManyRequestsException", err)
	}
}
