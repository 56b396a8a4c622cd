package lambdaapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

const (
	testRegion = "eu-west-1"
	testKey    = "AKIDLOCAL"
	testSecret = "local-secret"
)

func start(t *testing.T, h HandlerFunc) *Server {
	t.Helper()
	srv, err := Start(Options{Region: testRegion, AccessKeyID: testKey, SecretAccessKey: testSecret, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func client(srv *Server, secret string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, secret, ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
}

// recorder is a handler remembering what it was called with.
type recorder struct {
	mu   sync.Mutex
	invs []Invocation
	next HandlerFunc
}

func (r *recorder) handle(ctx context.Context, inv *Invocation) Reply {
	r.mu.Lock()
	r.invs = append(r.invs, *inv)
	r.mu.Unlock()
	if r.next == nil {
		return Reply{Payload: inv.Payload}
	}
	return r.next(ctx, inv)
}

func (r *recorder) last(t *testing.T) Invocation {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.invs) == 0 {
		t.Fatal("handler not called")
	}
	return r.invs[len(r.invs)-1]
}

func TestPayloadRoundTrip(t *testing.T) {
	rec := &recorder{next: func(_ context.Context, inv *Invocation) Reply {
		return Reply{Payload: append([]byte(`{"echo":`), append(inv.Payload, '}')...)}
	}}
	srv := start(t, rec.handle)
	c := client(srv, testSecret)
	in := []byte(`{"key":"k1","value":"héllo wörld","n":[1,2,3]}`)
	out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("my-fn"), Payload: in})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"echo":` + string(in) + `}`; string(out.Payload) != want {
		t.Errorf("payload %s, want %s", out.Payload, want)
	}
	if out.StatusCode != 200 || aws.ToString(out.ExecutedVersion) != "$LATEST" || out.FunctionError != nil {
		t.Errorf("status %d version %q function error %v", out.StatusCode, aws.ToString(out.ExecutedVersion), out.FunctionError)
	}
	inv := rec.last(t)
	if inv.FunctionName != "my-fn" || inv.Qualifier != "" || inv.InvocationType != RequestResponse ||
		!bytes.Equal(inv.Payload, in) || inv.N != 1 || inv.Account != "123456789012" || inv.Region != testRegion {
		t.Errorf("invocation %+v", inv)
	}
	if id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); id != inv.RequestID || id == "" {
		t.Errorf("request id %q, handler saw %q", id, inv.RequestID)
	}
	if srv.Invocations() != 1 || srv.SignatureFailures() != 0 {
		t.Errorf("invocations %d, signature failures %d", srv.Invocations(), srv.SignatureFailures())
	}
}

func TestFunctionNameForms(t *testing.T) {
	rec := &recorder{}
	srv := start(t, rec.handle)
	c := client(srv, testSecret)
	cases := []struct {
		name, qualifier       string
		wantName, wantQual    string
		wantAccount           string
		wantExecutedVersionIs string
	}{
		{name: "fn", wantName: "fn", wantAccount: "123456789012", wantExecutedVersionIs: "$LATEST"},
		{name: "fn:prod", wantName: "fn", wantQual: "prod", wantAccount: "123456789012", wantExecutedVersionIs: "$LATEST"},
		{name: "fn", qualifier: "7", wantName: "fn", wantQual: "7", wantAccount: "123456789012", wantExecutedVersionIs: "7"},
		{name: "arn:aws:lambda:eu-west-1:210987654321:function:my_fn-2:live", wantName: "my_fn-2", wantQual: "live", wantAccount: "210987654321", wantExecutedVersionIs: "$LATEST"},
		{name: "arn:aws:lambda:eu-west-1:210987654321:function:my_fn-2", qualifier: "3", wantName: "my_fn-2", wantQual: "3", wantAccount: "210987654321", wantExecutedVersionIs: "3"},
		{name: "arn:aws:lambda:eu-west-1:210987654321:function:f:$LATEST", wantName: "f", wantQual: "$LATEST", wantAccount: "210987654321", wantExecutedVersionIs: "$LATEST"},
		{name: "210987654321:function:partial", wantName: "partial", wantAccount: "210987654321", wantExecutedVersionIs: "$LATEST"},
		{name: "210987654321:function:partial:blue", qualifier: "blue", wantName: "partial", wantQual: "blue", wantAccount: "210987654321", wantExecutedVersionIs: "$LATEST"},
		{name: "us-east-1", wantName: "us-east-1", wantAccount: "123456789012", wantExecutedVersionIs: "$LATEST"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"?"+tc.qualifier, func(t *testing.T) {
			in := &lambda.InvokeInput{FunctionName: aws.String(tc.name), Payload: []byte(`{}`)}
			if tc.qualifier != "" {
				in.Qualifier = aws.String(tc.qualifier)
			}
			out, err := c.Invoke(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			inv := rec.last(t)
			if inv.FunctionName != tc.wantName || inv.Qualifier != tc.wantQual || inv.Account != tc.wantAccount {
				t.Errorf("got name %q qualifier %q account %q", inv.FunctionName, inv.Qualifier, inv.Account)
			}
			if got := aws.ToString(out.ExecutedVersion); got != tc.wantExecutedVersionIs {
				t.Errorf("executed version %q, want %q", got, tc.wantExecutedVersionIs)
			}
		})
	}
}

func apiError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an API error", err, err)
	}
	return ae
}

func TestBadRequests(t *testing.T) {
	srv := start(t, nil)
	c := client(srv, testSecret)
	ctx := context.Background()

	_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn:prod"), Qualifier: aws.String("dev")})
	var ipv *types.InvalidParameterValueException
	if !errors.As(err, &ipv) || !strings.Contains(ipv.ErrorMessage(), "does not match the specified qualifier") {
		t.Errorf("conflicting qualifiers: %v", err)
	}

	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:fn")})
	if !errors.As(err, &ipv) || ipv.ErrorMessage() != "Functions from 'us-east-1' are not reachable in this region ('eu-west-1')" {
		t.Errorf("other region: %v", err)
	}

	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("bad name!")})
	if ae := apiError(t, err); ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), "Value 'bad name!' at 'functionName'") {
		t.Errorf("bad name: %v", err)
	}

	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), InvocationType: "Sometimes"})
	if ae := apiError(t, err); ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), "'invocationType'") {
		t.Errorf("bad invocation type: %v", err)
	}

	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: []byte("not json")})
	var irc *types.InvalidRequestContentException
	if !errors.As(err, &irc) || !strings.HasPrefix(irc.ErrorMessage(), "Could not parse request body into json") {
		t.Errorf("non-JSON payload: %v", err)
	}
	if srv.Invocations() != 0 {
		t.Errorf("handler called %d times for bad requests", srv.Invocations())
	}
}

func TestFunctionError(t *testing.T) {
	srv := start(t, FunctionFailure("TypeError", "cannot read property 'x' of undefined"))
	out, err := client(srv, testSecret).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("status %d function error %v", out.StatusCode, out.FunctionError)
	}
	var doc struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(out.Payload, &doc); err != nil {
		t.Fatalf("payload %s: %v", out.Payload, err)
	}
	if doc.ErrorType != "TypeError" || doc.ErrorMessage != "cannot read property 'x' of undefined" {
		t.Errorf("payload %s", out.Payload)
	}
}

func TestServiceErrorsAreTyped(t *testing.T) {
	ctx := context.Background()
	t.Run("404", func(t *testing.T) {
		srv := start(t, NotFound())
		_, err := client(srv, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("gone"), Qualifier: aws.String("prod")})
		var e *types.ResourceNotFoundException
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T)", err, err)
		}
		if want := "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:gone:prod"; e.ErrorMessage() != want || aws.ToString(e.Type) != "User" {
			t.Errorf("message %q type %q", e.ErrorMessage(), aws.ToString(e.Type))
		}
	})
	t.Run("429", func(t *testing.T) {
		srv := start(t, Throttle("2"))
		_, err := client(srv, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn")})
		var e *types.TooManyRequestsException
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T)", err, err)
		}
		if e.ErrorMessage() != "Rate Exceeded." || aws.ToString(e.RetryAfterSeconds) != "2" ||
			e.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
			t.Errorf("message %q retry after %q reason %q", e.ErrorMessage(), aws.ToString(e.RetryAfterSeconds), e.Reason)
		}
	})
	t.Run("500", func(t *testing.T) {
		srv := start(t, ServerError())
		_, err := client(srv, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn")})
		var e *types.ServiceException
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T)", err, err)
		}
		if aws.ToString(e.Type) != "Service" || e.ErrorMessage() == "" {
			t.Errorf("type %q message %q", aws.ToString(e.Type), e.ErrorMessage())
		}
	})
	t.Run("403", func(t *testing.T) {
		srv := start(t, Respond(Reply{Status: http.StatusForbidden, Message: "not allowed"}))
		_, err := client(srv, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn")})
		if ae := apiError(t, err); ae.ErrorCode() != "AccessDeniedException" || ae.ErrorMessage() != "not allowed" {
			t.Errorf("error %v", err)
		}
	})
	t.Run("413", func(t *testing.T) {
		rec := &recorder{}
		srv := start(t, rec.handle)
		big := make([]byte, DefaultMaxPayload+1)
		for i := range big {
			big[i] = ' '
		}
		big[0], big[len(big)-1] = '"', '"'
		_, err := client(srv, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: big})
		var e *types.RequestTooLargeException
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T)", err, err)
		}
		if want := "Request must be smaller than 6291456 bytes for the InvokeFunction operation"; e.ErrorMessage() != want {
			t.Errorf("message %q", e.ErrorMessage())
		}
		if srv.Invocations() != 0 {
			t.Errorf("handler called for an oversized request")
		}
		// Exactly at the limit is accepted.
		exact := append([]byte{'"'}, big[2:]...)
		if len(exact) != DefaultMaxPayload {
			t.Fatalf("len %d", len(exact))
		}
		if _, err := client(srv, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: exact}); err != nil {
			t.Errorf("payload of exactly the limit: %v", err)
		}
	})
	t.Run("no limit", func(t *testing.T) {
		srv, err := Start(Options{Region: testRegion, AccessKeyID: testKey, SecretAccessKey: testSecret, MaxPayload: -1,
			Handler: Respond(Reply{Payload: []byte(`"ok"`)})})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		big := bytes.Repeat([]byte("1"), DefaultMaxPayload+10)
		out, err := client(srv, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: big})
		if err != nil || string(out.Payload) != `"ok"` {
			t.Fatalf("out %v err %v", out, err)
		}
	})
}

func TestResponseTooLarge(t *testing.T) {
	srv, err := Start(Options{Region: testRegion, AccessKeyID: testKey, SecretAccessKey: testSecret, MaxPayload: 10,
		Handler: Respond(Reply{Payload: []byte(`"0123456789"`)})})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out, err := client(srv, testSecret).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("fn")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType":"Function.ResponseSizeTooLarge"`) {
		t.Errorf("function error %v payload %s", out.FunctionError, out.Payload)
	}
}

