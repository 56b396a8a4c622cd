package localfn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/penstock-dev/penstock/internal/demo"
	"github.com/penstock-dev/penstock/internal/logtest"
)

// The test functions, built once per run of the test binary.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

var testFunctions = []string{"echo", "fail", "panic", "sleep", "crash", "initfail", "badsig", "rawruntime"}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary returns the path of a test function's executable, or of the orders
// example's.
func binary(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		start := time.Now()
		buildDir, buildErr = os.MkdirTemp("", "localfn-test-")
		if buildErr != nil {
			return
		}
		args := []string{"build", "-o", buildDir + string(filepath.Separator)}
		for _, fn := range testFunctions {
			args = append(args, "./testdata/"+fn)
		}
		args = append(args, "../../../examples/functions/orders")
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		fmt.Fprintf(os.Stderr, "localfn test: built %d functions in %v\n", len(testFunctions)+1, time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, name)
}

// logBuf collects a Function's JSON log records.
type logBuf struct{ logtest.Buffer }

// records returns the records logged so far whose message contains msg.
func (l *logBuf) records(msg string) []map[string]any {
	var recs []map[string]any
	for line := range strings.Lines(l.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			continue
		}
		if m, _ := rec["msg"].(string); strings.Contains(m, msg) {
			recs = append(recs, rec)
		}
	}
	return recs
}

// waitRecords waits up to 5s for n records whose message contains msg.
func (l *logBuf) waitRecords(t *testing.T, msg string, n int) []map[string]any {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		recs := l.records(msg)
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d log records with %q, want %d", len(recs), msg, n)
		}
	}
}

// pids returns the processes started, from the log.
func (l *logBuf) pids() []int {
	var pids []int
	for _, rec := range l.records("localfn: process started") {
		pids = append(pids, int(rec["pid"].(float64)))
	}
	return pids
}

func start(t *testing.T, o Options) (*Function, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	o.Logger = slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("log:\n%s", lb)
		}
	})
	return f, lb
}

func invoke(t *testing.T, f *Function, payload string) Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := f.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// errorDocument decodes a function error's payload.
func errorDocument(t *testing.T, resp Response) (msg, typ string, stack []any) {
	t.Helper()
	if resp.FunctionError != "Unhandled" {
		t.Fatalf("FunctionError %q, want Unhandled; payload %s", resp.FunctionError, resp.Payload)
	}
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
		Stack   []any  `json:"stackTrace"`
	}
	if err := json.Unmarshal(resp.Payload, &doc); err != nil {
		t.Fatalf("error payload %s: %v", resp.Payload, err)
	}
	return doc.Message, doc.Type, doc.Stack
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

func TestEcho(t *testing.T) {
	f, _ := start(t, Options{Command: []string{binary(t, "echo")}})
	if got, want := f.ARN(), "arn:aws:lambda:us-east-1:000000000000:function:echo"; got != want {
		t.Errorf("ARN %s, want %s", got, want)
	}
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rand.IntN(256))
	}
	ids := map[string]bool{}
	for _, payload := range []string{`{"hello":"world"}`, "not JSON \x00\xff", "", string(big)} {
		resp := invoke(t, f, payload)
		if !bytes.Equal(resp.Payload, []byte(payload)) || resp.FunctionError != "" {
			t.Errorf("payload of %d bytes: got %d bytes, function error %q", len(payload), len(resp.Payload), resp.FunctionError)
		}
		if resp.RequestID == "" || ids[resp.RequestID] {
			t.Errorf("request id %q is empty or repeated", resp.RequestID)
		}
		ids[resp.RequestID] = true
	}
	if _, err := f.Invoke(context.Background(), make([]byte, MaxPayload+1)); err == nil {
		t.Error("a payload over MaxPayload was accepted")
	}
}

func TestContextAndEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	t.Setenv("LOCALFN_PARENT_ONLY", "1")
	dir := t.TempDir()
	const timeout = 5 * time.Second
	f, logs := start(t, Options{
		Command:      []string{binary(t, "echo")},
		Dir:          dir,
		Env:          map[string]string{"GREETING": "hello"},
		FunctionName: "ctx-fn",
		MemoryMB:     256,
		Timeout:      timeout,
		Region:       "eu-west-1",
	})
	before := time.Now()
	resp := invoke(t, f, `"context"`)
	after := time.Now()
	var got struct {
		RequestID    string   `json:"request_id"`
		FunctionARN  string   `json:"function_arn"`
		DeadlineMS   int64    `json:"deadline_ms"`
		TraceID      string   `json:"trace_id"`
		FunctionName string   `json:"function_name"`
		MemoryMB     int      `json:"memory_mb"`
		CWD          string   `json:"cwd"`
		Env          []string `json:"env"`
	}
	if err := json.Unmarshal(resp.Payload, &got); err != nil {
		t.Fatalf("%s: %v", resp.Payload, err)
	}
	if got.RequestID != resp.RequestID {
		t.Errorf("function saw request id %q, Response has %q", got.RequestID, resp.RequestID)
	}
	if want := "arn:aws:lambda:eu-west-1:000000000000:function:ctx-fn"; got.FunctionARN != want || f.ARN() != want {
		t.Errorf("function ARN %q, ARN() %q, want %q", got.FunctionARN, f.ARN(), want)
	}
	if lo, hi := before.Add(timeout).UnixMilli(), after.Add(timeout).UnixMilli(); got.DeadlineMS < lo || got.DeadlineMS > hi {
		t.Errorf("deadline %d, want in [%d, %d]", got.DeadlineMS, lo, hi)
	}
	if !strings.HasPrefix(got.TraceID, "Root=1-") {
		t.Errorf("trace id %q", got.TraceID)
	}
	if got.FunctionName != "ctx-fn" || got.MemoryMB != 256 {
		t.Errorf("lambdacontext: function name %q, memory %d", got.FunctionName, got.MemoryMB)
	}
	realDir, _ := filepath.EvalSymlinks(dir)
	if realCWD, _ := filepath.EvalSymlinks(got.CWD); realCWD != realDir {
		t.Errorf("working directory %s, want %s", got.CWD, dir)
	}

	env := map[string]string{}
	for _, kv := range got.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "ctx-fn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/ctx-fn",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"_HANDLER":                        "echo",
		"LAMBDA_TASK_ROOT":                dir,
		"TZ":                              ":UTC",
		"GREETING":                        "hello",
		"PATH":                            os.Getenv("PATH"),
	} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
	if !strings.HasPrefix(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API=%q", env["AWS_LAMBDA_RUNTIME_API"])
	}
	if !strings.Contains(env["AWS_LAMBDA_LOG_STREAM_NAME"], "/[$LATEST]") {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME=%q", env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "LOCALFN_PARENT_ONLY"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s=%q was inherited", k, v)
		}
	}

	// Output reaches the logger, line by line, tagged.
	rec := logs.waitRecords(t, "echo: context requested", 1)[0]
	if rec["function"] != "ctx-fn" || rec["stream"] != "stderr" || rec["request_id"] != resp.RequestID || rec["level"] != "INFO" {
		t.Errorf("stderr record %v", rec)
	}
	rec = logs.waitRecords(t, "echo: ready", 1)[0]
	if rec["function"] != "ctx-fn" || rec["stream"] != "stdout" {
		t.Errorf("stdout record %v", rec)
	}
}

func TestFunctionError(t *testing.T) {
	f, _ := start(t, Options{Command: []string{binary(t, "fail")}})
	resp := invoke(t, f, `"order"`)
	if msg, typ, _ := errorDocument(t, resp); msg != "order 42 is invalid" || typ != "errorString" {
		t.Errorf("error %q of type %q", msg, typ)
	}
	if resp.RequestID == "" {
		t.Error("no request id")
	}
	// A response that fails as it is streamed, reported in trailers.
	resp = invoke(t, f, `"stream"`)
	if msg, _, _ := errorDocument(t, resp); msg != "stream broke" {
		t.Errorf("streamed error %q", msg)
	}
}

func TestPanic(t *testing.T) {
	f, _ := start(t, Options{Command: []string{binary(t, "panic")}})
	msg, _, stack := errorDocument(t, invoke(t, f, `"panic"`))
	if msg != "boom: inventory is negative" || len(stack) == 0 {
		t.Errorf("error %q, %d stack frames", msg, len(stack))
	}
	// aws-lambda-go exits after a panic: the next invocation gets a new process.
	if resp := invoke(t, f, `"ok"`); resp.FunctionError != "" {
		t.Errorf("after the panic: %s", resp.Payload)
	}
}

func TestBadHandlerSignature(t *testing.T) {
	// aws-lambda-go does not post an init error for a handler it cannot
	// call: it fails every invocation instead.
	f, _ := start(t, Options{Command: []string{binary(t, "badsig")}})
	msg, _, _ := errorDocument(t, invoke(t, f, `"x"`))
	if !strings.Contains(msg, "handlers may not take more than two arguments") {
		t.Errorf("error %q", msg)
	}
}

