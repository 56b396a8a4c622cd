package kafka

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/penstock-dev/penstock/pipeline"
)

// committer coalesces the commits of all lanes into one OffsetCommit request
// at a time: a lane's commit joins the next request and returns when that
// request's response arrives.
type committer struct {
	cl *kgo.Client

	mu      sync.Mutex
	pending map[pipeline.TopicPartition]int64
	next    *commitRound // the round pending commits will go out in
	wake    chan struct{}
}

type commitRound struct {
	done chan struct{}
	err  error
	errs map[pipeline.TopicPartition]error
}

func newRound() *commitRound { return &commitRound{done: make(chan struct{})} }

func (c *committer) init(cl *kgo.Client) {
	c.cl = cl
	c.pending = make(map[pipeline.TopicPartition]int64)
	c.next = newRound()
	c.wake = make(chan struct{}, 1)
}

// ticket waits for the round that carries one partition's commit.
type ticket struct {
	r  *commitRound
	tp pipeline.TopicPartition
}

func (t ticket) Done() <-chan struct{} { return t.r.done }

func (t ticket) Err() error {
	if t.r.err != nil {
		return t.r.err
	}
	return t.r.errs[t.tp]
}

func (c *committer) commit(tp pipeline.TopicPartition, offset int64) ticket {
	c.mu.Lock()
	if cur, ok := c.pending[tp]; !ok || offset > cur {
		c.pending[tp] = offset
	}
	r := c.next
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return ticket{r: r, tp: tp}
}

func (c *committer) run(ctx context.Context) {
	for {
		select {
		case <-c.wake:
		case <-ctx.Done():
			c.mu.Lock()
			r := c.next
			c.mu.Unlock()
			r.err = fmt.Errorf("commit: source stopped")
			close(r.done)
			return
		}
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.mu.Unlock()
			continue
		}
		r, batch := c.next, c.pending
		c.next, c.pending = newRound(), make(map[pipeline.TopicPartition]int64, len(batch))
		c.mu.Unlock()

		offsets := make(map[string]map[int32]kgo.EpochOffset)
		for tp, o := range batch {
			m := offsets[tp.Topic]
			if m == nil {
				m = make(map[int32]kgo.EpochOffset)
				offsets[tp.Topic] = m
			}
			m[tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
		}
		c.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				r.err = fmt.Errorf("commit: %w", err)
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if e := kerr.ErrorForCode(p.ErrorCode); e != nil {
						if r.errs == nil {
							r.errs = make(map[pipeline.TopicPartition]error)
						}
						r.errs[pipeline.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = fmt.Errorf("commit: %w", e)
					}
				}
			}
		})
		close(r.done)
	}
}
