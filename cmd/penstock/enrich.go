package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/penstock-dev/penstock/enrichers/wasm"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
)

// cmdTestEnrich runs a WASM enricher over records and prints its outputs.
func cmdTestEnrich(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test enrich", flag.ContinueOnError)
	fs.SetOutput(stderr)
	module := fs.String("module", "", "the enricher's .wasm file (required)")
	cfg := fs.String("config", "{}", "the enricher's config, as JSON")
	input := fs.String("input", "", "input file of ESM records, one per line (default: standard input)")
	raw := fs.Bool("raw", false, "each input line is a plain record value, not an ESM record")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: penstock test enrich --module M.wasm [--config JSON] [--input FILE] [--raw]\n\nRuns the module over the input records (consecutive records of one partition\nform one batch) and prints its output records in the ESM record shape.\nGuest log lines and per-record errors go to stderr.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *module == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := wasm.New(ctx, wasm.Options{Module: *module, Config: []byte(*cfg), Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "penstock: %v\n", err)
		return 1
	}
	defer e.Close(context.Background())

	in := stdin
	if *input != "" {
		f, err := os.Open(*input)
		if err != nil {
			fmt.Fprintf(stderr, "penstock: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	var recs []pipeline.Record
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if *raw {
			recs = append(recs, pipeline.Record{Topic: "test", Offset: int64(len(recs)), Value: bytes.Clone(text)})
			continue
		}
		r, err := esm.ParseRecord(text)
		if err != nil {
			fmt.Fprintf(stderr, "input line %d: %v\n", line, err)
			return 1
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(stderr, "penstock: reading input: %v\n", err)
		return 1
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	code, outs := 0, 0
	var buf []byte
	for start := 0; start < len(recs); {
		end := start + 1
		for end < len(recs) && recs[end].Topic == recs[start].Topic && recs[end].Partition == recs[start].Partition {
			end++
		}
		tp := pipeline.TopicPartition{Topic: recs[start].Topic, Partition: recs[start].Partition}
		b := pipeline.NewBatch(tp, recs[start:end])
		if err := e.Enrich(ctx, b); err != nil {
			var re *wasm.RecordErrors
			if errors.As(err, &re) {
				for _, r := range re.Errors {
					fmt.Fprintf(stderr, "record %s@%d: %s\n", tp, r.Offset, r.Message)
				}
			} else {
				fmt.Fprintf(stderr, "penstock: %v\n", err)
			}
			code = 1
			start = end
			continue
		}
		for i := range b.Records {
			if b.Status[i] == pipeline.Active {
				buf = esm.AppendRecord(buf[:0], &b.Records[i])
				w.Write(append(buf, '\n'))
				outs++
			}
		}
		start = end
	}
	fmt.Fprintf(stderr, "%d records in, %d out\n", len(recs), outs)
	return code
}
