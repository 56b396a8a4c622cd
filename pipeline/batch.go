package pipeline

// Status is what became of one record of a batch. Stages mark records instead
// of reslicing the batch, so every record keeps its offset for the commit.
type Status uint8

const (
	// Active records still go on to the next stage.
	Active Status = iota
	// Filtered records were dropped by the filter: committed, never delivered.
	Filtered
	// Delivered records reached the target in an earlier attempt of a batch
	// that was delivered only partly; retries skip them.
	Delivered
	// Failed records were not delivered by the target in this attempt.
	Failed
	// Oversized records cannot be sent by the target even alone (they exceed
	// its payload limit). A target marks them instead of attempting them; the
	// pipeline hands them to the on-failure handler with condition
	// MaximumPayloadSizeExceeded.
	Oversized
	// Rejected records were given up and handed to the on-failure handler;
	// they are committed and not attempted again.
	Rejected
	// held records are outside the part of the batch being attempted while
	// the pipeline bisects it; targets see only Active records.
	held Status = 255
	// expired records are past the maximum record age, on their way to the
	// on-failure handler.
	expired Status = 254
	// unenriched records are ones an enricher reported it could not
	// process, on their way to the on-failure handler.
	unenriched Status = 253
)

// Batch is a run of consecutive records of one partition, in offset order,
// with a status per record and an arena for the bytes that stages create.
// A batch is owned by one lane and reused: nothing it holds may be kept after
// the stage that received it returns.
//
// An enricher may replace Records (and Status, of the same length) with
// records it owns, to drop, rewrite or split records; each output keeps the
// offset of the input it came from, and FirstOffset and LastOffset keep the
// range the batch was fetched with, which is what gets committed.
type Batch struct {
	TopicPartition
	Records []Record
	Status  []Status
	// Arena holds bytes that stages create for this batch (enricher outputs,
	// rewritten values). It is reset when the batch is reused.
	Arena Arena
	// Attempt counts delivery attempts of this batch, starting at 1.
	Attempt int
	bytes   int
	status  []Status // the lane's own status buffer; an enricher may swap Status
	first   int64
	last    int64
}

// Len returns the number of records in the batch.
func (b *Batch) Len() int { return len(b.Records) }

// Bytes returns the payload bytes of the batch's records (see Record.Size).
func (b *Batch) Bytes() int { return b.bytes }

// FirstOffset returns the offset of the batch's first fetched record.
func (b *Batch) FirstOffset() int64 { return b.first }

// LastOffset returns the offset of the batch's last fetched record; the
// commit after the batch is LastOffset()+1.
func (b *Batch) LastOffset() int64 { return b.last }

// ActiveCount returns how many records are still Active.
func (b *Batch) ActiveCount() int {
	n := 0
	for _, s := range b.Status {
		if s == Active {
			n++
		}
	}
	return n
}

// reset empties the batch for reuse. Its records are a view of the lane's
// queue, which the lane clears.
func (b *Batch) reset() {
	b.Records = nil
	b.Status = b.status[:0]
	b.Arena.Reset()
	b.Attempt = 0
	b.bytes = 0
}

// Arena is a bump allocator for the bytes a stage creates while it works on a
// batch. Slices it returns stay valid until Reset; its memory is reused by the
// next batch, so steady-state batches allocate nothing.
type Arena struct {
	chunks [][]byte
	cur    int
}

const arenaChunk = 64 << 10

// Alloc returns n bytes of zeroed-or-stale memory owned by the arena.
func (a *Arena) Alloc(n int) []byte {
	for a.cur < len(a.chunks) {
		c := a.chunks[a.cur]
		if cap(c)-len(c) >= n {
			a.chunks[a.cur] = c[:len(c)+n]
			return c[len(c) : len(c)+n : len(c)+n]
		}
		a.cur++
	}
	size := arenaChunk
	if n > size {
		size = n
	}
	c := make([]byte, n, size)
	a.chunks = append(a.chunks, c)
	a.cur = len(a.chunks) - 1
	return c[:n:n]
}

// Copy returns a copy of p held by the arena.
func (a *Arena) Copy(p []byte) []byte {
	dst := a.Alloc(len(p))
	copy(dst, p)
	return dst
}

// Reset makes all memory of the arena reusable. Chunks larger than the
// standard size are released so one huge batch does not pin memory forever.
func (a *Arena) Reset() {
	keep := a.chunks[:0]
	for _, c := range a.chunks {
		if cap(c) <= arenaChunk {
			keep = append(keep, c[:0])
		}
	}
	clear(a.chunks[len(keep):])
	a.chunks = keep
	a.cur = 0
}

// NewBatch returns a batch of recs, all Active, as a lane would cut it. It
// is for tools and tests that run stages outside a pipeline; recs must be
// one partition's records in offset order.
func NewBatch(tp TopicPartition, recs []Record) *Batch {
	b := &Batch{TopicPartition: tp, Records: recs, Status: make([]Status, len(recs))}
	b.status = b.Status
	for i := range recs {
		b.bytes += recs[i].Size()
	}
	if len(recs) > 0 {
		b.first, b.last = recs[0].Offset, recs[len(recs)-1].Offset
	}
	return b
}
