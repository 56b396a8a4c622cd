package awsconf

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/iotest"
)

// The body is sent from memory, whole, with its length; a copy can be
// sent again (GetBody); the caller's body is left open.
func TestHTTPClientSendsBodiesFromMemory(t *testing.T) {
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, b)
		if r.ContentLength != int64(len(b)) {
			t.Errorf("Content-Length %d for %d bytes", r.ContentLength, len(b))
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	payload := bytes.Repeat([]byte("penstock "), 1000)
	body := &closeTracker{Reader: iotest.OneByteReader(bytes.NewReader(payload))} // no in-memory type the transport knows
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, body)
	req.ContentLength = int64(len(payload))
	resp, err := HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if len(got) != 1 || !bytes.Equal(got[0], payload) {
		t.Fatalf("server got %d requests, first %d bytes", len(got), len(got[0]))
	}
	if body.closed {
		t.Error("the caller's body was closed")
	}
	again, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(again); !bytes.Equal(b, payload) {
		t.Error("GetBody does not give the body again")
	}
}

type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }
