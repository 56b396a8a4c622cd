package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/lambdaapi"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/lambda"
)

const (
	region = "eu-west-1"
	key    = "AKIDPENSTOCK"
	secret = "penstock-test-secret"
	fnARN  = "arn:aws:lambda:eu-west-1:123456789012:function:handle-orders"
)

// endpoint starts a local Lambda Invoke API that checks SigV4 signatures.
func endpoint(t testing.TB, h lambdaapi.HandlerFunc) *lambdaapi.Server {
	t.Helper()
	srv, err := lambdaapi.Start(lambdaapi.Options{Region: region, AccessKeyID: key, SecretAccessKey: secret, AccountID: "123456789012", Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n := srv.SignatureFailures(); n > 0 {
			t.Errorf("%d requests failed signature verification", n)
		}
		srv.Close()
	})
	return srv
}

// target returns a Lambda target using the real SDK client against srv.
func target(t testing.TB, srv *lambdaapi.Server, o lambda.Options) *lambda.Target {
	t.Helper()
	c := awslambda.New(awslambda.Options{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
	inv, err := lambda.NewAWSFunction(c, fnARN, "", region)
	if err != nil {
		t.Fatal(err)
	}
	o.Invoker = inv
	if o.Source.BootstrapServers == "" {
		o.Source = esm.Source{BootstrapServers: "b-1:9092,b-2:9092"}
	}
	tg, err := lambda.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func batch(n int, value string) *pipeline.Batch {
	recs := make([]pipeline.Record, n)
	for i := range recs {
		recs[i] = pipeline.Record{Topic: "orders", Partition: 3, Offset: int64(100 + i), Timestamp: 1700000000000 + int64(i),
			Key: fmt.Appendf(nil, "k%d", i), Value: []byte(value), Headers: []pipeline.Header{{Key: "h", Value: []byte{1, 200}}}}
	}
	return pipeline.NewBatch(pipeline.TopicPartition{Topic: "orders", Partition: 3}, recs)
}

// events decodes the payloads an endpoint received as aws-lambda-go events.
type eventLog struct {
	mu   sync.Mutex
	evs  []events.KafkaEvent
	size []int
}

func (l *eventLog) handler(next lambdaapi.HandlerFunc) lambdaapi.HandlerFunc {
	return func(ctx context.Context, inv *lambdaapi.Invocation) lambdaapi.Reply {
		var ev events.KafkaEvent
		if err := json.Unmarshal(inv.Payload, &ev); err != nil {
			return lambdaapi.Reply{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"bad event"}`)}
		}
		l.mu.Lock()
		l.evs = append(l.evs, ev)
		l.size = append(l.size, len(inv.Payload))
		l.mu.Unlock()
		if next != nil {
			return next(ctx, inv)
		}
		return lambdaapi.Reply{Payload: []byte(`null`)}
	}
}

func (l *eventLog) offsets() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int64
	for _, ev := range l.evs {
		for _, r := range ev.Records["orders-3"] {
			out = append(out, r.Offset)
		}
	}
	return out
}

func TestDeliverInvokesWithESMEvent(t *testing.T) {
	var log eventLog
	srv := endpoint(t, log.handler(nil))
	tg := target(t, srv, lambda.Options{})
	b := batch(5, `{"id":1}`)
	b.Status[2] = pipeline.Filtered
	res, err := tg.Deliver(context.Background(), b)
	if err != nil || res.Partial {
		t.Fatalf("Deliver: %v %+v", err, res)
	}
	if len(log.evs) != 1 {
		t.Fatalf("%d invocations, want 1", len(log.evs))
	}
	ev := log.evs[0]
	if ev.EventSource != "SelfManagedKafka" || ev.BootstrapServers != "b-1:9092,b-2:9092" {
		t.Fatalf("envelope %+v", ev)
	}
	if got := log.offsets(); !slices.Equal(got, []int64{100, 101, 103, 104}) {
		t.Fatalf("offsets %v: the filtered record must not be sent", got)
	}
	r := ev.Records["orders-3"][0]
	if string(r.Headers[0]["h"]) != "\x01\xc8" || r.Value != "eyJpZCI6MX0=" {
		t.Fatalf("record %+v", r)
	}
	if res.Response == nil || res.Response.StatusCode != 200 || res.Response.RequestID == "" || res.Response.ExecutedVersion != "$LATEST" {
		t.Fatalf("response %+v", res.Response)
	}
}

func TestInvokeErrorsAreClassified(t *testing.T) {
	for _, c := range []struct {
		name             string
		h                lambdaapi.HandlerFunc
		permanent, fault bool
	}{
		{"function error", lambdaapi.FunctionFailure("Error", "boom"), false, true},
		{"throttled", lambdaapi.Throttle("1"), false, false},
		{"service error", lambdaapi.ServerError(), false, false},
		{"not found", lambdaapi.NotFound(), true, false},
		{"access denied", lambdaapi.Respond(lambdaapi.Reply{Status: 403, ErrorType: "AccessDeniedException", Message: "denied"}), true, false},
		{"too large", lambdaapi.Respond(lambdaapi.Reply{Status: 413, ErrorType: "RequestTooLargeException", Message: "big"}), false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := endpoint(t, c.h)
			tg := target(t, srv, lambda.Options{})
			_, err := tg.Deliver(context.Background(), batch(3, "x"))
			if err == nil {
				t.Fatal("no error")
			}
			if pipeline.IsPermanent(err) != c.permanent || pipeline.IsBatchFault(err) != c.fault {
				t.Fatalf("%v: permanent %v fault %v, want %v %v", err, pipeline.IsPermanent(err), pipeline.IsBatchFault(err), c.permanent, c.fault)
			}
			var pe *pipeline.PermanentError
			if c.permanent && (!errors.As(err, &pe) || pe.Reason != lambda.ConfigNotValid) {
				t.Fatalf("permanent error without reason %s: %v", lambda.ConfigNotValid, err)
			}
		})
	}
}

func TestPartialBatchResponse(t *testing.T) {
	for _, c := range []struct {
		name     string
		response string
		failed   []int64 // offsets marked Failed
		fault    bool    // the whole invocation failed
	}{
		{"empty list", `{"batchItemFailures":[]}`, nil, false},
		{"null list", `{"batchItemFailures":null}`, nil, false},
		{"null response", `null`, nil, false},
		{"no response", ``, nil, false},
		{"other json", `{"ok":true}`, nil, false},
		{"one failure", `{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-3","offset":102}}]}`, []int64{102, 103, 104}, false},
		{"lowest wins", `{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-3","offset":104}},{"itemIdentifier":{"partition":"orders-3","offset":101}}]}`, []int64{101, 102, 103, 104}, false},
		{"offset as string", `{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-3","offset":"103"}}]}`, []int64{103, 104}, false},
		{"null identifier", `{"batchItemFailures":[{"itemIdentifier":null}]}`, nil, true},
		{"empty identifier", `{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, true},
		{"string identifier", `{"batchItemFailures":[{"itemIdentifier":"orders-3-102"}]}`, nil, true},
		{"wrong key", `{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-3","offst":102}}]}`, nil, true},
		{"unknown partition", `{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-4","offset":102}}]}`, nil, true},
		{"unknown offset", `{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-3","offset":999}}]}`, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := endpoint(t, lambdaapi.Respond(lambdaapi.Reply{Payload: []byte(c.response)}))
			tg := target(t, srv, lambda.Options{ReportBatchItemFailures: true})
			b := batch(5, "x")
			res, err := tg.Deliver(context.Background(), b)
			if c.fault {
				if !pipeline.IsBatchFault(err) {
					t.Fatalf("want a failed invocation, got %v %+v", err, res)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var failed []int64
			for i, s := range b.Status {
				if s == pipeline.Failed {
					failed = append(failed, b.Records[i].Offset)
				}
			}
			if !slices.Equal(failed, c.failed) || res.Partial != (len(c.failed) > 0) {
				t.Fatalf("failed %v partial %v, want %v", failed, res.Partial, c.failed)
			}
		})
	}
	// Without ReportBatchItemFailures the response is not read.
	srv := endpoint(t, lambdaapi.Respond(lambdaapi.Reply{Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-3","offset":102}}]}`)}))
	res, err := target(t, srv, lambda.Options{}).Deliver(context.Background(), batch(5, "x"))
	if err != nil || res.Partial {
		t.Fatalf("without report_batch_item_failures: %v %+v", err, res)
	}
}

func TestPayloadLimitCutsBatchAndMarksOversizedRecords(t *testing.T) {
	var log eventLog
	srv := endpoint(t, log.handler(nil))
	const limit = 4096
	tg := target(t, srv, lambda.Options{PayloadLimit: limit})
	b := batch(40, strings.Repeat("v", 200))
	b.Records[7].Value = []byte(strings.Repeat("x", 5000)) // alone over the limit
	res, err := tg.Deliver(context.Background(), b)
	if err != nil || res.Partial {
		t.Fatalf("Deliver: %v %+v", err, res)
	}
	if len(log.evs) < 3 {
		t.Fatalf("%d invocations: the batch was not cut", len(log.evs))
	}
	for i, n := range log.size {
		if n > limit {
			t.Fatalf("invocation %d has %d bytes, over the %d limit", i, n, limit)
		}
	}
	var want []int64
	for i := range 40 {
		if i != 7 {
			want = append(want, int64(100+i))
		}
	}
	if got := log.offsets(); !slices.Equal(got, want) {
		t.Fatalf("offsets %v, want every record but 107 once, in order", got)
	}
	if b.Status[7] != pipeline.Oversized {
		t.Fatalf("record 107 status %v, want Oversized", b.Status[7])
	}
}

func TestFailureAfterEarlierCutIsPartial(t *testing.T) {
	var log eventLog
	n := 0
	srv := endpoint(t, log.handler(func(context.Context, *lambdaapi.Invocation) lambdaapi.Reply {
		n++
		if n == 2 {
			return lambdaapi.Reply{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"second part failed"}`)}
		}
		return lambdaapi.Reply{Payload: []byte("null")}
	}))
	tg := target(t, srv, lambda.Options{PayloadLimit: 2048})
	b := batch(20, strings.Repeat("v", 200))
	res, err := tg.Deliver(context.Background(), b)
	if err != nil || !res.Partial {
		t.Fatalf("want a partial result, got %v %+v", err, res)
	}
	first := len(log.evs[0].Records["orders-3"])
	for i, s := range b.Status {
		if want := pipeline.Active; i >= first && s != pipeline.Failed || i < first && s != want {
			t.Fatalf("record %d status %v (first invocation held %d)", i, s, first)
		}
	}
}
