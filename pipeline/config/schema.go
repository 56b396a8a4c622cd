package config

import (
	"fmt"
	"math"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// This file is the schema of version 1: one function per mapping, each a
// table of its fields, followed by the checks that span several fields.

// file walks a whole config file.
func (w *walker) file(data []byte) *File {
	f := &File{Path: w.path, Version: Version, pos: w.pos}
	top := w.document(data)
	if top == nil {
		return f
	}
	v := resolve(top)
	switch {
	case isNull(v):
		w.errorf(top, "", "%s", emptyFileMsg)
		return f
	case v.Kind != yaml.MappingNode:
		w.errorf(top, "", `the top level must be a mapping with "version" and "pipelines", got %s`, describe(top))
		return f
	}
	w.record(top, "")
	if w.unsupportedVersion(v) {
		// The rest of the file follows some other schema; checking it
		// against this one would only add noise.
		return f
	}
	var states []*pipelineState
	w.mapping(top, "", []field{
		required(field{key: "version", decode: func(w *walker, n *yaml.Node, path string) bool {
			v, ok := w.integer(n, path, math.MinInt64, math.MaxInt64)
			if ok && v != Version {
				w.errorf(n, path, "unsupported version %d; this release of Penstock reads version %d", v, Version)
				return false
			}
			return ok
		}}),
		required(field{key: "pipelines", decode: func(w *walker, n *yaml.Node, path string) bool {
			items, ok := w.list(n, path, "a list of pipelines")
			if ok && len(items) == 0 {
				w.errorf(n, path, "no pipelines defined; at least one is required")
				return false
			}
			for i, item := range items {
				if st := w.pipeline(item, index(path, i)); st != nil {
					states = append(states, st)
				}
			}
			return ok
		}}),
		testsField(&f.Tests),
	})
	w.checkUnique(states)
	for _, st := range states {
		f.Pipelines = append(f.Pipelines, *st.p)
	}
	w.checkTests(f)
	return f
}

// unsupportedVersion reports a version field holding an integer other than
// Version, before anything else is checked.
func (w *walker) unsupportedVersion(top *yaml.Node) bool {
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := resolve(top.Content[i]), resolve(top.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Value != "version" || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
			continue
		}
		if n, err := parseInt(v.Value); err == nil && n != Version {
			w.errorf(top.Content[i+1], "version", "unsupported version %d; this release of Penstock reads version %d", n, Version)
			return true
		}
		return false
	}
	return false
}

// pipelineState is what the checks across pipelines need to know about one.
type pipelineState struct {
	p         *Pipeline
	path      string
	nameNode  *yaml.Node // nil unless the name is valid
	kafka     *kafkaState
	group     string     // consumer group id, "" if unknown
	groupNode *yaml.Node // consumer_group_id value; nil when defaulted
}

// label names a pipeline in messages.
func (st *pipelineState) label() string {
	if st.nameNode != nil {
		return fmt.Sprintf("pipeline %q", st.p.Name)
	}
	return st.path
}

