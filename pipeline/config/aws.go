package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/penstock-dev/penstock/internal/objkey"
	"github.com/penstock-dev/penstock/internal/template"
)

// AWS says how an AWS client reaches its service. Credentials come from the
// SDK's default chain (environment, shared config and profile, web
// identity, container or instance role).
type AWS struct {
	// Region is the service's region; default the one in the resource's
	// ARN, else AWS_REGION or the profile's.
	Region string
	// RoleARN is a role to assume on top of the default credentials.
	RoleARN string
	// ExternalID is passed when assuming RoleARN.
	ExternalID string
	// EndpointURL replaces the service's endpoint (e.g. LocalStack).
	EndpointURL string
}

// SQSTarget sends one message per record to an SQS queue.
type SQSTarget struct {
	AWS
	// QueueURL is the queue's URL (given as a URL, or derived from an ARN).
	QueueURL string
	// InputTemplate renders message bodies; empty sends ESM records.
	InputTemplate string
	// MessageGroupID renders FIFO group ids; empty uses the record key.
	MessageGroupID string
	// MessageAttributes sends record headers as message attributes;
	// default true.
	MessageAttributes bool
}

// SNSTarget publishes one message per record to an SNS topic.
type SNSTarget struct {
	AWS
	// TopicARN is the topic.
	TopicARN string
	// InputTemplate renders messages; empty sends ESM records.
	InputTemplate string
	// MessageGroupID renders FIFO group ids; empty uses the record key.
	MessageGroupID string
	// MessageAttributes sends record headers as message attributes;
	// default true.
	MessageAttributes bool
}

// S3Target writes one object per batch.
type S3Target struct {
	AWS
	// Bucket is the bucket's name.
	Bucket string
	// Key is the object key template; default
	// {topic}/{partition}/{first_offset}-{last_offset}.jsonl (+ .gz).
	Key string
	// Format is "jsonl" (ESM records, default) or "raw" (values).
	Format string
	// InputTemplate renders each line instead of Format.
	InputTemplate string
	// Gzip compresses objects.
	Gzip bool
	// ContentType overrides the objects' content type.
	ContentType string
	// Metadata is added to every object's user metadata.
	Metadata map[string]string
	// MultipartThreshold is the size from which objects are uploaded in
	// parts; default 16 MiB.
	MultipartThreshold int64
	// PartSize is the multipart part size; default 8 MiB, at least 5 MiB.
	PartSize int64
}

var (
	sqsARNRe   = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:sqs:([a-z0-9-]+):(\d{12}):([a-zA-Z0-9_-]{1,80}(\.fifo)?)$`)
	snsARNRe   = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:sns:([a-z0-9-]+):(\d{12}):([a-zA-Z0-9_-]{1,256}(\.fifo)?)$`)
	s3ARNRe    = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$`)
	bucketRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	roleARNRe  = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	kafkaTopic = regexp.MustCompile(`^kafka://([a-zA-Z0-9._-]{1,249})$`)
)

func checkRoleARN(s string) (msg, hint string) {
	if !roleARNRe.MatchString(s) {
		return fmt.Sprintf("%s is not an IAM role ARN", quote(s)), "write arn:aws:iam::ACCOUNT:role/NAME"
	}
	return "", ""
}

// awsFields are the fields every AWS target and destination takes.
func awsFields(a *AWS) []field {
	return []field{
		stringField("region", &a.Region, "an AWS region", checkRegion),
		stringField("role_arn", &a.RoleARN, "an IAM role ARN", checkRoleARN),
		stringField("external_id", &a.ExternalID, "an external id", nil),
		stringField("endpoint_url", &a.EndpointURL, "a URL", checkEndpoint),
	}
}

// checkTemplate compiles an input template at load.
func (w *walker) templateField(key string, dst *string) field {
	return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
		s, ok := w.str(n, path, "a template")
		if !ok {
			return false
		}
		if _, err := template.Compile(s, ""); err != nil {
			w.errorf(n, path, "invalid template: %v", err)
			return false
		}
		*dst = s
		return true
	}}
}

