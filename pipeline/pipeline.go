package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// State is a pipeline's lifecycle state, named as the ESM names its states.
type State string

// Pipeline states.
const (
	StateCreating State = "Creating"
	StateEnabled  State = "Enabled"
	StateDisabled State = "Disabled"
	StateFailed   State = "Failed"
)

// Pipeline moves the records of one source through its stages into its
// target. Pipelines are independent: each has its own source client, lanes
// and goroutines, and starts and stops on its own.
type Pipeline struct {
	opts        Options
	log         *slog.Logger
	src         Source
	filter      Filter
	batchFilter BatchFilter         // filter, when it filters whole batches
	filterErrs  FilterErrorReporter // filter, when it reports errors
	// filterLog is what was last logged of the filter's errors: their
	// count then, and when (Unix nanoseconds); see noteFilterErrors.
	filterLog struct {
		n, at atomic.Int64
	}
	enrichers []Enricher
	target    Target
	onFailure FailureHandler

	mu        sync.Mutex
	lanes     map[TopicPartition]*Lane
	committed map[TopicPartition]int64
	state     State
	reason    string
	lastErr   string
	result    string    // last processing result reported by the source
	resultAt  time.Time // when result was last logged
	resultOK  atomic.Bool
	cancel    context.CancelCauseFunc

	inflight    atomic.Int64
	nlanes      atomic.Int64
	roomMu      sync.Mutex
	roomCh      chan struct{}
	roomWaiting atomic.Bool

	stats struct {
		in, bytesIn, delivered, filtered, rejected, batches, retries, failureRetries atomic.Int64
	}
}

// Stages are the optional stages of a pipeline, between source and target.
type Stages struct {
	Filter    Filter
	Enrichers []Enricher
	// OnFailure receives the records the pipeline gives up on; nil drops
	// them with an error in the log.
	OnFailure FailureHandler
}

// New returns a pipeline that reads src and delivers to target.
func New(opts Options, src Source, stages Stages, target Target) *Pipeline {
	opts.setDefaults()
	if stages.OnFailure != nil && opts.MaxRetryAttempts < 0 {
		opts.MaxRetryAttempts = onFailureRetryCap
	}
	bf, _ := stages.Filter.(BatchFilter)
	fe, _ := stages.Filter.(FilterErrorReporter)
	return &Pipeline{
		batchFilter: bf,
		filterErrs:  fe,
		opts:        opts,
		log:         opts.Logger.With("pipeline", opts.Name),
		src:         src,
		filter:      stages.Filter,
		enrichers:   stages.Enrichers,
		target:      target,
		onFailure:   stages.OnFailure,
		lanes:       make(map[TopicPartition]*Lane),
		committed:   make(map[TopicPartition]int64),
		state:       StateCreating,
		roomCh:      make(chan struct{}),
	}
}

// Name returns the pipeline's name.
func (p *Pipeline) Name() string { return p.opts.Name }

// Run runs the pipeline until ctx is done or the pipeline fails. On return
// every lane has finished its in-flight batch (or was abandoned after the
// drain timeout) and the target is closed. It returns nil after a graceful
// stop and the cause after a failure.
func (p *Pipeline) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p.mu.Lock()
	p.cancel = cancel
	p.state = StateEnabled
	p.mu.Unlock()

	err := p.src.Run(ctx, p)
	// A source revokes its lanes before returning; stop any it left.
	p.mu.Lock()
	left := make([]TopicPartition, 0, len(p.lanes))
	for tp := range p.lanes {
		left = append(left, tp)
	}
	p.mu.Unlock()
	p.Revoke(left, true)

	var errs []error
	for _, e := range p.enrichers {
		errs = append(errs, e.Close(context.Background()))
	}
	errs = append(errs, p.target.Close(context.Background()))
	if p.onFailure != nil {
		errs = append(errs, p.onFailure.Close(context.Background()))
	}

	cause := context.Cause(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	var pe *pipelineFailure
	if errors.As(cause, &pe) {
		p.state = StateFailed
		return pe.err
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		p.state = StateFailed
		p.reason, p.lastErr = err.Error(), err.Error()
		var perm *PermanentError
		if errors.As(err, &perm) && perm.Reason != "" {
			p.reason = perm.Reason
		}
		p.log.Error("pipeline stopped: source failed", "reason", p.reason, "error", err)
		return err
	}
	p.state = StateDisabled
	if p.reason == "" {
		p.reason = "USER_INITIATED"
	}
	return errors.Join(errs...)
}

type pipelineFailure struct{ err error }

func (f *pipelineFailure) Error() string { return f.err.Error() }

