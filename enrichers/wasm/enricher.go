// Package wasm runs enrichers written as WebAssembly modules in-process,
// with wazero. The binding contract is wasm-sdk/ABI.md: Penstock writes a
// batch into the guest's memory, calls penstock_enrich once, and applies the
// guest's output batch to the pipeline's batch.
//
// A module is instrumented so that calls into it can be interrupted
// (instrument.go), compiled once (and cached on disk); each partition gets
// its own instance, created on first use and reused for every batch of that
// partition, so instances never run concurrently. A failed call (trap,
// timeout, memory limit, malformed output) fails the batch and replaces the
// instance.
package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/penstock-dev/penstock/pipeline"
)

// Options configure an Enricher.
type Options struct {
	// Name names the module in logs and errors; default: the file name of
	// Module without ".wasm".
	Name string
	// Module is the path of the .wasm file; required.
	Module string
	// Config is passed to penstock_init; it must be JSON. Default "{}".
	Config []byte
	// Timeout bounds the calls into the module for one batch
	// (penstock_alloc and penstock_enrich together), and each call while an
	// instance starts; default 2s.
	Timeout time.Duration
	// MemoryLimit caps the memory of each instance; default 64 MiB, from
	// 64 KiB to 4 GiB, rounded down to whole 64 KiB pages.
	MemoryLimit int64
	// MaxOutput caps one output batch; default 64 MiB. An output is also
	// capped at 16 times its input batch plus 1 MiB.
	MaxOutput int64
	// CacheDir holds compiled modules across restarts; default
	// os.UserCacheDir()/penstock/wasm. When the default cannot be used,
	// modules are compiled at every start.
	CacheDir string
	// Logger receives the guests' log lines and the enricher's warnings;
	// default slog.Default().
	Logger *slog.Logger
}

// Defaults and bounds of Options.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultMemoryLimit = 64 << 20
	DefaultMaxOutput   = 64 << 20
	MinMemoryLimit     = 64 << 10
	MaxMemoryLimit     = 4 << 30
	pageSize           = 64 << 10
)

// idleAfter is how long a partition's instance may go unused before it is
// closed (its partition was probably revoked); sweeps run at most every
// idleAfter/10.
const idleAfter = 10 * time.Minute

// Enricher runs one WebAssembly module as a pipeline.Enricher. It is safe
// for concurrent use by different partitions.
type Enricher struct {
	name      string
	config    []byte
	timeout   time.Duration
	memLimit  int64
	maxOutput int64
	logger    *slog.Logger

	rt       wazero.Runtime
	cache    wazero.CompilationCache
	compiled wazero.CompiledModule
	epoch    time.Time

	// instances maps each live module to its instance, for the
	// penstock_v1.log import.
	instances sync.Map

	mu        sync.RWMutex
	parts     map[pipeline.TopicPartition]*partition
	spare     *instance // the instance New checked, for the first partition
	closed    bool
	lastSweep atomic.Int64 // clock time of the last idle sweep
}

// partition is the state of one partition: its instance and the buffers
// its batches are rewritten into.
type partition struct {
	mu       sync.Mutex
	inst     *instance
	rw       rewriter
	lastUsed time.Duration // clock time
	dead     bool          // removed from the enricher; look it up again
}

