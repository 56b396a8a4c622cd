// Command sleep is a test function that sleeps for sleep_ms, whatever its
// deadline, and says when it ran and in which process.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	SleepMS int `json:"sleep_ms"`
}

type result struct {
	PID   int   `json:"pid"`
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

func handle(ev event) (result, error) {
	start := time.Now()
	time.Sleep(time.Duration(ev.SleepMS) * time.Millisecond)
	return result{PID: os.Getpid(), Start: start.UnixNano(), End: time.Now().UnixNano()}, nil
}

func main() { lambda.Start(handle) }
