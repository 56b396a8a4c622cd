package wasm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/penstock-dev/penstock/pipeline"
)

// Causes of a failed batch, matched with errors.Is against the error Enrich
// returns. Every failure but ErrBatchFailed and *RecordErrors also closes the
// partition's instance, so that the next attempt runs on a fresh one.
var (
	// ErrTrap: the guest trapped (unreachable, out-of-bounds access, a
	// runtime panic) or exited through WASI proc_exit.
	ErrTrap = errors.New("trap")
	// ErrTimeout: a call into the guest ran longer than Options.Timeout.
	ErrTimeout = errors.New("timed out")
	// ErrMemoryLimit: the guest tried to grow its memory past
	// Options.MemoryLimit and then failed.
	ErrMemoryLimit = errors.New("memory limit reached")
	// ErrMalformedOutput: the output batch breaks the rules of ABI.md.
	ErrMalformedOutput = errors.New("malformed output")
	// ErrBatchFailed: the guest reported that the whole batch failed
	// (status 1). The instance is kept.
	ErrBatchFailed = errors.New("batch failed")
	// ErrABIVersion: penstock_abi_version returned a version this host does
	// not implement.
	ErrABIVersion = errors.New("unsupported ABI version")
	// ErrMissingExport: the module lacks an export of ABI.md, or has it with
	// the wrong type.
	ErrMissingExport = errors.New("missing export")
	// ErrInit: penstock_init returned an error message.
	ErrInit = errors.New("init failed")
	// ErrClosed: Enrich was called after Close.
	ErrClosed = errors.New("enricher closed")
)

// Error is a failure of one module: at load time (FirstOffset and
// LastOffset are -1) or on a batch, whose fetched offset range it names.
type Error struct {
	// Module is the module's name (Options.Name).
	Module string
	// FirstOffset and LastOffset are the offset range of the failed batch;
	// both are -1 for failures while loading the module.
	FirstOffset, LastOffset int64
	// Err is the cause; it wraps one of the Err* values of this package.
	Err error
}

func (e *Error) Error() string {
	if e.FirstOffset < 0 {
		return fmt.Sprintf("wasm enricher %q: %v", e.Module, e.Err)
	}
	return fmt.Sprintf("wasm enricher %q: offsets %d..%d: %v", e.Module, e.FirstOffset, e.LastOffset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// RecordError is the guest's report that it could not process one record.
type RecordError struct {
	Offset  int64
	Message string
}

// RecordErrors is returned by Enrich when the guest reported per-record
// errors (output kind 1). The batch is left as it was and the instance is
// kept; the pipeline retries the batch and, once its retries are used up,
// hands only these records to the on-failure destination
// (pipeline.RecordFailures).
type RecordErrors struct {
	Module                  string
	FirstOffset, LastOffset int64
	// Errors lists the failed records in offset order.
	Errors []RecordError
}

// FailedOffsets lists the offsets of the records the guest could not
// process (pipeline.RecordFailures).
func (e *RecordErrors) FailedOffsets() []int64 {
	offs := make([]int64, len(e.Errors))
	for i, r := range e.Errors {
		offs[i] = r.Offset
	}
	return offs
}

func (e *RecordErrors) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "wasm enricher %q: offsets %d..%d: %d record(s) failed:", e.Module, e.FirstOffset, e.LastOffset, len(e.Errors))
	const show = 5
	for i, r := range e.Errors {
		if i == show {
			fmt.Fprintf(&sb, " (and %d more)", len(e.Errors)-show)
			break
		}
		if i > 0 {
			sb.WriteByte(';')
		}
		fmt.Fprintf(&sb, " offset %d: %s", r.Offset, r.Message)
	}
	return sb.String()
}

// malformed returns an ErrMalformedOutput error with a reason.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedOutput, fmt.Sprintf(format, args...))
}

var _ pipeline.RecordFailures = (*RecordErrors)(nil)