func sleepPID(t *testing.T, resp Response) int {
	t.Helper()
	var r struct{ PID int }
	if err := json.Unmarshal(resp.Payload, &r); err != nil || r.PID == 0 {
		t.Fatalf("%s: %v", resp.Payload, err)
	}
	return r.PID
}

func TestTimeout(t *testing.T) {
	f, _ := start(t, Options{Command: []string{binary(t, "sleep")}, Timeout: 300 * time.Millisecond})
	pid := sleepPID(t, invoke(t, f, `{"sleep_ms":0}`))
	began := time.Now()
	_, err := f.Invoke(context.Background(), []byte(`{"sleep_ms":10000}`))
	took := time.Since(began)
	var e *Error
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &e) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if e.Type != "Sandbox.Timedout" || e.RequestID == "" || !strings.Contains(err.Error(), "timed out after 0.30 seconds") {
		t.Errorf("error %q: type %q, request id %q", err, e.Type, e.RequestID)
	}
	if took > 2*time.Second {
		t.Errorf("the timeout took %v", took)
	}
	if alive(pid) {
		t.Errorf("process %d outlived its timeout", pid)
	}
	if next := sleepPID(t, invoke(t, f, `{"sleep_ms":0}`)); next == pid {
		t.Error("the invocation after the timeout ran in the killed process")
	}
}

func TestCrash(t *testing.T) {
	f, _ := start(t, Options{Command: []string{binary(t, "crash")}})
	var pid int
	json.Unmarshal(invoke(t, f, `"pid"`).Payload, &pid)
	_, err := f.Invoke(context.Background(), []byte(`"exit"`))
	var e *Error
	if !errors.Is(err, ErrExited) || !errors.As(err, &e) {
		t.Fatalf("got %v, want ErrExited", err)
	}
	if e.Type != "Runtime.ExitError" || e.RequestID == "" ||
		!strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "crash: giving up") {
		t.Errorf("error %q", err)
	}
	var next int
	json.Unmarshal(invoke(t, f, `"pid"`).Payload, &next)
	if next == pid || next == 0 {
		t.Errorf("pid %d after the crash of %d", next, pid)
	}
}

