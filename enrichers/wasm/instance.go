package wasm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// abiVersion is the version of ABI.md this host implements.
const abiVersion = 1

// Names of the exports of ABI.md.
const (
	exportMemory     = "memory"
	exportVersion    = "penstock_abi_version"
	exportAlloc      = "penstock_alloc"
	exportInit       = "penstock_init"
	exportEnrich     = "penstock_enrich"
	exportInitialize = "_initialize"
)

// States of an instance's current call.
const (
	callIdle uint32 = iota
	callRunning
	callTimedOut
	callCanceled
	callClosed
)

// instance is one instantiation of the module, used by one partition.
type instance struct {
	e      *Enricher
	mod    api.Module
	mem    api.Memory
	lmem   *linearMemory
	alloc  api.Function
	enrich api.Function
	log    *guestLog
	stack  []uint64 // parameters and results of calls

	// The watchdog sets the stop flag (see instrument.go) when a call runs
	// past its deadline or its context is canceled. Its timer is left
	// running between calls: a call arms it only when it is not armed yet,
	// and when it fires during a later call than the one it was armed for,
	// it re-arms itself for that call's deadline. Resetting and stopping a
	// timer for every batch cost about 85 ns, more than the two calls into
	// the guest.
	stop     api.MutableGlobal
	timer    *time.Timer
	armed    atomic.Bool // the timer is set, or onTimeout is running
	state    atomic.Uint32
	deadline atomic.Int64 // of the current run of calls, in e.clock time

	// The context watched for cancellation, by its Done channel: a lane
	// passes the same context for every batch, so it is registered once.
	watched  <-chan struct{}
	unwatch  func() bool
	watchGen uint64
	callGen  atomic.Uint64 // watchGen of the current call's context, 0: none
	// current is the export being called, for errors.
	current string
	// trace is the full text of the last trap, for the debug log.
	trace string
}

