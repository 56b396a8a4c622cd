// Package engine builds pipelines from a loaded config file and runs them in
// one process. Each pipeline starts and stops on its own, so a reload can
// replace one without touching the others.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/pipeline/config"
	"github.com/penstock-dev/penstock/sources/kafka"
	"github.com/penstock-dev/penstock/targets/file"
	"github.com/penstock-dev/penstock/targets/stdout"
)

// Overrides change how pipelines are built without editing their config.
type Overrides struct {
	// BootstrapServers, when set, replaces every Kafka source's servers
	// (penstock dev points all pipelines at its embedded broker).
	BootstrapServers []string
	// SkipPreflight turns off the checks run when a pipeline starts
	// (see Preflight).
	SkipPreflight bool
}

// Build creates the pipeline described by pc, one of the pipelines of f.
func Build(f *config.File, pc *config.Pipeline, ov Overrides, log *slog.Logger) (*pipeline.Pipeline, error) {
	if log == nil {
		log = slog.Default()
	}
	k := pc.Source.Kafka
	if k == nil {
		return nil, fmt.Errorf("pipeline %q: no source", pc.Name)
	}
	kc := kafka.Config{
		Brokers:           k.BootstrapServers,
		Topic:             k.Topic,
		Group:             k.ConsumerGroupID,
		StartingPosition:  kafka.StartingPosition(k.StartingPosition),
		StartingTimestamp: k.StartingPositionTimestamp,
		SessionTimeout:    k.SessionTimeout,
		Logger:            log.With("pipeline", pc.Name),
	}
	src := esm.Source{}
	if k.MSK != nil && len(ov.BootstrapServers) == 0 {
		brokers, err := mskBrokers(context.Background(), f, pc)
		if err != nil {
			return nil, err
		}
		kc.Brokers, src.ARN = brokers, k.MSK.ClusterARN
		kc.Rebootstrap = func(ctx context.Context) ([]string, error) { return mskBrokers(ctx, f, pc) }
	}
	if len(ov.BootstrapServers) > 0 {
		kc.Brokers = ov.BootstrapServers
	}
	tlsCfg, accessOpts, onAuthFailure, err := kafkaAccessRefs(context.Background(), f, pc)
	if err != nil {
		return nil, err
	}
	kc.TLS, kc.Opts, kc.OnAuthFailure = tlsCfg, append(kc.Opts, accessOpts...), onAuthFailure
	if k.TLS.Enabled && k.TLS.InsecureSkipVerify {
		log.Warn("TLS certificate verification is OFF for this pipeline: anyone on the path can read and alter its records", "pipeline", pc.Name)
	}
	var stages pipeline.Stages
	crit, err := BuildFilter(f, pc)
	if err != nil {
		return nil, err
	}
	if crit != nil {
		stages.Filter = crit
	}
	if stages.Enrichers, err = BuildEnrichers(context.Background(), f, pc, log); err != nil {
		return nil, err
	}
	src.BootstrapServers = strings.Join(kc.Brokers, ",")
	var target pipeline.Target
	tname := targetName(pc)
	switch t := pc.Target; {
	case t.Lambda != nil:
		lt, err := buildLambda(context.Background(), f, pc, src, log)
		if err != nil {
			closeAll(stages.Enrichers)
			return nil, err
		}
		target, tname = lt, lt.ARN()
	case t.SQS != nil || t.SNS != nil || t.S3 != nil:
		at, name, err := buildAWSTarget(context.Background(), f, pc)
		if err != nil {
			closeAll(stages.Enrichers)
			return nil, err
		}
		target, tname = at, name
	case t.File != nil:
		ft, err := file.Open(t.File.Path)
		if err != nil {
			closeAll(stages.Enrichers)
			return nil, fmt.Errorf("pipeline %q: %w", pc.Name, err)
		}
		target = ft
	case t.Stdout != nil:
		target = stdout.New(nil)
	default:
		return nil, fmt.Errorf("pipeline %q: no target", pc.Name)
	}
	if stages.OnFailure, err = buildOnFailure(context.Background(), f, pc, tname, src, kc.Brokers, kc.TLS, kc.Opts, log); err != nil {
		closeAll(stages.Enrichers)
		_ = target.Close(context.Background())
		return nil, err
	}
	source, err := kafka.New(kc)
	if err != nil {
		closeAll(stages.Enrichers)
		_ = target.Close(context.Background())
		if stages.OnFailure != nil {
			_ = stages.OnFailure.Close(context.Background())
		}
		return nil, fmt.Errorf("pipeline %q: %w", pc.Name, err)
	}
	opts := pipeline.Options{
		Name:                  pc.Name,
		BatchSize:             pc.Batch.Size,
		BatchWindow:           pc.Batch.Window,
		BatchMaxBytes:         int(pc.Batch.MaxBytes),
		MaxInflightBytes:      pc.MaxInflightBytes,
		DrainTimeout:          pc.DrainTimeout,
		MaxUncommittedBatches: pc.MaxUncommitted,
		InitialBackoff:        pc.Retry.InitialBackoff,
		MaxBackoff:            pc.Retry.MaxBackoff,
		MaxRetryAttempts:      pc.Retry.MaximumRetryAttempts,
		BisectOnError:         pc.Retry.BisectOnError,
		Logger:                log,
	}
	if pc.Retry.MaximumRecordAge > 0 {
		opts.MaxRecordAge = pc.Retry.MaximumRecordAge
	}
	return pipeline.New(opts, source, stages, target), nil
}

