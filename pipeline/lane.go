package pipeline

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Lane owns one topic-partition of a pipeline. It queues the records the
// source pushes, cuts them into batches by size, bytes and window, and runs
// one batch at a time through the stages, so the partition's order is kept.
// A full lane pauses fetching of its partition.
type Lane struct {
	p  *Pipeline
	tp TopicPartition

	mu      sync.Mutex
	q       queue
	firstAt time.Time // arrival of the oldest queued record
	paused  bool
	stopped bool

	notify chan struct{} // a record arrived (capacity 1)
	stopCh chan struct{} // closed: take no new batch
	done   chan struct{} // closed when the worker has exited

	hard       context.Context // canceled when the drain timeout is over
	cancelHard context.CancelFunc

	batch   Batch
	timer   *time.Timer
	pending []pendingCommit // outstanding commits, oldest first
	failed  bool            // a permanent error stopped the lane
	scratch []Record        // records handed to the on-failure handler

	hw        atomic.Int64 // high watermark, -1 until known
	committed atomic.Int64 // next offset committed, -1 until the first commit
	start     atomic.Int64 // offset of the first record the lane took, -1 before
	retrying  atomic.Int64 // failed attempts of the current batch
	progress  atomic.Int64 // when the lane last finished a batch (Unix ns)
}

type pendingCommit struct {
	w    CommitWait
	next int64
}

func newLane(p *Pipeline, tp TopicPartition) *Lane {
	hard, cancel := context.WithCancel(context.Background())
	l := &Lane{
		p:          p,
		tp:         tp,
		notify:     make(chan struct{}, 1),
		stopCh:     make(chan struct{}),
		done:       make(chan struct{}),
		hard:       hard,
		cancelHard: cancel,
		timer:      time.NewTimer(time.Hour),
	}
	l.timer.Stop()
	l.hw.Store(-1)
	l.committed.Store(-1)
	l.start.Store(-1)
	l.batch.TopicPartition = tp
	// Segments hold whole batches, so full batches never straddle two.
	l.q = newQueue(p.opts.BatchSize * max(1, (256+p.opts.BatchSize-1)/p.opts.BatchSize))
	l.batch.Status = make([]Status, 0, p.opts.BatchSize)
	l.batch.status = l.batch.Status
	return l
}

// full reports whether the lane should pause its partition: it holds at
// least two batches and more than its fair share of the pipeline's in-flight
// bound while the pipeline is at least half full, and it has not finished a
// batch for stallAfter. A lane that keeps up, or that is busy but moving, is
// not paused (pausing makes the client drop and fetch again what it had
// buffered; when all lanes are equally slow the in-flight bound alone stops
// the polling); a lane stuck in retries or on a slow target stops taking
// memory the other partitions need. The caller holds l.mu.
func (l *Lane) full() bool {
	p := l.p
	if l.q.n < 2*p.opts.BatchSize {
		return false
	}
	return int64(l.q.bytes) >= p.laneShare() && p.inflight.Load() >= p.opts.MaxInflightBytes/2 &&
		time.Since(time.Unix(0, l.progress.Load())) >= stallAfter
}

// stallAfter is how long a lane must go without finishing a batch before a
// full lane counts as stalled and is paused.
const stallAfter = 100 * time.Millisecond

// drained reports whether a paused lane may fetch again: it is down to half
// its share, or the pipeline is down to a quarter of its bound. The caller
// holds l.mu.
func (l *Lane) drained() bool {
	p := l.p
	return l.q.n < 2*p.opts.BatchSize || int64(l.q.bytes) < p.laneShare()/2 ||
		p.inflight.Load() < p.opts.MaxInflightBytes/4
}

