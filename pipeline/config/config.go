// Package config loads Penstock pipeline definitions from a YAML file,
// usually named pipelines.yaml.
//
// Loading is strict: unknown fields, wrong types, out-of-range values and
// missing required fields are all errors. Every problem in the file is
// reported at once, each with its file:line:column and field path, as an
// Errors value. Defaults are filled in, so a loaded File needs no further
// checks before use.
//
// YAML anchors and aliases are resolved, and the YAML 1.1 merge key "<<"
// works as usual: keys written in a mapping override merged ones, and in a
// merge list earlier mappings override later ones. A file holds exactly one
// YAML document.
package config

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Version is the only config format version this package reads; the file's
// version field must equal it.
const Version = 1

// DefaultFileName is the conventional name of a Penstock config file.
const DefaultFileName = "pipelines.yaml"

// Bounds and defaults of the pipeline fields.
const (
	// MaxNameLen is the maximum length of a pipeline name.
	MaxNameLen = 100
	// MaxTopicLen is the maximum length of a Kafka topic name.
	MaxTopicLen = 249
	// MaxConsumerGroupIDLen is the maximum length of a consumer group id.
	MaxConsumerGroupIDLen = 200
	// DefaultConsumerGroupPrefix is prepended to the pipeline name to form
	// the consumer group id when consumer_group_id is not set.
	DefaultConsumerGroupPrefix = "penstock-"

	// DefaultPartitions is the default partition count of topics created by
	// penstock dev; partitions is at least MinPartitions and at most
	// MaxPartitions.
	DefaultPartitions = 8
	// MinPartitions is the smallest accepted partitions value.
	MinPartitions = 1
	// MaxPartitions is the largest accepted partitions value.
	MaxPartitions = 10000

	// DefaultBatchSize is the default maximum number of records in a batch.
	DefaultBatchSize = 100
	// MinBatchSize is the smallest accepted batch size.
	MinBatchSize = 1
	// MaxBatchSize is the largest accepted batch size.
	MaxBatchSize = 10000

	// DefaultWindow is the default batch window.
	DefaultWindow = 500 * time.Millisecond
	// MaxWindow is the largest accepted batch window; the smallest is 0.
	MaxWindow = 300 * time.Second

	// DefaultMaxBytes is the default maximum size of a batch, 6 MiB.
	DefaultMaxBytes = 6 << 20
	// MinMaxBytes is the smallest accepted batch max_bytes, 1 KiB.
	MinMaxBytes = 1 << 10
	// MaxMaxBytes is the largest accepted batch max_bytes, 256 MiB.
	MaxMaxBytes = 256 << 20

	// DefaultMaxInflightBytes is the default bound on the bytes a pipeline
	// buffers, 64 MiB.
	DefaultMaxInflightBytes = 64 << 20
	// MinMaxInflightBytes is the smallest accepted max_inflight_bytes, 1 MiB.
	MinMaxInflightBytes = 1 << 20
	// MaxMaxInflightBytes is the largest accepted max_inflight_bytes, 16 GiB.
	MaxMaxInflightBytes = 16 << 30

	// DefaultDrainTimeout is the default time a graceful stop waits for
	// in-flight batches.
	DefaultDrainTimeout = 30 * time.Second
	// MaxDrainTimeout is the largest accepted drain_timeout; the smallest
	// is 0.
	MaxDrainTimeout = 15 * time.Minute

	// DefaultInitialBackoff is the default first retry delay.
	DefaultInitialBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff is the default longest retry delay.
	DefaultMaxBackoff = 30 * time.Second
	// MinBackoff is the smallest value accepted for both initial_backoff and
	// max_backoff.
	MinBackoff = time.Millisecond
	// DefaultMaxUncommitted is the default of max_uncommitted_batches.
	DefaultMaxUncommitted = 16
	// MinMaxUncommitted is the smallest max_uncommitted_batches accepted.
	MinMaxUncommitted = 1
	// MaxMaxUncommitted is the largest max_uncommitted_batches accepted.
	MaxMaxUncommitted = 1000
	// DefaultSessionTimeout is the default of session_timeout.
	DefaultSessionTimeout = 45 * time.Second
	// MinSessionTimeout is the smallest session_timeout accepted.
	MinSessionTimeout = time.Second
	// MaxSessionTimeout is the largest session_timeout accepted.
	MaxSessionTimeout = 30 * time.Minute
	// MaxBackoff is the largest value accepted for both initial_backoff and
	// max_backoff.
	MaxBackoff = time.Hour
)