func (w *walker) sqsTarget(n *yaml.Node, path string) (*SQSTarget, bool) {
	t := &SQSTarget{MessageAttributes: true}
	var queue string
	b := w.mapping(n, path, append(awsFields(&t.AWS),
		required(stringField("queue", &queue, "a queue URL or ARN", nil)),
		w.templateField("input_template", &t.InputTemplate),
		w.templateField("message_group_id", &t.MessageGroupID),
		boolField("message_attributes", &t.MessageAttributes),
	))
	if !b.ok || !allValid(b) {
		return nil, false
	}
	u, region, err := queueURL(queue, t.EndpointURL)
	if err != nil {
		w.errorf(b.at("queue"), join(path, "queue"), "%v", err).Hint = "write the queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) or ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)"
		return nil, false
	}
	t.QueueURL = u
	if t.Region == "" {
		t.Region = region
	}
	if b.has("message_group_id") && !strings.HasSuffix(t.QueueURL, ".fifo") {
		w.errorf(b.at("message_group_id"), join(path, "message_group_id"), "message_group_id applies to FIFO queues (names ending in .fifo)")
		return nil, false
	}
	return t, true
}

// queueURL returns the URL and region of a queue given as URL or ARN.
func queueURL(q, endpoint string) (string, string, error) {
	if m := sqsARNRe.FindStringSubmatch(q); m != nil {
		base := "https://sqs." + m[1] + ".amazonaws.com"
		if endpoint != "" {
			base = strings.TrimRight(endpoint, "/")
		}
		return base + "/" + m[2] + "/" + m[3], m[1], nil
	}
	u, err := url.Parse(q)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Count(strings.Trim(u.Path, "/"), "/") != 1 {
		return "", "", fmt.Errorf("%s is not an SQS queue URL or ARN", quote(q))
	}
	region := ""
	if parts := strings.Split(u.Host, "."); len(parts) >= 4 && parts[0] == "sqs" {
		region = parts[1]
	}
	return q, region, nil
}

func (w *walker) snsTarget(n *yaml.Node, path string) (*SNSTarget, bool) {
	t := &SNSTarget{MessageAttributes: true}
	b := w.mapping(n, path, append(awsFields(&t.AWS),
		required(stringField("topic_arn", &t.TopicARN, "a topic ARN", func(s string) (string, string) {
			if !snsARNRe.MatchString(s) {
				return fmt.Sprintf("%s is not an SNS topic ARN", quote(s)), "write arn:aws:sns:REGION:ACCOUNT:NAME"
			}
			return "", ""
		})),
		w.templateField("input_template", &t.InputTemplate),
		w.templateField("message_group_id", &t.MessageGroupID),
		boolField("message_attributes", &t.MessageAttributes),
	))
	if !b.ok || !allValid(b) {
		return nil, false
	}
	if t.Region == "" {
		t.Region = snsARNRe.FindStringSubmatch(t.TopicARN)[1]
	}
	if b.has("message_group_id") && !strings.HasSuffix(t.TopicARN, ".fifo") {
		w.errorf(b.at("message_group_id"), join(path, "message_group_id"), "message_group_id applies to FIFO topics (names ending in .fifo)")
		return nil, false
	}
	return t, true
}

func (w *walker) s3Target(n *yaml.Node, path string) (*S3Target, bool) {
	t := &S3Target{Format: "jsonl", MultipartThreshold: 16 << 20, PartSize: 8 << 20}
	b := w.mapping(n, path, append(awsFields(&t.AWS),
		required(stringField("bucket", &t.Bucket, "a bucket name", func(s string) (string, string) {
			if !bucketRe.MatchString(s) {
				return fmt.Sprintf("%s is not a bucket name: 3 to 63 lower-case letters, digits, '.' and '-'", quote(s)), ""
			}
			return "", ""
		})),
		stringField("key", &t.Key, "a key template", func(s string) (string, string) {
			if _, err := objkey.Parse(s); err != nil {
				return err.Error(), ""
			}
			return "", ""
		}),
		enumField("format", &t.Format, []string{"jsonl", "raw"}, nil),
		w.templateField("input_template", &t.InputTemplate),
		boolField("gzip", &t.Gzip),
		stringField("content_type", &t.ContentType, "a content type", nil),
		field{key: "metadata", decode: func(w *walker, n *yaml.Node, path string) bool {
			var ok bool
			t.Metadata, ok = w.stringMap(n, path)
			return ok
		}},
		sizeField("multipart_threshold", &t.MultipartThreshold, 5<<20, 5<<30),
		sizeField("part_size", &t.PartSize, 5<<20, 5<<30),
	))
	if !b.ok || !allValid(b) {
		return nil, false
	}
	if b.has("format") && b.has("input_template") {
		w.errorf(b.at("format"), join(path, "format"), "set format or input_template, not both")
		return nil, false
	}
	return t, true
}

// allValid reports whether every field given in b was valid.
func allValid(b block) bool {
	for _, k := range b.order {
		if !b.valid(k) {
			return false
		}
	}
	return true
}
