package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/penstock-dev/penstock/internal/engine"
)

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("pipeline", "", "check only this pipeline")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	brokers := fs.String("bootstrap-servers", "", "check these brokers (comma-separated) instead of the file's")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: penstock check [FILE] [--pipeline NAME] [--json]\n\nPreflight: for each pipeline of FILE (default pipelines.yaml), checks that every broker\nresolves, accepts TCP, completes the TLS handshake, accepts the credentials, and that the\ntopic exists and the topic and group may be read. Prints one line per check with the\nESM's error name and a fix for failures.\nExit status: 0 when every check passes, 1 when one fails, 2 for usage errors.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	path := "pipelines.yaml"
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	} else if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	f, ok := load(path, stderr)
	if !ok {
		return 1
	}
	var ov engine.Overrides
	if *brokers != "" {
		ov.BootstrapServers = strings.Split(*brokers, ",")
	}
	var results []engine.CheckResult
	found := false
	for i := range f.Pipelines {
		pc := &f.Pipelines[i]
		if *name != "" && pc.Name != *name {
			continue
		}
		found = true
		if pc.Source.Kafka == nil {
			continue
		}
		results = append(results, engine.Preflight(ctx, f, pc, ov)...)
	}
	if !found {
		fmt.Fprintf(stderr, "penstock: %s has no pipeline %q\n", path, *name)
		return 2
	}
	failed, skipped := 0, 0
	for _, r := range results {
		switch r.Status {
		case engine.CheckFail:
			failed++
		case engine.CheckSkip:
			skipped++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			OK      bool                 `json:"ok"`
			Results []engine.CheckResult `json:"results"`
		}{failed == 0, results})
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PIPELINE\tCHECK\tTARGET\tRESULT\tDETAIL")
		for _, r := range results {
			detail := r.Detail
			if r.Error != "" {
				detail = r.Error + ": " + detail
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Pipeline, r.Check, r.Target, r.Status, detail)
			if r.Fix != "" {
				fmt.Fprintf(tw, "\t\t\t\tfix: %s\n", r.Fix)
			}
		}
		tw.Flush()
		switch {
		case failed == 0 && skipped == 0:
			fmt.Fprintf(stdout, "all %d checks passed\n", len(results))
		case failed == 0:
			fmt.Fprintf(stdout, "%d checks passed, %d skipped\n", len(results)-skipped, skipped)
		default:
			fmt.Fprintf(stdout, "%d of %d checks failed\n", failed, len(results))
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}
