// Package lambdaapi is a local endpoint implementing AWS Lambda's Invoke
// API for tests: POST /2015-03-31/functions/{FunctionName}/invocations on
// 127.0.0.1, with every request's SigV4 signature verified and the same
// wire format as AWS, so that the real aws-sdk-go-v2 Lambda client parses
// its answers into the same typed results and errors.
//
// What a function does is up to Options.Handler; the helpers in this
// package (Echo, FunctionFailure, NotFound, Throttle, ServerError, Slow,
// Randomly, FailRandomly, FirstN) build handlers and inject faults.
package lambdaapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

// DefaultMaxPayload is AWS Lambda's limit on a synchronous invocation's
// request and response payloads: 6 MB.
const DefaultMaxPayload = 6 * 1024 * 1024

// The invocation types of X-Amz-Invocation-Type.
const (
	RequestResponse = "RequestResponse"
	Event           = "Event"
	DryRun          = "DryRun"
)

// HandlerFunc is a function's behaviour: it is called once per accepted
// Invoke request and says what to answer. ctx is the request's context,
// cancelled when the client gives up or the server closes.
//
// Event and DryRun invocations reach the Handler too, synchronously: a
// Reply with Status >= 400 answers them with that service error (as AWS
// does for, say, a missing function), anything else with 202 or 204 and no
// body, after Reply.Delay.
type HandlerFunc func(ctx context.Context, inv *Invocation) Reply

// Options configures Start.
type Options struct {
	// Region is the region requests must be signed for and function ARNs
	// must name; empty means us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
	// AccountID is the account of functions named without one; empty
	// means 123456789012.
	AccountID string
	// Handler answers invocations; nil means Echo().
	Handler HandlerFunc
	// Logger receives a debug record per invocation and a warning per
	// refused signature; nil discards.
	Logger *slog.Logger
	// MaxPayload is the largest request payload accepted (larger ones get
	// 413 RequestTooLargeException) and the largest response payload
	// returned (larger ones become a Function.ResponseSizeTooLarge function
	// error), in bytes. 0 means DefaultMaxPayload; negative means no limit.
	MaxPayload int
}

// Invocation is one accepted Invoke request as the Handler sees it.
type Invocation struct {
	// FunctionName is the bare function name, whichever form (name, ARN,
	// partial ARN) the request used.
	FunctionName string
	// Qualifier is the version or alias, from the function name or the
	// Qualifier query parameter; "" when neither gave one.
	Qualifier string
	// Payload is the request body.
	Payload []byte
	// InvocationType is RequestResponse, Event or DryRun.
	InvocationType string
	// LogType is "None" or "Tail".
	LogType string
	// ClientContext is the decoded X-Amz-Client-Context; nil when absent.
	ClientContext []byte
	// Region is the server's region; Account the account named in the
	// function name, or Options.AccountID.
	Region, Account string
	// RequestID is the X-Amzn-RequestId the answer will carry.
	RequestID string
	// N numbers the accepted invocations of a Server from 1.
	N int64
}

// ARN returns the function's ARN, qualified when Qualifier is set.
func (inv *Invocation) ARN() string {
	arn := "arn:aws:lambda:" + inv.Region + ":" + inv.Account + ":function:" + inv.FunctionName
	if inv.Qualifier != "" {
		arn += ":" + inv.Qualifier
	}
	return arn
}

// Reply is what a Handler answers. The zero Reply is a successful
// invocation with an empty payload.
type Reply struct {
	// Payload is the function's response (status 2xx). With
	// FunctionError set and Payload nil, the error document
	// {"errorMessage":Message,"errorType":ErrorType} is sent instead.
	Payload []byte
	// FunctionError, "" | "Unhandled" | "Handled", marks a failed
	// function: still HTTP 200, with X-Amz-Function-Error set.
	FunctionError string
	// Status is the HTTP status; 0 means 200 (202 for Event, 204 for
	// DryRun). 400 or more answers with a service error instead of a
	// function result.
	Status int
	// ErrorType is the AWS error code of a service error (Status >= 400),
	// e.g. ResourceNotFoundException, TooManyRequestsException,
	// ServiceException, AccessDeniedException, RequestTooLargeException;
	// empty picks the usual one for Status. For a function error it is
	// the errorType of the generated error document.
	ErrorType string
	// Message is the service error's or function error's message.
	Message string
	// Reason is a TooManyRequestsException's Reason, e.g.
	// ReservedFunctionConcurrentInvocationLimitExceeded.
	Reason string
	// RetryAfter is sent as the Retry-After header when not empty (the SDK
	// reads it into TooManyRequestsException.RetryAfterSeconds).
	RetryAfter string
	// Delay holds the answer back this long; a client that gives up first
	// gets nothing and the server stops waiting.
	Delay time.Duration
	// ExecutedVersion is X-Amz-Executed-Version; empty means the numeric
	// qualifier when one was given, else $LATEST.
	ExecutedVersion string
	// Log is the function's log output, returned base64-encoded in
	// X-Amz-Log-Result (last 4 KB, between START/END/REPORT lines as
	// Lambda writes them) when the request asked for LogType Tail.
	Log string
}