// File is a loaded config file.
type File struct {
	// Path is the config file path as given to Load or Parse.
	Path string
	// Version is the format version; always Version in a loaded File.
	Version int
	// Pipelines holds the pipelines in file order; there is at least one.
	Pipelines []Pipeline
	// Tests are the file's config unit tests, run by `penstock test FILE`.
	Tests []Test

	// pos maps field paths, such as pipelines[0].batch.size, to the
	// position of their value in the file.
	pos map[string]Position
}

// Pipeline is one Kafka-to-target pipeline.
type Pipeline struct {
	// Name identifies the pipeline; required, unique in the file, 1 to 100
	// characters of letters, digits, '.', '_' and '-', starting with a
	// letter or digit.
	Name string
	// Enabled reports whether the pipeline runs; default true.
	Enabled bool
	// Source is where records come from; required.
	Source Source
	// Filters decide which records reach the target: a record passes if
	// ANY filter matches; with no filters every record passes. Items of
	// `filters:` come first, then those of `filter_criteria:`.
	Filters []Filter
	// Enrichers transform the records that passed the filters, in order.
	Enrichers []Enricher
	// Batch bounds the batches handed to the target.
	Batch Batch
	// MaxInflightBytes bounds the bytes buffered by the pipeline across all
	// its partitions; default 64 MiB, at least 1 MiB, at most 16 GiB, and
	// never less than Batch.MaxBytes.
	MaxInflightBytes int64
	// DrainTimeout is how long a graceful stop waits for in-flight batches;
	// default 30s, at most 15m.
	DrainTimeout time.Duration
	// MaxUncommitted bounds the delivered batches per partition whose
	// offset commit may still be in flight; default 16, at least 1, at most
	// 1000. After a crash at most this many batches per partition, plus the
	// one being delivered, are delivered again; 1 gives the fewest
	// duplicates but makes each partition wait for a commit round trip
	// every other batch.
	MaxUncommitted int
	// Retry is the backoff between delivery attempts and the failure
	// controls.
	Retry Retry
	// OnFailure is where records go that the pipeline gives up on; nil
	// when not set.
	OnFailure *OnFailure
	// Target is where batches go; required.
	Target Target
	// Pos is the position of the pipeline's mapping in the file.
	Pos Position
}

// Source is the origin of a pipeline's records. Exactly one field is set;
// Kafka is the only kind so far.
type Source struct {
	// Kafka reads records from a Kafka topic.
	Kafka *Kafka
}

// StartingPosition is where a consumer group with no committed offsets
// starts reading.
type StartingPosition string

// The starting positions. Values are case-sensitive.
const (
	// TrimHorizon starts at the oldest record still in the topic.
	TrimHorizon StartingPosition = "TRIM_HORIZON"
	// Latest starts at the end of the topic and reads only new records.
	Latest StartingPosition = "LATEST"
	// AtTimestamp starts at the first record at or after
	// Kafka.StartingPositionTimestamp.
	AtTimestamp StartingPosition = "AT_TIMESTAMP"
)

// StartingPositions lists the valid starting positions in documentation
// order.
var StartingPositions = []StartingPosition{TrimHorizon, Latest, AtTimestamp}

// Kafka is a Kafka source.
type Kafka struct {
	// BootstrapServers are the "host:port" addresses used to reach the
	// cluster; required, at least one, each port in 1..65535.
	BootstrapServers []string
	// Topic is the topic to consume; required, 1 to 249 characters of
	// letters, digits, '.', '_' and '-', and neither "." nor "..".
	Topic string
	// ConsumerGroupID is the consumer group the pipeline joins; default
	// "penstock-" followed by the pipeline name, 1 to 200 characters of
	// letters, digits, '.', '_', ':' and '-', unique in the file.
	ConsumerGroupID string
	// StartingPosition is where reading starts when the group has no
	// committed offsets; required.
	StartingPosition StartingPosition
	// StartingPositionTimestamp is the start time for AtTimestamp; set if
	// and only if StartingPosition is AtTimestamp.
	StartingPositionTimestamp time.Time
	// Partitions is the partition count penstock dev creates the topic with
	// when it does not exist; default 8, at least 1, at most 10000.
	// penstock run ignores it.
	Partitions int
	// SessionTimeout is how long the group coordinator waits without a
	// heartbeat before it gives this member's partitions to another; default
	// 45s, at least 1s, at most 30m (the broker's own bounds also apply).
	// Heartbeats go out every third of it.
	SessionTimeout time.Duration
	// TLS configures encryption of broker connections.
	TLS TLS
	// Auth configures authentication; nil means none.
	Auth *Auth
	// VPC holds the ESM's VPC settings, validated; nil when not given.
	VPC *VPC
	// MSK, when set, names the MSK cluster whose brokers are looked up;
	// BootstrapServers is then empty.
	MSK *MSK
}