// New compiles the module (or loads it from the compilation cache), checks
// its imports and exports, and creates a first instance, checking the ABI
// version and running penstock_init, so that a bad module or config fails
// here rather than on the first batch.
func New(ctx context.Context, o Options) (*Enricher, error) {
	name := o.Name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(o.Module), ".wasm")
	}
	loadErr := func(err error) error { return &Error{Module: name, FirstOffset: -1, LastOffset: -1, Err: err} }
	e := &Enricher{
		name:      name,
		config:    o.Config,
		timeout:   o.Timeout,
		memLimit:  o.MemoryLimit,
		maxOutput: o.MaxOutput,
		logger:    o.Logger,
		epoch:     time.Now(),
		parts:     make(map[pipeline.TopicPartition]*partition),
	}
	if len(e.config) == 0 {
		e.config = []byte("{}")
	}
	if !json.Valid(e.config) {
		return nil, loadErr(errors.New("config is not valid JSON"))
	}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	if e.memLimit == 0 {
		e.memLimit = DefaultMemoryLimit
	}
	if e.memLimit < MinMemoryLimit || e.memLimit > MaxMemoryLimit {
		return nil, loadErr(fmt.Errorf("memory limit %d is not between %s and %s", e.memLimit, formatBytes(MinMemoryLimit), formatBytes(MaxMemoryLimit)))
	}
	e.memLimit -= e.memLimit % pageSize
	if e.maxOutput <= 0 {
		e.maxOutput = DefaultMaxOutput
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	e.logger = e.logger.With("module", name)
	if o.Module == "" {
		return nil, loadErr(errors.New("no module path"))
	}
	bin, err := os.ReadFile(o.Module)
	if err != nil {
		return nil, loadErr(err)
	}

	// Guests are interrupted through instrumentation (instrument.go), not
	// WithCloseOnContextDone, which costs every loop iteration a trip to Go.
	rc := wazero.NewRuntimeConfig()
	if e.cache, err = openCache(o.CacheDir, e.logger); err != nil {
		return nil, loadErr(err)
	}
	if e.cache != nil {
		rc = rc.WithCompilationCache(e.cache)
	}
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if err := e.load(ctx, bin); err != nil {
		_ = e.Close(ctx)
		return nil, loadErr(err)
	}
	return e, nil
}

// openCache opens the compilation cache in dir, or in the default directory
// when dir is empty. It returns nil when the default cannot be used.
func openCache(dir string, logger *slog.Logger) (wazero.CompilationCache, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			logger.Debug("no compilation cache", "error", err)
			return nil, nil
		}
		c, err := wazero.NewCompilationCacheWithDir(filepath.Join(base, "penstock", "wasm"))
		if err != nil {
			logger.Debug("no compilation cache", "error", err)
			return nil, nil
		}
		return c, nil
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("compilation cache: %w", err)
	}
	return c, nil
}

// load instantiates the host modules, compiles the module, checks it and
// creates the first instance.
func (e *Enricher) load(ctx context.Context, bin []byte) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, e.rt); err != nil {
		return err
	}
	_, err := e.rt.NewHostModuleBuilder("penstock_v1").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(e.hostLog), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).
		WithParameterNames("level", "ptr", "len").
		Export("log").
		Instantiate(ctx)
	if err != nil {
		return err
	}
	if bin, err = instrument(bin); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if e.compiled, err = e.rt.CompileModule(ctx, bin); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if err := checkModule(e.compiled, e.memLimit); err != nil {
		return err
	}
	e.spare, err = e.newInstance(ctx, "")
	return err
}

// hostLog is the penstock_v1.log import.
func (e *Enricher) hostLog(_ context.Context, mod api.Module, stack []uint64) {
	level, ptr, n := int32(stack[0]), uint32(stack[1]), uint32(stack[2])
	msg, ok := mod.Memory().Read(ptr, n)
	if !ok {
		panic(fmt.Errorf("penstock_v1.log: the message (%d bytes at %d) is outside the module's memory", n, ptr))
	}
	if in, ok := e.instances.Load(mod); ok {
		in.(*instance).log.log(level, msg)
	}
}

// signature is the wasm type of a function.
type signature struct{ params, results []api.ValueType }

func (s signature) String() string {
	name := func(ts []api.ValueType) string {
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(names, ", ") + ")"
	}
	return name(s.params) + " -> " + name(s.results)
}

func (s signature) matches(d api.FunctionDefinition) bool {
	eq := func(a, b []api.ValueType) bool { return string(a) == string(b) }
	return eq(s.params, d.ParamTypes()) && eq(s.results, d.ResultTypes())
}

var (
	i32     = api.ValueTypeI32
	i64     = api.ValueTypeI64
	exports = []struct {
		name string
		sig  signature
	}{
		{exportVersion, signature{nil, []api.ValueType{i32}}},
		{exportAlloc, signature{[]api.ValueType{i32}, []api.ValueType{i32}}},
		{exportInit, signature{[]api.ValueType{i32, i32}, []api.ValueType{i64}}},
		{exportEnrich, signature{[]api.ValueType{i32, i32}, []api.ValueType{i64}}},
	}
	logSignature = signature{[]api.ValueType{i32, i32, i32}, nil}
)

