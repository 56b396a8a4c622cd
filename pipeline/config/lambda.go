package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Bounds and defaults of the function target and the failure controls.
const (
	// DefaultFunctionTimeout is a local function's default invocation
	// timeout, Lambda's default.
	DefaultFunctionTimeout = 3 * time.Second
	// MaxFunctionTimeout is the longest invocation timeout, Lambda's limit.
	MaxFunctionTimeout = 15 * time.Minute
	// DefaultMemorySize is the memory, in MB, a local function is told it has.
	DefaultMemorySize = 128
	// DefaultPayloadLimit is the largest invocation payload, Lambda's 6 MB.
	DefaultPayloadLimit = 6 << 20
	// MaxPayloadLimit is the largest payload_limit accepted for local
	// functions; AWS functions accept at most DefaultPayloadLimit.
	MaxPayloadLimit = 256 << 20
	// MaxConcurrency bounds a local function's execution environments.
	MaxConcurrency = 1000
	// MaxRetryAttempts is the largest maximum_retry_attempts, as the ESM's.
	MaxRetryAttempts = 10000
	// MinRecordAge and MaxRecordAge bound maximum_record_age, as the ESM's.
	MinRecordAge = 60 * time.Second
	// MaxRecordAge is the largest maximum_record_age: 7 days.
	MaxRecordAge = 7 * 24 * time.Hour
)

// LambdaTarget invokes a function per batch with the ESM's event payload.
// Exactly one of Function (an AWS Lambda function) and Command (a local
// Lambda custom-runtime executable) is set.
type LambdaTarget struct {
	// Function is a function name, name:qualifier, partial ARN
	// (ACCOUNT:function:NAME) or full ARN of an AWS Lambda function.
	Function string
	// Qualifier is the alias or version to invoke; default none ($LATEST).
	Qualifier string
	// Region is the function's region; default the ARN's region, else the
	// AWS configuration's (AWS_REGION, profile).
	Region string
	// EndpointURL overrides the Lambda endpoint (a local emulator).
	EndpointURL string
	// Command runs a local function: the executable and its arguments. A
	// relative executable path with a slash is resolved against the
	// directory of the config file.
	Command []string
	// Environment is extra environment for a local function.
	Environment map[string]string
	// Timeout is a local function's invocation timeout; default 3s, at most
	// 15m. A function that runs longer is killed and restarted, and the
	// attempt failed.
	Timeout time.Duration
	// MemorySize is the memory (MB) a local function is told it has; default 128.
	MemorySize int
	// Concurrency is the number of a local function's processes; default 1.
	Concurrency int
	// PayloadLimit bounds an invocation's payload; default 6 MB (Lambda's
	// limit, also the most an AWS function accepts).
	PayloadLimit int64
}

// OnFailure says where records go that a pipeline gives up on. Exactly one
// of File, Discard, SQSQueueURL, SNSTopicARN, S3Bucket and KafkaTopic is set.
type OnFailure struct {
	// Destination is as written: "file:PATH", "discard", an SQS queue ARN,
	// an SNS topic ARN, an S3 bucket ARN, or "kafka://TOPIC".
	Destination string
	// File is the absolute path of a file destination.
	File string
	// Discard is true for "discard": records are logged and dropped, as
	// the ESM drops them without a destination.
	Discard bool
	// SQSQueueURL is the URL of an SQS queue destination.
	SQSQueueURL string
	// SNSTopicARN is the ARN of an SNS topic destination.
	SNSTopicARN string
	// S3Bucket is the bucket of an S3 destination.
	S3Bucket string
	// KafkaTopic is a topic on the source cluster.
	KafkaTopic string
	// AWS reaches an SQS, SNS or S3 destination.
	AWS AWS
}

var (
	functionARNRe  = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]{1,64}(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
	partialARNRe   = regexp.MustCompile(`^\d{12}:function:[a-zA-Z0-9-_]{1,64}(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
	functionNameRe = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
	qualifierRe    = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9-_]{1,128})$`)
	regionRe       = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)
)

func checkFunction(s string) (msg, hint string) {
	switch {
	case functionARNRe.MatchString(s), partialARNRe.MatchString(s), functionNameRe.MatchString(s):
		return "", ""
	case strings.HasPrefix(s, "arn:"):
		return fmt.Sprintf("%s is not a Lambda function ARN", quote(s)), "write arn:aws:lambda:REGION:ACCOUNT:function:NAME"
	}
	return fmt.Sprintf("%s is not a function name: use 1 to 64 letters, digits, '-' or '_', or a function ARN", quote(s)), ""
}

