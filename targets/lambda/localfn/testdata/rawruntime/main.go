// Command rawruntime is a test custom runtime that speaks the Runtime API
// itself, without a runtime library, to probe how the API answers requests
// a well-behaved runtime does not make. With RAW_MODE=initerror it reports an
// init error and then waits to be stopped.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

var api = "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"

// call makes a request and returns its status code.
func call(method, url, errorType string, body []byte) int {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	if errorType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawruntime:", err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func main() {
	if os.Getenv("RAW_MODE") == "initerror" {
		status := call("POST", api+"/init/error", "Runtime.ConfigError",
			[]byte(`{"errorMessage":"TABLE_NAME is not set","errorType":"Runtime.ConfigError"}`))
		fmt.Fprintln(os.Stderr, "rawruntime: init error posted:", status)
		time.Sleep(time.Hour)
	}
	seen := map[string]int{}
	for {
		resp, err := http.Get(api + "/invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "rawruntime:", err)
			os.Exit(1)
		}
		event, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		inv := api + "/invocation/" + id
		switch string(event) {
		case `"probe"`:
			seen["bogus_response"] = call("POST", api+"/invocation/not-a-request-id/response", "", []byte("{}"))
			seen["bogus_error"] = call("POST", api+"/invocation/not-a-request-id/error", "", []byte("{}"))
			seen["late_init_error"] = call("POST", api+"/init/error", "", []byte("{}"))
			seen["wrong_method"] = call("GET", inv+"/response", "", nil)
			seen["unknown_path"] = call("POST", inv+"/nope", "", nil)
			body, _ := json.Marshal(seen)
			seen["response"] = call("POST", inv+"/response", "", body)
			seen["duplicate_response"] = call("POST", inv+"/response", "", []byte("{}"))
		case `"big"`:
			seen["big_response"] = call("POST", inv+"/response", "", bytes.Repeat([]byte("x"), 6<<20+1))
		case `"report"`:
			body, _ := json.Marshal(seen)
			call("POST", inv+"/response", "", body)
		default:
			call("POST", inv+"/error", "Custom.NotJSON", []byte("plain text error"))
		}
	}
}
