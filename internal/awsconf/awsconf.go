// Package awsconf builds the AWS configuration every AWS client of Penstock
// uses (function, queue, topic and bucket targets, on-failure destinations):
// the SDK's default credential chain, a region, an optional role to assume
// and an optional endpoint. Clients built from it do not retry on their own:
// the pipeline's retry policy decides when to try again. Clients of calls
// made once, outside any pipeline's retries (an MSK cluster's brokers
// looked up, penstock check's EC2 calls), retry with OneShot.
package awsconf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Settings say how to reach AWS. Zero fields take the SDK's defaults.
type Settings struct {
	// Region is the AWS region; default from the environment (AWS_REGION)
	// or the shared config's profile.
	Region string
	// RoleARN, when set, is assumed (with STS AssumeRole) on top of the
	// default credentials; the credentials are refreshed before they expire.
	RoleARN string
	// ExternalID is passed to AssumeRole when the role requires one.
	ExternalID string
	// SessionName names the assumed-role session; default "penstock".
	SessionName string
	// EndpointURL replaces the service's endpoint (a local emulator such as
	// LocalStack, or a VPC endpoint). Each client applies it with
	// BaseEndpoint.
	EndpointURL string
}

// Load returns the AWS configuration for s. Credentials come from the
// SDK's default chain: environment, shared config and credentials files
// (AWS_PROFILE), web identity, ECS container or EC2 instance role.
//
// AWS_CA_BUNDLE, when set, names extra CA certificates the SDK trusts; when
// it is set to a file that cannot be read, Load says so rather than failing
// somewhere inside the SDK.
func Load(ctx context.Context, s Settings) (aws.Config, error) {
	if b := os.Getenv("AWS_CA_BUNDLE"); b != "" {
		if _, err := os.Stat(b); err != nil {
			return aws.Config{}, fmt.Errorf("AWS_CA_BUNDLE=%s cannot be read (%v): fix or unset it", b, err)
		}
	}
	var opts []func(*config.LoadOptions) error
	if s.Region != "" {
		opts = append(opts, config.WithRegion(s.Region))
	}
	// The pipeline retries; the SDK's own retries would only hide failures
	// and stretch the backoff.
	opts = append(opts, config.WithRetryMaxAttempts(1))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	// Wrapped after loading: the SDK adds AWS_CA_BUNDLE to its own client.
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = awshttp.NewBuildableClient()
	}
	cfg.HTTPClient = memoryBodies{cfg.HTTPClient}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set region in the config, or AWS_REGION in the environment")
	}
	if s.RoleARN != "" {
		name := s.SessionName
		if name == "" {
			name = "penstock"
		}
		stsClient := sts.NewFromConfig(cfg)
		prov := stscreds.NewAssumeRoleProvider(stsClient, s.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = name
			if s.ExternalID != "" {
				o.ExternalID = aws.String(s.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(prov)
	}
	return cfg, nil
}

// Endpoint returns a client option setter's value for BaseEndpoint: nil
// when s has no endpoint.
func (s Settings) Endpoint() *string {
	if s.EndpointURL == "" {
		return nil
	}
	return aws.String(s.EndpointURL)
}

// RegionOf returns the region of an ARN (arn:PARTITION:SERVICE:REGION:…),
// or "" when it has none.
func RegionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

// OneShotMaxBackoff bounds the wait between two attempts of a OneShot
// client (tests shorten it).
var OneShotMaxBackoff = 5 * time.Second

// OneShot sets the retry policy of a client made from Load's configuration
// for calls made once rather than per batch, given its options' Retryer
// and RetryMaxAttempts: the SDK's standard retries, three attempts with
// backoff and jitter, on throttling (AWS throttles control-plane calls per
// account) and transient network errors.
//
//	awsec2.NewFromConfig(cfg, func(o *awsec2.Options) { awsconf.OneShot(&o.Retryer, &o.RetryMaxAttempts) })
func OneShot(retryer *aws.Retryer, maxAttempts *int) {
	*retryer = retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.MaxBackoff = OneShotMaxBackoff
	})
	*maxAttempts = 0 // else the configuration's single attempt caps the retryer
}
