package engine

import (
	"context"

	awskafka "github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/msk"
	"github.com/penstock-dev/penstock/pipeline/config"
)

// mskAccess is the MSK listener a source's access mode needs.
func mskAccess(k *config.Kafka) msk.Access {
	switch {
	case k.Auth != nil && k.Auth.Mechanism == config.ClientCertificate:
		return msk.AccessMTLS
	case k.Auth != nil && (k.Auth.Mechanism == config.ScramSHA256 || k.Auth.Mechanism == config.ScramSHA512):
		return msk.AccessSCRAM
	case k.Auth != nil && k.Auth.Mechanism == config.MSKIAM:
		return msk.AccessIAM
	case k.TLS.Enabled:
		return msk.AccessTLS
	}
	return msk.AccessPlaintext
}

// mskBrokers looks up the bootstrap brokers of the source's MSK cluster
// for its access mode.
func mskBrokers(ctx context.Context, f *config.File, pc *config.Pipeline) ([]string, error) {
	m := pc.Source.Kafka.MSK
	path := pipelinePath(f, pc) + ".source.kafka.msk"
	arn, err := msk.ParseClusterARN(m.ClusterARN)
	if err != nil {
		return nil, f.Errorf(path+".cluster_arn", "%v", err)
	}
	s := settings(m.AWS)
	cfg, err := awsconf.Load(ctx, s)
	if err != nil {
		return nil, f.Errorf(path, "%v", err)
	}
	api := awskafka.NewFromConfig(cfg, func(o *awskafka.Options) {
		o.BaseEndpoint = s.Endpoint()
		awsconf.OneShot(&o.Retryer, &o.RetryMaxAttempts) // a lookup at start, or when the brokers change
	})
	brokers, err := msk.Resolve(ctx, api, arn, mskAccess(pc.Source.Kafka))
	if err != nil {
		return nil, f.Errorf(path+".cluster_arn", "%v", err)
	}
	return brokers, nil
}

// iamOpt is the SASL option of AWS_MSK_IAM, in the SASL mechanism the
// config chooses (AWS_MSK_IAM or MSK's OAUTHBEARER form): AWS credentials
// from the default chain (or the role to assume), fetched for each
// connection.
func iamOpt(ctx context.Context, f *config.File, pc *config.Pipeline) (kgo.Opt, error) {
	k := pc.Source.Kafka
	a := k.Auth.AWS
	if a.Region == "" && k.MSK != nil {
		a.Region = k.MSK.AWS.Region
	}
	cfg, err := awsconf.Load(ctx, settings(a))
	if err != nil {
		return nil, f.Errorf(pipelinePath(f, pc)+".source.kafka.auth", "%v", err)
	}
	if k.Auth.SASLMechanism == config.SASLOAuthBearer {
		return kgo.SASL(msk.OAuthMechanism(cfg.Credentials, cfg.Region)), nil
	}
	return kgo.SASL(msk.IAMMechanism(cfg.Credentials, cfg.Region)), nil
}
