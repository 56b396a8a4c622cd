package pipeline

// queue holds a lane's fetched records in fixed-size segments. A batch is a
// view of the head segment, so records are written once (by the source's
// Filler) and never copied again; consumed segments are cleared and reused,
// so a steady stream allocates nothing. It is not goroutine-safe: the lane
// guards it.
type queue struct {
	segSize int
	segs    []*segment // oldest first; the last one is being filled
	free    []*segment
	n       int // records queued, not yet taken
	bytes   int // Size of the records queued
}

type segment struct {
	recs  []Record // len = records written, cap = segSize
	taken int      // records handed out in batches
}

func newQueue(segSize int) queue { return queue{segSize: segSize} }

// push appends f's records.
func (q *queue) push(f Filler) int {
	total, done, bytes := f.Len(), 0, 0
	for done < total {
		var s *segment
		if k := len(q.segs); k > 0 && len(q.segs[k-1].recs) < q.segSize {
			s = q.segs[k-1]
		} else {
			s = q.newSegment()
			q.segs = append(q.segs, s)
		}
		room := min(q.segSize-len(s.recs), total-done)
		at := len(s.recs)
		s.recs = s.recs[:at+room]
		bytes += f.Fill(s.recs[at:at+room], done)
		done += room
	}
	q.n += total
	q.bytes += bytes
	return bytes
}

func (q *queue) newSegment() *segment {
	if k := len(q.free); k > 0 {
		s := q.free[k-1]
		q.free = q.free[:k-1]
		return s
	}
	return &segment{recs: make([]Record, 0, q.segSize)}
}

// release recycles the segments that batches have fully consumed. Call it
// only when no batch views the queue.
func (q *queue) release() {
	i := 0
	for i < len(q.segs) {
		s := q.segs[i]
		if s.taken < len(s.recs) || (len(s.recs) < q.segSize && i == len(q.segs)-1) {
			break
		}
		clear(s.recs)
		s.recs, s.taken = s.recs[:0], 0
		q.free = append(q.free, s)
		i++
	}
	if i > 0 {
		n := copy(q.segs, q.segs[i:])
		clear(q.segs[n:])
		q.segs = q.segs[:n]
	}
	// A tail segment fully taken while still open is restarted in place.
	if len(q.segs) == 1 {
		if s := q.segs[0]; s.taken == len(s.recs) && s.taken > 0 {
			clear(s.recs)
			s.recs, s.taken = s.recs[:0], 0
		}
	}
}

// headRun returns the untaken records of the head segment: a batch never
// spans segments, so after a batch cut short (by window or bytes) the next
// one is shorter and the cuts line up with segments again.
func (q *queue) headRun() []Record {
	for _, s := range q.segs {
		if s.taken < len(s.recs) {
			return s.recs[s.taken:len(s.recs):len(s.recs)]
		}
	}
	return nil
}

// take marks the first n records of headRun as taken, with their bytes.
func (q *queue) take(n, bytes int) {
	for _, s := range q.segs {
		if s.taken < len(s.recs) {
			s.taken += n
			break
		}
	}
	q.n -= n
	q.bytes -= bytes
}

// reset drops every record and segment.
func (q *queue) reset() {
	for _, s := range q.segs {
		clear(s.recs)
	}
	q.segs, q.free, q.n, q.bytes = nil, nil, 0, 0
}
