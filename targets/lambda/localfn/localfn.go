// Package localfn runs an unmodified AWS Lambda function executable on this
// machine: a custom-runtime bootstrap such as a Go binary built with
// github.com/aws/aws-lambda-go, a Rust lambda_runtime binary or a shell
// script. Each execution environment is a child process that is served the
// Lambda Runtime API (version 2018-06-01) on a loopback port, as the Lambda
// service serves it, so the executable needs no change.
//
// # Execution environments
//
// A Function has Options.Concurrency execution environments. Each runs one
// process and handles one invocation at a time; Invoke waits for a free one.
// Start starts every environment eagerly, so the first invocations do not pay
// the cold start and init output shows up at once. An environment whose
// process exits (a crash, a panic the runtime exits on, a timeout, an init
// failure) is started again lazily, by the next invocation that needs it.
// After an init failure the restart waits, doubling from 100ms up to 3s, so a
// broken executable does not spin the CPU.
//
// Limits are Lambda's: the invocation timeout (default 3s, at most 15m),
// 10s for init (the time from the start of the process to its first request
// for an invocation), and 6 MB (MaxPayload) for requests and responses; a
// bigger response is the function error Function.ResponseSizeTooLarge.
//
// # Environment
//
// The process gets the variables Lambda sets for a custom runtime:
// AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_NAME,
// AWS_LAMBDA_FUNCTION_VERSION ($LATEST), AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
// AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME,
// AWS_LAMBDA_INITIALIZATION_TYPE (on-demand), AWS_REGION,
// AWS_DEFAULT_REGION, _HANDLER (the base name of the executable),
// LAMBDA_TASK_ROOT (the working directory) and TZ (:UTC), then Options.Env,
// which may override any of them but AWS_LAMBDA_RUNTIME_API. Of this
// process's own environment only PATH and HOME are passed on: nothing else is
// inherited, and in particular no AWS credentials; a function that calls AWS
// services gets them through Options.Env, explicitly.
//
// # Processes
//
// On unix each process leads its own process group, and every signal goes to
// the group, so the processes it starts die with it. Close sends SIGTERM,
// then SIGKILL after a grace period. If this process is itself killed with
// SIGKILL, the children are not signalled; a Lambda runtime exits on its own
// when its next call to the Runtime API fails.
//
// The processes' standard output and error go to Options.Logger, one record
// per line (lines longer than 16 KiB are truncated), with the attributes
// function, stream and, once the process has had an invocation, request_id:
// the invocation under way, or the last one, when the line was read. (Output
// is read as it comes, so a line written just before an invocation starts may
// be tagged with that invocation.)
package localfn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/penstock-dev/penstock/internal/uuid"
)

// MaxPayload is the largest invocation request and response payload, in
// bytes: 6 MB, as for Lambda's synchronous invocations.
const MaxPayload = 6 << 20

const (
	defaultTimeout  = 3 * time.Second
	maxTimeout      = 15 * time.Minute
	defaultMemoryMB = 128
	defaultRegion   = "us-east-1"
	accountID       = "000000000000"
	closeGrace      = 2 * time.Second
	backoffMin      = 100 * time.Millisecond
	backoffMax      = 3 * time.Second
	initErrorGrace  = 250 * time.Millisecond // for a runtime to exit after its init error
)

// initTimeout bounds the init phase: from the start of a process to its first
// request for an invocation.
var initTimeout = 10 * time.Second

// Errors that Invoke's errors wrap; test for them with errors.Is.
var (
	// ErrTimeout is an invocation that ran past Options.Timeout. Its process
	// was killed.
	ErrTimeout = errors.New("function timed out")
	// ErrExited is a process that exited, or was killed by a signal, during
	// an invocation.
	ErrExited = errors.New("runtime exited")
	// ErrInit is a process that failed to initialise: it reported an init
	// error, exited before asking for an invocation, or took longer than 10s
	// to ask for one.
	ErrInit = errors.New("init failed")
	// ErrClosed is an Invoke on a closed Function, or one that Close ended.
	ErrClosed = errors.New("function closed")
)

