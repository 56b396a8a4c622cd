package localfn

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The Runtime API's headers.
const (
	hdrRequestID   = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline    = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID     = "Lambda-Runtime-Trace-Id"
	hdrErrorType   = "Lambda-Runtime-Function-Error-Type"
	hdrErrorBody   = "Lambda-Runtime-Function-Error-Body" // a trailer, base64
)

// invocation is one invocation, from its dispatch to a process on.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	trace    string
	result   chan Response // buffered; gets the response the runtime posts
}

// sandbox is one process and the Runtime API it is served. The API listens
// on a port of its own, so a process that is being replaced cannot reach its
// successor's invocations.
type sandbox struct {
	f          *Function
	cmd        *exec.Cmd
	srv        *http.Server
	started    time.Time
	next       chan chan *invocation // a /next request offers a channel for its invocation
	exited     chan struct{}         // closed when the process has exited and its output is logged
	initFailed chan struct{}         // closed when the runtime posts an init error
	pumps      sync.WaitGroup

	mu         sync.Mutex
	ready      bool        // the runtime asked for an invocation: init is over
	reaped     bool        // the process was waited for: its pid is no longer ours
	cur        *invocation // the invocation under way
	lastID     string      // the last invocation dispatched, for the log
	lastStderr string
	initErr    *Error // an init error the runtime posted, or an init timeout
	exitErr    error
	exitTime   time.Time
	killedBy   string // why this package signalled the process, if it did
}

// spawn starts a process, with its Runtime API.
func (f *Function) spawn() (*sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return nil, f.errClosed("")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("localfn: function %s: runtime API: %w", f.o.FunctionName, err)
	}
	sb := &sandbox{
		f:          f,
		next:       make(chan chan *invocation),
		exited:     make(chan struct{}),
		initFailed: make(chan struct{}),
	}
	const base = "/2018-06-01/runtime"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/invocation/next", sb.handleNext)
	mux.HandleFunc("POST "+base+"/invocation/{id}/response", sb.handleResponse)
	mux.HandleFunc("POST "+base+"/invocation/{id}/error", sb.handleError)
	mux.HandleFunc("POST "+base+"/init/error", sb.handleInitError)
	sb.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}

	env := append(slices.Clip(f.env), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	if f.stream {
		env = append(env, "AWS_LAMBDA_LOG_STREAM_NAME="+logStreamName())
	}
	cmd := exec.Command(f.path, f.o.Command[1:]...)
	cmd.Args[0] = f.o.Command[0]
	cmd.Dir = f.o.Dir
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()
	outR, outW, err := os.Pipe()
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("localfn: function %s: %w", f.o.FunctionName, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		ln.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("localfn: function %s: %w", f.o.FunctionName, err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	sb.started = time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		ln.Close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("localfn: function %s: %w", f.o.FunctionName, err)
	}
	sb.cmd = cmd
	f.live[sb] = struct{}{}
	f.wg.Add(1)
	serving := make(chan struct{})
	go func() {
		defer close(serving)
		sb.srv.Serve(ln)
	}()
	sb.pumps.Add(2)
	go sb.pump(outR, "stdout")
	go sb.pump(errR, "stderr")
	go sb.wait(outR, errR, serving)
	f.log.Debug("localfn: process started", "pid", cmd.Process.Pid, "runtime_api", ln.Addr().String())
	return sb, nil
}

// wait waits for the process to exit, then kills what is left of its group,
// logs the rest of its output and shuts its Runtime API down.
func (sb *sandbox) wait(outR, errR *os.File, serving <-chan struct{}) {
	f := sb.f
	defer f.wg.Done()
	err := sb.cmd.Wait()
	sb.mu.Lock()
	sb.reaped = true
	sb.mu.Unlock()
	killGroup(sb.cmd.Process, true) // what the process started dies with it

	drained := make(chan struct{})
	go func() {
		sb.pumps.Wait()
		close(drained)
	}()
	t := time.NewTimer(time.Second)
	select {
	case <-drained:
	case <-t.C: // a process outside the group holds the output open
		outR.Close()
		errR.Close()
		<-drained
	}
	t.Stop()
	outR.Close()
	errR.Close()

	sb.mu.Lock()
	sb.exitErr, sb.exitTime = err, time.Now()
	by, ready := sb.killedBy, sb.ready
	sb.mu.Unlock()
	close(sb.exited)
	sb.srv.Close()
	<-serving
	f.mu.Lock()
	delete(f.live, sb)
	f.mu.Unlock()

	status := "exit status 0"
	if err != nil {
		status = err.Error()
	}
	if by != "" {
		f.log.Debug("localfn: process stopped", "pid", sb.cmd.Process.Pid, "reason", by, "status", status)
	} else {
		f.log.Warn("localfn: process exited", "pid", sb.cmd.Process.Pid, "status", status, "initialised", ready)
	}
}

// signal sends SIGTERM, or SIGKILL if kill, to the process's group, unless
// the process was reaped.
func (sb *sandbox) signal(kill bool, why string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.reaped {
		return
	}
	if sb.killedBy == "" {
		sb.killedBy = why
	}
	killGroup(sb.cmd.Process, kill)
}

func (sb *sandbox) isReady() bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.ready
}

