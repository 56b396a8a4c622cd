package pipeline

import (
	"context"
	"errors"
	"time"
)

// Source fetches records of one topic and commits offsets for them.
type Source interface {
	// Run fetches records and hands them to sink until ctx is done. Before it
	// returns, it calls sink.Revoke for every partition it assigned, so that
	// in-flight batches are finished and committed.
	Run(ctx context.Context, sink Sink) error
	// Commit starts committing that every record of tp before nextOffset
	// is done and returns at once; the result tells when the commit is
	// durable. Commits of all lanes are coalesced into few requests, and
	// a later commit of a partition covers the earlier ones. Once Commit
	// is called the pipeline no longer reads the keys, values or headers
	// of tp's records before nextOffset: the source may reuse their memory.
	Commit(tp TopicPartition, nextOffset int64) CommitWait
	// Pause stops fetching tp until Resume; records already handed over stay.
	Pause(tp TopicPartition)
	// Resume starts fetching tp again.
	Resume(tp TopicPartition)
}

// CommitWait follows one commit until it is durable.
type CommitWait interface {
	// Done is closed when the commit has finished, durable or failed.
	Done() <-chan struct{}
	// Err is the commit's outcome once Done is closed.
	Err() error
}

// Sink is the side of a pipeline a source talks to.
type Sink interface {
	// Assign creates lanes for newly assigned partitions.
	Assign(tps []TopicPartition)
	// Revoke finishes the in-flight batch of each lane of tps (bounded by the
	// drain timeout), waits for its commit, and removes the lanes. When lost
	// is true the partitions already belong to someone else: the lanes stop
	// at once and nothing more is committed.
	Revoke(tps []TopicPartition, lost bool)
	// Push hands fetched records of one partition, in offset order, to its
	// lane: the lane makes room for f.Len() records and f fills them in.
	Push(tp TopicPartition, f Filler)
	// SetHighWatermark tells the lane of tp the partition's high watermark,
	// for lag reporting.
	SetHighWatermark(tp TopicPartition, hw int64)
	// WaitRoom blocks while the pipeline holds max_inflight_bytes or more.
	WaitRoom(ctx context.Context) error
	// SourceError reports a failure the source keeps retrying (it cannot
	// authenticate, is not authorized, cannot reach the brokers), as the
	// pipeline's last processing result: the ESM's error code and message.
	SourceError(result string, err error)
	// PollBudget is how many records the source should take at most in its
	// next poll: about one partition's share of max_inflight_bytes at the
	// records' average size. Taking more at once could let one partition's
	// buffered records fill the pipeline.
	PollBudget() int
	// LaneShare is each partition's fair share of max_inflight_bytes. A
	// source sizes its per-partition fetches by it, so that one fetch cannot
	// hand a partition more than the pipeline means it to hold.
	LaneShare() int64
}

// Filler writes records into a lane's queue, so a source converts what it
// fetched straight into the lane without an intermediate copy.
type Filler interface {
	// Len is the number of records Fill writes.
	Len() int
	// Fill writes records from, from+1, … into dst (len(dst) of them) and
	// returns the sum of their Size. A push may take several calls.
	Fill(dst []Record, from int) (bytes int)
}

// Records is a Filler that copies a slice of records.
type Records []Record

// Len implements Filler.
func (rs Records) Len() int { return len(rs) }

// Fill implements Filler.
func (rs Records) Fill(dst []Record, from int) int {
	copy(dst, rs[from:])
	n := 0
	for i := range dst {
		n += dst[i].Size()
	}
	return n
}

// Filter decides which records go on. Match is called for every record and
// must be goroutine-safe and allocation-free.
type Filter interface {
	Match(r *Record) bool
}

// BatchFilter is a Filter that filters a whole batch in one call, setting
// the Status of the Active records that do not match to Filtered; the
// pipeline uses it instead of Match when a filter has it.
type BatchFilter interface {
	Filter
	FilterBatch(b *Batch)
}

// FilterErrorReporter is a Filter that can fail on a record (an
// expression's runtime error, for one): such a record does not match. The
// pipeline reports the count and a recent error in Stats and logs them.
type FilterErrorReporter interface {
	// FilterErrors returns the errors so far and a description of a
	// recent one ("" when there was none).
	FilterErrors() (n int64, last string)
}

// Enricher transforms a batch in place: it may mark records, or replace
// their bytes with bytes from the batch's arena.
type Enricher interface {
	Enrich(ctx context.Context, b *Batch) error
	Close(ctx context.Context) error
}

