// Package demo produces realistic JSON order records, for penstock dev and
// for examples: about 300 bytes each, keyed by customer, with a type header.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var (
	countries = []string{"DE", "FR", "NL", "ES", "IT", "PL", "SE", "US", "GB", "JP"}
	statuses  = []string{"created", "paid", "paid", "paid", "shipped", "cancelled"}
	skus      = []string{"SKU-1001", "SKU-1002", "SKU-2001", "SKU-2002", "SKU-3001", "SKU-4040", "SKU-5150"}
	names     = []string{"ada", "alan", "grace", "linus", "margaret", "dennis", "barbara", "ken"}
)

// Order appends one order record's JSON value to dst and returns it with the
// record's key (the customer id).
func Order(dst []byte, r *rand.Rand, seq int64, now time.Time) (value []byte, key string) {
	cust := r.IntN(5000)
	key = "cus-" + strconv.Itoa(cust)
	name := names[cust%len(names)]
	dst = fmt.Appendf(dst, `{"order_id":"ord-%09d","customer":{"id":"%s","email":"%s.%d@example.com","country":"%s"},`,
		seq, key, name, cust, countries[r.IntN(len(countries))])
	n := 1 + r.IntN(3)
	total := 0.0
	dst = append(dst, `"items":[`...)
	for i := range n {
		qty := 1 + r.IntN(4)
		price := float64(100+r.IntN(19900)) / 100
		total += float64(qty) * price
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = fmt.Appendf(dst, `{"sku":"%s","qty":%d,"price":%.2f}`, skus[r.IntN(len(skus))], qty, price)
	}
	dst = fmt.Appendf(dst, `],"amount":%.2f,"currency":"EUR","status":"%s","created_at":"%s"}`,
		total, statuses[r.IntN(len(statuses))], now.UTC().Format(time.RFC3339Nano))
	return dst, key
}

// Producer produces demo orders until closed.
type Producer struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start produces rate records per second to each topic (at least 1).
func Start(ctx context.Context, brokers, topics []string, rate int) (*Producer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond), kgo.ClientID("penstock-demo"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Producer{cl: cl, cancel: cancel}
	rate = max(rate, 1)
	for _, topic := range topics {
		p.wg.Go(func() { p.produce(ctx, topic, rate) })
	}
	return p, nil
}

func (p *Producer) produce(ctx context.Context, topic string, rate int) {
	const tick = 20 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(topic))))
	var seq int64
	owed := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			owed += float64(rate) * tick.Seconds()
			for ; owed >= 1; owed-- {
				seq++
				v, key := Order(nil, r, seq, now)
				p.cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(key), Value: v,
					Headers: []kgo.RecordHeader{{Key: "type", Value: []byte("order")}}}, nil)
			}
		}
	}
}

// Close stops producing and flushes what was produced.
func (p *Producer) Close() {
	p.cancel()
	p.wg.Wait()
	flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.cl.Flush(flush)
	p.cl.Close()
}
