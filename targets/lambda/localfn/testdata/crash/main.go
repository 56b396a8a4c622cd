// Command crash is a test function that exits with status 3 in the middle of
// the invocation of the event "exit", and otherwise returns its process id.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(event string) (int, error) {
	if event == "exit" {
		fmt.Fprintln(os.Stderr, "crash: giving up")
		os.Exit(3)
	}
	return os.Getpid(), nil
}

func main() { lambda.Start(handle) }