func (w *walker) pipeline(n *yaml.Node, path string) *pipelineState {
	p := &Pipeline{
		Enabled:          true,
		Batch:            Batch{Size: DefaultBatchSize, Window: DefaultWindow, MaxBytes: DefaultMaxBytes},
		MaxInflightBytes: DefaultMaxInflightBytes,
		DrainTimeout:     DefaultDrainTimeout,
		MaxUncommitted:   DefaultMaxUncommitted,
		Retry:            Retry{InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff, MaximumRetryAttempts: -1, MaximumRecordAge: -1},
		Pos:              Position{n.Line, n.Column},
	}
	st := &pipelineState{p: p, path: path}
	var batch, retry block
	b := w.mapping(n, path, []field{
		required(stringField("name", &p.Name, "a pipeline name", checkName)),
		boolField("enabled", &p.Enabled),
		required(field{key: "source", decode: func(w *walker, n *yaml.Node, path string) bool {
			st.kafka = w.source(n, path, &p.Source)
			return st.kafka != nil
		}}),
		filtersField(&p.Filters),
		filterCriteriaField(&p.Filters),
		enrichersField(&p.Enrichers),
		{key: "batch", decode: func(w *walker, n *yaml.Node, path string) bool {
			batch = w.mapping(n, path, []field{
				intField("size", &p.Batch.Size, MinBatchSize, MaxBatchSize),
				durationField("window", &p.Batch.Window, 0, MaxWindow),
				sizeField("max_bytes", &p.Batch.MaxBytes, MinMaxBytes, MaxMaxBytes),
			})
			return batch.ok
		}},
		sizeField("max_inflight_bytes", &p.MaxInflightBytes, MinMaxInflightBytes, MaxMaxInflightBytes),
		durationField("drain_timeout", &p.DrainTimeout, 0, MaxDrainTimeout),
		intField("max_uncommitted_batches", &p.MaxUncommitted, MinMaxUncommitted, MaxMaxUncommitted),
		{key: "retry", decode: func(w *walker, n *yaml.Node, path string) bool {
			retry = w.retry(n, path, &p.Retry)
			return retry.ok
		}},
		{key: "on_failure", decode: func(w *walker, n *yaml.Node, path string) bool {
			return w.onFailure(n, path, &p.OnFailure)
		}},
		required(field{key: "target", decode: func(w *walker, n *yaml.Node, path string) bool {
			return w.target(n, path, &p.Target)
		}}),
	})
	if !b.ok {
		return nil
	}
	if b.valid("name") {
		st.nameNode = b.at("name")
	}
	if k := st.kafka; k != nil {
		switch {
		case k.groupNode != nil:
			st.group, st.groupNode = k.k.ConsumerGroupID, k.groupNode
		case st.nameNode != nil:
			k.k.ConsumerGroupID = DefaultConsumerGroupPrefix + p.Name
			st.group = k.k.ConsumerGroupID
		}
	}

	// Records given up on need somewhere to go: Penstock drops nothing
	// silently.
	if p.OnFailure == nil && !b.has("on_failure") && retry.ok {
		for _, k := range []string{"maximum_retry_attempts", "maximum_record_age"} {
			if !retry.valid(k) {
				continue
			}
			if (k == "maximum_retry_attempts" && p.Retry.MaximumRetryAttempts >= 0) || (k == "maximum_record_age" && p.Retry.MaximumRecordAge > 0) {
				e := w.errorf(retry.at(k), join(path, "retry."+k), "%s gives records up, but the pipeline has no on_failure destination for them", k)
				e.Hint = `add on_failure: {destination: "file:failures.jsonl"}, or {destination: discard} to drop them as Lambda does without a destination`
			}
		}
	}
	if retry.valid("report_batch_item_failures") && p.Retry.ReportBatchItemFailures && b.valid("target") && p.Target.Lambda == nil {
		w.errorf(retry.at("report_batch_item_failures"), join(path, "retry.report_batch_item_failures"),
			"report_batch_item_failures needs a function target (target.lambda): only a function returns a partial batch response")
	}

	// A batch must fit within the in-flight limit.
	if usable(b, "max_inflight_bytes") && usable(batch, "max_bytes") && p.MaxInflightBytes < p.Batch.MaxBytes {
		if b.has("max_inflight_bytes") {
			e := w.errorf(b.at("max_inflight_bytes"), join(path, "max_inflight_bytes"),
				"%s is less than batch.max_bytes (%s); a batch must fit within the in-flight limit",
				FormatSize(p.MaxInflightBytes), FormatSize(p.Batch.MaxBytes))
			e.Hint = "raise max_inflight_bytes or lower batch.max_bytes"
		} else {
			e := w.errorf(batch.at("max_bytes"), join(path, "batch.max_bytes"),
				"%s is more than max_inflight_bytes (default %s); a batch must fit within the in-flight limit",
				FormatSize(p.Batch.MaxBytes), FormatSize(p.MaxInflightBytes))
			e.Hint = "set max_inflight_bytes to at least " + FormatSize(p.Batch.MaxBytes)
		}
	}
	return st
}

// usable reports whether a field's value (given or default) can take part
// in a check spanning several fields: it was either left out or valid.
func usable(b block, key string) bool { return !b.has(key) || b.valid(key) }

