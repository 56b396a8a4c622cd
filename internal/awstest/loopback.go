package awstest

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// Loopback serves a local endpoint's handler on a free 127.0.0.1 port in
// the background and counts the handlers in flight, so that Close returns
// once every one has returned.
type Loopback struct {
	srv      *http.Server
	url      string
	served   chan struct{}
	inflight sync.WaitGroup
	close    sync.Once
}

// Listen serves h over HTTP on a free port of 127.0.0.1 until Close.
func Listen(h http.Handler) (*Loopback, error) { return ListenTLS(h, nil) }

// ListenTLS serves h on a free port of 127.0.0.1 until Close: over HTTPS
// with cfg, over HTTP when cfg is nil. Either way it speaks HTTP/1.1 only,
// so that a handler can take its connection over (http.Hijacker).
func ListenTLS(h http.Handler, cfg *tls.Config) (*Loopback, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	l := &Loopback{url: scheme + "://" + ln.Addr().String(), served: make(chan struct{})}
	l.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l.inflight.Add(1)
			defer l.inflight.Done()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() {
		defer close(l.served)
		l.srv.Serve(ln)
	}()
	return l, nil
}

// URL returns the base URL of the endpoint, "http://127.0.0.1:PORT"
// ("https://..." with ListenTLS's cfg).
func (l *Loopback) URL() string { return l.url }

// Close stops serving: the listener and the open connections are closed
// (cancelling the contexts of requests in flight) and Close returns once
// every handler has returned. Connections taken over by a handler are the
// handler's to close. It may be called more than once.
func (l *Loopback) Close() {
	l.close.Do(func() {
		l.srv.Close()
		<-l.served
		l.inflight.Wait()
	})
}