// TLS configures TLS for broker connections.
type TLS struct {
	// Enabled turns TLS on; default false without a tls block, true with
	// one.
	Enabled bool
	// ServerName overrides the host name used for SNI and certificate
	// verification; default empty, meaning the broker's host name.
	ServerName string
	// InsecureSkipVerify disables certificate verification; default false.
	InsecureSkipVerify bool
	// RootCA is a reference to the brokers' CA certificates (a PEM bundle,
	// or a secret {"certificate": "<PEM>"}): the ESM's
	// SERVER_ROOT_CA_CERTIFICATE. Empty trusts the system's roots.
	RootCA string
}

// Batch bounds the batches a pipeline hands to its target. A batch is sent
// as soon as any bound is reached.
type Batch struct {
	// Size is the maximum number of records in a batch; default 100, at
	// least 1, at most 10000.
	Size int
	// Window is the longest time a batch stays open after its first
	// record; default 500ms, at most 5m. Zero sends each poll's records
	// without waiting.
	Window time.Duration
	// MaxBytes is the maximum total size of a batch's records; default
	// 6 MiB, at least 1 KiB, at most 256 MiB.
	MaxBytes int64
}

// Retry is the exponential backoff between delivery attempts.
type Retry struct {
	// InitialBackoff is the delay before the first retry; default 100ms, at
	// least 1ms, at most 1h.
	InitialBackoff time.Duration
	// MaxBackoff caps the delay between retries; default 30s, at least
	// InitialBackoff, at most 1h.
	MaxBackoff time.Duration
	// MaximumRetryAttempts is the ESM's MaximumRetryAttempts: retries after
	// the first attempt before the batch goes to the on-failure destination;
	// -1 (default) retries until success, 0..10000. With -1 and an
	// on_failure destination, the limit is 10, as the ESM applies it.
	MaximumRetryAttempts int
	// MaximumRecordAge is the ESM's MaximumRecordAgeInSeconds: records older
	// go to the on-failure destination; -1 (default) is no limit, else 60s
	// to 7 days.
	MaximumRecordAge time.Duration
	// BisectOnError is the ESM's BisectBatchOnFunctionError: a batch the
	// function fails is split in two and each half retried, recursively.
	BisectOnError bool
	// ReportBatchItemFailures is the ESM's ReportBatchItemFailures response
	// type: the function's partial batch response names the records to
	// retry. Function targets only.
	ReportBatchItemFailures bool
}

// Target is where a pipeline delivers its batches. Exactly one field is
// set.
type Target struct {
	// Stdout writes records to standard output.
	Stdout *StdoutTarget
	// File appends records to a file.
	File *FileTarget
	// Lambda invokes a function per batch.
	Lambda *LambdaTarget
	// SQS sends one message per record to a queue.
	SQS *SQSTarget
	// SNS publishes one message per record to a topic.
	SNS *SNSTarget
	// S3 writes one object per batch to a bucket.
	S3 *S3Target
}

// StdoutTarget writes records to standard output, one JSON object per line.
// It has no settings.
type StdoutTarget struct{}

// FileTarget appends records to a file, one JSON object per line.
type FileTarget struct {
	// Path is the absolute path of the output file; required. A relative
	// path in the config file is resolved against the directory of the
	// config file.
	Path string
}

// Load reads and parses the config file at path. If the file is invalid,
// the error is an Errors value holding every problem found; if the file
// cannot be read, it is a wrapped I/O error.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a config file's contents. Path is used in error messages and
// to resolve relative paths inside the file; it need not exist. If the file
// is invalid, the error is an Errors value holding every problem found.
func Parse(path string, data []byte) (*File, error) {
	w := newWalker(path)
	f := w.file(data)
	if errs := w.errs.normalize(); len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// Pos returns the position of the value at a field path such as
// pipelines[0].target.file.path. For a path that is not in the file, such
// as a defaulted field, it returns the position of the nearest enclosing
// value that is, which for an unknown path is the top-level mapping.
func (f *File) Pos(path string) Position {
	for {
		if p, ok := f.pos[path]; ok {
			return p
		}
		if path == "" {
			return Position{}
		}
		path = parentPath(path)
	}
}

// Errorf returns an error about the value at a field path, positioned with
// Pos. Later stages, such as compiling filters or opening targets, use it
// to report problems at the right line of the config file.
func (f *File) Errorf(path, format string, args ...any) *Error {
	p := f.Pos(path)
	return &Error{
		File:   f.Path,
		Line:   p.Line,
		Column: p.Column,
		Path:   path,
		Msg:    fmt.Sprintf(format, args...),
	}
}

// parentPath strips the last element from a field path:
// "a.b[2]" -> "a.b" -> "a" -> "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
