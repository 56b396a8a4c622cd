package lambdaapi

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Echo returns a handler whose function answers with the request payload.
func Echo() HandlerFunc {
	return func(_ context.Context, inv *Invocation) Reply {
		return Reply{Payload: inv.Payload}
	}
}

// Respond returns a handler that always answers r.
func Respond(r Reply) HandlerFunc {
	return func(context.Context, *Invocation) Reply { return r }
}

// FunctionFailure returns a handler whose function fails: HTTP 200 with
// X-Amz-Function-Error: Unhandled and the payload
// {"errorMessage":message,"errorType":errorType}, as when a function
// throws.
func FunctionFailure(errorType, message string) HandlerFunc {
	return Respond(Reply{FunctionError: "Unhandled", ErrorType: errorType, Message: message})
}

// NotFound returns a handler answering 404 ResourceNotFoundException
// "Function not found: ARN", as for a function that does not exist.
func NotFound() HandlerFunc {
	return func(_ context.Context, inv *Invocation) Reply {
		return Reply{
			Status:    http.StatusNotFound,
			ErrorType: "ResourceNotFoundException",
			Message:   "Function not found: " + inv.ARN(),
		}
	}
}

// Throttle returns a handler answering 429 TooManyRequestsException
// "Rate Exceeded." with Reason
// ReservedFunctionConcurrentInvocationLimitExceeded and, unless
// retryAfter is empty, a Retry-After header (seconds).
func Throttle(retryAfter string) HandlerFunc {
	return Respond(Reply{
		Status:     http.StatusTooManyRequests,
		ErrorType:  "TooManyRequestsException",
		Message:    "Rate Exceeded.",
		Reason:     "ReservedFunctionConcurrentInvocationLimitExceeded",
		RetryAfter: retryAfter,
	})
}

// ServerError returns a handler answering 500 ServiceException, Lambda's
// own internal error.
func ServerError() HandlerFunc {
	return Respond(Reply{Status: http.StatusInternalServerError, ErrorType: "ServiceException"})
}

// Slow returns next with every answer held back d longer (see
// Reply.Delay).
func Slow(d time.Duration, next HandlerFunc) HandlerFunc {
	return func(ctx context.Context, inv *Invocation) Reply {
		r := next(ctx, inv)
		r.Delay += d
		return r
	}
}

// Randomly returns a handler that answers with fault for a fraction rate
// (0..1) of the invocations and with next for the rest. The choice comes
// from a PCG generator seeded with seed, so a given seed and call order
// always fail the same invocations.
func Randomly(rate float64, seed uint64, fault, next HandlerFunc) HandlerFunc {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(ctx context.Context, inv *Invocation) Reply {
		mu.Lock()
		hit := rng.Float64() < rate
		mu.Unlock()
		if hit {
			return fault(ctx, inv)
		}
		return next(ctx, inv)
	}
}

// FailRandomly returns a handler whose function fails (FunctionError
// "Unhandled", errorType "InjectedFailure") for a fraction rate of the
// invocations, chosen as by Randomly, and otherwise answers with next.
func FailRandomly(rate float64, seed uint64, next HandlerFunc) HandlerFunc {
	return Randomly(rate, seed, FunctionFailure("InjectedFailure", "injected failure"), next)
}

// FirstN returns a handler that answers the first n invocations it sees
// with fault and every later one with next: a function that recovers, for
// testing retries.
func FirstN(n int64, fault, next HandlerFunc) HandlerFunc {
	var seen atomic.Int64
	return func(ctx context.Context, inv *Invocation) Reply {
		if seen.Add(1) <= n {
			return fault(ctx, inv)
		}
		return next(ctx, inv)
	}
}
