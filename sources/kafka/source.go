// Package kafka is Penstock's Kafka source: a franz-go consumer-group member
// that hands fetched records to a pipeline's lanes without copying their
// bytes, pauses partitions whose lanes are full, and commits offsets only
// when the pipeline says a batch is done.
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/pipeline"
)

// StartingPosition says where a consumer group without committed offsets starts.
type StartingPosition string

// Starting positions, named as the ESM names them.
const (
	TrimHorizon StartingPosition = "TRIM_HORIZON"
	Latest      StartingPosition = "LATEST"
	AtTimestamp StartingPosition = "AT_TIMESTAMP"
)

// Config configures a Source.
type Config struct {
	// Brokers are the bootstrap servers, host:port each.
	Brokers []string
	// Topic is the one topic the source consumes.
	Topic string
	// Group is the consumer group id. When the group has committed offsets
	// they win over StartingPosition.
	Group string
	// StartingPosition applies to partitions without a committed offset;
	// default TRIM_HORIZON.
	StartingPosition StartingPosition
	// StartingTimestamp is the time AT_TIMESTAMP starts from.
	StartingTimestamp time.Time
	// TLS, when not nil, makes connections use TLS with this configuration.
	TLS *tls.Config
	// SessionTimeout is the group session timeout; default 45s.
	SessionTimeout time.Duration
	// FetchMaxBytes bounds one fetch response (compressed bytes); default
	// 4 MiB. Records usually decompress to several times this, so it is
	// kept a small fraction of the pipeline's in-flight bound: smaller
	// fetches also let the client fetch again sooner.
	FetchMaxBytes int32
	// ClientID names the client to the brokers; default "penstock".
	ClientID string
	// Logger receives the source's log; default slog.Default().
	Logger *slog.Logger
	// Opts are extra franz-go options appended last (authentication, hooks).
	Opts []kgo.Opt
	// OnAuthFailure, when set, is called when the brokers refuse the
	// credentials, so cached secrets are fetched again for the next
	// connection (a rotated password is then picked up without a restart).
	OnAuthFailure func()
	// Rebootstrap, when set, resolves the bootstrap servers again (an MSK
	// cluster's GetBootstrapBrokers): when no broker the client knows can
	// be reached and a seed cannot either, the seeds are dialed through
	// the newly resolved list.
	Rebootstrap func(context.Context) ([]string, error)
}

// Source consumes one topic as a member of a consumer group.
type Source struct {
	cfg Config
	log *slog.Logger
	cl  *kgo.Client

	sinkMu sync.Mutex
	sink   pipeline.Sink
	owned  map[pipeline.TopicPartition]*lent // the records lent to each owned partition's lane
	ready  chan struct{}                     // closed once sink is set

	commits committer
	reboot  *rebootstrap // nil unless Config.Rebootstrap is set

	compression  compression
	pools        *recordPools
	fetchSizedAt atomic.Uint64 // compression ratio (float64 bits) fetches were last sized for
}

// The pipeline's Header must stay layout-identical to kgo.RecordHeader: the
// source reinterprets fetched header slices instead of copying them.
var _ = [1]struct{}{}[unsafe.Sizeof(pipeline.Header{})-unsafe.Sizeof(kgo.RecordHeader{})]
var _ = [1]struct{}{}[unsafe.Offsetof(pipeline.Header{}.Value)-unsafe.Offsetof(kgo.RecordHeader{}.Value)]

