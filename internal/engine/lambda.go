package engine

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/pipeline/config"
	"github.com/penstock-dev/penstock/targets/file"
	"github.com/penstock-dev/penstock/targets/lambda"
	"github.com/penstock-dev/penstock/targets/lambda/localfn"
)

// buildLambda creates the function target of pc.
func buildLambda(ctx context.Context, f *config.File, pc *config.Pipeline, src esm.Source, log *slog.Logger) (*lambda.Target, error) {
	lt := pc.Target.Lambda
	var inv lambda.Invoker
	if len(lt.Command) > 0 {
		fn, err := localfn.Start(ctx, localfn.Options{
			Command:      lt.Command,
			Dir:          filepath.Dir(f.Path),
			Env:          lt.Environment,
			FunctionName: pc.Name,
			MemoryMB:     lt.MemorySize,
			Timeout:      lt.Timeout,
			Concurrency:  lt.Concurrency,
			Logger:       log.With("pipeline", pc.Name),
		})
		if err != nil {
			return nil, f.Errorf(pipelinePath(f, pc)+".target.lambda.command", "%v", err)
		}
		inv = lambda.LocalFunction{F: fn}
	} else {
		api, region, err := lambdaClient(ctx, lt)
		if err != nil {
			return nil, f.Errorf(pipelinePath(f, pc)+".target.lambda", "%v", err)
		}
		if inv, err = lambda.NewAWSFunction(api, lt.Function, lt.Qualifier, region); err != nil {
			return nil, err
		}
	}
	return lambda.New(lambda.Options{
		Invoker:                 inv,
		Source:                  src,
		PayloadLimit:            int(lt.PayloadLimit),
		ReportBatchItemFailures: pc.Retry.ReportBatchItemFailures,
		Logger:                  log.With("pipeline", pc.Name),
	})
}

// lambdaClient returns a Lambda client with the SDK's default credential
// chain, the target's region and endpoint. The client does not retry: the
// pipeline's retry policy decides.
func lambdaClient(ctx context.Context, lt *config.LambdaTarget) (*awslambda.Client, string, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if lt.Region != "" {
		opts = append(opts, awsconfig.WithRegion(lt.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, "", fmt.Errorf("no AWS region: set target.lambda.region, use a function ARN, or set AWS_REGION")
	}
	c := awslambda.NewFromConfig(cfg, func(o *awslambda.Options) {
		o.RetryMaxAttempts = 1
		if lt.EndpointURL != "" {
			o.BaseEndpoint = aws.String(lt.EndpointURL)
		}
	})
	return c, cfg.Region, nil
}

// buildOnFailure creates the on-failure handler of pc, or nil.
func buildOnFailure(f *config.File, pc *config.Pipeline, targetARN string, src esm.Source, log *slog.Logger) (pipeline.FailureHandler, error) {
	of := pc.OnFailure
	switch {
	case of == nil:
		return nil, nil
	case of.Discard:
		return discard{log: log.With("pipeline", pc.Name)}, nil
	case of.File != "":
		h, err := file.OpenFailures(of.File, esm.NewFailureRecord(targetARN, src, false))
		if err != nil {
			return nil, f.Errorf(pipelinePath(f, pc)+".on_failure.destination", "%v", err)
		}
		return h, nil
	}
	return nil, fmt.Errorf("pipeline %q: unsupported on_failure destination %q", pc.Name, of.Destination)
}

// discard is the "discard" on-failure destination: records are logged and
// dropped, as the ESM drops them without a destination.
type discard struct{ log *slog.Logger }

func (d discard) HandleFailure(_ context.Context, f *pipeline.Failure) error {
	d.log.Warn("records given up and discarded", "partition", f.TopicPartition.String(), "condition", string(f.Condition),
		"records", len(f.Records), "first_offset", f.Records[0].Offset, "last_offset", f.Records[len(f.Records)-1].Offset,
		"attempts", f.Attempts)
	return nil
}

func (discard) Close(context.Context) error { return nil }

// pipelinePath is the config path of pc, e.g. pipelines[2].
func pipelinePath(f *config.File, pc *config.Pipeline) string {
	for i := range f.Pipelines {
		if f.Pipelines[i].Name == pc.Name {
			return fmt.Sprintf("pipelines[%d]", i)
		}
	}
	return "pipelines"
}

// targetName names a pipeline's target in on-failure records: the
// function's ARN, or the kind of target.
func targetName(pc *config.Pipeline) string {
	switch t := pc.Target; {
	case t.File != nil:
		return "file:" + t.File.Path
	case t.Stdout != nil:
		return "stdout"
	}
	return strings.ToLower(pc.Name)
}
