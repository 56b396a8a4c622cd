package pipeline

import (
	"errors"
	"slices"
	"time"
)

// outcome is how the delivery of (part of) a batch ended.
type outcome uint8

const (
	// done: every record was delivered, filtered or handed to the
	// on-failure handler; the batch may be committed.
	done outcome = iota
	// interrupted: the lane is stopping or its partition was lost; nothing
	// is committed and the records are fetched again later.
	interrupted
	// broken: a permanent error stopped the pipeline.
	broken
)

// process runs one batch through filter, enrichers and target with the
// pipeline's retry policy, then commits it. The batch is committed only when
// every record was delivered, filtered, or accepted by the on-failure handler.
func (l *Lane) process(b *Batch) {
	p := l.p
	switch {
	case p.batchFilter != nil:
		p.batchFilter.FilterBatch(b)
	case p.filter != nil:
		for i := range b.Records {
			if !p.filter.Match(&b.Records[i]) {
				b.Status[i] = Filtered
			}
		}
	}
	if p.filterErrs != nil {
		p.noteFilterErrors()
	}
	if l.enrich(b) != done {
		return
	}
	if l.deliverRange(b, 0, len(b.Records)) != done {
		return
	}
	l.retrying.Store(0)
	l.commit(b.LastOffset() + 1)
	p.stats.batches.Add(1)
	var delivered, filtered, rejected int64
	for _, s := range b.Status {
		switch s {
		case Filtered:
			filtered++
		case Rejected:
			rejected++
		default:
			delivered++
		}
	}
	p.stats.delivered.Add(delivered)
	p.stats.filtered.Add(filtered)
	p.stats.rejected.Add(rejected)
}

// enrich runs the enrichers over the batch, retrying with backoff. Every
// attempt starts from the records as fetched, so an enricher of a chain
// never sees the output of an earlier one twice. When the retries are used
// up, the batch's Active records go to the on-failure handler, or, when the
// enrichers named the records they could not process (RecordFailures),
// only those, and the rest of the batch is enriched again.
func (l *Lane) enrich(b *Batch) outcome {
	p := l.p
	if len(p.enrichers) == 0 || !b.hasActive() {
		return done
	}
	recs, status := b.Records, b.Status
	for attempt := 1; ; attempt++ {
		var err error
		for _, e := range p.enrichers {
			if err = e.Enrich(l.hard, b); err != nil {
				break
			}
		}
		if err == nil {
			return done
		}
		b.Records, b.Status = recs, status
		var rf RecordFailures
		if max := p.opts.MaxRetryAttempts; max >= 0 && attempt > max && !IsPermanent(err) && l.hard.Err() == nil &&
			errors.As(err, &rf) && markOffsets(b, rf.FailedOffsets(), unenriched) > 0 {
			l.retrying.Store(int64(attempt))
			p.stats.retries.Add(1)
			p.log.Warn("enrichment failed for some records; retries exhausted, sending them to the on-failure destination",
				"partition", l.tp.String(), "records", countStatus(b, unenriched), "attempts", attempt, "error", err)
			if o := l.reject(b, 0, len(b.Records), unenriched, RetryAttemptsExhausted, attempt, err, nil); o != done {
				return o
			}
			if !b.hasActive() {
				return done
			}
			attempt = 0 // the rest of the batch starts afresh
			continue
		}
		if o, stop := l.afterFailure(b, 0, len(b.Records), attempt, err, nil, "enrichment failed"); stop {
			return o
		}
	}
}

// markOffsets sets the Active records at the given offsets to s and
// returns how many it set.
func markOffsets(b *Batch, offsets []int64, s Status) int {
	n := 0
	for i := range b.Records {
		if b.Status[i] == Active && slices.Contains(offsets, b.Records[i].Offset) {
			b.Status[i] = s
			n++
		}
	}
	return n
}

func countStatus(b *Batch, s Status) int {
	n := 0
	for _, st := range b.Status {
		if st == s {
			n++
		}
	}
	return n
}