func checkQualifier(s string) (msg, hint string) {
	if !qualifierRe.MatchString(s) {
		return fmt.Sprintf("%s is not an alias or version", quote(s)), ""
	}
	return "", ""
}

func checkRegion(s string) (msg, hint string) {
	if !regionRe.MatchString(s) {
		return fmt.Sprintf("%s is not an AWS region", quote(s)), "such as eu-west-1"
	}
	return "", ""
}

func checkEndpoint(s string) (msg, hint string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%s is not an http(s) URL", quote(s)), "such as http://localhost:4566"
	}
	return "", ""
}

// lambdaTarget walks target.lambda.
func (w *walker) lambdaTarget(n *yaml.Node, path string) (*LambdaTarget, bool) {
	lt := &LambdaTarget{Timeout: DefaultFunctionTimeout, MemorySize: DefaultMemorySize, Concurrency: 1, PayloadLimit: DefaultPayloadLimit}
	b := w.mapping(n, path, []field{
		stringField("function", &lt.Function, "a function name or ARN", checkFunction),
		stringField("qualifier", &lt.Qualifier, "an alias or version", checkQualifier),
		stringField("region", &lt.Region, "an AWS region", checkRegion),
		stringField("endpoint_url", &lt.EndpointURL, "a URL", checkEndpoint),
		{key: "command", decode: func(w *walker, n *yaml.Node, path string) bool {
			var ok bool
			lt.Command, ok = w.command(n, path)
			return ok
		}},
		{key: "environment", decode: func(w *walker, n *yaml.Node, path string) bool {
			var ok bool
			lt.Environment, ok = w.stringMap(n, path)
			return ok
		}},
		durationField("timeout", &lt.Timeout, time.Second, MaxFunctionTimeout),
		intField("memory_size", &lt.MemorySize, 128, 10240),
		intField("concurrency", &lt.Concurrency, 1, MaxConcurrency),
		sizeField("payload_limit", &lt.PayloadLimit, 1<<10, MaxPayloadLimit),
	})
	if !b.ok {
		return nil, false
	}
	ok := true
	for _, k := range b.order {
		ok = ok && b.valid(k)
	}
	fn, cmd := b.has("function"), b.has("command")
	switch {
	case fn && cmd:
		w.errorf(b.at("command"), join(path, "command"), "set either function (an AWS Lambda function) or command (a local function), not both")
		return nil, false
	case !fn && !cmd:
		e := w.errorf(n, path, "no function: set function (an AWS Lambda function name or ARN) or command (a local Lambda executable)")
		e.Hint = `e.g. function: arn:aws:lambda:eu-west-1:123456789012:function:handle-orders, or command: ["./bin/handler"]`
		return nil, false
	}
	if cmd {
		for _, k := range []string{"qualifier", "region", "endpoint_url"} {
			if b.has(k) {
				w.errorf(b.at(k), join(path, k), "%s applies to AWS functions (function:), not to a local command", k)
				ok = false
			}
		}
	} else {
		for _, k := range []string{"environment", "timeout", "memory_size", "concurrency"} {
			if b.has(k) {
				w.errorf(b.at(k), join(path, k), "%s applies to local functions (command:); an AWS function's settings live in AWS", k)
				ok = false
			}
		}
		if b.valid("payload_limit") && lt.PayloadLimit > DefaultPayloadLimit {
			w.errorf(b.at("payload_limit"), join(path, "payload_limit"), "%s is more than the 6MiB an AWS Lambda function accepts",
				FormatSize(lt.PayloadLimit))
			ok = false
		}
		if b.valid("function") && b.valid("qualifier") && stripQualifier(lt.Function) != lt.Function {
			w.errorf(b.at("qualifier"), join(path, "qualifier"), "the function %s already names a qualifier", quote(lt.Function))
			ok = false
		}
		if lt.Region == "" && strings.HasPrefix(lt.Function, "arn:") {
			lt.Region = strings.Split(lt.Function, ":")[3]
		}
	}
	return lt, ok
}

// stripQualifier removes a trailing ":qualifier" from a function name or ARN.
func stripQualifier(fn string) string {
	parts := strings.Split(fn, ":")
	switch {
	case strings.HasPrefix(fn, "arn:") && len(parts) == 8:
		return strings.Join(parts[:7], ":")
	case !strings.HasPrefix(fn, "arn:") && len(parts) == 4: // ACCOUNT:function:NAME:QUALIFIER
		return strings.Join(parts[:3], ":")
	case len(parts) == 2:
		return parts[0]
	}
	return fn
}

