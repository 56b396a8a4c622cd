package awsconf

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// HTTPClient returns the HTTP client of Penstock's AWS clients (Load wraps
// the SDK's the same way): the SDK's default, sending each request's body
// from a copy in memory.
//
// The SDK gives the transport a request body of its own, which it closes
// once the answer's headers have arrived. The transport sends a body it
// does not know to be in memory straight to the connection after the
// headers, and reads it again afterwards to check its length; a server
// that answers at once (one on the same host, or close by) can have its
// answer read and the body closed while the transport is still at it, and
// the transport then drops the connection the answer is being read from:
// "deserialization failed ... use of closed network connection" on a
// successful call (aws/aws-sdk-go-v2#1825). A body in memory is sent with
// the headers, and the SDK's own is left alone. Bodies are batches of
// records at most (a function payload, an S3 object), read once more.
func HTTPClient() aws.HTTPClient {
	return memoryBodies{awshttp.NewBuildableClient()}
}

type memoryBodies struct{ c aws.HTTPClient }

func (m memoryBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return m.c.Do(r)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r.ContentLength = int64(len(b))
	return m.c.Do(r)
}