// RecordFailures is an enricher's error for a batch of which it could not
// process some records (those at FailedOffsets) and could process the
// others. The pipeline retries the batch with its retry policy like any
// enrichment failure; once the retries are used up, only those records go
// to the on-failure handler (condition RetryAttemptsExhausted) and the rest
// of the batch is enriched again and delivered.
type RecordFailures interface {
	error
	FailedOffsets() []int64
}

// Result is what a target reports about a delivery attempt.
type Result struct {
	// Partial is true when only some records were delivered; the target has
	// marked the others Failed, and only they are attempted again.
	Partial bool
	// Response describes the target's answer to the attempt, also when
	// Deliver returned an error; on-failure records report it. Nil when the
	// target has nothing to say.
	Response *Response
}

// Response is what a target's service answered to a delivery attempt.
type Response struct {
	// RequestID identifies the attempt at the service (e.g. Lambda's request id).
	RequestID string
	// StatusCode is the service's HTTP status code, 0 if none was received.
	StatusCode int
	// ExecutedVersion is the function version that ran, for function targets.
	ExecutedVersion string
	// FunctionError is "Unhandled" or "Handled" when the function failed.
	FunctionError string
	// PayloadSize is the size in bytes of the request the target sent.
	PayloadSize int
}

// Target delivers the Active records of a batch. Deliver returns an error
// when the attempt failed as a whole; wrap it with Permanent when retrying
// can never succeed.
type Target interface {
	Deliver(ctx context.Context, b *Batch) (Result, error)
	Close(ctx context.Context) error
}

// FailureHandler receives the records a pipeline gives up on (the ESM's
// on-failure destination). HandleFailure must return nil only once the
// failure is durably recorded: the records' offsets are committed after it
// returns nil, and it is called again, with backoff, until it does.
type FailureHandler interface {
	HandleFailure(ctx context.Context, f *Failure) error
	Close(ctx context.Context) error
}

// Condition says why records were given up, in the ESM's words.
type Condition string

// Failure conditions.
const (
	// RetryAttemptsExhausted: the batch failed and its retries are used up.
	RetryAttemptsExhausted Condition = "RetryAttemptsExhausted"
	// MaximumPayloadSizeExceeded: a record alone exceeds the target's payload
	// limit; it was never attempted.
	MaximumPayloadSizeExceeded Condition = "MaximumPayloadSizeExceeded"
	// RecordAgeExceeded: the records are older than the pipeline's maximum
	// record age; they were not attempted again.
	RecordAgeExceeded Condition = "RecordAgeExceeded"
)

// Failure describes records of one partition that a pipeline gave up on.
type Failure struct {
	TopicPartition
	// Records are the records given up, in offset order. They alias the
	// batch: nothing may be kept after HandleFailure returns.
	Records []Record
	// Condition says why.
	Condition Condition
	// Attempts counts the delivery attempts made for these records.
	Attempts int
	// Err is the last attempt's error, nil when no attempt failed with one.
	Err error
	// Response is the target's answer to the last attempt; nil when there was
	// none (e.g. for MaximumPayloadSizeExceeded).
	Response *Response
	// At is when the records were given up.
	At time.Time
}

// BatchFault marks a delivery error caused by the batch's content, such as a
// function that returned an error for it, as opposed to the target being
// unavailable or throttled. Only such errors make a pipeline with
// BisectOnError split the batch.
func BatchFault(err error) error {
	if err == nil {
		return nil
	}
	return &batchFault{err}
}

type batchFault struct{ err error }

func (e *batchFault) Error() string { return e.err.Error() }
func (e *batchFault) Unwrap() error { return e.err }

// IsBatchFault reports whether err is, or wraps, an error marked by BatchFault.
func IsBatchFault(err error) bool {
	var f *batchFault
	return errors.As(err, &f)
}

// PermanentError marks a failure that retrying cannot fix (a missing
// function, a denied permission): the pipeline stops instead of spinning.
type PermanentError struct {
	Err error
	// Reason is the state reason the stopped pipeline reports (e.g.
	// FUNCTION_CONFIG_NOT_VALID); empty means the error's text.
	Reason string
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// PermanentReason wraps err as a PermanentError whose pipeline reports reason.
func PermanentReason(reason string, err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err, Reason: reason}
}

// IsPermanent reports whether err is, or wraps, a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