// Error is the error Invoke returns when the execution environment failed,
// rather than the function: a timeout, a crash, an init failure. (An error
// the function reports through the Runtime API is not an Error but a
// Response with FunctionError set.)
type Error struct {
	// Function is the function's name.
	Function string
	// RequestID is the invocation's request id; empty if the invocation was
	// never handed to the function (an init failure).
	RequestID string
	// Type is the error type Lambda reports for the failure, such as
	// Sandbox.Timedout or Runtime.ExitError, or the one the runtime gave in
	// its init error.
	Type string
	// Message describes the failure, in Lambda's words where it has them,
	// with the process's last line of standard error where that helps.
	Message string
	// Err is ErrTimeout, ErrExited, ErrInit or ErrClosed.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("localfn: function ")
	b.WriteString(e.Function)
	if e.RequestID != "" {
		b.WriteString(" request ")
		b.WriteString(e.RequestID)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.Type != "" {
		b.WriteString(" (")
		b.WriteString(e.Type)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// Options configures a Function.
type Options struct {
	// Command is the executable and its arguments; required. A name without
	// a slash is looked up in PATH (Env's PATH if it sets one); a relative
	// path is relative to Dir.
	Command []string
	// Dir is the working directory, and LAMBDA_TASK_ROOT; default: the
	// current directory.
	Dir string
	// Env holds extra environment variables. They override the ones Lambda
	// sets, but for AWS_LAMBDA_RUNTIME_API, which is an error.
	Env map[string]string
	// FunctionName is the function's name; default: the base name of
	// Command[0], with characters a Lambda function name cannot hold
	// replaced by '-'.
	FunctionName string
	// MemoryMB is reported to the function in AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
	// it does not limit anything. Default 128; Lambda's 128 to 10240.
	MemoryMB int
	// Timeout limits each invocation; default 3s, as Lambda; at most 15m.
	Timeout time.Duration
	// Concurrency is the number of execution environments (processes) and so
	// of invocations that run at once; default 1.
	Concurrency int
	// Region is the region in the function's ARN and in AWS_REGION and
	// AWS_DEFAULT_REGION; default us-east-1.
	Region string
	// Logger receives the processes' standard output and error, line by
	// line at level Info, and this package's own reports on them; default:
	// discard.
	Logger *slog.Logger
}

// Response is the outcome of an invocation the function completed.
type Response struct {
	// Payload is the function's response or, if FunctionError is set, its
	// error document: {"errorMessage":...,"errorType":...,"stackTrace":...}.
	Payload []byte
	// FunctionError is "" or, if the function reported an error, "Unhandled",
	// as in Lambda's X-Amz-Function-Error.
	FunctionError string
	// RequestID is the invocation's request id, as the function saw it.
	RequestID string
}

// Function runs one Lambda function's execution environments. Its methods
// are safe for concurrent use.
type Function struct {
	o      Options // normalised
	path   string  // the executable, absolute
	arn    string
	env    []string // the environment, but for the per-process variables
	stream bool     // whether to set AWS_LAMBDA_LOG_STREAM_NAME per process
	log    *slog.Logger
	slots  chan *slot    // the idle environments
	closed chan struct{} // closed by Close

	mu   sync.Mutex
	done bool // Close was called
	live map[*sandbox]struct{}
	wg   sync.WaitGroup // the processes' waiters and the invocations under way
}

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	regionRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
)

// Start validates o and starts the function's execution environments (see
// the package documentation); it does not wait for them to initialise. A
// Command that cannot be found or run is an error. ctx bounds only Start,
// not the Function's lifetime: Close ends that.
func Start(ctx context.Context, o Options) (*Function, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(o.Command) == 0 || o.Command[0] == "" {
		return nil, errors.New("localfn: Command is required")
	}
	if o.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("localfn: %w", err)
		}
		o.Dir = wd
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("localfn: Dir: %w", err)
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("localfn: Dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("localfn: Dir %s is not a directory", dir)
	}
	o.Dir = dir
	if o.FunctionName == "" {
		o.FunctionName = defaultName(o.Command[0])
	} else if !nameRE.MatchString(o.FunctionName) {
		return nil, fmt.Errorf("localfn: FunctionName %q: want 1 to 64 letters, digits, '-' or '_'", o.FunctionName)
	}
	switch {
	case o.MemoryMB == 0:
		o.MemoryMB = defaultMemoryMB
	case o.MemoryMB < 128 || o.MemoryMB > 10240:
		return nil, fmt.Errorf("localfn: MemoryMB %d: want 128 to 10240", o.MemoryMB)
	}
	switch {
	case o.Timeout == 0:
		o.Timeout = defaultTimeout
	case o.Timeout < 0 || o.Timeout > maxTimeout:
		return nil, fmt.Errorf("localfn: Timeout %v: want more than 0 and at most %v", o.Timeout, maxTimeout)
	}
	switch {
	case o.Concurrency == 0:
		o.Concurrency = 1
	case o.Concurrency < 0:
		return nil, fmt.Errorf("localfn: Concurrency %d is negative", o.Concurrency)
	}
	if o.Region == "" {
		o.Region = defaultRegion
	} else if !regionRE.MatchString(o.Region) {
		return nil, fmt.Errorf("localfn: Region %q is not a region name", o.Region)
	}
	for k, v := range o.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("localfn: Env: invalid variable %q", k)
		}
		if k == "AWS_LAMBDA_RUNTIME_API" {
			return nil, errors.New("localfn: Env: AWS_LAMBDA_RUNTIME_API is set by localfn")
		}
	}
	env := environment(o)
	path, err := resolve(o.Command[0], o.Dir, env["PATH"])
	if err != nil {
		return nil, fmt.Errorf("localfn: function %s: %w", o.FunctionName, err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	_, userStream := o.Env["AWS_LAMBDA_LOG_STREAM_NAME"]

	f := &Function{
		o:      o,
		path:   path,
		arn:    fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", o.Region, accountID, o.FunctionName),
		stream: !userStream,
		log:    o.Logger.With("function", o.FunctionName),
		slots:  make(chan *slot, o.Concurrency),
		closed: make(chan struct{}),
		live:   make(map[*sandbox]struct{}),
	}
	for k, v := range env {
		f.env = append(f.env, k+"="+v)
	}
	sort.Strings(f.env)
	for range o.Concurrency {
		s := &slot{f: f}
		sb, err := f.spawn()
		if err != nil {
			f.Close(context.Background())
			return nil, err
		}
		s.sb = sb
		f.slots <- s
	}
	return f, nil
}

// defaultName makes a function name of the executable's base name.
func defaultName(command string) string {
	b := []byte(filepath.Base(command))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// environment returns the process environment, but for
// AWS_LAMBDA_RUNTIME_API and AWS_LAMBDA_LOG_STREAM_NAME, which are set per
// process.
func environment(o Options) map[string]string {
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"AWS_LAMBDA_FUNCTION_NAME":        o.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(o.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + o.FunctionName,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      o.Region,
		"AWS_DEFAULT_REGION":              o.Region,
		"_HANDLER":                        filepath.Base(o.Command[0]),
		"LAMBDA_TASK_ROOT":                o.Dir,
		"TZ":                              ":UTC",
	}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	for k, v := range o.Env {
		env[k] = v
	}
	return env
}

// resolve returns the absolute path of the executable command names.
func resolve(command, dir, path string) (string, error) {
	if !strings.ContainsRune(command, '/') && !strings.ContainsRune(command, filepath.Separator) {
		for _, d := range filepath.SplitList(path) {
			if !filepath.IsAbs(d) {
				continue // as exec.LookPath, refuse the current directory implied by PATH
			}
			p := filepath.Join(d, command)
			if executable(p) == nil {
				return p, nil
			}
		}
		return "", fmt.Errorf("command %q not found in PATH", command)
	}
	p := command
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if err := executable(p); err != nil {
		return "", fmt.Errorf("command %q: %w", command, err)
	}
	return p, nil
}

func executable(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case st.Mode()&0o111 == 0 && os.PathSeparator == '/':
		return fmt.Errorf("%s is not executable", path)
	}
	return nil
}

// ARN returns the function's ARN,
// arn:aws:lambda:REGION:000000000000:function:NAME, which is also the
// invoked function ARN the function sees.
func (f *Function) ARN() string { return f.arn }

// Invoke invokes the function with payload and returns its response, as a
// synchronous Lambda invocation does. It waits for a free execution
// environment, starting its process if need be. An error the function
// reports is a Response with FunctionError "Unhandled", not an error; a
// timeout, a crash or an init failure is an *Error, and the environment's
// next invocation gets a fresh process.
//
// If ctx ends first Invoke returns ctx's error. An invocation already handed
// to the function is not cancelled, as in Lambda: it runs on, holding its
// environment, until it completes or times out.
func (f *Function) Invoke(ctx context.Context, payload []byte) (Response, error) {
	if len(payload) > MaxPayload {
		return Response{}, fmt.Errorf("localfn: function %s: request payload of %d bytes exceeds the %d-byte limit",
			f.o.FunctionName, len(payload), MaxPayload)
	}
	var s *slot
	select {
	case s = <-f.slots:
	case <-ctx.Done():
		return Response{}, ctx.Err()
	case <-f.closed:
		return Response{}, f.errClosed("")
	}
	inv := &invocation{id: uuid.New(), payload: payload, result: make(chan Response, 1)}
	sb, err := s.dispatch(ctx, inv)
	if err != nil {
		f.slots <- s
		return Response{}, err
	}
	type outcome struct {
		resp Response
		err  error
	}
	done := make(chan outcome, 1)
	finish := func() {
		resp, err := sb.await(inv)
		f.slots <- s
		done <- outcome{resp, err}
	}
	if !f.track() {
		finish() // closing: the process is being killed, so this is quick
	} else {
		go func() {
			defer f.wg.Done()
			finish()
		}()
	}
	select {
	case o := <-done:
		return o.resp, o.err
	case <-ctx.Done():
		return Response{}, ctx.Err()
	}
}

// track adds one to f.wg unless f is closing.
func (f *Function) track() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return false
	}
	f.wg.Add(1)
	return true
}

