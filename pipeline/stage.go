package pipeline

import (
	"context"
	"errors"
)

// Source fetches records of one topic and commits offsets for them.
type Source interface {
	// Run fetches records and hands them to sink until ctx is done. Before it
	// returns, it calls sink.Revoke for every partition it assigned, so that
	// in-flight batches are finished and committed.
	Run(ctx context.Context, sink Sink) error
	// Commit records that every record of tp before nextOffset is done. It
	// returns once the commit is durable. Concurrent calls are coalesced.
	Commit(ctx context.Context, tp TopicPartition, nextOffset int64) error
	// Pause stops fetching tp until Resume; records already handed over stay.
	Pause(tp TopicPartition)
	// Resume starts fetching tp again.
	Resume(tp TopicPartition)
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
	// lane. The slice is copied; its elements' bytes are not.
	Push(tp TopicPartition, recs []Record)
	// SetHighWatermark tells the lane of tp the partition's high watermark,
	// for lag reporting.
	SetHighWatermark(tp TopicPartition, hw int64)
	// WaitRoom blocks while the pipeline holds max_inflight_bytes or more.
	WaitRoom(ctx context.Context) error
}

// Filter decides which records go on. Match is called for every record and
// must be goroutine-safe and allocation-free.
type Filter interface {
	Match(r *Record) bool
}

// Enricher transforms a batch in place: it may mark records, or replace
// their bytes with bytes from the batch's arena.
type Enricher interface {
	Enrich(ctx context.Context, b *Batch) error
	Close(ctx context.Context) error
}

// Result is what a target reports about a delivery that did not fail as a whole.
type Result struct {
	// Partial is true when only some records were delivered; the target has
	// marked the others Failed.
	Partial bool
}

// Target delivers the Active records of a batch. Deliver returns an error
// when the attempt failed as a whole; wrap it with Permanent when retrying
// can never succeed.
type Target interface {
	Deliver(ctx context.Context, b *Batch) (Result, error)
	Close(ctx context.Context) error
}

// PermanentError marks a failure that retrying cannot fix (a missing
// function, a denied permission): the pipeline stops instead of spinning.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err is, or wraps, a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