func (w *walker) retry(n *yaml.Node, path string, r *Retry) block {
	b := w.mapping(n, path, []field{
		durationField("initial_backoff", &r.InitialBackoff, MinBackoff, MaxBackoff),
		durationField("max_backoff", &r.MaxBackoff, MinBackoff, MaxBackoff),
		intField("maximum_retry_attempts", &r.MaximumRetryAttempts, -1, MaxRetryAttempts),
		{key: "maximum_record_age", decode: func(w *walker, n *yaml.Node, path string) bool {
			d, ok := w.recordAge(n, path)
			if ok {
				r.MaximumRecordAge = d
			}
			return ok
		}},
		boolField("bisect_on_error", &r.BisectOnError),
		boolField("report_batch_item_failures", &r.ReportBatchItemFailures),
	})
	if usable(b, "initial_backoff") && usable(b, "max_backoff") && r.MaxBackoff < r.InitialBackoff {
		if b.has("max_backoff") {
			w.errorf(b.at("max_backoff"), join(path, "max_backoff"), "max_backoff %s is less than initial_backoff %s",
				formatDuration(r.MaxBackoff), formatDuration(r.InitialBackoff))
		} else {
			e := w.errorf(b.at("initial_backoff"), join(path, "initial_backoff"), "initial_backoff %s is more than max_backoff (default %s)",
				formatDuration(r.InitialBackoff), formatDuration(r.MaxBackoff))
			e.Hint = "set max_backoff to at least " + formatDuration(r.InitialBackoff)
		}
		b.ok = false
	}
	return b
}

// source walks a pipeline's source; it returns nil unless a valid kind is
// set.
func (w *walker) source(n *yaml.Node, path string, dst *Source) *kafkaState {
	var ks *kafkaState
	kind := w.oneOf(n, path, "source", []field{
		{key: "kafka", decode: func(w *walker, n *yaml.Node, path string) bool {
			ks = w.kafka(n, path)
			if ks != nil {
				dst.Kafka = ks.k
			}
			return ks != nil
		}},
	})
	if kind == "" {
		return nil
	}
	return ks
}

// kafkaState is what the checks across pipelines need from a Kafka source.
type kafkaState struct {
	k         *Kafka
	node      *yaml.Node // the kafka mapping
	groupNode *yaml.Node // consumer_group_id value if given and valid
}

func (w *walker) kafka(n *yaml.Node, path string) *kafkaState {
	k := &Kafka{Partitions: DefaultPartitions, SessionTimeout: DefaultSessionTimeout}
	b := w.mapping(n, path, []field{
		field{key: "bootstrap_servers", decode: func(w *walker, n *yaml.Node, path string) bool {
			var ok bool
			k.BootstrapServers, ok = w.servers(n, path)
			return ok
		}},
		{key: "msk", decode: func(w *walker, n *yaml.Node, path string) bool {
			return w.msk(n, path, k)
		}},
		required(stringField("topic", &k.Topic, "a topic name", checkTopic)),
		stringField("consumer_group_id", &k.ConsumerGroupID, "a consumer group id", checkGroupID),
		required(enumField("starting_position", &k.StartingPosition, StartingPositions, startingPositionAliases)),
		{key: "starting_position_timestamp", decode: func(w *walker, n *yaml.Node, path string) bool {
			t, ok := w.timestamp(n, path)
			k.StartingPositionTimestamp = t
			return ok
		}},
		intField("partitions", &k.Partitions, MinPartitions, MaxPartitions),
		durationField("session_timeout", &k.SessionTimeout, MinSessionTimeout, MaxSessionTimeout),
		{key: "tls", decode: func(w *walker, n *yaml.Node, path string) bool {
			k.TLS.Enabled = true
			tb := w.mapping(n, path, []field{
				boolField("enabled", &k.TLS.Enabled),
				stringField("server_name", &k.TLS.ServerName, "a host name", nil),
				boolField("insecure_skip_verify", &k.TLS.InsecureSkipVerify),
				refField("root_ca", &k.TLS.RootCA),
			})
			return tb.ok && allValid(tb)
		}},
		{key: "auth", decode: func(w *walker, n *yaml.Node, path string) bool {
			return w.auth(n, path, k)
		}},
		{key: "vpc", decode: func(w *walker, n *yaml.Node, path string) bool {
			return w.vpc(n, path, k)
		}},
	})
	if !b.ok {
		return nil
	}
	switch {
	case !b.has("bootstrap_servers") && !b.has("msk"):
		e := w.errorf(n, path, "missing field \"bootstrap_servers\" (or msk: {cluster_arn: …} for an Amazon MSK cluster)")
		e.Hint = `e.g. bootstrap_servers: ["b-1.example.com:9092"]`
	case b.has("bootstrap_servers") && b.has("msk"):
		w.errorf(b.at("msk"), join(path, "msk"), "set bootstrap_servers or msk, not both: the brokers of an MSK cluster are looked up from its ARN")
	}
	if b.valid("msk") && k.Auth != nil && k.Auth.Mechanism == BasicAuth {
		w.errorf(b.at("auth"), join(path, "auth.mechanism"), "MSK does not support SASL/PLAIN (BASIC_AUTH): use SASL_SCRAM_512_AUTH, CLIENT_CERTIFICATE_TLS_AUTH or AWS_MSK_IAM")
	}
	if b.valid("msk") {
		k.TLS.Enabled = k.TLS.Enabled || !b.has("tls") // MSK listeners other than plaintext are TLS
	}
	if b.valid("auth") && (!b.has("tls") || b.valid("tls")) {
		w.checkAuthTLS(n, path, b, k)
	}
	if b.valid("starting_position") {
		const ts = "starting_position_timestamp"
		switch {
		case k.StartingPosition == AtTimestamp && !b.has(ts):
			w.errorf(n, path, "missing field %q, required when starting_position is %s", ts, AtTimestamp)
		case k.StartingPosition != AtTimestamp && b.has(ts):
			e := w.errorf(b.at(ts), join(path, ts), "only allowed when starting_position is %s, not %s", AtTimestamp, k.StartingPosition)
			e.Hint = "remove it, or set starting_position: " + string(AtTimestamp)
		}
	}
	ks := &kafkaState{k: k, node: n}
	if b.valid("consumer_group_id") {
		ks.groupNode = b.at("consumer_group_id")
	} else if b.has("consumer_group_id") {
		// Invalid and already reported: neither default it nor check it
		// for uniqueness.
		ks.groupNode = b.at("consumer_group_id")
		k.ConsumerGroupID = ""
	}
	return ks
}