func TestInitFailureBacksOff(t *testing.T) {
	f, logs := start(t, Options{Command: []string{binary(t, "initfail")}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	failures := 0
	for {
		_, err := f.Invoke(ctx, []byte(`{}`))
		if ctx.Err() != nil {
			break
		}
		var e *Error
		if !errors.Is(err, ErrInit) || !errors.As(err, &e) {
			t.Fatalf("got %v, want ErrInit", err)
		}
		if failures == 0 && (e.RequestID != "" || !strings.Contains(err.Error(), "init failed") ||
			!strings.Contains(err.Error(), "exit status 1") || !strings.Contains(err.Error(), "TABLE_NAME is not set")) {
			t.Errorf("error %q", err)
		}
		failures++
	}
	starts := len(logs.records("initfail: cannot load config"))
	t.Logf("%d failed invocations, %d process starts in 1s", failures, starts)
	// Backing off (100ms, doubling) allows about five starts in a second;
	// a spinning restart loop would make hundreds. A loaded machine may
	// manage only one.
	if failures < 1 || starts < 1 || starts > 8 {
		t.Errorf("%d failed invocations and %d process starts in 1s: want a few, backing off", failures, starts)
	}
}

func TestInitErrorPosted(t *testing.T) {
	f, logs := start(t, Options{
		Command: []string{binary(t, "rawruntime")},
		Env:     map[string]string{"RAW_MODE": "initerror"},
	})
	_, err := f.Invoke(context.Background(), []byte(`{}`))
	var e *Error
	if !errors.Is(err, ErrInit) || !errors.As(err, &e) {
		t.Fatalf("got %v, want ErrInit", err)
	}
	if e.Type != "Runtime.ConfigError" || !strings.Contains(e.Message, "TABLE_NAME is not set") {
		t.Errorf("error %q", err)
	}
	// The runtime got its 202, then was stopped rather than left to sleep.
	logs.waitRecords(t, "rawruntime: init error posted: 202", 1)
	for _, pid := range logs.pids() {
		if alive(pid) {
			t.Errorf("process %d outlived its init error", pid)
		}
	}
}

func TestInitTimeout(t *testing.T) {
	defer func(d time.Duration) { initTimeout = d }(initTimeout)
	initTimeout = 300 * time.Millisecond
	// A process that never asks for an invocation.
	f, logs := start(t, Options{Command: []string{"/bin/sh", "-c", "exec sleep 60"}, FunctionName: "slow"})
	_, err := f.Invoke(context.Background(), []byte(`{}`))
	var e *Error
	if !errors.Is(err, ErrInit) || !errors.As(err, &e) {
		t.Fatalf("got %v, want ErrInit", err)
	}
	if e.Type != "Sandbox.Timedout" || !strings.Contains(err.Error(), "timed out after 0.30 seconds") {
		t.Errorf("error %q", err)
	}
	for _, pid := range logs.pids() {
		if alive(pid) {
			t.Errorf("process %d outlived its init timeout", pid)
		}
	}
}

func TestRuntimeAPI(t *testing.T) {
	f, _ := start(t, Options{Command: []string{binary(t, "rawruntime")}})
	statuses := func(resp Response) map[string]int {
		t.Helper()
		m := map[string]int{}
		if err := json.Unmarshal(resp.Payload, &m); err != nil || resp.FunctionError != "" {
			t.Fatalf("%s %s: %v", resp.FunctionError, resp.Payload, err)
		}
		return m
	}
	got := statuses(invoke(t, f, `"probe"`))
	for k, want := range map[string]int{
		"bogus_response":  400, // not the invocation under way
		"bogus_error":     400,
		"late_init_error": 403, // init is over
		"wrong_method":    405,
		"unknown_path":    404,
	} {
		if got[k] != want {
			t.Errorf("%s: status %d, want %d", k, got[k], want)
		}
	}

	resp := invoke(t, f, `"big"`)
	if _, typ, _ := errorDocument(t, resp); typ != "Function.ResponseSizeTooLarge" {
		t.Errorf("response over 6 MB: error type %q", typ)
	}
	msg, typ, _ := errorDocument(t, invoke(t, f, `"text"`))
	if msg != "plain text error" || typ != "Custom.NotJSON" {
		t.Errorf("error that is not JSON: %q of type %q", msg, typ)
	}

	got = statuses(invoke(t, f, `"report"`))
	for k, want := range map[string]int{
		"response":           202,
		"duplicate_response": 403, // no invocation under way
		"big_response":       413,
	} {
		if got[k] != want {
			t.Errorf("%s: status %d, want %d", k, got[k], want)
		}
	}
}

func TestConcurrency(t *testing.T) {
	f, _ := start(t, Options{Command: []string{binary(t, "sleep")}, Concurrency: 2})
	type run struct {
		PID        int
		Start, End int64
	}
	runs := make([]run, 2)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			resp, err := f.Invoke(context.Background(), []byte(`{"sleep_ms":500}`))
			if err != nil {
				t.Error(err)
				return
			}
			json.Unmarshal(resp.Payload, &runs[i])
		})
	}
	wg.Wait()
	a, b := runs[0], runs[1]
	if a.PID == b.PID || a.PID == 0 {
		t.Errorf("both invocations ran in process %d", a.PID)
	}
	if !(a.Start < b.End && b.Start < a.End) {
		t.Errorf("the invocations did not overlap: %v", runs)
	}
}