func TestWrongSecretRefused(t *testing.T) {
	rec := &recorder{}
	srv := start(t, rec.handle)
	_, err := client(srv, "not-the-secret").Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: []byte(`{}`)})
	ae := apiError(t, err)
	if ae.ErrorCode() != "InvalidSignatureException" || !strings.Contains(ae.ErrorMessage(), "signature mismatch") {
		t.Errorf("error %v", err)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("status: %v", err)
	}
	if srv.SignatureFailures() != 1 || srv.Invocations() != 0 {
		t.Errorf("signature failures %d, invocations %d", srv.SignatureFailures(), srv.Invocations())
	}

	// An unknown access key is refused too, with the code AWS uses.
	c := lambda.New(lambda.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDSTRANGER", testSecret, ""),
		BaseEndpoint:     aws.String(srv.URL()),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
	_, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("fn")})
	if ae := apiError(t, err); ae.ErrorCode() != "UnrecognizedClientException" {
		t.Errorf("unknown key: %v", err)
	}
	if srv.SignatureFailures() != 2 {
		t.Errorf("signature failures %d", srv.SignatureFailures())
	}
}

func TestDelayHonoursCancellation(t *testing.T) {
	srv := start(t, Slow(30*time.Second, Echo()))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := client(srv, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: []byte(`{}`)})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want deadline exceeded", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("took %s", d)
	}
	// The server stops waiting once the client is gone.
	deadline := time.Now().Add(2 * time.Second)
	for srv.active.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("handler still waiting after the client gave up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if srv.Invocations() != 1 {
		t.Errorf("invocations %d", srv.Invocations())
	}
}

