package pipeline

import (
	"log/slog"
	"time"
)

// Options are the pipeline settings the core needs. Zero values take the
// defaults named on each field.
type Options struct {
	// Name identifies the pipeline in logs and status.
	Name string
	// BatchSize is the most records a batch holds; default 100.
	BatchSize int
	// BatchWindow is how long a lane waits to fill a batch after its first
	// record arrived. Zero cuts a batch from whatever is queued; the config
	// default is 500ms (see DefaultOptions).
	BatchWindow time.Duration
	// BatchMaxBytes bounds a batch's record bytes; default 6 MiB. A single
	// record larger than this forms a batch of its own.
	BatchMaxBytes int
	// MaxInflightBytes bounds the record bytes the pipeline holds across all
	// its lanes; fetching waits while it is reached; default 64 MiB.
	MaxInflightBytes int64
	// DrainTimeout bounds how long a graceful stop or a partition revocation
	// waits for in-flight batches; default 30s.
	DrainTimeout time.Duration
	// InitialBackoff is the delay before the first retry; default 100ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the delay between retries; default 30s.
	MaxBackoff time.Duration
	// MaxUncommittedBatches bounds how many delivered batches of a lane may
	// wait for their commit before the lane waits too; default 16. Commits
	// are asynchronous and coalesced so a lane does not stall for a commit
	// round trip per batch; after a crash, at most this many batches per
	// partition, plus the one in delivery, are delivered again.
	MaxUncommittedBatches int
	// MaxRetryAttempts bounds the retries of a failing batch after its first
	// attempt; when they are used up the batch goes to the on-failure handler
	// with condition RetryAttemptsExhausted and is committed. Negative means
	// no limit (the ESM's -1, DefaultOptions' value); the zero value means no
	// retry at all. With no limit and an on-failure handler, the limit is 10,
	// as the ESM applies it.
	MaxRetryAttempts int
	// MaxRecordAge sends records older than this (by their Kafka timestamp)
	// to the on-failure handler with condition RecordAgeExceeded instead of
	// delivering them; zero or negative means no limit.
	MaxRecordAge time.Duration
	// BisectOnError splits a batch whose delivery failed because of its
	// content (an error wrapped with BatchFault, such as a function error)
	// into two halves and delivers them one after the other, recursively,
	// so a poison record is isolated; the second half waits until the first
	// was delivered or given up, which keeps the partition's order.
	BisectOnError bool
	// Logger receives the pipeline's log; default slog.Default().
	Logger *slog.Logger
}

// DefaultOptions returns the defaults of SPEC §2 and the configuration reference.
func DefaultOptions(name string) Options {
	o := Options{Name: name, BatchWindow: 500 * time.Millisecond, MaxRetryAttempts: -1}
	o.setDefaults()
	return o
}

func (o *Options) setDefaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.BatchWindow < 0 {
		o.BatchWindow = 0
	}
	if o.BatchMaxBytes <= 0 {
		o.BatchMaxBytes = 6 << 20
	}
	if o.MaxInflightBytes <= 0 {
		o.MaxInflightBytes = 64 << 20
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxBackoff < o.InitialBackoff {
		o.MaxBackoff = o.InitialBackoff
	}
	if o.MaxUncommittedBatches <= 0 {
		o.MaxUncommittedBatches = 16
	}
	if o.MaxRetryAttempts > maxRetryAttempts {
		o.MaxRetryAttempts = maxRetryAttempts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// maxRetryAttempts is the ESM's upper bound for MaximumRetryAttempts.
const maxRetryAttempts = 10_000

// onFailureRetryCap is the retry limit the ESM applies when retries are
// unlimited but an on-failure destination is configured.
const onFailureRetryCap = 10