// fail stops the pipeline because of a permanent error on tp.
func (p *Pipeline) fail(tp TopicPartition, err error) {
	err = fmt.Errorf("pipeline %q: partition %s: %w", p.opts.Name, tp, err)
	p.log.Error("pipeline stopped: permanent error", "partition", tp.String(), "error", err)
	p.mu.Lock()
	p.reason = err.Error()
	var pe *PermanentError
	if errors.As(err, &pe) && pe.Reason != "" {
		p.reason = pe.Reason
	}
	p.lastErr = err.Error()
	cancel := p.cancel
	p.mu.Unlock()
	if cancel != nil {
		cancel(&pipelineFailure{err: err})
	}
}

// SourceError implements Sink. The error is logged at most every 30
// seconds per result, and shown in Stats until records flow again.
func (p *Pipeline) SourceError(result string, err error) {
	p.mu.Lock()
	logIt := result != p.result || time.Since(p.resultAt) > 30*time.Second
	p.result = result
	if logIt {
		p.resultAt = time.Now()
	}
	p.mu.Unlock()
	p.resultOK.Store(false)
	if logIt {
		p.log.Warn("source: "+result, "error", err)
	}
}

// PollBudget implements Sink.
func (p *Pipeline) PollBudget() int {
	const most = 4096
	avg := int64(1 << 10) // until records have been seen
	if n := p.stats.in.Load(); n > 0 {
		avg = max(p.stats.bytesIn.Load()/n, 1)
	}
	// One share per poll: the room left is not the bound, or a nearly full
	// pipeline would poll a few records at a time.
	return int(min(max(p.laneShare()/avg, 1), most))
}

// LaneShare implements Sink.
func (p *Pipeline) LaneShare() int64 { return p.laneShare() }

// laneShare is each lane's fair share of the in-flight bound.
func (p *Pipeline) laneShare() int64 {
	n := p.nlanes.Load()
	if n < 1 {
		n = 1
	}
	return p.opts.MaxInflightBytes / n
}

// Assign implements Sink.
func (p *Pipeline) Assign(tps []TopicPartition) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tp := range tps {
		if _, ok := p.lanes[tp]; ok {
			continue
		}
		l := newLane(p, tp)
		p.lanes[tp] = l
		go l.run()
	}
	p.nlanes.Store(int64(len(p.lanes)))
}

// Revoke implements Sink. Lanes drain concurrently.
func (p *Pipeline) Revoke(tps []TopicPartition, lost bool) {
	p.mu.Lock()
	var lanes []*Lane
	for _, tp := range tps {
		if l, ok := p.lanes[tp]; ok {
			lanes = append(lanes, l)
			delete(p.lanes, tp)
		}
	}
	p.nlanes.Store(int64(len(p.lanes)))
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range lanes {
		wg.Go(func() { l.stop(lost) })
	}
	wg.Wait()
}

// Push implements Sink.
func (p *Pipeline) Push(tp TopicPartition, f Filler) {
	if !p.resultOK.Load() {
		p.resultOK.Store(true)
		p.mu.Lock()
		p.result = "OK"
		p.mu.Unlock()
	}
	p.mu.Lock()
	l := p.lanes[tp]
	p.mu.Unlock()
	if l != nil && f.Len() > 0 {
		l.push(f)
	}
}

// Lane returns the lane of tp, or nil.
func (p *Pipeline) Lane(tp TopicPartition) *Lane {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lanes[tp]
}

// SetHighWatermark implements Sink.
func (p *Pipeline) SetHighWatermark(tp TopicPartition, hw int64) {
	if l := p.Lane(tp); l != nil {
		l.hw.Store(hw)
	}
}

// WaitRoom implements Sink.
func (p *Pipeline) WaitRoom(ctx context.Context) error {
	for {
		if p.inflight.Load() < p.opts.MaxInflightBytes {
			return nil
		}
		p.roomMu.Lock()
		p.roomWaiting.Store(true)
		ch := p.roomCh
		if p.inflight.Load() < p.opts.MaxInflightBytes {
			p.roomMu.Unlock()
			return nil
		}
		p.roomMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *Pipeline) roomFreed() {
	if !p.roomWaiting.Load() || p.inflight.Load() >= p.opts.MaxInflightBytes {
		return
	}
	p.roomMu.Lock()
	if p.roomWaiting.Load() {
		p.roomWaiting.Store(false)
		close(p.roomCh)
		p.roomCh = make(chan struct{})
	}
	p.roomMu.Unlock()
}

func (p *Pipeline) recordCommit(tp TopicPartition, next int64) {
	p.mu.Lock()
	p.committed[tp] = next
	p.mu.Unlock()
}

// Committed returns the next offset this pipeline committed for each
// partition it has committed to since it started, including partitions it
// no longer owns.
func (p *Pipeline) Committed() map[TopicPartition]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[TopicPartition]int64, len(p.committed))
	for tp, o := range p.committed {
		m[tp] = o
	}
	return m
}