// New validates cfg and creates the franz-go client. It does not connect yet.
func New(cfg Config) (*Source, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka source: no bootstrap servers")
	}
	if cfg.Topic == "" {
		return nil, errors.New("kafka source: no topic")
	}
	if cfg.Group == "" {
		return nil, errors.New("kafka source: no consumer group id")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "penstock"
	}
	if cfg.FetchMaxBytes <= 0 {
		cfg.FetchMaxBytes = 4 << 20
	}
	s := &Source{
		cfg:   cfg,
		log:   cfg.Logger.With("topic", cfg.Topic, "group", cfg.Group),
		owned: make(map[pipeline.TopicPartition]*lent),
		ready: make(chan struct{}),
	}
	s.pools = newRecordPools(s.compression.ratio)
	var reset kgo.Offset
	switch cfg.StartingPosition {
	case "", TrimHorizon:
		reset = kgo.NewOffset().AtStart()
	case Latest:
		reset = kgo.NewOffset().AtEnd()
	case AtTimestamp:
		reset = kgo.NewOffset().AfterMilli(cfg.StartingTimestamp.UnixMilli())
	default:
		return nil, fmt.Errorf("kafka source: unknown starting position %q", cfg.StartingPosition)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(reset),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxBytes(cfg.FetchMaxBytes),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
		kgo.WithLogger(kgoLogger{l: s.log, report: s.report}),
		kgo.WithHooks(statusHook{report: s.report}, &s.compression),
		kgo.WithPools(s.pools),
	}
	if cfg.SessionTimeout > 0 {
		// Heartbeat three times per session, as Kafka recommends.
		opts = append(opts, kgo.SessionTimeout(cfg.SessionTimeout), kgo.HeartbeatInterval(cfg.SessionTimeout/3))
	}
	switch {
	case cfg.Rebootstrap != nil:
		s.reboot = newRebootstrap(cfg.Brokers, cfg.Rebootstrap, cfg.TLS, s.log)
		opts = append(opts, kgo.Dialer(s.reboot.Dial))
	case cfg.TLS != nil:
		opts = append(opts, kgo.DialTLSConfig(cfg.TLS))
	}
	opts = append(opts, cfg.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka source: %w", err)
	}
	s.cl = cl
	s.commits.init(cl)
	return s, nil
}

// Client returns the underlying franz-go client (for status and checks).
func (s *Source) Client() *kgo.Client { return s.cl }

// Run implements pipeline.Source.
func (s *Source) Run(ctx context.Context, sink pipeline.Sink) error {
	s.sinkMu.Lock()
	s.sink = sink
	close(s.ready)
	s.sinkMu.Unlock()

	commitCtx, stopCommits := context.WithCancel(context.Background())
	commitsDone := make(chan struct{})
	go func() { defer close(commitsDone); s.commits.run(commitCtx) }()

	err := s.poll(ctx, sink)

	// Graceful stop: finish and commit in-flight batches, then leave.
	s.sinkMu.Lock()
	owned := make([]pipeline.TopicPartition, 0, len(s.owned))
	for tp := range s.owned {
		owned = append(owned, tp)
	}
	clear(s.owned)
	s.sinkMu.Unlock()
	sink.Revoke(owned, false)
	stopCommits()
	<-commitsDone
	s.cl.Close()
	if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return nil
	}
	return err
}

// pollMax bounds the records taken from franz-go's buffer per poll, so that
// lanes start on the first records while the rest are still being handed
// over, and a large fetch does not overshoot the in-flight bound.
const pollMax = 4096

func (s *Source) poll(ctx context.Context, sink pipeline.Sink) error {
	var fill filler
	var fetchErrs errorLog
	for {
		if err := sink.WaitRoom(ctx); err != nil {
			return err
		}
		fetches := s.cl.PollRecords(ctx, min(pollMax, sink.PollBudget()))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.resizeFetches(sink)
		if fetches.IsClientClosed() {
			return kgo.ErrClientClosed
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) {
				continue
			}
			if Classify(fe.Err) == ResultNotAuthorized {
				// Retrying cannot grant the ACLs: stop this pipeline with
				// the ESM's reason; the others go on.
				return pipeline.PermanentReason("EVENT_SOURCE_AUTHZ_ERROR", fmt.Errorf("%s: %w", ResultNotAuthorized, fe.Err))
			}
			fetchErrs.log(s.log, fe.Partition, fe.Err)
		}
		for i := range fetches {
			for j := range fetches[i].Topics {
				ft := &fetches[i].Topics[j]
				for k := range ft.Partitions {
					fp := &ft.Partitions[k]
					tp := pipeline.TopicPartition{Topic: ft.Topic, Partition: fp.Partition}
					if len(fp.Records) > 0 {
						if l := s.lentTo(tp); l != nil {
							l.add(fp.Records)
						}
						fill.recs = fp.Records
						sink.Push(tp, &fill)
						fill.recs = nil
					}
					if fp.HighWatermark > 0 {
						sink.SetHighWatermark(tp, fp.HighWatermark)
					}
				}
			}
		}
	}
}

