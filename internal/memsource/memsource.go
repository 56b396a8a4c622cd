// Package memsource is a pipeline.Source that serves generated records from
// memory. It measures the batch core alone (BenchmarkCore) and drives the
// core's unit tests; it honours pause, resume and the in-flight bound the
// way the Kafka source does.
package memsource

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/penstock-dev/penstock/pipeline"
)

// Source serves PerPartition records on each of Partitions partitions of
// Topic, then waits until all are committed and revokes its lanes. Create it
// with New.
type Source struct {
	Topic        string
	Partitions   int
	PerPartition int
	// Value is the value of every record.
	Value []byte
	// Chunk is how many records of a partition are pushed at once; default 500.
	Chunk int
	// Timestamp, when set, gives each record's timestamp (Unix ms); by
	// default records carry the time they are pushed.
	Timestamp func(partition int32, offset int64) int64
	// ValueOf, when set, gives each record's value instead of Value.
	ValueOf func(partition int32, offset int64) []byte
	// UntilCanceled makes Run return only when its context ends, not as
	// soon as every record is committed, so that a test can look at the
	// running pipeline (its stages are closed when Run returns).
	UntilCanceled bool

	mu        sync.Mutex
	paused    []bool
	committed []atomic.Int64
	wake      chan struct{}
	allDone   chan struct{}
	doneOnce  sync.Once
	remaining atomic.Int64
	// Commits counts Commit calls; Pauses and Resumes count those calls.
	Commits, Pauses, Resumes atomic.Int64
}

// New returns a source of perPartition records of value on each partition.
func New(topic string, partitions, perPartition int, value []byte) *Source {
	s := &Source{Topic: topic, Partitions: partitions, PerPartition: perPartition, Value: value}
	s.paused = make([]bool, partitions)
	s.committed = make([]atomic.Int64, partitions)
	s.wake = make(chan struct{}, 1)
	s.allDone = make(chan struct{})
	s.remaining.Store(int64(partitions))
	if perPartition == 0 {
		close(s.allDone)
	}
	return s
}

func (s *Source) tps() []pipeline.TopicPartition {
	out := make([]pipeline.TopicPartition, s.Partitions)
	for i := range out {
		out[i] = pipeline.TopicPartition{Topic: s.Topic, Partition: int32(i)}
	}
	return out
}

// Run implements pipeline.Source.
func (s *Source) Run(ctx context.Context, sink pipeline.Sink) error {
	if s.Chunk <= 0 {
		s.Chunk = 500
	}
	tps := s.tps()
	sink.Assign(tps)
	defer sink.Revoke(tps, false)

	next := make([]int64, s.Partitions)
	chunk := make([]pipeline.Record, s.Chunk)
	for i := range chunk {
		chunk[i] = pipeline.Record{Topic: s.Topic, Key: []byte("key"), Value: s.Value}
	}
	left := s.Partitions
	for left > 0 {
		if err := sink.WaitRoom(ctx); err != nil {
			return nil
		}
		pushed := false
		for p := 0; p < s.Partitions; p++ {
			if next[p] >= int64(s.PerPartition) {
				continue
			}
			s.mu.Lock()
			paused := s.paused[p]
			s.mu.Unlock()
			if paused {
				continue
			}
			n := min(int64(s.Chunk), int64(s.PerPartition)-next[p])
			now := time.Now().UnixMilli()
			for i := range n {
				chunk[i].Partition = int32(p)
				chunk[i].Offset = next[p] + i
				chunk[i].Timestamp = now
				if s.Timestamp != nil {
					chunk[i].Timestamp = s.Timestamp(int32(p), next[p]+i)
				}
				if s.ValueOf != nil {
					chunk[i].Value = s.ValueOf(int32(p), next[p]+i)
				}
			}
			sink.Push(tps[p], pipeline.Records(chunk[:n]))
			next[p] += n
			if next[p] >= int64(s.PerPartition) {
				left--
			}
			pushed = true
		}
		if !pushed {
			select {
			case <-s.wake:
			case <-ctx.Done():
				return nil
			}
		}
	}
	if s.UntilCanceled {
		<-ctx.Done()
		return nil
	}
	select {
	case <-s.allDone:
	case <-ctx.Done():
	}
	return nil
}

// Done is closed when every record has been committed.
func (s *Source) Done() <-chan struct{} { return s.allDone }

// Committed returns the next committed offset of partition p.
func (s *Source) Committed(p int) int64 { return s.committed[p].Load() }

// Commit implements pipeline.Source.
func (s *Source) Commit(tp pipeline.TopicPartition, next int64) pipeline.CommitWait {
	s.Commits.Add(1)
	s.committed[tp.Partition].Store(next)
	if next == int64(s.PerPartition) && s.remaining.Add(-1) == 0 {
		s.doneOnce.Do(func() { close(s.allDone) })
	}
	return durable{}
}

// durable is a commit that is durable at once.
type durable struct{}

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (durable) Done() <-chan struct{} { return closed }
func (durable) Err() error            { return nil }

// Pause implements pipeline.Source.
func (s *Source) Pause(tp pipeline.TopicPartition) {
	s.Pauses.Add(1)
	s.mu.Lock()
	s.paused[tp.Partition] = true
	s.mu.Unlock()
}

// Resume implements pipeline.Source.
func (s *Source) Resume(tp pipeline.TopicPartition) {
	s.Resumes.Add(1)
	s.mu.Lock()
	s.paused[tp.Partition] = false
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
