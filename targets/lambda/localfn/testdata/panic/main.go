// Command panic is a test function that panics on the event "panic" and
// otherwise returns its process id.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(event string) (int, error) {
	if event == "panic" {
		panic("boom: inventory is negative")
	}
	return os.Getpid(), nil
}

func main() { lambda.Start(handle) }