// filler converts fetched records straight into a lane's queue. Keys,
// values and headers alias the fetched records' memory.
type filler struct{ recs []*kgo.Record }

func (f *filler) Len() int { return len(f.recs) }

func (f *filler) Fill(dst []pipeline.Record, from int) int {
	bytes := 0
	for i, r := range f.recs[from : from+len(dst)] {
		d := &dst[i]
		d.Key = r.Key
		d.Value = r.Value
		d.Headers = unsafe.Slice((*pipeline.Header)(unsafe.Pointer(unsafe.SliceData(r.Headers))), len(r.Headers))
		d.Topic = r.Topic
		d.Offset = r.Offset
		d.Timestamp = r.Timestamp.UnixMilli()
		d.Partition = r.Partition
		d.TimestampType = pipeline.CreateTime
		if r.Attrs.TimestampType() == 1 {
			d.TimestampType = pipeline.LogAppendTime
		}
		bytes += len(r.Key) + len(r.Value)
		for j := range r.Headers {
			bytes += len(r.Headers[j].Key) + len(r.Headers[j].Value)
		}
	}
	return bytes
}

func tps(m map[string][]int32) []pipeline.TopicPartition {
	var out []pipeline.TopicPartition
	for t, ps := range m {
		for _, p := range ps {
			out = append(out, pipeline.TopicPartition{Topic: t, Partition: p})
		}
	}
	return out
}

func (s *Source) waitSink(ctx context.Context) pipeline.Sink {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil
	}
	return s.sink
}

func (s *Source) onAssigned(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
	sink := s.waitSink(ctx)
	if sink == nil {
		return
	}
	list := tps(m)
	s.sinkMu.Lock()
	for _, tp := range list {
		s.owned[tp] = new(lent)
	}
	s.sinkMu.Unlock()
	s.log.Info("partitions assigned", "partitions", fmtTPs(list))
	// Pauses persist in the client across rebalances; a partition that was
	// paused when it was last owned starts unpaused.
	s.cl.ResumeFetchPartitions(m)
	sink.Assign(list)
	s.sizeFetches(sink.LaneShare())
}

// sizeFetches bounds what one fetch may return per partition to a quarter
// of each partition's share of the pipeline's in-flight bound (between
// 16 KiB and franz-go's default 1 MiB), and a whole fetch to four such
// shares (at least 256 KiB, at most FetchMaxBytes). Without it one fetch
// could hand a single partition more than the whole pipeline may hold, and
// a partition stuck in retries would then hold memory the others need.
//
// Fetch limits count compressed bytes and the in-flight bound counts
// records, so both are divided by the compression ratio seen so far: with
// records that compress 10:1, a 4 MiB fetch would be 40 MB of records, and
// a pipeline bounded to 64 MiB could not hold the next fetch while it works
// on the last one: fetching and processing would take turns instead of
// overlapping.
func (s *Source) sizeFetches(share int64) {
	ratio := s.compression.ratio()
	total, part := fetchSizes(share, ratio, s.cfg.FetchMaxBytes)
	s.fetchSizedAt.Store(math.Float64bits(ratio))
	s.cl.UpdateFetchMaxBytes(total, part)
}

// fetchSizes is what sizeFetches sets: the most one fetch may return in
// all and per partition, in compressed bytes, for a partition's share of
// the in-flight bound (record bytes) and records that expand ratio times.
func fetchSizes(share int64, ratio float64, most int32) (total, part int32) {
	p := min(max(int64(float64(share/4)/ratio), 16<<10), 1<<20)
	t := min(max(4*p, 256<<10), int64(most))
	return int32(t), int32(p)
}

// resizeFetches sizes fetches again when the compression ratio moved by
// more than a quarter since they were last sized.
func (s *Source) resizeFetches(sink pipeline.Sink) {
	last := math.Float64frombits(s.fetchSizedAt.Load())
	if r := s.compression.ratio(); last > 0 && (r > last*1.25 || r < last/1.25) {
		s.sizeFetches(sink.LaneShare())
	}
}

// compression tracks how much fetched record batches expand when
// decompressed (kgo.HookFetchBatchRead).
type compression struct {
	compressed, uncompressed atomic.Int64
}

