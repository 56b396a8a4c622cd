package kafkatest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/penstock-dev/penstock/internal/interop"
)

// KcatPath returns the path of the kcat binary, librdkafka's command-line
// client. When kcat is not on PATH it skips tb with a message saying so, or
// fails it when PENSTOCK_INTEROP is "require".
func KcatPath(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("kcat")
	if err == nil {
		return p
	}
	msg := "INTEROP NOT RUN: kcat is not installed (apt-get install kcat; .ci/run does so); the franz-go tests still cover the secured clusters"
	if os.Getenv(interop.RequireEnv) == "require" {
		tb.Fatalf("%s [%s=require]", msg, interop.RequireEnv)
	}
	tb.Skip(msg)
	return ""
}

// KcatResult is what a kcat run printed and how it ended.
type KcatResult struct {
	Stdout, Stderr string
	// Err is nil when kcat exited with status 0; otherwise an
	// *exec.ExitError, or an error wrapping context.DeadlineExceeded when
	// kcat was killed for running past its timeout.
	Err error
}

// RunKcat runs kcat with args, feeding it stdin, and kills it if it is still
// running after timeout: librdkafka can keep retrying a broker it cannot
// reach (messages wait 5 minutes by default, a consumer forever), so every
// run needs a bound.
func RunKcat(tb testing.TB, timeout time.Duration, stdin string, args ...string) KcatResult {
	tb.Helper()
	path := KcatPath(tb)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = bytes.NewBufferString(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("kcat killed after %v: %w", timeout, ctx.Err())
	}
	return KcatResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// AdvertiseSASLHandshakeV0 makes c advertise SaslHandshake versions 0-1 in
// its ApiVersions responses instead of kfake's 1-1, leaving every other
// version, and the handling of all requests, as kfake has them.
//
// Apache Kafka brokers, 4.x included, advertise SaslHandshake 0-1.
// librdkafka (and so kcat) decides whether a broker supports SASL at all by
// looking for version 0 in that range, then authenticates with version 1,
// the only one kfake implements. Without this, librdkafka gives up before sending a
// single SASL request: "SASL Handshake not supported by broker (required by
// mechanism ...)". o must be the options c was started with: the ApiVersions
// answer is taken once from c itself, as its superuser.
func (c *Cluster) AdvertiseSASLHandshakeV0(tb testing.TB, o SecureOptions) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := c.SecureProducer(tb, o)
	kresp, err := cl.Request(ctx, kmsg.NewPtrApiVersionsRequest())
	if err != nil {
		tb.Fatalf("ApiVersions: %v", err)
	}
	ref := kresp.(*kmsg.ApiVersionsResponse)
	if err := kerr.ErrorForCode(ref.ErrorCode); err != nil {
		tb.Fatalf("ApiVersions: %v", err)
	}
	var maxApiVersions int16 = -1
	for _, k := range ref.ApiKeys {
		if k.ApiKey == int16(kmsg.ApiVersions) {
			maxApiVersions = k.MaxVersion
		}
	}
	c.ControlKey(int16(kmsg.ApiVersions), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.ApiVersionsRequest)
		if req.Version > maxApiVersions {
			return nil, nil, false // kfake answers with its downgrade response
		}
		resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
		resp.ApiKeys = slices.Clone(ref.ApiKeys)
		for i := range resp.ApiKeys {
			if resp.ApiKeys[i].ApiKey == int16(kmsg.SASLHandshake) {
				resp.ApiKeys[i].MinVersion = 0
			}
		}
		resp.SupportedFeatures = ref.SupportedFeatures
		resp.FinalizedFeatures = ref.FinalizedFeatures
		resp.FinalizedFeaturesEpoch = ref.FinalizedFeaturesEpoch
		return resp, nil, true
	})
}
