package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/penstock-dev/penstock/internal/engine"
	"github.com/penstock-dev/penstock/pipeline/config"
)

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: penstock validate FILE\n\nChecks FILE and prints every error it finds, one per line.\nExit status: 0 when valid, 1 when not.")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	f, ok := load(fs.Arg(0), stderr)
	if !ok {
		return 1
	}
	enabled := 0
	for _, p := range f.Pipelines {
		if p.Enabled {
			enabled++
		}
	}
	fmt.Fprintf(stdout, "%s: valid, %d pipeline(s), %d enabled\n", f.Path, len(f.Pipelines), enabled)
	return 0
}

// load loads a config file, compiles what is compiled before pipelines
// start (filters), and prints every error to w.
func load(path string, w io.Writer) (*config.File, bool) {
	f, err := config.Load(path)
	if err == nil {
		err = engine.Check(f)
	}
	if err == nil {
		return f, true
	}
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(w, e.Error())
		}
		fmt.Fprintf(w, "%s: %d error(s)\n", path, len(errs))
		return nil, false
	}
	fmt.Fprintf(w, "penstock: %v\n", err)
	return nil, false
}