// checkModule checks the imports and exports of a compiled module against
// ABI.md, and that its initial memory fits the limit.
func checkModule(m wazero.CompiledModule, memLimit int64) error {
	for _, d := range m.ImportedFunctions() {
		mod, name, _ := d.Import()
		switch {
		case mod == wasi_snapshot_preview1.ModuleName:
		case mod == "penstock_v1" && name == "log":
			if !logSignature.matches(d) {
				return fmt.Errorf("imports penstock_v1.log as %s; ABI version 1 provides %s", signature{d.ParamTypes(), d.ResultTypes()}, logSignature)
			}
		default:
			return fmt.Errorf("imports %s.%s, which Penstock does not provide (a module may import only wasi_snapshot_preview1 and penstock_v1.log)", mod, name)
		}
	}
	if ms := m.ImportedMemories(); len(ms) > 0 {
		mod, name, _ := ms[0].Import()
		return fmt.Errorf("imports its memory (%s.%s); it must define and export its own", mod, name)
	}
	fns := m.ExportedFunctions()
	for _, x := range exports {
		d, ok := fns[x.name]
		if !ok {
			return fmt.Errorf("%w: the module does not export %s %s (see wasm-sdk/ABI.md)", ErrMissingExport, x.name, x.sig)
		}
		if !x.sig.matches(d) {
			return fmt.Errorf("%w: %s has type %s, not %s", ErrMissingExport, x.name, signature{d.ParamTypes(), d.ResultTypes()}, x.sig)
		}
	}
	if d, ok := fns[exportInitialize]; ok && (len(d.ParamTypes()) > 0 || len(d.ResultTypes()) > 0) {
		return fmt.Errorf("%w: %s has type %s, not () -> ()", ErrMissingExport, exportInitialize, signature{d.ParamTypes(), d.ResultTypes()})
	}
	mem, ok := m.ExportedMemories()[exportMemory]
	if !ok {
		return fmt.Errorf("%w: the module does not export its memory as %q", ErrMissingExport, exportMemory)
	}
	if min := int64(mem.Min()) * pageSize; min > memLimit {
		return fmt.Errorf("%w: the module starts with %s of memory", ErrMemoryLimit, formatBytes(min))
	}
	return nil
}

// clock returns the monotonic time since the enricher was created.
func (e *Enricher) clock() time.Duration { return time.Since(e.epoch) }

// Enrich implements pipeline.Enricher: it sends the batch's Active records
// to the partition's instance and applies the output. Records with another
// status are not sent and keep their place and status. On an error the
// batch is left as it was.
func (e *Enricher) Enrich(ctx context.Context, b *pipeline.Batch) error {
	count, size := inputSize(b)
	if count == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := e.clock()
	e.sweep(now)
	for {
		p, err := e.partition(b.TopicPartition)
		if err != nil {
			return e.batchError(b, err)
		}
		p.mu.Lock()
		if p.dead {
			p.mu.Unlock()
			continue
		}
		p.lastUsed = now
		err = e.run(ctx, p, b, count, size, now)
		p.mu.Unlock()
		return err
	}
}

