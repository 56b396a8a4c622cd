package awstest

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/penstock-dev/penstock/internal/logtest"
)

func endpointOptions(log *slog.Logger) EndpointOptions {
	return EndpointOptions{
		Name:            "testapi",
		Service:         testCreds.Service,
		AccessKeyID:     testCreds.AccessKeyID,
		SecretAccessKey: testCreds.SecretAccessKey,
		Region:          testCreds.Region,
		Logger:          log,
	}
}

// do sends specs[0] to base signed now with c, and returns the status and
// body of the answer.
func do(t *testing.T, client *http.Client, base string, c Credentials) (int, string) {
	t.Helper()
	spec := specs[0]
	req := build(t, base, spec)
	sign(t, req, []byte(spec.body), c, time.Now())
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestNewEndpointRequiresCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, key, secret string
	}{
		{name: "no key", secret: "s"},
		{name: "no secret", key: "k"},
		{name: "neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := endpointOptions(nil)
			o.AccessKeyID, o.SecretAccessKey = tc.key, tc.secret
			e, err := NewEndpoint(o)
			if e != nil || err == nil || err.Error() != "testapi: AccessKeyID and SecretAccessKey are required" {
				t.Fatalf("NewEndpoint = %v, %v; want the named error", e, err)
			}
		})
	}
}

func TestNewEndpointDefaults(t *testing.T) {
	o := endpointOptions(nil)
	o.Region = ""
	e, err := NewEndpoint(o)
	if err != nil {
		t.Fatal(err)
	}
	want := testCreds
	want.Region = DefaultRegion
	if e.Creds != want {
		t.Errorf("Creds = %+v, want %+v", e.Creds, want)
	}
	if e.Log == nil {
		t.Error("Log is nil; want a logger that discards")
	}
}

// TestEndpointServe sends requests signed by the SDK's signer through the
// Guard in front of an API handler, then closes the endpoint.
func TestEndpointServe(t *testing.T) {
	var logs logtest.Buffer
	e, err := NewEndpoint(endpointOptions(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, string(b))
		mu.Unlock()
		io.WriteString(w, "ok")
	})
	if err := e.Serve(api, nil, nil); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	if status, body := do(t, client, e.URL(), testCreds); status != http.StatusOK || body != "ok" {
		t.Fatalf("right credentials: %d %s; want 200 ok", status, body)
	}
	mu.Lock()
	if len(seen) != 1 || seen[0] != specs[0].body {
		t.Errorf("API handler saw bodies %q, want [%q]", seen, specs[0].body)
	}
	mu.Unlock()

	wrong := testCreds
	wrong.SecretAccessKey = "not-the-secret"
	if status, body := do(t, client, e.URL(), wrong); status != http.StatusForbidden || !strings.Contains(body, "InvalidSignatureException") {
		t.Fatalf("wrong secret: %d %s; want 403 InvalidSignatureException", status, body)
	}
	mu.Lock()
	if len(seen) != 1 {
		t.Errorf("API handler called %d times, want once", len(seen))
	}
	mu.Unlock()
	if n := e.SignatureFailures(); n != 1 || e.Guard.Failures() != 1 {
		t.Errorf("SignatureFailures = %d, Guard.Failures = %d; want 1", n, e.Guard.Failures())
	}
	if l := logs.String(); !strings.Contains(l, "testapi: request refused") || !strings.Contains(l, "signature mismatch") {
		t.Errorf("log %q; want the refusal and its reason", l)
	}

	base := e.URL()
	done := make(chan struct{})
	go func() {
		e.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if resp, err := client.Get(base); err == nil {
		resp.Body.Close()
		t.Fatalf("%s answered %s after Close", base, resp.Status)
	}
}

// TestEndpointVerify serves a front handler that verifies signatures
// itself and answers refusals in its own way, as ec2api does.
func TestEndpointVerify(t *testing.T) {
	e, err := NewEndpoint(endpointOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := e.Verify(r, b); err != nil {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok")
	})
	if err := e.Serve(nil, front, nil); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	if status, body := do(t, client, e.URL(), testCreds); status != http.StatusOK || body != "ok" {
		t.Fatalf("right credentials: %d %s; want 200 ok", status, body)
	}
	wrong := testCreds
	wrong.SecretAccessKey = "not-the-secret"
	if status, _ := do(t, client, e.URL(), wrong); status != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d; want the front handler's 401", status)
	}
	if n := e.SignatureFailures(); n != 1 {
		t.Errorf("SignatureFailures = %d, want 1", n)
	}
}