func (f *Function) errClosed(requestID string) error {
	return &Error{Function: f.o.FunctionName, RequestID: requestID, Message: "function closed", Err: ErrClosed}
}

// Close stops the function: Invoke calls under way and later ones return
// ErrClosed, every process gets SIGTERM and, 2s later (or when ctx ends, if
// sooner), SIGKILL. Close waits until the processes have exited and their
// output is logged, or ctx ends. It may be called more than once.
func (f *Function) Close(ctx context.Context) error {
	f.mu.Lock()
	if !f.done {
		f.done = true
		close(f.closed)
	}
	live := make([]*sandbox, 0, len(f.live))
	for sb := range f.live {
		live = append(live, sb)
	}
	f.mu.Unlock()

	for _, sb := range live {
		sb.signal(false, "close")
	}
	grace := time.NewTimer(closeGrace)
	defer grace.Stop()
wait:
	for _, sb := range live {
		select {
		case <-sb.exited:
		case <-grace.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	for _, sb := range live {
		sb.signal(true, "close")
	}
	all := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(all)
	}()
	select {
	case <-all:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("localfn: function %s: close: %w", f.o.FunctionName, ctx.Err())
	}
}

// slot is one execution environment: the current process, if any, and the
// restart backoff. It belongs to whoever took it from Function.slots.
type slot struct {
	f         *Function
	sb        *sandbox // the current process; nil or exited if it needs a new one
	failures  int      // init failures in a row
	notBefore time.Time
}

// live returns the slot's running process, starting one if need be, after
// the backoff its init failures call for.
func (s *slot) live(ctx context.Context) (*sandbox, error) {
	f := s.f
	if sb := s.sb; sb != nil {
		select {
		case <-sb.exited:
			if sb.isReady() {
				s.failures = 0
			} else {
				s.failed(sb.exitTime)
			}
			s.sb = nil
		default:
			return sb, nil
		}
	}
	if d := time.Until(s.notBefore); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.closed:
			return nil, f.errClosed("")
		}
	}
	sb, err := f.spawn()
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			s.failed(time.Now())
		}
		return nil, err
	}
	s.sb = sb
	return sb, nil
}

