// Package kafkatest starts a real Kafka-protocol broker (franz-go's kfake)
// on a loopback TCP port for tests and benchmarks, and produces to it.
package kafkatest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Cluster is a running broker.
type Cluster struct {
	*kfake.Cluster
	Addrs []string
}

// Start starts a one-broker cluster with the given topics, each with the
// given number of partitions, and closes it when the test ends.
func Start(tb testing.TB, partitions int32, topics ...string) *Cluster {
	tb.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(500 * time.Millisecond)}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatalf("start kfake: %v", err)
	}
	tb.Cleanup(c.Close)
	return &Cluster{Cluster: c, Addrs: c.ListenAddrs()}
}

// Producer returns a client that produces to c, closed when the test ends.
func (c *Cluster) Producer(tb testing.TB, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(c.Addrs...), kgo.ProducerLinger(time.Millisecond),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		tb.Fatalf("producer: %v", err)
	}
	tb.Cleanup(cl.Close)
	return cl
}

// ProduceSync produces recs (each with its Topic and Partition set) and
// fails the test on any error.
func ProduceSync(tb testing.TB, cl *kgo.Client, recs []*kgo.Record) {
	tb.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, r := range recs {
		wg.Add(1)
		cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	if first != nil {
		tb.Fatalf("produce: %v", first)
	}
}

// Numbered returns n records spread round-robin over partitions of topic.
// Record i has key "k<i>" and the JSON value {"seq":i,"pad":"..."} of about
// size bytes.
func Numbered(topic string, partitions int32, from, n, size int) []*kgo.Record {
	recs := make([]*kgo.Record, 0, n)
	for i := from; i < from+n; i++ {
		v := fmt.Appendf(nil, `{"seq":%d,"pad":"`, i)
		for len(v) < size-2 {
			v = append(v, 'x')
		}
		v = append(v, `"}`...)
		recs = append(recs, &kgo.Record{
			Topic:     topic,
			Partition: int32(i % int(partitions)),
			Key:       []byte("k" + strconv.Itoa(i)),
			Value:     v,
		})
	}
	return recs
}

// StartShared starts a cluster that lives until the process exits, for
// benchmarks that share one broker across sub-benchmarks. It panics on error.
func StartShared(partitions int32, topics ...string) *Cluster {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...))
	if err != nil {
		panic(err)
	}
	return &Cluster{Cluster: c, Addrs: c.ListenAddrs()}
}