// setInitError records the first init failure.
func (sb *sandbox) setInitError(e *Error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.initErr == nil {
		sb.initErr = e
	}
}

// initError returns the error for a process that failed to initialise.
func (sb *sandbox) initError() error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	e := &Error{Function: sb.f.o.FunctionName, Err: ErrInit}
	if sb.initErr != nil {
		e.Type, e.Message = sb.initErr.Type, sb.initErr.Message
	} else {
		e.Type, e.Message = "Runtime.ExitError", "init failed: "+sb.exitDesc()
	}
	return e
}

// exitError returns the error for a process that exited during invocation
// requestID, or between invocations if requestID is "".
func (sb *sandbox) exitError(requestID string, err error) *Error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return &Error{Function: sb.f.o.FunctionName, RequestID: requestID, Type: "Runtime.ExitError", Message: sb.exitDesc(), Err: err}
}

// exitDesc describes the process's exit, in Lambda's words. sb.mu is held.
func (sb *sandbox) exitDesc() string {
	msg := "Runtime exited without providing a reason"
	if sb.exitErr != nil {
		msg = "Runtime exited with error: " + sb.exitErr.Error()
	}
	if sb.lastStderr != "" {
		msg += "; last line of stderr: " + strconv.Quote(sb.lastStderr)
	}
	return msg
}

// await waits for the end of invocation inv: its response, its timeout or
// the exit of the process.
func (sb *sandbox) await(inv *invocation) (Response, error) {
	f := sb.f
	t := time.NewTimer(time.Until(inv.deadline))
	defer t.Stop()
	select {
	case r := <-inv.result:
		return r, nil
	case <-sb.exited:
		if !sb.claim(inv) {
			return <-inv.result, nil
		}
		sb.mu.Lock()
		by := sb.killedBy
		sb.mu.Unlock()
		if by == "close" {
			return Response{}, f.errClosed(inv.id)
		}
		return Response{}, sb.exitError(inv.id, ErrExited)
	case <-t.C:
		if !sb.claim(inv) {
			return <-inv.result, nil
		}
		sb.signal(true, "timeout")
		<-sb.exited
		msg := fmt.Sprintf("Task timed out after %.2f seconds", f.o.Timeout.Seconds())
		f.log.Warn("localfn: "+msg, "request_id", inv.id)
		return Response{}, &Error{Function: f.o.FunctionName, RequestID: inv.id, Type: "Sandbox.Timedout", Message: msg, Err: ErrTimeout}
	}
}

// claim takes inv from the process, if it is still the invocation under
// way; whoever claims it gives its outcome.
func (sb *sandbox) claim(inv *invocation) bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.cur != inv {
		return false
	}
	sb.cur = nil
	return true
}