// deliverRange delivers the Active records among b.Records[lo:hi] with the
// retry policy: exponential backoff between attempts, only the failed part of
// a partial delivery attempted again, records past the maximum age and
// records the target cannot send handed to the on-failure handler, and, with
// BisectOnError, a range that failed because of its content split in two
// halves delivered one after the other.
func (l *Lane) deliverRange(b *Batch, lo, hi int) outcome {
	p := l.p
	whole := lo == 0 && hi == len(b.Records)
	for attempt := 1; ; attempt++ {
		if o := l.expire(b, lo, hi, attempt-1); o != done {
			return o
		}
		n := countActive(b, lo, hi)
		if n == 0 {
			return done
		}
		b.Attempt = attempt
		if !whole {
			hold(b, lo, hi)
		}
		res, err := p.target.Deliver(l.hard, b)
		if !whole {
			unhold(b)
		}
		if o := l.rejectOversized(b, lo, hi); o != done {
			return o
		}
		if err == nil && !res.Partial {
			markDelivered(b, lo, hi)
			return done
		}
		if l.hard.Err() != nil {
			return interrupted // drain timeout or lost partition
		}
		if err != nil && IsPermanent(err) {
			l.failed = true
			p.fail(l.tp, err)
			return broken
		}
		if err == nil { // partial: keep what was delivered, attempt the rest again
			for i := lo; i < hi; i++ {
				switch b.Status[i] {
				case Active:
					b.Status[i] = Delivered
				case Failed:
					b.Status[i] = Active
				}
			}
		}
		if err != nil && p.opts.BisectOnError && n > 1 && IsBatchFault(err) {
			l.retrying.Store(int64(attempt))
			p.stats.retries.Add(1)
			mid := splitActive(b, lo, hi)
			p.log.Warn("delivery failed; bisecting the batch", "partition", l.tp.String(),
				"first_offset", b.Records[lo].Offset, "last_offset", b.Records[hi-1].Offset,
				"records", n, "error", err)
			if o := l.deliverRange(b, lo, mid); o != done {
				return o
			}
			return l.deliverRange(b, mid, hi)
		}
		if o, stop := l.afterFailure(b, lo, hi, attempt, err, res.Response, "delivery attempt failed"); stop {
			return o
		}
	}
}

// afterFailure handles a failed attempt of b.Records[lo:hi]: it counts it
// and, when the retries are used up, hands the range's Active records to the
// on-failure handler (stop is true, with the outcome); otherwise it waits the
// backoff (stop is false, or true with interrupted when the lane stops).
func (l *Lane) afterFailure(b *Batch, lo, hi, attempt int, err error, resp *Response, what string) (outcome, bool) {
	p := l.p
	l.retrying.Store(int64(attempt))
	p.stats.retries.Add(1)
	if l.hard.Err() != nil {
		return interrupted, true
	}
	if err != nil && IsPermanent(err) {
		l.failed = true
		p.fail(l.tp, err)
		return broken, true
	}
	if max := p.opts.MaxRetryAttempts; max >= 0 && attempt > max {
		p.log.Warn(what+"; retries exhausted, sending to the on-failure destination", "partition", l.tp.String(),
			"first_offset", b.Records[lo].Offset, "last_offset", b.Records[hi-1].Offset,
			"attempts", attempt, "error", errText(err))
		return l.reject(b, lo, hi, Active, RetryAttemptsExhausted, attempt, err, resp), true
	}
	p.log.Warn(what+"; retrying", "partition", l.tp.String(),
		"first_offset", b.Records[lo].Offset, "last_offset", b.Records[hi-1].Offset,
		"attempt", attempt, "error", errText(err))
	if !l.pause(attempt) {
		return interrupted, true
	}
	return done, false
}

// pause waits the backoff after failed attempt number attempt; it returns
// false when the lane stops first.
func (l *Lane) pause(attempt int) bool {
	select {
	case <-l.stopCh:
		return false // stopping: the batch is fetched again after restart
	default:
	}
	return sleep(l.hard, l.stopCh, backoff(l.p.opts.InitialBackoff, l.p.opts.MaxBackoff, attempt))
}