// startingPositionAliases maps other systems' names for starting positions
// (lower case) to Penstock's, for hints.
var startingPositionAliases = map[string]StartingPosition{
	"earliest":  TrimHorizon,
	"oldest":    TrimHorizon,
	"beginning": TrimHorizon,
	"newest":    Latest,
	"end":       Latest,
	"timestamp": AtTimestamp,
}

// enumField stores one of values. An invalid value is reported with the
// valid ones and, where a value is close (or aliases names it), a hint.
func enumField[T ~string](key string, dst *T, values []T, aliases map[string]T) field {
	return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
		s, ok := w.str(n, path, "a string")
		if !ok {
			return false
		}
		names := make([]string, len(values))
		for i, v := range values {
			if s == string(v) {
				*dst = v
				return true
			}
			names[i] = string(v)
		}
		e := w.errorf(n, path, "invalid value %s: must be one of %s", quote(s), strings.Join(names, ", "))
		if a, ok := aliases[strings.ToLower(s)]; ok {
			e.Hint = fmt.Sprintf("did you mean %q?", a)
		} else if c := suggest(s, names); c != "" {
			e.Hint = fmt.Sprintf("did you mean %q?", c)
		}
		return false
	}}
}

// maxUnixSeconds is the last second of year 9999.
const maxUnixSeconds = 253402300799

const timestampForms = "use RFC 3339, such as 2026-01-02T15:04:05Z, or integer Unix seconds"

// timestamp returns a point in time written in RFC 3339 or as integer Unix
// seconds.
func (w *walker) timestamp(n *yaml.Node, path string) (time.Time, bool) {
	v, ok := w.scalar(n, path, "a timestamp")
	if !ok {
		return time.Time{}, false
	}
	switch v.ShortTag() {
	case "!!int":
		sec, err := parseInt(v.Value)
		if err != nil || sec < 0 || sec > maxUnixSeconds {
			w.errorf(n, path, "Unix time %s is out of range 0..%d", v.Value, int64(maxUnixSeconds))
			return time.Time{}, false
		}
		return time.Unix(sec, 0).UTC(), true
	case "!!str", "!!timestamp":
		s := strings.TrimSpace(v.Value)
		t, err := time.Parse(time.RFC3339, s)
		if err == nil {
			return t, true
		}
		e := w.errorf(n, path, "invalid timestamp %s: %s", quote(v.Value), timestampForms)
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			e.Hint = "add a time and zone: " + s + "T00:00:00Z"
		} else if _, err := time.Parse(time.DateTime, s); err == nil {
			e.Hint = "write a T between date and time, and a zone: " + strings.Replace(s, " ", "T", 1) + "Z"
		} else if _, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
			e.Hint = "add a zone: " + s + "Z"
		}
		return time.Time{}, false
	}
	w.errorf(n, path, "expected a timestamp, got %s", describe(n))
	return time.Time{}, false
}