func TestDelayElapses(t *testing.T) {
	srv := start(t, Slow(150*time.Millisecond, Echo()))
	t0 := time.Now()
	out, err := client(srv, testSecret).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("fn"), Payload: []byte(`1`)})
	if err != nil || string(out.Payload) != "1" {
		t.Fatalf("out %v err %v", out, err)
	}
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Errorf("answered after %s, want at least 150ms", d)
	}
}

func TestInvocationTypesAndHeaders(t *testing.T) {
	rec := &recorder{next: func(_ context.Context, inv *Invocation) Reply {
		return Reply{Payload: []byte(`"done"`), Log: "processing " + inv.FunctionName}
	}}
	srv := start(t, rec.handle)
	c := client(srv, testSecret)
	ctx := context.Background()

	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"a":1}`)})
	if err != nil || out.StatusCode != http.StatusAccepted || len(out.Payload) != 0 {
		t.Fatalf("Event: out %+v err %v", out, err)
	}
	if inv := rec.last(t); inv.InvocationType != Event || string(inv.Payload) != `{"a":1}` {
		t.Errorf("Event invocation %+v", inv)
	}

	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != http.StatusNoContent {
		t.Fatalf("DryRun: out %+v err %v", out, err)
	}

	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), LogType: types.LogTypeTail, ClientContext: aws.String(cc)})
	if err != nil {
		t.Fatal(err)
	}
	logText, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil || !strings.Contains(string(logText), "processing fn\n") || !strings.HasPrefix(string(logText), "START RequestId: ") {
		t.Errorf("log result %q (%v)", logText, err)
	}
	inv := rec.last(t)
	if inv.LogType != "Tail" || string(inv.ClientContext) != `{"custom":{"k":"v"}}` || inv.N != 3 {
		t.Errorf("invocation %+v", inv)
	}

	// Errors still apply to asynchronous invocations.
	srv2 := start(t, NotFound())
	_, err = client(srv2, testSecret).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn"), InvocationType: types.InvocationTypeEvent})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("Event to a missing function: %v", err)
	}
}

func TestFaultHelpers(t *testing.T) {
	ctx := context.Background()
	inv := &Invocation{FunctionName: "fn", Region: testRegion, Account: "123456789012", Payload: []byte(`{}`)}

	pattern := func(h HandlerFunc, n int) string {
		var b strings.Builder
		for range n {
			if h(ctx, inv).FunctionError != "" {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a := pattern(FailRandomly(0.3, 42, Echo()), 200)
	b := pattern(FailRandomly(0.3, 42, Echo()), 200)
	if a != b {
		t.Errorf("same seed, different failures:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "x"); n < 35 || n > 85 {
		t.Errorf("%d of 200 failed at rate 0.3", n)
	}
	if pattern(FailRandomly(0.3, 43, Echo()), 200) == a {
		t.Errorf("different seeds, same failures")
	}
	if p := pattern(FailRandomly(0, 1, Echo()), 50); strings.Contains(p, "x") {
		t.Errorf("rate 0 failed: %s", p)
	}
	if p := pattern(FailRandomly(1, 1, Echo()), 50); strings.Contains(p, ".") {
		t.Errorf("rate 1 succeeded: %s", p)
	}

	h := FirstN(2, Throttle(""), Slow(time.Second, Echo()))
	var got []int
	for range 4 {
		r := h(ctx, inv)
		got = append(got, r.Status)
		if r.Status == 0 && r.Delay != time.Second {
			t.Errorf("Slow delay %s", r.Delay)
		}
	}
	if want := []int{429, 429, 0, 0}; !equalInts(got, want) {
		t.Errorf("FirstN statuses %v, want %v", got, want)
	}

	// Composed over the wire: throttled once, then a function error.
	srv := start(t, FirstN(1, Throttle("1"), FailRandomly(1, 7, Echo())))
	c := client(srv, testSecret)
	_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn")})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) {
		t.Fatalf("first call: %v", err)
	}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn")})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "InjectedFailure") {
		t.Fatalf("second call: %+v %v", out, err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUnknownRoute(t *testing.T) {
	srv := start(t, nil)
	// A signed request to another operation (GetFunction) is not served.
	_, err := client(srv, testSecret).GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("fn")})
	if ae := apiError(t, err); ae.ErrorCode() != "UnknownOperationException" {
		t.Errorf("error %v", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	srv, err := Start(Options{AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	srv.Close()
	if _, err := Start(Options{}); err == nil {
		t.Error("Start without credentials succeeded")
	}
}