func (l *Lane) push(f Filler) {
	n := f.Len()
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	if l.q.n == 0 {
		l.firstAt = time.Now()
	}
	bytes := l.q.push(f)
	if !l.paused && l.full() {
		l.paused = true
		l.p.src.Pause(l.tp)
	}
	l.mu.Unlock()
	l.p.inflight.Add(int64(bytes))
	l.p.stats.in.Add(int64(n))
	l.p.stats.bytesIn.Add(int64(bytes))
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// next fills l.batch with the next batch. It returns false when the lane is
// stopping.
func (l *Lane) next() bool {
	o := &l.p.opts
	for {
		l.mu.Lock()
		if l.stopped {
			l.mu.Unlock()
			return false
		}
		var wait time.Duration
		if n := l.q.n; n > 0 {
			if n >= o.BatchSize || l.q.bytes >= o.BatchMaxBytes {
				l.take()
				l.mu.Unlock()
				return true
			}
			wait = time.Until(l.firstAt.Add(o.BatchWindow))
			if wait <= 0 {
				l.take()
				l.mu.Unlock()
				return true
			}
		}
		l.mu.Unlock()
		// While idle, follow the oldest outstanding commit so that status
		// and lag are current.
		var committed <-chan struct{}
		if len(l.pending) > 0 {
			committed = l.pending[0].w.Done()
		}
		var timeout <-chan time.Time
		if wait > 0 {
			l.timer.Reset(wait)
			timeout = l.timer.C
		}
		select {
		case <-l.notify:
		case <-timeout:
		case <-l.stopCh:
		case <-committed:
			l.reapCommits()
		}
		if wait > 0 {
			l.timer.Stop()
		}
	}
}

// take moves up to BatchSize queued records, within BatchMaxBytes, into the
// batch. The caller holds l.mu.
func (l *Lane) take() {
	o := &l.p.opts
	b := &l.batch
	b.reset()
	l.q.release()
	avail := l.q.headRun()
	n, bytes := 0, 0
	for n < len(avail) && n < o.BatchSize {
		s := avail[n].Size()
		if n > 0 && bytes+s > o.BatchMaxBytes {
			break
		}
		bytes += s
		n++
	}
	// The batch is a view of the queue, not a copy: push only appends
	// after it, and release waits until the batch is done.
	b.Records = avail[:n:n]
	b.first, b.last = avail[0].Offset, avail[n-1].Offset
	if l.start.Load() < 0 {
		l.start.Store(b.first)
	}
	for range n {
		b.Status = append(b.Status, Active)
	}
	b.status = b.Status
	b.bytes = bytes
	l.q.take(n, bytes)
	// Records left in the queue keep the oldest arrival time: they have
	// waited while this batch runs and may go as soon as it is done.
	if l.paused && l.drained() {
		l.paused = false
		l.p.src.Resume(l.tp)
	}
}

// run is the lane's worker: one batch at a time until the lane stops.
func (l *Lane) run() {
	defer close(l.done)
	for l.next() {
		l.process(&l.batch)
		l.p.inflight.Add(-int64(l.batch.bytes))
		l.progress.Store(time.Now().UnixNano())
		l.p.roomFreed()
		l.batch.reset()
		if l.hard.Err() != nil || l.failed {
			break
		}
	}
	l.flushCommits()
	l.mu.Lock()
	l.stopped = true
	dropped := l.q.bytes
	l.q.reset()
	l.mu.Unlock()
	l.p.inflight.Add(-int64(dropped))
	l.p.roomFreed()
}

// commit starts the commit of next and, when the lane already has
// MaxUncommittedBatches commits outstanding, first waits for the oldest.
func (l *Lane) commit(next int64) {
	l.reapCommits()
	if len(l.pending) >= l.p.opts.MaxUncommittedBatches {
		l.awaitOldest()
	}
	l.pending = append(l.pending, pendingCommit{w: l.p.src.Commit(l.tp, next), next: next})
}

// awaitOldest waits for the lane's oldest outstanding commit. A failed
// commit is logged: a later commit of the partition covers its offsets.
func (l *Lane) awaitOldest() {
	select {
	case <-l.pending[0].w.Done():
		l.finishOldest()
	case <-l.hard.Done():
		l.pending = l.pending[:0]
	}
}

// reapCommits records the outstanding commits that have finished, without
// waiting.
func (l *Lane) reapCommits() {
	for len(l.pending) > 0 {
		select {
		case <-l.pending[0].w.Done():
			l.finishOldest()
		default:
			return
		}
	}
}

// finishOldest records the outcome of the oldest commit, which is done.
func (l *Lane) finishOldest() {
	c := l.pending[0]
	copy(l.pending, l.pending[1:])
	l.pending[len(l.pending)-1] = pendingCommit{}
	l.pending = l.pending[:len(l.pending)-1]
	if err := c.w.Err(); err != nil {
		l.p.log.Warn("commit failed; the next commit covers it", "partition", l.tp.String(), "offset", c.next, "error", err)
		return
	}
	l.committed.Store(c.next)
	l.p.recordCommit(l.tp, c.next)
}

// flushCommits waits for every outstanding commit of the lane.
func (l *Lane) flushCommits() {
	for len(l.pending) > 0 {
		l.awaitOldest()
	}
}

// backoff returns the delay before retry number attempt: exponential from
// initial, capped at max, with equal jitter (half fixed, half random).
func backoff(initial, maxd time.Duration, attempt int) time.Duration {
	d := initial
	for i := 1; i < attempt && d < maxd; i++ {
		d *= 2
	}
	d = min(d, maxd)
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits d; it returns false if ctx ends or stop closes first.
func sleep(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// stop asks the lane to finish its in-flight batch and exit, waits up to the
// drain timeout, then cancels the batch. With now set it cancels at once.
func (l *Lane) stop(now bool) {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		close(l.stopCh)
	}
	l.mu.Unlock()
	if now {
		l.cancelHard()
	}
	t := time.NewTimer(l.p.opts.DrainTimeout)
	defer t.Stop()
	select {
	case <-l.done:
	case <-t.C:
		l.p.log.Warn("drain timeout: abandoning in-flight batch; it will be delivered again", "partition", l.tp.String())
		l.cancelHard()
		<-l.done
	}
	l.cancelHard()
}