// handleNext serves GET /runtime/invocation/next: it waits for an
// invocation and sends its payload, with its context in the headers.
func (sb *sandbox) handleNext(w http.ResponseWriter, r *http.Request) {
	sb.mu.Lock()
	first, failed := !sb.ready, sb.initErr != nil
	if !failed {
		sb.ready = true
	}
	sb.mu.Unlock()
	if failed {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "the runtime reported an init error")
		return
	}
	if first {
		sb.f.log.Debug("localfn: init done", "pid", sb.cmd.Process.Pid, "duration", time.Since(sb.started))
	}
	reply := make(chan *invocation, 1)
	select {
	case sb.next <- reply:
	case <-r.Context().Done():
		return
	case <-sb.exited:
		return
	}
	inv := <-reply
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	h.Set(hdrRequestID, inv.id)
	h.Set(hdrDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(hdrFunctionARN, sb.f.arn)
	h.Set(hdrTraceID, inv.trace)
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

// handleResponse serves POST /runtime/invocation/{id}/response.
func (sb *sandbox) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := sb.current(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return
	}
	tooLarge := len(body) > MaxPayload
	var resp Response
	switch {
	case tooLarge:
		io.Copy(io.Discard, io.LimitReader(r.Body, 8*MaxPayload)) // so the runtime reads the 413
		resp = Response{FunctionError: "Unhandled", Payload: errorDoc("Function.ResponseSizeTooLarge",
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayload))}
	case r.Trailer.Get(hdrErrorType) != "":
		// The runtime failed in the middle of a streamed response and says
		// so in trailers, as aws-lambda-go does when the handler's
		// io.Reader fails.
		doc, err := base64.StdEncoding.DecodeString(r.Trailer.Get(hdrErrorBody))
		if err != nil || !json.Valid(doc) {
			doc = errorDoc(r.Trailer.Get(hdrErrorType), "")
		}
		resp = Response{FunctionError: "Unhandled", Payload: doc}
	default:
		resp = Response{Payload: body}
	}
	resp.RequestID = inv.id
	if !sb.complete(inv, resp) {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	if tooLarge {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxPayload))
		return
	}
	accepted(w)
}

// handleError serves POST /runtime/invocation/{id}/error.
func (sb *sandbox) handleError(w http.ResponseWriter, r *http.Request) {
	inv := sb.current(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload))
	if err != nil {
		apiError(w, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return
	}
	if len(body) == 0 || !json.Valid(body) {
		typ := r.Header.Get(hdrErrorType)
		if typ == "" {
			typ = "Runtime.Unknown"
		}
		body = errorDoc(typ, string(body))
	}
	if !sb.complete(inv, Response{Payload: body, FunctionError: "Unhandled", RequestID: inv.id}) {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	accepted(w)
}

// handleInitError serves POST /runtime/init/error: the process failed to
// initialise. It is killed if it does not exit within initErrorGrace, and the
// invocation waiting for it gets the error.
func (sb *sandbox) handleInitError(w http.ResponseWriter, r *http.Request) {
	if sb.isReady() {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "init is over: the runtime asked for an invocation")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if json.Unmarshal(body, &doc) != nil {
		doc.Message = string(body)
	}
	typ := r.Header.Get(hdrErrorType)
	if typ == "" {
		typ = doc.Type
	}
	if typ == "" {
		typ = "Runtime.Unknown"
	}
	sb.mu.Lock()
	first := sb.initErr == nil
	if first {
		sb.initErr = &Error{Type: typ, Message: "init failed: " + doc.Message}
	}
	sb.mu.Unlock()
	accepted(w)
	if !first {
		return
	}
	close(sb.initFailed)
	sb.f.log.Warn("localfn: init error", "pid", sb.cmd.Process.Pid, "type", typ, "message", doc.Message)
	// The runtime should exit now; if it has not soon, it is killed.
	time.AfterFunc(initErrorGrace, func() { sb.signal(true, "init error") })
}

// current returns the invocation under way, if id names it; if not, it
// answers as Lambda does and returns nil.
func (sb *sandbox) current(w http.ResponseWriter, r *http.Request) *invocation {
	sb.mu.Lock()
	inv := sb.cur
	sb.mu.Unlock()
	switch {
	case inv == nil:
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "no invocation is under way")
		return nil
	case inv.id != r.PathValue("id"):
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return nil
	}
	return inv
}

// complete gives inv its response, if it is still the invocation under way.
func (sb *sandbox) complete(inv *invocation, resp Response) bool {
	if !sb.claim(inv) {
		return false
	}
	inv.result <- resp
	return true
}

// errorDoc returns a Lambda error document.
func errorDoc(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	return b
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(errorDoc(typ, msg))
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}