// partition returns the state of tp, creating it on first use.
func (e *Enricher) partition(tp pipeline.TopicPartition) (*partition, error) {
	e.mu.RLock()
	p, ok := e.parts[tp]
	closed := e.closed
	e.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if ok {
		return p, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if p, ok = e.parts[tp]; !ok {
		p = &partition{}
		if e.spare != nil {
			p.inst, e.spare = e.spare, nil
			p.inst.log.logger = p.inst.log.logger.With("partition", tp.String())
		}
		e.parts[tp] = p
	}
	return p, nil
}

// run enriches b on p's instance, creating the instance if needed. The
// caller holds p.mu.
func (e *Enricher) run(ctx context.Context, p *partition, b *pipeline.Batch, count, size int, now time.Duration) error {
	if p.inst == nil {
		in, err := e.newInstance(ctx, b.TopicPartition.String())
		if err != nil {
			return e.batchError(b, err)
		}
		p.inst = in
		now = e.clock() // the batch's calls get their whole timeout
	}
	in := p.inst
	reason, err := e.call(ctx, in, p, b, count, size, now)
	switch {
	case err != nil:
		var re *RecordErrors
		if errors.As(err, &re) {
			return err
		}
		if in.trace != "" {
			e.logger.Debug("guest failure", "partition", b.TopicPartition.String(), "error", in.trace)
		}
		in.close()
		p.inst = nil
		return e.batchError(b, err)
	case reason != "":
		return e.batchError(b, fmt.Errorf("%w: %s", ErrBatchFailed, reason))
	}
	return nil
}

// call writes the input batch into the instance, calls penstock_enrich and
// applies its output to b. The calls of the batch share one deadline.
func (e *Enricher) call(ctx context.Context, in *instance, p *partition, b *pipeline.Batch, count, size int, now time.Duration) (string, error) {
	if size > 1<<31-1 {
		return "", fmt.Errorf("the input batch of %d bytes is larger than 2 GiB", size)
	}
	if err := in.begin(ctx, now); err != nil {
		return "", err
	}
	r, err := e.exchange(ctx, in, b, count, size)
	if ierr := in.end(ctx); ierr != nil {
		return "", ierr
	}
	if err != nil {
		return "", err
	}
	if r == 0 {
		return "", malformed("%s returned 0", exportEnrich)
	}
	optr, olen := uint32(r>>32), uint32(r)
	limit := min(e.maxOutput, 16*int64(size)+1<<20)
	if int64(olen) > limit {
		return "", malformed("output of %d bytes is over the limit of %d bytes", olen, limit)
	}
	out, ok := in.mem.Read(optr, olen)
	if !ok {
		return "", malformed("output (%d bytes at %d) is outside the module's memory", olen, optr)
	}
	reason, err := p.rw.apply(b, out, count)
	if err != nil {
		return "", err
	}
	if len(p.rw.errs) > 0 {
		first, last := offsetRange(b)
		return "", &RecordErrors{Module: e.name, FirstOffset: first, LastOffset: last, Errors: append([]RecordError(nil), p.rw.errs...)}
	}
	return reason, nil
}

// exchange allocates the input in the instance, writes it and calls
// penstock_enrich, whose result it returns.
func (e *Enricher) exchange(ctx context.Context, in *instance, b *pipeline.Batch, count, size int) (uint64, error) {
	ptr, err := in.allocate(ctx, size)
	if err != nil {
		return 0, err
	}
	buf, _ := in.mem.Read(ptr, uint32(size))
	encodeInput(buf, b, count)
	in.stack[0], in.stack[1] = uint64(ptr), uint64(size)
	if err := in.invoke(ctx, in.enrich, exportEnrich); err != nil {
		return 0, err
	}
	return in.stack[0], nil
}

// batchError names the module and b's offset range in err.
func (e *Enricher) batchError(b *pipeline.Batch, err error) error {
	first, last := offsetRange(b)
	return &Error{Module: e.name, FirstOffset: first, LastOffset: last, Err: err}
}

// offsetRange returns the range b was fetched with; for a batch built
// outside a lane, which has none, the range of its records.
func offsetRange(b *pipeline.Batch) (first, last int64) {
	first, last = b.FirstOffset(), b.LastOffset()
	if first == 0 && last == 0 && len(b.Records) > 0 {
		first, last = b.Records[0].Offset, b.Records[len(b.Records)-1].Offset
	}
	return first, last
}

// sweep closes the instances of partitions idle for idleAfter, at most
// once every idleAfter/10.
func (e *Enricher) sweep(now time.Duration) {
	last := e.lastSweep.Load()
	if now-time.Duration(last) < idleAfter/10 || !e.lastSweep.CompareAndSwap(last, int64(now)) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for tp, p := range e.parts {
		if !p.mu.TryLock() {
			continue
		}
		if now-p.lastUsed >= idleAfter {
			if p.inst != nil {
				p.inst.close()
				p.inst = nil
			}
			p.dead = true
			delete(e.parts, tp)
		}
		p.mu.Unlock()
	}
}

// Close implements pipeline.Enricher: it stops calls in progress (their
// batches fail with ErrClosed), then closes every instance and the runtime.
func (e *Enricher) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	parts := e.parts
	e.parts = nil
	spare := e.spare
	e.spare = nil
	e.mu.Unlock()
	e.instances.Range(func(_, in any) bool {
		in.(*instance).interrupt()
		return true
	})
	for _, p := range parts {
		p.mu.Lock()
		if p.inst != nil {
			p.inst.close()
			p.inst = nil
		}
		p.dead = true
		p.mu.Unlock()
	}
	if spare != nil {
		spare.close()
	}
	var err error
	if e.rt != nil {
		err = e.rt.Close(ctx)
	}
	if e.cache != nil {
		err = errors.Join(err, e.cache.Close(ctx))
	}
	return err
}
