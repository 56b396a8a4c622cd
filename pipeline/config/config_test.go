package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/errors")

func TestLoadFull(t *testing.T) {
	path := filepath.Join("testdata", "valid", "full.yaml")
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	out, err := filepath.Abs(filepath.Join("testdata", "valid", "out", "orders.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		Path:    path,
		Version: 1,
		Pipelines: []Pipeline{
			{
				Name:    "orders",
				Enabled: true,
				Source: Source{Kafka: &Kafka{
					BootstrapServers:          []string{"broker-1:9092", "broker-2:9092"},
					Topic:                     "orders",
					ConsumerGroupID:           "orders-pipeline",
					StartingPosition:          AtTimestamp,
					StartingPositionTimestamp: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
					Partitions:                12,
					SessionTimeout:            10 * time.Second,
					TLS:                       TLS{Enabled: true, ServerName: "broker.example.com"},
				}},
				Batch:            Batch{Size: 250, Window: 2 * time.Second, MaxBytes: 1000000},
				MaxInflightBytes: 1 << 30,
				DrainTimeout:     time.Minute,
				MaxUncommitted:   DefaultMaxUncommitted,
				Retry:            Retry{InitialBackoff: 50 * time.Millisecond, MaxBackoff: 10 * time.Second, MaximumRetryAttempts: -1, MaximumRecordAge: -1},
				Target:           Target{File: &FileTarget{Path: out}},
				Pos:              Position{4, 5},
			},
			{
				Name:    "audit.log",
				Enabled: false,
				Source: Source{Kafka: &Kafka{
					BootstrapServers: []string{"localhost:9092", "localhost:9093"},
					Topic:            "audit",
					ConsumerGroupID:  "penstock-audit.log",
					StartingPosition: Latest,
					Partitions:       DefaultPartitions,
					SessionTimeout:   DefaultSessionTimeout,
				}},
				Batch:            Batch{Size: DefaultBatchSize, Window: DefaultWindow, MaxBytes: DefaultMaxBytes},
				MaxInflightBytes: DefaultMaxInflightBytes,
				DrainTimeout:     DefaultDrainTimeout,
				MaxUncommitted:   DefaultMaxUncommitted,
				Retry:            Retry{InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff, MaximumRetryAttempts: -1, MaximumRecordAge: -1},
				Target:           Target{Stdout: &StdoutTarget{}},
				Pos:              Position{31, 5},
			},
		},
	}
	// Positions are checked through Pos below.
	f.pos = nil
	if !reflect.DeepEqual(f, want) {
		t.Errorf("Load(%s):\n got %s\nwant %s", path, dump(f), dump(want))
	}
}

func TestMinimalDefaults(t *testing.T) {
	f, err := Parse("/etc/penstock/pipelines.yaml", []byte(`
version: 1
pipelines:
  - name: orders
    source: {kafka: {bootstrap_servers: "k:9092", topic: orders, starting_position: TRIM_HORIZON}}
    target:
      file: {path: out.jsonl}
`))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Pipelines[0]
	if got, want := p.Source.Kafka.ConsumerGroupID, "penstock-orders"; got != want {
		t.Errorf("ConsumerGroupID = %q, want %q", got, want)
	}
	if p.Source.Kafka.TLS.Enabled {
		t.Error("TLS enabled without a tls block")
	}
	if got, want := p.Target.File.Path, filepath.Join("/etc/penstock", "out.jsonl"); got != want {
		t.Errorf("file path = %q, want %q", got, want)
	}
	if !p.Enabled || p.Batch.Size != 100 || p.Batch.Window != 500*time.Millisecond || p.Batch.MaxBytes != 6<<20 ||
		p.MaxInflightBytes != 64<<20 || p.DrainTimeout != 30*time.Second ||
		p.Retry.InitialBackoff != 100*time.Millisecond || p.Retry.MaxBackoff != 30*time.Second ||
		p.Source.Kafka.Partitions != 8 {
		t.Errorf("defaults not applied: %s", dump(p))
	}
}

func TestTLSBlock(t *testing.T) {
	for _, tc := range []struct {
		tls  string
		want TLS
	}{
		{"", TLS{}},
		{"tls:", TLS{Enabled: true}},
		{"tls: {}", TLS{Enabled: true}},
		{"tls: {enabled: false, server_name: b}", TLS{ServerName: "b"}},
		{"tls: {insecure_skip_verify: true}", TLS{Enabled: true, InsecureSkipVerify: true}},
	} {
		f, err := Parse("p.yaml", []byte(`
version: 1
pipelines:
  - name: orders
    source:
      kafka:
        bootstrap_servers: k:9092
        topic: orders
        starting_position: LATEST
        `+tc.tls+`
    target: {stdout: }
`))
		if err != nil {
			t.Errorf("%q: %v", tc.tls, err)
			continue
		}
		if got := f.Pipelines[0].Source.Kafka.TLS; got != tc.want {
			t.Errorf("%q: TLS = %+v, want %+v", tc.tls, got, tc.want)
		}
	}
}

func TestTimestampForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-01-02T15:04:05Z", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
		{`"2026-01-02T16:04:05+01:00"`, time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
		{"2026-01-02T15:04:05.5Z", time.Date(2026, 1, 2, 15, 4, 5, 5e8, time.UTC)},
		{"1767366245", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
	} {
		f, err := Parse("p.yaml", []byte(`
version: 1
pipelines:
  - name: orders
    source:
      kafka:
        bootstrap_servers: k:9092
        topic: orders
        starting_position: AT_TIMESTAMP
        starting_position_timestamp: `+tc.in+`
    target: {stdout: }
`))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := f.Pipelines[0].Source.Kafka.StartingPositionTimestamp; !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAnchorsAndMerge(t *testing.T) {
	f, err := Parse("p.yaml", []byte(`
version: 1
pipelines:
  - &base
    name: orders
    source:
      kafka: &kafka
        bootstrap_servers: k:9092
        topic: orders
        starting_position: LATEST
    batch: &batch
      size: 10
    target: {stdout: }
  - <<: *base
    name: payments
    source:
      kafka:
        <<: *kafka
        topic: payments
  - name: refunds
    batch: *batch
    source:
      kafka:
        <<: [{topic: refunds}, *kafka]
    target: {stdout: }
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Pipelines) != 3 {
		t.Fatalf("got %d pipelines", len(f.Pipelines))
	}
	for i, want := range []struct{ name, topic, group string }{
		{"orders", "orders", "penstock-orders"},
		{"payments", "payments", "penstock-payments"},
		{"refunds", "refunds", "penstock-refunds"},
	} {
		p := f.Pipelines[i]
		if p.Name != want.name || p.Source.Kafka.Topic != want.topic || p.Source.Kafka.ConsumerGroupID != want.group ||
			p.Batch.Size != 10 || p.Target.Stdout == nil {
			t.Errorf("pipelines[%d] = %s", i, dump(p))
		}
	}
}

func TestPosAndErrorf(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "valid", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]Position{
		"":                                {2, 1},
		"version":                         {2, 10},
		"pipelines[0]":                    {4, 5},
		"pipelines[0].batch.size":         {19, 13},
		"pipelines[0].target.file.path":   {29, 15},
		"pipelines[0].source.kafka.topic": {9, 16},
		"pipelines[1].batch.size":         {31, 5}, // defaulted: the pipeline
		"pipelines[1].source.kafka.tls":   {35, 9}, // defaulted: the kafka block
		"pipelines[0].source.kafka.bootstrap_servers[1]": {8, 46},
		"nonsense.path": {2, 1}, // unknown: the top level
	} {
		if got := f.Pos(path); got != want {
			t.Errorf("Pos(%q) = %v, want %v", path, got, want)
		}
	}
	e := f.Errorf("pipelines[0].target.file.path", "cannot open %s: %s", "out/orders.jsonl", "permission denied")
	want := "testdata/valid/full.yaml:29:15: pipelines[0].target.file.path: cannot open out/orders.jsonl: permission denied"
	if got := e.Error(); got != filepath.FromSlash(want) && got != want {
		t.Errorf("Errorf = %q, want %q", got, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "does-not-exist.yaml"))
	if err == nil {
		t.Fatal("no error")
	}
	var errs Errors
	if errors.As(err, &errs) {
		t.Errorf("I/O error reported as config errors: %v", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", err)
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := Parse("p.yaml", []byte("version: 1\npipelines: []\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%v, *Error) failed", err)
	}
	if e.Line != 2 || e.Path != "pipelines" {
		t.Errorf("got %+v", e)
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "p.yaml", Line: 3, Column: 7, Path: "pipelines[0].batch", Msg: `unknown field "windw"`, Hint: `did you mean "window"?`},
			`p.yaml:3:7: pipelines[0].batch: unknown field "windw" (did you mean "window"?)`},
		{Error{File: "p.yaml", Line: 3, Msg: "invalid YAML: x"}, "p.yaml:3: invalid YAML: x"},
		{Error{File: "p.yaml", Msg: "empty"}, "p.yaml: empty"},
		{Error{Line: 1, Column: 2, Msg: "m"}, "1:2: m"},
		{Error{Msg: "m"}, "m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestErrorCases loads each testdata/errors/*.yaml and compares the complete
// error output with the sibling .golden file. Run with -update to rewrite
// the golden files.
func TestErrorCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test cases")
	}
	for _, file := range files {
		// Use slashes so the golden files are the same on every system.
		file = filepath.ToSlash(file)
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			f, err := Load(file)
			if err == nil {
				t.Fatalf("Load succeeded: %s", dump(f))
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, not Errors: %v", err, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestErrorsSorted(t *testing.T) {
	_, err := Load("testdata/errors/many-errors.yaml")
	errs, ok := err.(Errors)
	if !ok {
		t.Fatalf("got %T", err)
	}
	if len(errs) < 5 {
		t.Fatalf("only %d errors", len(errs))
	}
	for i := 1; i < len(errs); i++ {
		a, b := errs[i-1], errs[i]
		if a.Line > b.Line || a.Line == b.Line && a.Column > b.Column {
			t.Errorf("errors %d and %d out of order: %v / %v", i-1, i, a, b)
		}
	}
}

func TestVersionOnlyError(t *testing.T) {
	_, err := Parse("p.yaml", []byte("version: 3\npipelines: 7\nbogus: 1\n"))
	errs, _ := err.(Errors)
	if len(errs) != 1 || errs[0].Path != "version" {
		t.Errorf("got %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1024", 1024},
		{"6291456", 6291456},
		{"1B", 1},
		{"1KB", 1000},
		{"1kb", 1000},
		{"6MB", 6000000},
		{"6 MB", 6000000},
		{"2GB", 2000000000},
		{"1KiB", 1024},
		{"6MiB", 6 << 20},
		{"6mib", 6 << 20},
		{"6 MiB", 6 << 20},
		{"16GiB", 16 << 30},
		{"1.5KiB", 1536},
		{"0.5MB", 500000},
		{" 7 b ", 7},
		{"9223372036854775807", 9223372036854775807},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", " ", "MB", "-1", "-1KB", "+1", "1.5B", "1..5KB", ".", "1e3", "1K", "1M", "6 MBs", "5 TB",
		"1 2MB", "0x10", "9223372036854775808", "9000000000GiB", "1_000",
	} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		} else if !strings.HasPrefix(err.Error(), "invalid size ") {
			t.Errorf("ParseSize(%q) error %q does not start with %q", in, err, "invalid size ")
		}
	}
}

func TestFormatSize(t *testing.T) {
	for in, want := range map[int64]string{
		0: "0B", 1: "1B", 1000: "1000B", 1024: "1KiB", 6 << 20: "6MiB", 16 << 30: "16GiB", 1536: "1536B", 3 << 29: "1536MiB",
	} {
		if got := FormatSize(in); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", in, got, want)
		}
		if back, err := ParseSize(FormatSize(in)); err != nil || back != in {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", in, back, err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{
		0: "0s", time.Millisecond: "1ms", 5 * time.Minute: "5m", time.Hour: "1h", 90 * time.Second: "1m30s",
		time.Hour + time.Second: "1h0m1s", 15 * time.Minute: "15m",
	} {
		if got := formatDuration(in); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"window", "window", 0},
		{"windw", "window", 1},
		{"widnow", "window", 1}, // transposition
		{"wnidow", "window", 1},
		{"windo", "window", 1},
		{"xindow", "window", 1},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // optimal string alignment, not full Damerau-Levenshtein
		{"größe", "grosse", 3},
	} {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := distance(tc.b, tc.a); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	batch := []string{"size", "window", "max_bytes"}
	kafka := []string{"bootstrap_servers", "topic", "consumer_group_id", "starting_position", "starting_position_timestamp", "partitions", "tls"}
	for _, tc := range []struct {
		word  string
		known []string
		want  string
	}{
		{"windw", batch, "window"},
		{"Window", batch, "window"},
		{"WINDOW", batch, "window"},
		{"maxBytes", batch, "max_bytes"},
		{"max-bytes", batch, "max_bytes"},
		{"maxbytes", batch, "max_bytes"},
		{"sise", batch, "size"},
		{"batch_size", batch, "size"},
		{"batchSize", batch, "size"},
		{"siz", batch, "size"},
		{"sz", batch, ""},
		{"owner", batch, ""},
		{"timeout", batch, ""},
		{"x", batch, ""},
		{"", batch, ""},
		{"topics", kafka, "topic"},
		{"tpoic", kafka, "topic"},
		{"startingPosition", kafka, "starting_position"},
		{"group.id", kafka, "consumer_group_id"},
		{"auto.offset.reset", kafka, ""},
		{"group_id", kafka, "consumer_group_id"},
		{"consumer_group", kafka, "consumer_group_id"},
		{"servers", kafka, "bootstrap_servers"},
		{"ssl", kafka, "tls"},
		{"brokers", kafka, "bootstrap_servers"},
		{"brokers", batch, ""},
		{"trim_horizon", []string{"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"}, "TRIM_HORIZON"},
		{"latest", []string{"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"}, "LATEST"},
		{"TRIM_HORIZN", []string{"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"}, "TRIM_HORIZON"},
	} {
		if got := suggest(tc.word, tc.known); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}

func dump(v any) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(v))
	return b.String()
}

func dumpValue(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		b.WriteString("&")
		dumpValue(b, v.Elem())
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			b.WriteString(t.String())
			return
		}
		b.WriteString(v.Type().Name() + "{")
		for i := 0; i < v.NumField(); i++ {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(v.Type().Field(i).Name + ":")
			dumpValue(b, v.Field(i))
		}
		b.WriteString("}")
	case reflect.Slice:
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(" ")
			}
			dumpValue(b, v.Index(i))
		}
		b.WriteString("]")
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	default:
		fmt.Fprintf(b, "%v", v.Interface())
	}
}

func TestAliasedKeys(t *testing.T) {
	f, err := Parse("p.yaml", []byte(`
version: 1
pipelines:
  - &n name: orders
    source: {kafka: {bootstrap_servers: k:9092, topic: orders, starting_position: LATEST}}
    target: {stdout: }
  - *n : payments
    source: {kafka: {bootstrap_servers: k:9092, topic: payments, starting_position: LATEST}}
    target: {stdout: }
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Pipelines[1].Name; got != "payments" {
		t.Errorf("name = %q", got)
	}
}