// command walks a local function's command: a non-empty list of strings,
// or one string (the executable without arguments).
func (w *walker) command(n *yaml.Node, path string) ([]string, bool) {
	const what = `a command, such as ["./bin/handler", "--flag"]`
	v := resolve(n)
	var items []*yaml.Node
	switch {
	case v.Kind == yaml.SequenceNode:
		items, _ = w.list(n, path, what)
	case v.Kind == yaml.ScalarNode && !isNull(v):
		items = []*yaml.Node{n}
	default:
		w.errorf(n, path, "expected %s, got %s", what, describe(n))
		return nil, false
	}
	if len(items) == 0 {
		w.errorf(n, path, "the command is empty; name the executable first")
		return nil, false
	}
	var out []string
	for i, it := range items {
		s, ok := w.str(it, index(path, i), "a string")
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	if out[0] == "" || strings.ContainsRune(out[0], 0) {
		w.errorf(items[0], index(path, 0), "the executable name is empty")
		return nil, false
	}
	if strings.ContainsRune(out[0], '/') && !filepath.IsAbs(out[0]) {
		out[0] = w.resolvePath(out[0])
	}
	return out, true
}

// stringMap walks a mapping of string to string.
func (w *walker) stringMap(n *yaml.Node, path string) (map[string]string, bool) {
	v := resolve(n)
	if isNull(v) {
		return nil, true
	}
	if v.Kind != yaml.MappingNode {
		w.errorf(n, path, "expected a mapping of names to values, got %s", describe(n))
		return nil, false
	}
	m := make(map[string]string)
	ok := true
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := resolve(v.Content[i]).Value
		val, good := w.str(v.Content[i+1], join(path, k), "a string")
		if !good {
			ok = false
			continue
		}
		if k == "" || strings.ContainsAny(k, "=\x00") {
			w.errorf(v.Content[i], join(path, k), "%s is not an environment variable name", quote(k))
			ok = false
			continue
		}
		m[k] = val
	}
	return m, ok
}

// recordAge walks maximum_record_age: -1 (no limit, the default) or a
// duration from 60s to 7 days.
func (w *walker) recordAge(n *yaml.Node, path string) (time.Duration, bool) {
	v := resolve(n)
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!int" {
		if v.Value == "-1" {
			return -1, true
		}
		e := w.errorf(n, path, "invalid maximum_record_age %s: use -1 (no limit) or a duration with a unit", v.Value)
		e.Hint = fmt.Sprintf("write %ss for %s seconds", v.Value, v.Value)
		return 0, false
	}
	return w.duration(n, path, MinRecordAge, MaxRecordAge)
}

// onFailure walks on_failure.
func (w *walker) onFailure(n *yaml.Node, path string, dst **OnFailure) bool {
	of := &OnFailure{}
	b := w.mapping(n, path, append(awsFields(&of.AWS),
		required(stringField("destination", &of.Destination, "a destination", nil))))
	if !b.valid("destination") || !allValid(b) {
		return false
	}
	dpath := join(path, "destination")
	d := strings.TrimSpace(of.Destination)
	const hint = `use "file:PATH", "discard", an SQS queue ARN, an SNS topic ARN, an S3 bucket ARN or "kafka://TOPIC"`
	switch {
	case d == "discard":
		of.Discard = true
	case strings.HasPrefix(d, "file:"):
		p := strings.TrimPrefix(strings.TrimPrefix(d, "file:"), "//")
		if msg, hint := checkFilePath(p); msg != "" {
			w.errorf(b.at("destination"), dpath, "%s", msg).Hint = hint
			return false
		}
		of.File = w.resolvePath(p)
	case sqsARNRe.MatchString(d):
		of.SQSQueueURL, _, _ = queueURL(d, of.AWS.EndpointURL)
		if of.AWS.Region == "" {
			of.AWS.Region = sqsARNRe.FindStringSubmatch(d)[1]
		}
	case snsARNRe.MatchString(d):
		of.SNSTopicARN = d
		if of.AWS.Region == "" {
			of.AWS.Region = snsARNRe.FindStringSubmatch(d)[1]
		}
	case s3ARNRe.MatchString(d):
		of.S3Bucket = s3ARNRe.FindStringSubmatch(d)[1]
	case kafkaTopic.MatchString(d):
		of.KafkaTopic = kafkaTopic.FindStringSubmatch(d)[1]
	default:
		w.errorf(b.at("destination"), dpath, "unknown destination %s", quote(d)).Hint = hint
		return false
	}
	if of.Discard || of.File != "" || of.KafkaTopic != "" {
		for _, k := range []string{"region", "role_arn", "external_id", "endpoint_url"} {
			if b.has(k) {
				w.errorf(b.at(k), join(path, k), "%s applies to SQS, SNS and S3 destinations", k)
				return false
			}
		}
	}
	*dst = of
	return true
}