// failed counts an init failure that ended at t and sets the backoff.
func (s *slot) failed(t time.Time) {
	s.failures++
	d := backoffMax
	if s.failures < 8 {
		d = min(backoffMin<<(s.failures-1), backoffMax)
	}
	s.notBefore = t.Add(d)
}

// dispatch hands inv to the slot's process when it asks for an invocation,
// and returns that process.
func (s *slot) dispatch(ctx context.Context, inv *invocation) (*sandbox, error) {
	f := s.f
	for tries := 0; ; tries++ {
		sb, err := s.live(ctx)
		if err != nil {
			return nil, err
		}
		var initExpired <-chan time.Time
		if !sb.isReady() {
			t := time.NewTimer(time.Until(sb.started.Add(initTimeout)))
			initExpired = t.C
			defer t.Stop()
		}
		select {
		case reply := <-sb.next:
			inv.deadline = time.Now().Add(f.o.Timeout)
			inv.trace = traceID()
			sb.mu.Lock()
			sb.cur, sb.lastID, sb.lastStderr = inv, inv.id, ""
			sb.mu.Unlock()
			reply <- inv
			return sb, nil
		case <-sb.exited:
			if sb.isReady() {
				if tries == 0 {
					continue // it exited while idle, as a runtime does after a panic
				}
				return nil, sb.exitError("", ErrExited)
			}
			return nil, sb.initError()
		case <-sb.initFailed:
			<-sb.exited // within initErrorGrace
			return nil, sb.initError()
		case <-initExpired:
			sb.setInitError(&Error{Type: "Sandbox.Timedout",
				Message: fmt.Sprintf("init failed: timed out after %.2f seconds", initTimeout.Seconds())})
			sb.signal(true, "init timeout")
			<-sb.exited
			return nil, sb.initError()
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.closed:
			return nil, f.errClosed("")
		}
	}
}

// traceID returns an X-Ray trace header for one invocation.
func traceID() string {
	var b [20]byte
	rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%x;Parent=%x;Sampled=0", time.Now().Unix(), b[:12], b[12:])
}

// logStreamName returns a log stream name of Lambda's form.
func logStreamName() string {
	var b [16]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + hex.EncodeToString(b[:])
}
