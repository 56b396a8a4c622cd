package kafka

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// rebootstrap dials the client's seed brokers through the cluster's
// current bootstrap list. franz-go dials seeds again when every broker it
// discovered is unreachable; when a seed cannot be reached, the list is
// resolved again (at most once per interval) and the seed's place in the
// new list is dialed instead. So a cluster whose bootstrap brokers changed
// (an MSK cluster's brokers replaced, a listener moved) is found again
// without a restart. Brokers discovered from metadata are dialed as they
// are.
type rebootstrap struct {
	resolve  func(context.Context) ([]string, error)
	tls      *tls.Config
	dialer   net.Dialer
	log      *slog.Logger
	seeds    []string // as given to the client
	interval time.Duration

	mu      sync.Mutex
	current []string
	last    time.Time // of the last resolution started here
}

func newRebootstrap(seeds []string, resolve func(context.Context) ([]string, error), tlsCfg *tls.Config, log *slog.Logger) *rebootstrap {
	return &rebootstrap{
		resolve: resolve, tls: tlsCfg, log: log, interval: 10 * time.Second,
		dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 20 * time.Second},
		seeds:  slices.Clone(seeds), current: slices.Clone(seeds),
	}
}

// target is where seed i is dialed now.
func (r *rebootstrap) target(i int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.current) == 0 {
		return r.seeds[i]
	}
	return r.current[i%len(r.current)]
}

// Dial has the signature kgo.Dialer takes.
func (r *rebootstrap) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	i := slices.Index(r.seeds, addr)
	if i < 0 {
		return r.dialAddr(ctx, network, addr)
	}
	target := r.target(i)
	c, err := r.dialAddr(ctx, network, target)
	if err == nil || ctx.Err() != nil {
		return c, err
	}
	if !r.refresh(ctx) {
		return nil, err
	}
	if next := r.target(i); next != target {
		return r.dialAddr(ctx, network, next)
	}
	return nil, err
}

// refresh resolves the bootstrap list again unless that was done less
// than an interval ago, and reports whether the list changed.
func (r *rebootstrap) refresh(ctx context.Context) bool {
	r.mu.Lock()
	if !r.last.IsZero() && time.Since(r.last) < r.interval {
		r.mu.Unlock()
		return false
	}
	r.last = time.Now()
	r.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	brokers, err := r.resolve(rctx)
	if err != nil {
		r.log.Warn("bootstrap brokers unreachable, and resolving them again failed", "error", err)
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(brokers) == 0 || slices.Equal(brokers, r.current) {
		return false
	}
	r.log.Info("bootstrap brokers changed", "before", strings.Join(r.current, ","), "now", strings.Join(brokers, ","))
	r.current = slices.Clone(brokers)
	return true
}

func (r *rebootstrap) dialAddr(ctx context.Context, network, addr string) (net.Conn, error) {
	if r.tls == nil {
		return r.dialer.DialContext(ctx, network, addr)
	}
	cfg := r.tls.Clone()
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	d := tls.Dialer{NetDialer: &r.dialer, Config: cfg}
	return d.DialContext(ctx, network, addr)
}
