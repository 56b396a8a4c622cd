// Command penstock runs Kafka stream pipelines declared in YAML: records flow
// from a Kafka topic through filters and enrichers into a target, partition
// by partition and in order, with offsets committed only after delivery.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `penstock runs Kafka stream pipelines declared in YAML.

Usage:
  penstock run FILE                   run the pipelines of FILE against real clusters
  penstock dev [FILE] [flags]         run FILE (default pipelines.yaml) against an embedded broker
  penstock validate FILE              check FILE and print every error
  penstock check [FILE] [--pipeline NAME] [--json]
                                      preflight: MSK, credentials, DNS, TCP, TLS, topic and
                                      group access of every pipeline's cluster, and its
                                      VPC settings (security groups, subnets, routes,
                                      network ACLs)
  penstock test filter [flags]        run records through a filter (see penstock test -h)
  penstock test enrich [flags]        run records through a WebAssembly enricher
  penstock test FILE                  run the tests: blocks of FILE
  penstock version                    print the version

Run 'penstock COMMAND -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// stdin is the input of commands that read it; tests replace it.
var stdin io.Reader = os.Stdin

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "dev":
		return cmdDev(ctx, rest, stdout, stderr)
	case "validate":
		return cmdValidate(rest, stdout, stderr)
	case "check":
		return cmdCheck(ctx, rest, stdout, stderr)
	case "test":
		return cmdTest(rest, stdin, stdout, stderr)
	case "version", "--version", "-version":
		return cmdVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "penstock: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
