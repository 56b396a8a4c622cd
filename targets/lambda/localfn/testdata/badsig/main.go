// Command badsig is a test function whose handler has a signature
// aws-lambda-go does not accept; it reports that on every invocation.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, a, b string) (string, error) { return a + b, nil }

func main() { lambda.Start(handle) }