// servers returns the bootstrap servers: a list of "host:port" strings, or a
// single string holding one address or several separated by commas.
func (w *walker) servers(n *yaml.Node, path string) ([]string, bool) {
	const what = `a list of "host:port" addresses`
	type item struct {
		n    *yaml.Node
		path string
	}
	var items []item
	v := resolve(n)
	switch {
	case v.Kind == yaml.SequenceNode:
		nodes, _ := w.list(n, path, what)
		for i, it := range nodes {
			items = append(items, item{it, index(path, i)})
		}
	case v.Kind == yaml.ScalarNode && !isNull(v):
		items = []item{{n, path}}
	default:
		w.errorf(n, path, "expected %s, got %s", what, describe(n))
		return nil, false
	}
	var out []string
	ok := true
	for _, it := range items {
		s, good := w.str(it.n, it.path, `a "host:port" address`)
		if !good {
			ok = false
			continue
		}
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if msg, hint := checkServer(part); msg != "" {
				w.errorf(it.n, it.path, "%s", msg).Hint = hint
				ok = false
				continue
			}
			out = append(out, part)
		}
	}
	if ok && len(out) == 0 {
		w.errorf(n, path, "at least one bootstrap server is required")
		return nil, false
	}
	return out, ok
}

// checkServer checks a "host:port" address.
func checkServer(s string) (msg, hint string) {
	if s == "" {
		return "empty server address", "remove the extra comma"
	}
	bad := func(why string) string { return fmt.Sprintf("invalid server address %s: %s", quote(s), why) }
	if i := strings.Index(s, "://"); i >= 0 {
		return bad("a server address has no scheme"), "write " + s[i+3:]
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return bad("missing port"), "write " + s + ":9092 for Kafka's usual port"
		}
		return bad(`use "host:port", with IPv6 addresses in brackets as in "[::1]:9092"`), ""
	}
	if host == "" {
		return bad("missing host"), ""
	}
	if strings.ContainsAny(host, " \t/@") {
		return bad(fmt.Sprintf("host %s is not a host name or IP address", quote(host))), ""
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return bad(fmt.Sprintf("port %s is not a number in 1..65535", quote(port))), ""
	}
	return "", ""
}

