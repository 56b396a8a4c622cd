package awstest

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoopbackServesHandler(t *testing.T) {
	l, err := Listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.HasPrefix(l.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q, want http://127.0.0.1:PORT", l.URL())
	}
	resp, err := http.Get(l.URL() + "/path")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "GET /path" {
		t.Fatalf("body = %q, %v; want \"GET /path\"", body, err)
	}
}

func TestLoopbackCloseWaitsForHandlers(t *testing.T) {
	started := make(chan struct{})
	var returned atomic.Bool
	l, err := Listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done() // cancelled by Close
		time.Sleep(50 * time.Millisecond)
		returned.Store(true)
	}))
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Get(l.URL())
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	<-started
	l.Close()
	if !returned.Load() {
		t.Fatal("Close returned before the handler in flight")
	}
	if err := <-answered; err == nil {
		t.Error("the request in flight was answered; want its connection closed")
	}
	l.Close() // again: no effect
	if resp, err := http.Get(l.URL()); err == nil {
		resp.Body.Close()
		t.Error("a request after Close was served")
	}
}
