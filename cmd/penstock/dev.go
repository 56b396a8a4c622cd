package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/penstock-dev/penstock/internal/demo"
	"github.com/penstock-dev/penstock/internal/engine"
)

func cmdDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9092", "address the embedded Kafka-protocol broker listens on")
	demoOn := fs.Bool("demo", true, "produce demo order records to every topic the pipelines read")
	rate := fs.Int("rate", 50, "demo records per second per topic")
	progress := fs.Duration("progress", time.Second, "print a progress line per pipeline this often (0: never)")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: penstock dev [FILE] [flags]\n\nStarts an embedded Kafka-protocol broker, creates the topics the pipelines of FILE\n(default pipelines.yaml) read, produces demo records to them, and runs the pipelines\nagainst it. Any Kafka client can produce to the printed address.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	path := "pipelines.yaml"
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	log, ok := newLogger(stderr, *logLevel)
	if !ok {
		fmt.Fprintf(stderr, "penstock: unknown log level %q\n", *logLevel)
		return 2
	}
	f, ok := load(path, stderr)
	if !ok {
		return 1
	}
	host, portStr, err := net.SplitHostPort(*addr)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil || port < 0 || port > 65535 {
		fmt.Fprintf(stderr, "penstock: --addr %q is not host:port\n", *addr)
		return 2
	}

	// Topics to create, with the partition counts the file asks for.
	topics := map[string]int{}
	var order []string
	for _, p := range f.Pipelines {
		if k := p.Source.Kafka; k != nil && p.Enabled {
			if _, seen := topics[k.Topic]; !seen {
				order = append(order, k.Topic)
			}
			topics[k.Topic] = max(topics[k.Topic], k.Partitions)
		}
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(8),
		kfake.GroupMinSessionTimeout(time.Second),
	}
	for _, t := range order {
		opts = append(opts, kfake.SeedTopics(int32(topics[t]), t))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "penstock: cannot start the embedded broker on %s: %v\n(is another broker already listening there? try --addr 127.0.0.1:19092)\n", *addr, err)
		return 1
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	fmt.Fprintf(stdout, "penstock dev: embedded Kafka broker listening on %s\n", brokers[0])
	for _, t := range order {
		fmt.Fprintf(stdout, "  topic %-20s %d partitions\n", t, topics[t])
	}
	for _, p := range f.Pipelines {
		if p.Enabled && p.Source.Kafka != nil {
			desc := "stdout"
			switch t := p.Target; {
			case t.File != nil:
				desc = "file " + t.File.Path
			case t.Lambda != nil && len(t.Lambda.Command) > 0:
				desc = "local function " + strings.Join(t.Lambda.Command, " ")
			case t.Lambda != nil:
				desc = "function " + t.Lambda.Function
			}
			fmt.Fprintf(stdout, "  pipeline %-17s %s → %s\n", p.Name, p.Source.Kafka.Topic, desc)
		}
	}
	fmt.Fprintf(stdout, "  produce your own: echo '{\"hello\":\"penstock\"}' | kcat -P -b %s -t %s\n", brokers[0], first(order))
	fmt.Fprintln(stdout, "  Ctrl-C stops cleanly.")

	if *demoOn && len(order) > 0 {
		prod, err := demo.Start(ctx, brokers, order, *rate)
		if err != nil {
			fmt.Fprintf(stderr, "penstock: demo producer: %v\n", err)
			return 1
		}
		defer prod.Close()
	}
	return serve(ctx, f, engine.Overrides{BootstrapServers: brokers}, log, *progress, stdout)
}

func first(s []string) string {
	if len(s) == 0 {
		return "orders"
	}
	return s[0]
}