func TestInvokeContext(t *testing.T) {
	f, _ := start(t, Options{Command: []string{binary(t, "sleep")}, Timeout: 10 * time.Second})
	// Wait until the environment is up, so the next invocation is handed
	// to the function at once.
	invoke(t, f, `{"sleep_ms":0}`)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := f.Invoke(ctx, []byte(`{"sleep_ms":3000}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
	if took := time.Since(began); took > 1500*time.Millisecond {
		t.Errorf("Invoke returned %v after its context ended", took)
	}
	// The invocation runs on and holds the only environment: this one waits.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := f.Invoke(ctx2, []byte(`{"sleep_ms":0}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v while the environment was busy", err)
	}
	invoke(t, f, `{"sleep_ms":0}`)
}

func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	// A shell that leaves a grandchild behind, then becomes the function.
	f, logs := start(t, Options{
		Command:      []string{"/bin/sh", "-c", `sleep 300 & echo $! >> grandchildren; exec "$0"`, binary(t, "echo")},
		Dir:          dir,
		FunctionName: "echo",
		Concurrency:  2,
	})
	invoke(t, f, `"x"`)
	pids := logs.pids()
	var grandchildren []int
	for deadline := time.Now().Add(5 * time.Second); len(grandchildren) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchildren: %v", grandchildren)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "grandchildren"))
		grandchildren = grandchildren[:0]
		for _, s := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(s)
			grandchildren = append(grandchildren, pid)
		}
	}
	if len(pids) != 2 {
		t.Fatalf("%d processes started, want 2", len(pids))
	}

	// An invocation under way when Close is called.
	sleeper, _ := start(t, Options{Command: []string{binary(t, "sleep")}, Timeout: 10 * time.Second})
	errc := make(chan error, 1)
	go func() {
		_, err := sleeper.Invoke(context.Background(), []byte(`{"sleep_ms":5000}`))
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)

	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sleeper.Close(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("closed in %v", time.Since(began))
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("invocation under way at Close: %v, want ErrClosed", err)
	}
	if _, err := f.Invoke(context.Background(), []byte(`"x"`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
	for _, pid := range slices.Concat(pids, grandchildren) {
		if alive(pid) {
			t.Errorf("process %d outlived Close", pid)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines after Close, %d before Start", runtime.NumGoroutine(), before)
			break
		}
	}
}

func TestLongLines(t *testing.T) {
	_, logs := start(t, Options{
		Command:      []string{"/bin/sh", "-c", `head -c 40000 /dev/zero | tr '\0' a; echo; echo after; exec "$0"`, binary(t, "echo")},
		FunctionName: "echo",
	})
	logs.waitRecords(t, "after", 1)
	recs := logs.records("aaaa")
	if len(recs) != 1 {
		t.Fatalf("%d records for one long line", len(recs))
	}
	if msg := recs[0]["msg"].(string); len(msg) != maxLine || recs[0]["truncated"] != true {
		t.Errorf("long line logged as %d bytes, truncated=%v", len(msg), recs[0]["truncated"])
	}
}

func TestStartErrors(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "bootstrap")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	echo := binary(t, "echo")
	for name, o := range map[string]Options{
		"no command":        {},
		"missing file":      {Command: []string{"/no/such/bootstrap"}},
		"not in PATH":       {Command: []string{"no-such-bootstrap-anywhere"}},
		"not executable":    {Command: []string{notExec}},
		"directory":         {Command: []string{t.TempDir()}},
		"bad dir":           {Command: []string{echo}, Dir: "/no/such/dir"},
		"timeout too long":  {Command: []string{echo}, Timeout: 16 * time.Minute},
		"negative timeout":  {Command: []string{echo}, Timeout: -time.Second},
		"memory":            {Command: []string{echo}, MemoryMB: 64},
		"name":              {Command: []string{echo}, FunctionName: "a:b"},
		"region":            {Command: []string{echo}, Region: "EU West"},
		"reserved variable": {Command: []string{echo}, Env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "x"}},
		"bad variable":      {Command: []string{echo}, Env: map[string]string{"A=B": "x"}},
	} {
		if f, err := Start(context.Background(), o); err == nil {
			f.Close(context.Background())
			t.Errorf("%s: Start succeeded", name)
		}
	}
}

func TestOrdersExample(t *testing.T) {
	// A batch as the event source mapping delivers it, of demo orders.
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	ev := events.KafkaEvent{EventSource: "SelfManagedKafka", BootstrapServers: "localhost:9092"}
	var records []events.KafkaRecord
	total := 0.0
	for i := range 100 {
		value, key := demo.Order(nil, r, int64(i), now)
		var o struct{ Amount float64 }
		json.Unmarshal(value, &o)
		total += o.Amount
		records = append(records, events.KafkaRecord{
			Topic: "orders", Partition: 3, Offset: 1200 + int64(i),
			Timestamp: events.MilliSecondsEpochTime{Time: now}, TimestampType: "CREATE_TIME",
			Key:     base64.StdEncoding.EncodeToString([]byte(key)),
			Value:   base64.StdEncoding.EncodeToString(value),
			Headers: []map[string]events.JSONNumberBytes{{"type": []byte("order")}},
		})
	}
	ev.Records = map[string][]events.KafkaRecord{"orders-3": records}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	event := string(b)

	f, logs := start(t, Options{Command: []string{binary(t, "orders")}})
	resp := invoke(t, f, event)
	if string(resp.Payload) != `{"batchItemFailures":[]}` || resp.FunctionError != "" {
		t.Errorf("response %s %s", resp.FunctionError, resp.Payload)
	}
	want := fmt.Sprintf("orders: 100 records from orders-3 offsets 1200..1299, total amount %.2f EUR", total)
	rec := logs.waitRecords(t, "orders: ", 1)[0]
	if rec["msg"] != want || rec["request_id"] != resp.RequestID {
		t.Errorf("logged %v, want %q", rec, want)
	}

	f, _ = start(t, Options{Command: []string{binary(t, "orders")}, Env: map[string]string{"ORDERS_FAIL_EVERY": "50"}})
	resp = invoke(t, f, event)
	if want := `{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-3","offset":1200}},` +
		`{"itemIdentifier":{"partition":"orders-3","offset":1250}}]}`; string(resp.Payload) != want {
		t.Errorf("response %s, want %s", resp.Payload, want)
	}
}
