// Command echo is a test function: it returns its event unchanged or, for the
// event "context", what it knows of its invocation and environment.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type handler struct{}

func (handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if string(payload) != `"context"` {
		return payload, nil
	}
	fmt.Fprintln(os.Stderr, "echo: context requested")
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	wd, _ := os.Getwd()
	return json.Marshal(map[string]any{
		"request_id":    lc.AwsRequestID,
		"function_arn":  lc.InvokedFunctionArn,
		"deadline_ms":   deadline.UnixMilli(),
		"trace_id":      ctx.Value("x-amzn-trace-id"),
		"function_name": lambdacontext.FunctionName,
		"memory_mb":     lambdacontext.MemoryLimitInMB,
		"pid":           os.Getpid(),
		"cwd":           wd,
		"env":           os.Environ(),
	})
}

func main() {
	fmt.Println("echo: ready")
	lambda.Start(handler{})
}
