// Command fail is a test function that returns an error, or for the event
// "stream" a response that fails half way.
package main

import (
	"context"
	"errors"
	"io"

	"github.com/aws/aws-lambda-go/lambda"
)

// brokenStream is a response that breaks after its first bytes.
type brokenStream struct{ sent bool }

func (s *brokenStream) Read(p []byte) (int, error) {
	if !s.sent {
		s.sent = true
		return copy(p, "partial"), nil
	}
	return 0, errors.New("stream broke")
}

func handle(ctx context.Context, event string) (io.Reader, error) {
	if event == "stream" {
		return &brokenStream{}, nil
	}
	return nil, errors.New("order 42 is invalid")
}

func main() { lambda.Start(handle) }