// Engine runs pipelines.
type Engine struct {
	log *slog.Logger
	ov  Overrides

	mu      sync.Mutex
	running map[string]*instance
	order   []string
}

type instance struct {
	p      *pipeline.Pipeline
	cancel context.CancelFunc
	done   chan struct{}
	err    error

	checksMu sync.Mutex
	checks   []CheckResult // nil until the preflight finished
}

// New returns an engine that builds pipelines with ov.
func New(log *slog.Logger, ov Overrides) *Engine {
	if log == nil {
		log = slog.Default()
	}
	return &Engine{log: log, ov: ov, running: make(map[string]*instance)}
}

// Start builds and starts every enabled pipeline of f. A pipeline that
// cannot be built is reported and skipped; the others start.
func (e *Engine) Start(f *config.File) error {
	var errs []error
	for i := range f.Pipelines {
		pc := &f.Pipelines[i]
		if !pc.Enabled {
			e.log.Info("pipeline disabled in config; not started", "pipeline", pc.Name)
			continue
		}
		if err := e.StartPipeline(f, pc); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// StartPipeline builds and starts one pipeline of f.
func (e *Engine) StartPipeline(f *config.File, pc *config.Pipeline) error {
	p, err := Build(f, pc, e.ov, e.log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{p: p, cancel: cancel, done: make(chan struct{})}
	e.mu.Lock()
	if _, dup := e.running[pc.Name]; dup {
		e.mu.Unlock()
		cancel()
		return fmt.Errorf("pipeline %q is already running", pc.Name)
	}
	e.running[pc.Name] = in
	e.order = append(e.order, pc.Name)
	e.mu.Unlock()
	e.log.Info("pipeline started", "pipeline", pc.Name, "topic", pc.Source.Kafka.Topic, "group", pc.Source.Kafka.ConsumerGroupID)
	go func() {
		defer close(in.done)
		in.err = p.Run(ctx)
		if in.err != nil {
			e.log.Error("pipeline stopped with an error", "pipeline", pc.Name, "error", in.err)
		}
	}()
	if pc.Source.Kafka != nil && !e.ov.SkipPreflight {
		go e.preflight(ctx, f, pc, in)
	}
	return nil
}

// preflight runs the checks of `penstock check` for a pipeline that just
// started, next to it: each failure is logged with its fix and becomes the
// pipeline's last processing result until records flow, so a
// misconfiguration shows in the status before the source has found it.
func (e *Engine) preflight(ctx context.Context, f *config.File, pc *config.Pipeline, in *instance) {
	res := Preflight(ctx, f, pc, e.ov)
	if ctx.Err() != nil {
		return
	}
	in.checksMu.Lock()
	in.checks = res
	in.checksMu.Unlock()
	failed := 0
	for _, r := range res {
		if r.Status != CheckFail {
			continue
		}
		failed++
		result := r.Error
		if result == "" {
			result = "PREFLIGHT_FAILED: " + r.Check
		}
		e.log.Warn("preflight check failed", "pipeline", pc.Name, "check", r.Check, "target", r.Target,
			"error", r.Error, "detail", r.Detail, "fix", r.Fix)
		in.p.SourceError(result, fmt.Errorf("preflight check %s of %s: %s", r.Check, r.Target, r.Detail))
	}
	if failed == 0 {
		e.log.Info("preflight checks passed", "pipeline", pc.Name, "checks", len(res))
	}
}

// Checks returns the results of the preflight run when the named pipeline
// started, or nil while it runs (or when it was skipped).
func (e *Engine) Checks(name string) []CheckResult {
	e.mu.Lock()
	in := e.running[name]
	e.mu.Unlock()
	if in == nil {
		return nil
	}
	in.checksMu.Lock()
	defer in.checksMu.Unlock()
	return slices.Clone(in.checks)
}

// StopPipeline stops one pipeline gracefully and waits for it.
func (e *Engine) StopPipeline(name string) error {
	e.mu.Lock()
	in := e.running[name]
	e.mu.Unlock()
	if in == nil {
		return fmt.Errorf("pipeline %q is not running", name)
	}
	in.cancel()
	<-in.done
	return in.err
}

// StopAll stops every pipeline gracefully, concurrently, and waits.
func (e *Engine) StopAll() error {
	e.mu.Lock()
	all := make([]*instance, 0, len(e.running))
	for _, name := range e.order {
		all = append(all, e.running[name])
	}
	e.mu.Unlock()
	for _, in := range all {
		in.cancel()
	}
	var errs []error
	for _, in := range all {
		<-in.done
		if in.err != nil {
			errs = append(errs, in.err)
		}
	}
	return errors.Join(errs...)
}

// Done is closed when every started pipeline has stopped.
func (e *Engine) Done() <-chan struct{} {
	e.mu.Lock()
	all := make([]*instance, 0, len(e.running))
	for _, in := range e.running {
		all = append(all, in)
	}
	e.mu.Unlock()
	ch := make(chan struct{})
	go func() {
		for _, in := range all {
			<-in.done
		}
		close(ch)
	}()
	return ch
}

// Pipelines returns the running pipelines in start order.
func (e *Engine) Pipelines() []*pipeline.Pipeline {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*pipeline.Pipeline, 0, len(e.order))
	for _, name := range e.order {
		out = append(out, e.running[name].p)
	}
	return out
}

// Names returns the names of the started pipelines, sorted.
func (e *Engine) Names() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := slices.Clone(e.order)
	slices.Sort(names)
	return names
}