// checkChars checks s is 1..max characters of letters, digits and extra.
func checkChars(what, s string, max int, extra string) string {
	if s == "" {
		return fmt.Sprintf("%s must not be empty", what)
	}
	if n := len(s); n > max {
		return fmt.Sprintf("%s is %d characters long; at most %d are allowed", what, n, max)
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune(extra, r) {
			return fmt.Sprintf("invalid %s %s: character %q is not allowed; use letters, digits and %s", what, quote(s), r, listChars(extra))
		}
	}
	return ""
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// listChars renders "._-" as `'.', '_' and '-'`.
func listChars(chars string) string {
	var parts []string
	for _, r := range chars {
		parts = append(parts, "'"+string(r)+"'")
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// checkName checks a pipeline name: ^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$.
func checkName(s string) (msg, hint string) {
	if msg := checkChars("pipeline name", s, MaxNameLen, "._-"); msg != "" {
		return msg, nameHint(s)
	}
	if !isAlnum(rune(s[0])) {
		return fmt.Sprintf("invalid pipeline name %s: it must start with a letter or digit", quote(s)), nameHint(s)
	}
	return "", ""
}

// nameHint proposes a valid pipeline name close to s, or "".
func nameHint(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case isAlnum(r) || r == '.' || r == '_' || r == '-':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	t := strings.TrimLeft(b.String(), "._-")
	t = strings.TrimRight(t, "-")
	if t == "" || len(t) > MaxNameLen || t == s {
		return ""
	}
	return fmt.Sprintf("try %q", t)
}

// checkTopic checks a Kafka topic name.
func checkTopic(s string) (msg, hint string) {
	if s == "." || s == ".." {
		return fmt.Sprintf("topic name %q is not allowed", s), ""
	}
	return checkChars("topic name", s, MaxTopicLen, "._-"), ""
}

// checkGroupID checks a Kafka consumer group id.
func checkGroupID(s string) (msg, hint string) {
	return checkChars("consumer group id", s, MaxConsumerGroupIDLen, "._:-"), ""
}

// target walks a pipeline's target and reports whether a valid kind is set.
func (w *walker) target(n *yaml.Node, path string, dst *Target) bool {
	kind := w.oneOf(n, path, "target", []field{
		{key: "stdout", decode: func(w *walker, n *yaml.Node, path string) bool {
			dst.Stdout = &StdoutTarget{}
			return w.mapping(n, path, nil).ok
		}},
		{key: "lambda", decode: func(w *walker, n *yaml.Node, path string) bool {
			lt, ok := w.lambdaTarget(n, path)
			dst.Lambda = lt
			return ok
		}},
		{key: "sqs", decode: func(w *walker, n *yaml.Node, path string) bool {
			t, ok := w.sqsTarget(n, path)
			dst.SQS = t
			return ok
		}},
		{key: "sns", decode: func(w *walker, n *yaml.Node, path string) bool {
			t, ok := w.snsTarget(n, path)
			dst.SNS = t
			return ok
		}},
		{key: "s3", decode: func(w *walker, n *yaml.Node, path string) bool {
			t, ok := w.s3Target(n, path)
			dst.S3 = t
			return ok
		}},
		{key: "file", decode: func(w *walker, n *yaml.Node, path string) bool {
			ft := &FileTarget{}
			b := w.mapping(n, path, []field{
				required(stringField("path", &ft.Path, "a file path", checkFilePath)),
			})
			if !b.valid("path") {
				return false
			}
			ft.Path = w.resolvePath(ft.Path)
			dst.File = ft
			return true
		}},
	})
	return kind != ""
}

func checkFilePath(s string) (msg, hint string) {
	switch {
	case strings.TrimSpace(s) == "":
		return "the path must not be empty", ""
	case s == "~" || strings.HasPrefix(s, "~/"):
		return fmt.Sprintf("%s: ~ is not expanded to the home directory", quote(s)), "write the full path"
	case strings.ContainsRune(s, 0):
		return "the path contains a NUL character", ""
	}
	return "", ""
}

// resolvePath makes a path from the config file absolute, resolving a
// relative one against the config file's directory.
func (w *walker) resolvePath(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(w.dir, p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// checkUnique reports pipeline names and consumer group ids used twice.
func (w *walker) checkUnique(states []*pipelineState) {
	names := make(map[string]*pipelineState)
	for _, st := range states {
		if st.nameNode == nil {
			continue
		}
		if first := names[st.p.Name]; first != nil {
			w.errorf(st.nameNode, join(st.path, "name"), "duplicate pipeline name %q (also used by %s at line %d)",
				st.p.Name, first.path, first.nameNode.Line)
			continue
		}
		names[st.p.Name] = st
	}
	groups := make(map[string]*pipelineState)
	for _, st := range states {
		if st.group == "" {
			continue
		}
		first := groups[st.group]
		if first == nil {
			groups[st.group] = st
			continue
		}
		if st.groupNode == nil && first.groupNode == nil {
			continue // defaulted from equal names, which is reported above
		}
		where := first.nameNode
		used := fmt.Sprintf("%s (its default)", first.label())
		if first.groupNode != nil {
			where, used = first.groupNode, first.label()
		}
		path := join(st.path, "source.kafka.consumer_group_id")
		var e *Error
		if st.groupNode != nil {
			e = w.errorf(st.groupNode, path, "consumer group id %q is already used by %s at line %d",
				st.group, used, where.Line)
		} else {
			e = w.errorf(st.kafka.node, path, "the default consumer group id %q is already used by %s at line %d",
				st.group, used, where.Line)
		}
		e.Hint = "give each pipeline its own consumer_group_id"
	}
}
