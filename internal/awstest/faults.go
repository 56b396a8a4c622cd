package awstest

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// EntryFaults decides which calls and batch entries of a local endpoint
// fail, and how: it is called with i = -1 for a call as a whole and with
// the entry's index for each entry of a batch call. F is the endpoint's
// fault type, E what it shows of a request or entry. The functions below
// combine them; the endpoints (sqsapi, snsapi) name them FaultFunc.
type EntryFaults[F, E any] func(op string, i int, e *E) *F

// OnCall fails every call of op ("" for any operation) with f.
func OnCall[F, E any](op string, f *F) EntryFaults[F, E] {
	return func(o string, i int, _ *E) *F {
		if i < 0 && (op == "" || o == op) {
			return f
		}
		return nil
	}
}

// OnEntry fails every entry of op ("" for any operation with entries)
// with f.
func OnEntry[F, E any](op string, f *F) EntryFaults[F, E] {
	return func(o string, i int, _ *E) *F {
		if i >= 0 && (op == "" || o == op) {
			return f
		}
		return nil
	}
}

// Randomly passes on next's faults with probability rate (0..1) each,
// and drops the others. The draws come from a PCG generator seeded with
// seed, one per fault next returns, so the same seed and the same order
// of requests always fail the same calls or entries.
func Randomly[F, E any](rate float64, seed uint64, next EntryFaults[F, E]) EntryFaults[F, E] {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(op string, i int, e *E) *F {
		f := next(op, i, e)
		if f == nil {
			return nil
		}
		mu.Lock()
		hit := rng.Float64() < rate
		mu.Unlock()
		if hit {
			return f
		}
		return nil
	}
}

// FirstN passes on the first n faults next returns and none after: a
// service that recovers, for testing retries.
func FirstN[F, E any](n int64, next EntryFaults[F, E]) EntryFaults[F, E] {
	var seen atomic.Int64
	return func(op string, i int, e *E) *F {
		f := next(op, i, e)
		if f == nil || seen.Add(1) > n {
			return nil
		}
		return f
	}
}

// Chain asks each function in turn and returns the first fault.
func Chain[F, E any](fs ...EntryFaults[F, E]) EntryFaults[F, E] {
	return func(op string, i int, e *E) *F {
		for _, f := range fs {
			if f == nil {
				continue
			}
			if r := f(op, i, e); r != nil {
				return r
			}
		}
		return nil
	}
}