// newInstance instantiates the module and runs _initialize, the version
// check and penstock_init on it.
func (e *Enricher) newInstance(ctx context.Context, partition string) (*instance, error) {
	in := &instance{e: e, stack: make([]uint64, 2)}
	logger := e.logger
	if partition != "" {
		logger = logger.With("partition", partition)
	}
	in.log = newGuestLog(logger)
	alloc := &memoryAllocator{limit: uint64(e.memLimit)}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdout(&in.log.stdout).
		WithStderr(&in.log.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	mod, err := e.rt.InstantiateModule(experimental.WithMemoryAllocator(context.WithoutCancel(ctx), alloc), e.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	in.mod = mod
	in.lmem = alloc.mem
	in.mem = mod.ExportedMemory(exportMemory)
	in.alloc = mod.ExportedFunction(exportAlloc)
	in.enrich = mod.ExportedFunction(exportEnrich)
	in.stop, _ = mod.ExportedGlobal(stopExport).(api.MutableGlobal)
	if in.stop == nil {
		_ = mod.Close(context.Background())
		return nil, errors.New("instrumentation: no stop flag")
	}
	in.timer = time.AfterFunc(time.Hour, in.onTimeout)
	in.timer.Stop()
	e.instances.Store(mod, in)
	if err := in.start(ctx); err != nil {
		in.close()
		return nil, err
	}
	return in, nil
}

// start runs _initialize, checks the ABI version and calls penstock_init.
func (in *instance) start(ctx context.Context) error {
	if f := in.mod.ExportedFunction(exportInitialize); f != nil {
		if err := in.call(ctx, f, exportInitialize); err != nil {
			return err
		}
	}
	if err := in.call(ctx, in.mod.ExportedFunction(exportVersion), exportVersion); err != nil {
		return err
	}
	if v := int32(in.stack[0]); v != abiVersion {
		return fmt.Errorf("%w: %s returned %d; this Penstock implements version %d", ErrABIVersion, exportVersion, v, abiVersion)
	}
	cfg := in.e.config
	if err := in.begin(ctx, in.e.clock()); err != nil {
		return err
	}
	ptr, err := in.allocate(ctx, len(cfg))
	if ierr := in.end(ctx); ierr != nil {
		return ierr
	}
	if err != nil {
		return err
	}
	buf, _ := in.mem.Read(ptr, uint32(len(cfg)))
	copy(buf, cfg)
	in.stack[0], in.stack[1] = uint64(ptr), uint64(len(cfg))
	if err := in.call(ctx, in.mod.ExportedFunction(exportInit), exportInit); err != nil {
		return err
	}
	if r := in.stack[0]; r != 0 {
		msg, ok := in.mem.Read(uint32(r>>32), uint32(r))
		if !ok {
			return fmt.Errorf("%w (its message, %d bytes at %d, is outside the module's memory)", ErrInit, uint32(r), uint32(r>>32))
		}
		return fmt.Errorf("%w: %s", ErrInit, msg)
	}
	return nil
}

// allocate calls penstock_alloc and checks that the size bytes it returns
// lie within memory.
func (in *instance) allocate(ctx context.Context, size int) (uint32, error) {
	in.stack[0] = uint64(size)
	if err := in.invoke(ctx, in.alloc, exportAlloc); err != nil {
		return 0, err
	}
	ptr := uint32(in.stack[0])
	if ptr == 0 {
		return 0, fmt.Errorf("%s(%d) returned 0: the module could not allocate the input", exportAlloc, size)
	}
	if uint64(ptr)+uint64(size) > uint64(in.mem.Size()) {
		return 0, fmt.Errorf("%w: %s(%d) returned %d, which is not %d bytes of memory", ErrMalformedOutput, exportAlloc, size, ptr, size)
	}
	return ptr, nil
}

// call calls f with the parameters in in.stack, which then holds the
// results, within the enricher's timeout and until ctx is done.
func (in *instance) call(ctx context.Context, f api.Function, name string) error {
	if err := in.begin(ctx, in.e.clock()); err != nil {
		return err
	}
	err := in.invoke(ctx, f, name)
	if ierr := in.end(ctx); ierr != nil {
		return ierr
	}
	return err
}

// begin starts a guarded run of calls: from now, they are stopped when the
// enricher's timeout passes or ctx is done. end finishes it.
func (in *instance) begin(ctx context.Context, now time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("not called: %w", err)
	}
	in.watch(ctx)
	in.deadline.Store(int64(now + in.e.timeout))
	in.state.Store(callRunning)
	if err := ctx.Err(); err != nil { // canceled before the watch saw the run
		in.state.Store(callIdle)
		return fmt.Errorf("not called: %w", err)
	}
	// An armed timer fires during this run or before it: either way
	// onTimeout, which clears armed before it looks at state, sees this run
	// and re-arms itself for it. A timer not armed is armed here.
	if !in.armed.Load() && in.armed.CompareAndSwap(false, true) {
		in.timer.Reset(in.e.timeout)
	}
	return nil
}

// end finishes what begin started. It returns an error if the run was
// stopped; the instance is then done, even if its calls returned before
// they saw the stop flag.
func (in *instance) end(ctx context.Context) error {
	state := in.state.Swap(callIdle)
	in.log.afterCall()
	switch state {
	case callTimedOut:
		return fmt.Errorf("%w: %s ran longer than %v", ErrTimeout, in.current, in.e.timeout)
	case callCanceled:
		return fmt.Errorf("%s interrupted: %w", in.current, ctx.Err())
	case callClosed:
		return fmt.Errorf("%s interrupted: %w", in.current, ErrClosed)
	}
	return nil
}

// interrupt stops the instance's current call, if any, because the
// enricher is closing.
func (in *instance) interrupt() {
	if in.state.CompareAndSwap(callRunning, callClosed) {
		in.stop.Set(1)
	}
}

// invoke calls f, between begin and end, with the parameters in in.stack,
// which then holds the results.
func (in *instance) invoke(ctx context.Context, f api.Function, name string) error {
	in.current = name
	in.lmem.refused = false
	err := f.CallWithStack(ctx, in.stack)
	switch {
	case err == nil:
		return nil
	case in.state.Load() != callRunning:
		return errStopped // end reports why
	case in.lmem.refused:
		in.trace = err.Error()
		return fmt.Errorf("%w: %s needed more than %s of memory: %v", ErrMemoryLimit, name, formatBytes(in.e.memLimit), firstLine(err.Error()))
	}
	in.trace = err.Error()
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%w: %s exited with code %d", ErrTrap, name, exit.ExitCode())
	}
	return fmt.Errorf("%w: %s: %s", ErrTrap, name, firstLine(err.Error()))
}

// errStopped is what invoke returns for a call the watchdog stopped.
var errStopped = errors.New("stopped")

// watch makes cancellation of ctx stop the calls made with it.
func (in *instance) watch(ctx context.Context) {
	done := ctx.Done()
	if done == nil {
		in.callGen.Store(0)
		return
	}
	if done != in.watched {
		if in.unwatch != nil {
			in.unwatch()
		}
		in.watchGen++
		gen := in.watchGen
		in.watched = done
		in.unwatch = context.AfterFunc(ctx, func() {
			if in.callGen.Load() == gen && in.state.CompareAndSwap(callRunning, callCanceled) {
				in.stop.Set(1)
			}
		})
	}
	in.callGen.Store(in.watchGen)
}

// onTimeout runs when the watchdog's timer fires: if the current run of
// calls is past its deadline, it stops the guest; if the run started after
// the one the timer was armed for, it re-arms the timer for the run's
// deadline; if no call is running, the next run arms it.
func (in *instance) onTimeout() {
	in.armed.Store(false)
	if in.state.Load() != callRunning {
		return
	}
	if left := time.Duration(in.deadline.Load()) - in.e.clock(); left > 0 {
		if in.armed.CompareAndSwap(false, true) {
			in.timer.Reset(left)
		}
		return
	}
	if in.state.CompareAndSwap(callRunning, callTimedOut) {
		in.stop.Set(1)
	}
}

// close closes the module and logs what the guest left unlogged.
func (in *instance) close() {
	in.timer.Stop()
	if in.unwatch != nil {
		in.unwatch()
	}
	_ = in.mod.Close(context.Background())
	in.e.instances.Delete(in.mod)
	in.log.close()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