// PartitionStats describes one lane.
type PartitionStats struct {
	TopicPartition
	// Committed is the next offset committed, -1 before the first commit.
	Committed int64
	// Start is the offset of the first record the lane took, -1 before.
	Start int64
	// HighWatermark is the partition's last known high watermark, -1 if unknown.
	HighWatermark int64
	// Queued counts records fetched but not yet in a batch.
	Queued int
	// Retrying counts failed attempts of the lane's current batch.
	Retrying int64
}

// Lag is the records between the committed offset (before the first
// commit, the first offset the lane took) and the high watermark.
func (s PartitionStats) Lag() int64 {
	from := s.Committed
	if from < 0 {
		from = s.Start
	}
	if s.HighWatermark < 0 || from < 0 {
		return 0
	}
	return max(s.HighWatermark-from, 0)
}

// Stats is a snapshot of a pipeline's counters.
type Stats struct {
	Name  string
	State State
	// Reason says why the pipeline is in its state: USER_INITIATED, a
	// reason code such as FUNCTION_CONFIG_NOT_VALID, or an error's text.
	Reason string
	// LastError is the error that stopped the pipeline, if one did.
	LastError string
	// LastProcessingResult is "OK" once records flow, or the last failure
	// the source reported (such as "EVENT_SOURCE_AUTHN_ERROR: SASL
	// authentication failed"); empty before either.
	LastProcessingResult string
	// In counts records fetched; Delivered, those the target accepted;
	// Filtered, those dropped by the filter; Rejected, those given up and
	// handed to the on-failure destination. Batches counts committed
	// batches; Retries, failed attempts; FailureRetries, failed attempts to
	// hand records to the on-failure destination.
	In, Delivered, Filtered, Rejected, Batches, Retries, FailureRetries int64
	// FilterErrors counts records the filter failed on (an expression's
	// runtime error), which did not match that filter; LastFilterError
	// describes a recent one.
	FilterErrors    int64
	LastFilterError string
	// InflightBytes is the record bytes the pipeline holds now.
	InflightBytes int64
	Partitions    []PartitionStats
}

// Lag sums the lag of all partitions.
func (s Stats) Lag() int64 {
	var n int64
	for _, p := range s.Partitions {
		n += p.Lag()
	}
	return n
}

// filterErrorLogEvery is how often at most a pipeline logs its filter's
// errors.
const filterErrorLogEvery = 10 * time.Second

// noteFilterErrors logs the records the filter failed on since it last did,
// with a recent error: the first at once, then at most once per
// filterErrorLogEvery, so that a stream of failing records gives one
// warning per interval. Lanes call it after filtering each batch.
func (p *Pipeline) noteFilterErrors() {
	n, last := p.filterErrs.FilterErrors()
	logged := p.filterLog.n.Load()
	if n == logged {
		return
	}
	now := time.Now().UnixNano()
	at := p.filterLog.at.Load()
	if at != 0 && now-at < int64(filterErrorLogEvery) || !p.filterLog.at.CompareAndSwap(at, now) {
		return
	}
	p.filterLog.n.Store(n)
	p.log.Warn("the filter failed on records, which did not match it", "records", n-logged, "total", n, "last", last)
}

// Stats returns a snapshot of the pipeline's counters and lanes.
func (p *Pipeline) Stats() Stats {
	p.mu.Lock()
	s := Stats{Name: p.opts.Name, State: p.state, Reason: p.reason, LastError: p.lastErr, LastProcessingResult: p.result}
	for tp, l := range p.lanes {
		l.mu.Lock()
		q := l.q.n
		l.mu.Unlock()
		s.Partitions = append(s.Partitions, PartitionStats{
			TopicPartition: tp, Committed: l.committed.Load(), Start: l.start.Load(), HighWatermark: l.hw.Load(),
			Queued: q, Retrying: l.retrying.Load(),
		})
	}
	p.mu.Unlock()
	slices.SortFunc(s.Partitions, func(a, b PartitionStats) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	s.In = p.stats.in.Load()
	s.Delivered = p.stats.delivered.Load()
	s.Filtered = p.stats.filtered.Load()
	s.Rejected = p.stats.rejected.Load()
	s.FailureRetries = p.stats.failureRetries.Load()
	s.Batches = p.stats.batches.Load()
	s.Retries = p.stats.retries.Load()
	s.InflightBytes = p.inflight.Load()
	if p.filterErrs != nil {
		s.FilterErrors, s.LastFilterError = p.filterErrs.FilterErrors()
	}
	return s
}
