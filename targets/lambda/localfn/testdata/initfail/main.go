// Command initfail is a test function that fails at init: it exits before it
// starts the runtime loop, as a function whose configuration is missing does.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	if os.Getenv("TABLE_NAME") == "" {
		fmt.Fprintln(os.Stderr, "initfail: cannot load config: TABLE_NAME is not set")
		os.Exit(1)
	}
	lambda.Start(func() error { return nil })
}