// Server is a running local Lambda endpoint. Its URL, Close and
// SignatureFailures are those of the embedded awstest.Endpoint.
type Server struct {
	*awstest.Endpoint
	opts   Options
	active atomic.Int64
	count  atomic.Int64
}

// Start listens on a random port of 127.0.0.1 and serves the Invoke API
// until Close.
func Start(opts Options) (*Server, error) {
	e, err := awstest.NewEndpoint(awstest.EndpointOptions{
		Name: "lambdaapi", Service: "lambda", Region: opts.Region, Logger: opts.Logger,
		AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey,
	})
	if err != nil {
		return nil, err
	}
	opts.Region = e.Creds.Region
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Handler == nil {
		opts.Handler = Echo()
	}
	if opts.MaxPayload == 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	s := &Server{Endpoint: e, opts: opts}
	if err := s.Serve(http.HandlerFunc(s.serveInvoke), http.HandlerFunc(s.serve), nil); err != nil {
		return nil, err
	}
	return s, nil
}

// Invocations returns how many requests were handed to the Handler.
func (s *Server) Invocations() int64 { return s.count.Load() }

// serve counts the request as active while the guard and serveInvoke
// handle it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	s.Guard.ServeHTTP(w, r)
}

const (
	pathPrefix = "/2015-03-31/functions/"
	pathSuffix = "/invocations"
)

