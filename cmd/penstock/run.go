package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/penstock-dev/penstock/internal/engine"
	"github.com/penstock-dev/penstock/pipeline/config"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	progress := fs.Duration("progress", 10*time.Second, "print a progress line per pipeline this often (0: never)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: penstock run FILE [flags]\n\nRuns the enabled pipelines of FILE until interrupted (Ctrl-C or SIGTERM),\nthen finishes in-flight batches, commits and exits.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	log, ok := newLogger(stderr, *logLevel)
	if !ok {
		fmt.Fprintf(stderr, "penstock: unknown log level %q\n", *logLevel)
		return 2
	}
	f, ok := load(fs.Arg(0), stderr)
	if !ok {
		return 1
	}
	return serve(ctx, f, engine.Overrides{}, log, *progress, stdout)
}

// serve runs the pipelines of f until ctx ends or all of them stop, printing
// progress lines, then stops them and reports what was committed.
func serve(ctx context.Context, f *config.File, ov engine.Overrides, log *slog.Logger, every time.Duration, out io.Writer) int {
	eng := engine.New(log, ov)
	if err := eng.Start(f); err != nil {
		log.Error("some pipelines did not start", "error", err)
		if len(eng.Names()) == 0 {
			return 1
		}
	}
	if len(eng.Names()) == 0 {
		log.Warn("no enabled pipelines; nothing to run")
		return 0
	}
	prog := newProgress(eng)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	done := eng.Done()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-done:
			break loop
		case <-tick:
			prog.print(out)
		}
	}
	fmt.Fprintln(out, "stopping: finishing in-flight batches and committing …")
	err := eng.StopAll()
	prog.print(out)
	printCommitted(out, eng)
	if err != nil {
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) (*slog.Logger, bool) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, false
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv})), true
}

// reorder moves flags after positional arguments to the front, so that
// "penstock run FILE --progress 1s" works as users expect.
func reorder(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			if !containsEq(a) && i+1 < len(args) && !isBoolFlag(a) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func containsEq(s string) bool {
	for i := range len(s) {
		if s[i] == '=' {
			return true
		}
	}
	return false
}

// isBoolFlag lists the boolean flags, which take no separate value.
func isBoolFlag(a string) bool {
	switch a {
	case "-demo", "--demo", "-h", "--help", "-help", "-json", "--json":
		return true
	}
	return false
}