// expire hands the Active records of b.Records[lo:hi] older than the
// maximum record age to the on-failure handler.
func (l *Lane) expire(b *Batch, lo, hi, attempts int) outcome {
	age := l.p.opts.MaxRecordAge
	if age <= 0 {
		return done
	}
	limit := time.Now().Add(-age).UnixMilli()
	old := false
	for i := lo; i < hi; i++ {
		if b.Status[i] == Active && b.Records[i].Timestamp < limit {
			b.Status[i] = expired
			old = true
		}
	}
	if !old {
		return done
	}
	return l.reject(b, lo, hi, expired, RecordAgeExceeded, attempts, nil, nil)
}

// rejectOversized hands the records the target marked Oversized to the
// on-failure handler with condition MaximumPayloadSizeExceeded.
func (l *Lane) rejectOversized(b *Batch, lo, hi int) outcome {
	for i := lo; i < hi; i++ {
		if b.Status[i] == Oversized {
			return l.reject(b, lo, hi, Oversized, MaximumPayloadSizeExceeded, 0, nil, nil)
		}
	}
	return done
}

// reject hands the records of b.Records[lo:hi] whose status is from to the
// on-failure handler, retrying the handler with backoff until it accepts
// them, then marks them Rejected. Without a handler they are logged and
// dropped.
func (l *Lane) reject(b *Batch, lo, hi int, from Status, cond Condition, attempts int, err error, resp *Response) outcome {
	p := l.p
	f := Failure{TopicPartition: l.tp, Condition: cond, Attempts: attempts, Err: err, Response: resp, At: time.Now()}
	l.scratch = l.scratch[:0]
	for i := lo; i < hi; i++ {
		if b.Status[i] == from {
			l.scratch = append(l.scratch, b.Records[i])
		}
	}
	f.Records = l.scratch
	if p.onFailure == nil {
		p.log.Error("records given up and dropped: no on-failure destination", "partition", l.tp.String(),
			"condition", string(cond), "records", len(f.Records),
			"first_offset", f.Records[0].Offset, "last_offset", f.Records[len(f.Records)-1].Offset)
	} else {
		for attempt := 1; ; attempt++ {
			herr := p.onFailure.HandleFailure(l.hard, &f)
			if herr == nil {
				break
			}
			if l.hard.Err() != nil {
				return interrupted
			}
			p.stats.failureRetries.Add(1)
			p.log.Warn("on-failure destination failed; retrying, nothing is committed until it accepts the records",
				"partition", l.tp.String(), "condition", string(cond), "records", len(f.Records), "attempt", attempt, "error", herr)
			if !l.pause(attempt) {
				return interrupted
			}
		}
	}
	clear(l.scratch)
	for i := lo; i < hi; i++ {
		if b.Status[i] == from {
			b.Status[i] = Rejected
		}
	}
	return done
}

// hold marks the Active records outside b.Records[lo:hi] held, so that the
// target sees only the range.
func hold(b *Batch, lo, hi int) {
	for i, s := range b.Status {
		if s == Active && (i < lo || i >= hi) {
			b.Status[i] = held
		}
	}
}

// unhold makes held records Active again.
func unhold(b *Batch) {
	for i, s := range b.Status {
		if s == held {
			b.Status[i] = Active
		}
	}
}

func markDelivered(b *Batch, lo, hi int) {
	for i := lo; i < hi; i++ {
		if b.Status[i] == Active {
			b.Status[i] = Delivered
		}
	}
}

func countActive(b *Batch, lo, hi int) int {
	n := 0
	for _, s := range b.Status[lo:hi] {
		if s == Active {
			n++
		}
	}
	return n
}

// splitActive returns the index that splits the Active records of
// b.Records[lo:hi] into two halves (the first half the larger).
func splitActive(b *Batch, lo, hi int) int {
	half := (countActive(b, lo, hi) + 1) / 2
	for i := lo; i < hi; i++ {
		if b.Status[i] == Active {
			half--
			if half == 0 {
				return i + 1
			}
		}
	}
	return hi
}

func (b *Batch) hasActive() bool {
	for _, s := range b.Status {
		if s == Active {
			return true
		}
	}
	return false
}

func errText(err error) string {
	if err != nil {
		return err.Error()
	}
	return "some records were not delivered"
}