func (c *compression) OnFetchBatchRead(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.FetchBatchMetrics) {
	c.compressed.Add(int64(m.CompressedBytes))
	c.uncompressed.Add(int64(m.UncompressedBytes))
}

// ratio is uncompressed bytes per compressed byte, at least 1; 1 until
// something was fetched.
func (c *compression) ratio() float64 {
	cb, ub := c.compressed.Load(), c.uncompressed.Load()
	if cb <= 0 || ub <= cb {
		return 1
	}
	return float64(ub) / float64(cb)
}

func (s *Source) revoke(m map[string][]int32, lost bool) {
	s.sinkMu.Lock()
	sink := s.sink
	var list []pipeline.TopicPartition
	for _, tp := range tps(m) {
		if _, ok := s.owned[tp]; ok {
			delete(s.owned, tp)
			list = append(list, tp)
		}
	}
	s.sinkMu.Unlock()
	if sink == nil || len(list) == 0 {
		return
	}
	if lost {
		s.log.Warn("partitions lost; abandoning their in-flight batches", "partitions", fmtTPs(list))
	} else {
		s.log.Info("partitions revoked; draining", "partitions", fmtTPs(list))
	}
	sink.Revoke(list, lost)
}

func (s *Source) onRevoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.revoke(m, false)
}
func (s *Source) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.revoke(m, true) }

// report passes a classified connection failure to the pipeline, which
// shows it as its last processing result.
func (s *Source) report(result string, err error) {
	if result == ResultSASLFailed && s.cfg.OnAuthFailure != nil {
		s.cfg.OnAuthFailure()
	}
	s.sinkMu.Lock()
	sink := s.sink
	s.sinkMu.Unlock()
	if sink != nil {
		sink.SourceError(result, err)
	}
}

// Pause implements pipeline.Source.
func (s *Source) Pause(tp pipeline.TopicPartition) {
	s.cl.PauseFetchPartitions(map[string][]int32{tp.Topic: {tp.Partition}})
}

// Resume implements pipeline.Source.
func (s *Source) Resume(tp pipeline.TopicPartition) {
	s.cl.ResumeFetchPartitions(map[string][]int32{tp.Topic: {tp.Partition}})
}

// lentTo returns the records lent to tp's lane, or nil when the source
// does not own tp (its records, and those of a partition revoked or lost,
// are left to the garbage collector).
func (s *Source) lentTo(tp pipeline.TopicPartition) *lent {
	s.sinkMu.Lock()
	defer s.sinkMu.Unlock()
	return s.owned[tp]
}

// Commit implements pipeline.Source.
func (s *Source) Commit(tp pipeline.TopicPartition, next int64) pipeline.CommitWait {
	if l := s.lentTo(tp); l != nil {
		l.giveBack(next)
	}
	return s.commits.commit(tp, next)
}

func fmtTPs(list []pipeline.TopicPartition) string {
	b := make([]byte, 0, 8*len(list))
	for i, tp := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, tp.String()...)
	}
	return string(b)
}

// errorLog logs a fetch error once per partition and error per interval,
// with the number of repeats in between: a partition that fails the same
// way on every fetch would otherwise write thousands of lines a second.
type errorLog struct {
	seen map[errorKey]*errorSeen
}

type errorKey struct {
	partition int32
	text      string
}

type errorSeen struct {
	at      time.Time
	repeats int
}

const errorLogInterval = 30 * time.Second

func (l *errorLog) log(log *slog.Logger, partition int32, err error) {
	k := errorKey{partition, err.Error()}
	if l.seen == nil || len(l.seen) > 1024 {
		l.seen = make(map[errorKey]*errorSeen)
	}
	e := l.seen[k]
	now := time.Now()
	if e != nil && now.Sub(e.at) < errorLogInterval {
		e.repeats++
		return
	}
	if e != nil && e.repeats > 0 {
		log.Warn("fetch error", "partition", partition, "error", err, "repeats", e.repeats, "since", e.at.Format(time.RFC3339))
	} else {
		log.Warn("fetch error", "partition", partition, "error", err)
	}
	l.seen[k] = &errorSeen{at: now}
}