// serveInvoke handles a request whose signature verified.
func (s *Server) serveInvoke(w http.ResponseWriter, r *http.Request) {
	id := uuid.New()
	p := r.URL.Path
	if r.Method != http.MethodPost || !strings.HasPrefix(p, pathPrefix) || !strings.HasSuffix(p, pathSuffix) ||
		len(p) <= len(pathPrefix)+len(pathSuffix) {
		writeError(w, id, http.StatusNotFound, "UnknownOperationException", "", "", "")
		return
	}
	fn, err := parseFunctionName(p[len(pathPrefix) : len(p)-len(pathSuffix)])
	if err != nil {
		writeError(w, id, http.StatusBadRequest, "ValidationException", err.Error(), "", "")
		return
	}
	if fn.region != "" && fn.region != s.opts.Region {
		writeError(w, id, http.StatusBadRequest, "InvalidParameterValueException",
			fmt.Sprintf("Functions from '%s' are not reachable in this region ('%s')", fn.region, s.opts.Region), "", "")
		return
	}
	if q := r.URL.Query(); q.Has("Qualifier") {
		qual := q.Get("Qualifier")
		if !validQualifier(qual) {
			writeError(w, id, http.StatusBadRequest, "ValidationException", validation(qual, "qualifier", qualifierPattern), "", "")
			return
		}
		if fn.qualifier != "" && fn.qualifier != qual {
			writeError(w, id, http.StatusBadRequest, "InvalidParameterValueException",
				"The derived qualifier from the function name does not match the specified qualifier.", "", "")
			return
		}
		fn.qualifier = qual
	}
	invType := r.Header.Get("X-Amz-Invocation-Type")
	switch invType {
	case "":
		invType = RequestResponse
	case RequestResponse, Event, DryRun:
	default:
		writeError(w, id, http.StatusBadRequest, "ValidationException",
			validation(invType, "invocationType", "Member must satisfy enum value set: [Event, RequestResponse, DryRun]"), "", "")
		return
	}
	logType := r.Header.Get("X-Amz-Log-Type")
	switch logType {
	case "":
		logType = "None"
	case "None", "Tail":
	default:
		writeError(w, id, http.StatusBadRequest, "ValidationException",
			validation(logType, "logType", "Member must satisfy enum value set: [None, Tail]"), "", "")
		return
	}
	var clientContext []byte
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		b, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(b) {
			writeError(w, id, http.StatusBadRequest, "InvalidRequestContentException",
				"Client context must be a valid Base64-encoded JSON object.", "", "")
			return
		}
		clientContext = b
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, id, http.StatusBadRequest, "InvalidRequestContentException", "Could not read request body: "+err.Error(), "", "")
		return
	}
	if max := s.opts.MaxPayload; max > 0 && len(payload) > max {
		writeError(w, id, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", max), "", "")
		return
	}
	if len(payload) > 0 && !json.Valid(payload) {
		var v any
		err := json.Unmarshal(payload, &v)
		writeError(w, id, http.StatusBadRequest, "InvalidRequestContentException",
			"Could not parse request body into json: "+err.Error(), "", "")
		return
	}

	inv := &Invocation{
		FunctionName:   fn.name,
		Qualifier:      fn.qualifier,
		Payload:        payload,
		InvocationType: invType,
		LogType:        logType,
		ClientContext:  clientContext,
		Region:         s.opts.Region,
		Account:        fn.account,
		RequestID:      id,
		N:              s.count.Add(1),
	}
	if inv.Account == "" {
		inv.Account = s.opts.AccountID
	}
	ctx := r.Context()
	start := time.Now()
	reply := s.opts.Handler(ctx, inv)

	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.Log.Debug("lambdaapi: client gave up during delay", "function", inv.FunctionName, "n", inv.N, "err", ctx.Err())
			return
		}
	}
	s.Log.Debug("lambdaapi: invoke", "function", inv.FunctionName, "qualifier", inv.Qualifier,
		"type", inv.InvocationType, "n", inv.N, "status", reply.Status, "function_error", reply.FunctionError)

	if reply.Status >= 400 {
		code := reply.ErrorType
		if code == "" {
			code = defaultErrorType(reply.Status)
		}
		writeError(w, id, reply.Status, code, reply.Message, reply.Reason, reply.RetryAfter)
		return
	}

	h := w.Header()
	h.Set("X-Amzn-RequestId", id)
	switch invType {
	case Event:
		status := http.StatusAccepted
		if reply.Status != 0 {
			status = reply.Status
		}
		w.WriteHeader(status)
		return
	case DryRun:
		status := http.StatusNoContent
		if reply.Status != 0 {
			status = reply.Status
		}
		w.WriteHeader(status)
		return
	}

	body, funcErr := reply.Payload, reply.FunctionError
	if funcErr != "" && body == nil {
		body = errorDocument(reply.ErrorType, reply.Message)
	}
	if max := s.opts.MaxPayload; max > 0 && len(body) > max {
		funcErr = "Unhandled"
		body = errorDocument("Function.ResponseSizeTooLarge",
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", max))
	}
	version := reply.ExecutedVersion
	if version == "" {
		version = "$LATEST"
		if _, err := strconv.ParseUint(inv.Qualifier, 10, 64); err == nil {
			version = inv.Qualifier
		}
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Executed-Version", version)
	if funcErr != "" {
		h.Set("X-Amz-Function-Error", funcErr)
	}
	if logType == "Tail" {
		h.Set("X-Amz-Log-Result", logResult(id, version, reply.Log, time.Since(start)))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := http.StatusOK
	if reply.Status != 0 {
		status = reply.Status
	}
	w.WriteHeader(status)
	w.Write(body)
}

// errorDocument is the payload Lambda returns for a failed function.
func errorDocument(errorType, message string) []byte {
	if errorType == "" {
		errorType = "Error"
	}
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{message, errorType})
	return b
}

// logResult renders the tail of an invocation's log as Lambda does: START,
// the function's output, END and REPORT lines, last 4 KB, base64.
func logResult(id, version, log string, took time.Duration) string {
	if log != "" && !strings.HasSuffix(log, "\n") {
		log += "\n"
	}
	ms := float64(took.Microseconds()) / 1000
	text := fmt.Sprintf("START RequestId: %s Version: %s\n%sEND RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: 128 MB\tMax Memory Used: 32 MB\t\n",
		id, version, log, id, id, ms, int64(ms)+1)
	if len(text) > 4096 {
		text = text[len(text)-4096:]
	}
	return base64.StdEncoding.EncodeToString([]byte(text))
}

// validation words a constraint failure the way AWS's request validation
// does.
func validation(value, member, constraint string) string {
	return fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}
