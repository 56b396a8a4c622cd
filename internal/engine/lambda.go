package engine

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/pipeline/config"
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
	s := awsconf.Settings{Region: lt.Region, EndpointURL: lt.EndpointURL}
	cfg, err := awsconf.Load(ctx, s)
	if err != nil {
		return nil, "", err
	}
	c := awslambda.NewFromConfig(cfg, func(o *awslambda.Options) { o.BaseEndpoint = s.Endpoint() })
	return c, cfg.Region, nil
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

// targetName names a file or stdout target in on-failure records.
func targetName(pc *config.Pipeline) string {
	if t := pc.Target; t.File != nil {
		return "file:" + t.File.Path
	}
	return "stdout"
}
