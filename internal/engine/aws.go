package engine

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/objkey"
	"github.com/penstock-dev/penstock/internal/template"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/pipeline/config"
	"github.com/penstock-dev/penstock/targets/file"
	"github.com/penstock-dev/penstock/targets/kafka"
	"github.com/penstock-dev/penstock/targets/s3"
	"github.com/penstock-dev/penstock/targets/sns"
	"github.com/penstock-dev/penstock/targets/sqs"
)

func settings(a config.AWS) awsconf.Settings {
	return awsconf.Settings{Region: a.Region, RoleARN: a.RoleARN, ExternalID: a.ExternalID, EndpointURL: a.EndpointURL}
}

// compile compiles an optional template (checked at load already).
func compile(src, pipelineName string) *template.Template {
	if src == "" {
		return nil
	}
	t, err := template.Compile(src, pipelineName)
	if err != nil {
		panic(fmt.Sprintf("template checked at load does not compile: %v", err))
	}
	return t
}

func sqsClient(ctx context.Context, a config.AWS) (*awssqs.Client, error) {
	s := settings(a)
	cfg, err := awsconf.Load(ctx, s)
	if err != nil {
		return nil, err
	}
	return awssqs.NewFromConfig(cfg, func(o *awssqs.Options) { o.BaseEndpoint = s.Endpoint() }), nil
}

func snsClient(ctx context.Context, a config.AWS) (*awssns.Client, error) {
	s := settings(a)
	cfg, err := awsconf.Load(ctx, s)
	if err != nil {
		return nil, err
	}
	return awssns.NewFromConfig(cfg, func(o *awssns.Options) { o.BaseEndpoint = s.Endpoint() }), nil
}

func s3Client(ctx context.Context, a config.AWS) (*awss3.Client, error) {
	s := settings(a)
	cfg, err := awsconf.Load(ctx, s)
	if err != nil {
		return nil, err
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.BaseEndpoint = s.Endpoint()
		// Custom endpoints (emulators, VPC endpoints by IP) rarely serve
		// virtual-hosted buckets.
		o.UsePathStyle = s.EndpointURL != ""
	}), nil
}

// buildAWSTarget creates an SQS, SNS or S3 target, and the name on-failure
// records give it.
func buildAWSTarget(ctx context.Context, f *config.File, pc *config.Pipeline) (pipeline.Target, string, error) {
	path := pipelinePath(f, pc) + ".target"
	switch t := pc.Target; {
	case t.SQS != nil:
		c, err := sqsClient(ctx, t.SQS.AWS)
		if err != nil {
			return nil, "", f.Errorf(path+".sqs", "%v", err)
		}
		tg, err := sqs.New(sqs.Options{API: c, QueueURL: t.SQS.QueueURL, Body: compile(t.SQS.InputTemplate, pc.Name),
			Group: compile(t.SQS.MessageGroupID, pc.Name), Attributes: t.SQS.MessageAttributes})
		return tg, t.SQS.QueueURL, err
	case t.SNS != nil:
		c, err := snsClient(ctx, t.SNS.AWS)
		if err != nil {
			return nil, "", f.Errorf(path+".sns", "%v", err)
		}
		tg, err := sns.New(sns.Options{API: c, TopicARN: t.SNS.TopicARN, Body: compile(t.SNS.InputTemplate, pc.Name),
			Group: compile(t.SNS.MessageGroupID, pc.Name), Attributes: t.SNS.MessageAttributes})
		return tg, t.SNS.TopicARN, err
	case t.S3 != nil:
		c, err := s3Client(ctx, t.S3.AWS)
		if err != nil {
			return nil, "", f.Errorf(path+".s3", "%v", err)
		}
		o := s3.Options{API: c, Bucket: t.S3.Bucket, Format: s3.Format(t.S3.Format), Lines: compile(t.S3.InputTemplate, pc.Name),
			Gzip: t.S3.Gzip, ContentType: t.S3.ContentType, Metadata: t.S3.Metadata, Pipeline: pc.Name,
			MultipartThreshold: int(t.S3.MultipartThreshold), PartSize: int(t.S3.PartSize)}
		if t.S3.Key != "" {
			if o.Key, err = objkey.Parse(t.S3.Key); err != nil {
				return nil, "", f.Errorf(path+".s3.key", "%v", err)
			}
		}
		tg, err := s3.New(o)
		return tg, "arn:aws:s3:::" + t.S3.Bucket, err
	}
	return nil, "", fmt.Errorf("pipeline %q: no target", pc.Name)
}

// buildOnFailure creates the on-failure handler of pc, or nil.
func buildOnFailure(ctx context.Context, f *config.File, pc *config.Pipeline, targetARN string, src esm.Source, brokers []string, tlsCfg *tls.Config, kopts []kgo.Opt, log *slog.Logger) (pipeline.FailureHandler, error) {
	of := pc.OnFailure
	path := pipelinePath(f, pc) + ".on_failure"
	if of == nil {
		return nil, nil
	}
	rec := esm.NewFailureRecord(targetARN, src, false)
	switch {
	case of.Discard:
		return discard{log: log.With("pipeline", pc.Name)}, nil
	case of.File != "":
		h, err := file.OpenFailures(of.File, rec)
		if err != nil {
			return nil, f.Errorf(path+".destination", "%v", err)
		}
		return h, nil
	case of.SQSQueueURL != "":
		c, err := sqsClient(ctx, of.AWS)
		if err != nil {
			return nil, f.Errorf(path, "%v", err)
		}
		return sqs.NewFailures(c, of.SQSQueueURL, rec), nil
	case of.SNSTopicARN != "":
		c, err := snsClient(ctx, of.AWS)
		if err != nil {
			return nil, f.Errorf(path, "%v", err)
		}
		return sns.NewFailures(c, of.SNSTopicARN, rec), nil
	case of.S3Bucket != "":
		c, err := s3Client(ctx, of.AWS)
		if err != nil {
			return nil, f.Errorf(path, "%v", err)
		}
		return s3.NewFailures(c, of.S3Bucket, pc.Name, esm.NewFailureRecord(targetARN, src, true)), nil
	case of.KafkaTopic != "":
		h, err := kafka.NewFailures(kafka.Config{Brokers: brokers, Topic: of.KafkaTopic, TLS: tlsCfg, Opts: kopts})
		if err != nil {
			return nil, f.Errorf(path+".destination", "%v", err)
		}
		return h, nil
	}
	return nil, fmt.Errorf("pipeline %q: unsupported on_failure destination %q", pc.Name, of.Destination)
}
