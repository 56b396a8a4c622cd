package s3api

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Call is one request whose signature verified, as fault rules see it.
type Call struct {
	// Op is the operation, one of the Op constants, or OpUnknown.
	Op string
	// Bucket and Key name what the request addresses ("" when it does not).
	Bucket, Key string
	// PartNumber is an UploadPart's part number, else 0.
	PartNumber int
	// N numbers the server's verified requests from 1; OpN numbers those of
	// the same operation from 1.
	N, OpN int64
}

// Fault is what a Rule makes the server do with a request. The zero Fault
// serves it normally.
type Fault struct {
	// Delay holds the request back this long before anything else
	// happens. A client that gives up meanwhile gets nothing and the
	// operation is not performed.
	Delay time.Duration
	// Status, when 400 or more, answers with an S3 error document instead
	// of performing the operation.
	Status int
	// Code and Message fill the error document; empty picks S3's usual
	// code for Status (503 SlowDown, 500 InternalError, ...) and its
	// message.
	Code, Message string
	// AfterCommit performs the operation first and then answers with the
	// error (or hangs up): the write happened, but the client cannot know.
	AfterCommit bool
	// Hangup closes the connection without answering, as a crashed or
	// partitioned server would.
	Hangup bool
	// With200 sends the error document with status 200, as S3 does when
	// CompleteMultipartUpload fails after it has started answering. The
	// SDK turns such an answer into an error for the operations S3 does
	// this for.
	With200 bool
}

// active reports whether f changes anything.
func (f *Fault) active() bool {
	return f != nil && (f.Delay > 0 || f.Status >= 400 || f.Hangup)
}

// Rule decides whether a request is faulted. Every rule of a Server sees
// every verified request, in order; the first one returning a non-nil
// Fault decides what happens to it.
type Rule func(c *Call) *Fault

// SlowDown is S3's throttling answer: 503 SlowDown "Please reduce your
// request rate.", which the SDK retries as a throttle.
func SlowDown() Fault {
	return Fault{Status: http.StatusServiceUnavailable, Code: "SlowDown"}
}

// InternalError is S3's 500 InternalError "We encountered an internal
// error. Please try again.", which the SDK retries.
func InternalError() Fault {
	return Fault{Status: http.StatusInternalServerError, Code: "InternalError"}
}

// Slow holds a request back d before serving it normally.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

// Hangup closes the connection without an answer.
func Hangup() Fault { return Fault{Hangup: true} }

// matches reports whether the rule for op applies to c; "" matches every
// operation.
func matches(op string, c *Call) bool { return op == "" || op == c.Op }

// On faults every request of op ("" for every request) with f.
func On(op string, f Fault) Rule {
	return func(c *Call) *Fault {
		if matches(op, c) {
			return &f
		}
		return nil
	}
}

// Nth faults only the n-th request of op ("" for any operation) the rule
// sees, counting from 1, with f.
func Nth(op string, n int64, f Fault) Rule {
	var seen atomic.Int64
	return func(c *Call) *Fault {
		if matches(op, c) && seen.Add(1) == n {
			return &f
		}
		return nil
	}
}

// FirstN faults the first n requests of op ("" for any operation) the
// rule sees with f and serves the later ones: a service that recovers.
func FirstN(op string, n int64, f Fault) Rule {
	var seen atomic.Int64
	return func(c *Call) *Fault {
		if matches(op, c) && seen.Add(1) <= n {
			return &f
		}
		return nil
	}
}

// Randomly faults a fraction rate (0..1) of the requests of op ("" for
// any operation) with f. The choice comes from a PCG generator seeded with
// seed, so a given seed and request order always fault the same requests.
func Randomly(op string, rate float64, seed uint64, f Fault) Rule {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(c *Call) *Fault {
		if !matches(op, c) {
			return nil
		}
		mu.Lock()
		hit := rng.Float64() < rate
		mu.Unlock()
		if hit {
			return &f
		}
		return nil
	}
}
