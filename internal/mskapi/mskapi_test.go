package mskapi

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/aws/aws-sdk-go-v2/service/kafka/types"
	"github.com/aws/smithy-go"

	"github.com/penstock-dev/penstock/internal/awsconf"
)

const (
	region  = "eu-west-1"
	akid    = "AKIDMSKTEST"
	secret  = "msk-secret"
	cluster = "arn:aws:kafka:eu-west-1:111122223333:cluster/demo/0b8c1f2e-1111-2222-3333-444455556666-2"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{Region: region, AccessKeyID: akid, SecretAccessKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func client(s *Server, key, sec string) *kafka.Client {
	return kafka.New(kafka.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(key, sec, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
}

func TestGetBootstrapBrokers(t *testing.T) {
	s := start(t)
	s.AddCluster(cluster, Brokers{
		Plaintext:                "b-1.demo:9092,b-2.demo:9092",
		TLS:                      "b-1.demo:9094,b-2.demo:9094",
		SaslScram:                "b-1.demo:9096,b-2.demo:9096",
		SaslIam:                  "b-1.demo:9098,b-2.demo:9098",
		PublicSaslIam:            "b-1-public.demo:9198",
		VpcConnectivitySaslScram: "b-1-vpc.demo:14001",
	})
	out, err := client(s, akid, secret).GetBootstrapBrokers(context.Background(),
		&kafka.GetBootstrapBrokersInput{ClusterArn: aws.String(cluster)})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		got  *string
		want string
	}{
		"plaintext":  {out.BootstrapBrokerString, "b-1.demo:9092,b-2.demo:9092"},
		"tls":        {out.BootstrapBrokerStringTls, "b-1.demo:9094,b-2.demo:9094"},
		"scram":      {out.BootstrapBrokerStringSaslScram, "b-1.demo:9096,b-2.demo:9096"},
		"iam":        {out.BootstrapBrokerStringSaslIam, "b-1.demo:9098,b-2.demo:9098"},
		"public iam": {out.BootstrapBrokerStringPublicSaslIam, "b-1-public.demo:9198"},
		"vpc scram":  {out.BootstrapBrokerStringVpcConnectivitySaslScram, "b-1-vpc.demo:14001"},
	} {
		if aws.ToString(c.got) != c.want {
			t.Errorf("%s: got %q, want %q", name, aws.ToString(c.got), c.want)
		}
	}
	if out.BootstrapBrokerStringPublicTls != nil || out.BootstrapBrokerStringVpcConnectivityTls != nil {
		t.Errorf("unset strings must be absent: %+v", out)
	}
	if n := s.Requests("GetBootstrapBrokers"); n != 1 {
		t.Errorf("Requests = %d, want 1", n)
	}
}

func TestDescribeClusterV2(t *testing.T) {
	s := start(t)
	serverless := "arn:aws:kafka:eu-west-1:111122223333:cluster/sls/aaaa-1"
	s.AddCluster(cluster, Brokers{TLS: "b-1:9094", SaslIam: "b-1:9098"})
	s.AddCluster(serverless, Brokers{Serverless: true, SaslIam: "boot-x.c1.kafka-serverless.eu-west-1.amazonaws.com:9098"})
	c := client(s, akid, secret)

	out, err := c.DescribeClusterV2(context.Background(), &kafka.DescribeClusterV2Input{ClusterArn: aws.String(cluster)})
	if err != nil {
		t.Fatal(err)
	}
	ci := out.ClusterInfo
	if ci.ClusterType != types.ClusterTypeProvisioned || aws.ToString(ci.ClusterName) != "demo" || ci.State != types.ClusterStateActive {
		t.Errorf("provisioned: %+v", ci)
	}
	if ci.Provisioned == nil || ci.Provisioned.ClientAuthentication == nil ||
		!aws.ToBool(ci.Provisioned.ClientAuthentication.Sasl.Iam.Enabled) ||
		aws.ToBool(ci.Provisioned.ClientAuthentication.Sasl.Scram.Enabled) {
		t.Errorf("provisioned client authentication: %+v", ci.Provisioned)
	}

	out, err = c.DescribeClusterV2(context.Background(), &kafka.DescribeClusterV2Input{ClusterArn: aws.String(serverless)})
	if err != nil {
		t.Fatal(err)
	}
	if out.ClusterInfo.ClusterType != types.ClusterTypeServerless || out.ClusterInfo.Serverless == nil {
		t.Errorf("serverless: %+v", out.ClusterInfo)
	}
}

func TestErrors(t *testing.T) {
	s := start(t)
	forbidden := "arn:aws:kafka:eu-west-1:444455556666:cluster/other/bbbb-2"
	s.AddCluster(forbidden, Brokers{Forbidden: true, SaslIam: "x:9098"})
	c := client(s, akid, secret)
	ctx := context.Background()

	_, err := c.GetBootstrapBrokers(ctx, &kafka.GetBootstrapBrokersInput{ClusterArn: aws.String(cluster)})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.InvalidParameter) != "clusterArn" {
		t.Errorf("unknown cluster: got %v, want NotFoundException", err)
	}
	_, err = c.DescribeClusterV2(ctx, &kafka.DescribeClusterV2Input{ClusterArn: aws.String(forbidden)})
	var fb *types.ForbiddenException
	if !errors.As(err, &fb) {
		t.Errorf("forbidden cluster: got %v, want ForbiddenException", err)
	}

	s.AddCluster(cluster, Brokers{SaslIam: "b:9098"})
	_, err = client(s, akid, "wrong").GetBootstrapBrokers(ctx, &kafka.GetBootstrapBrokersInput{ClusterArn: aws.String(cluster)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
		t.Errorf("wrong secret: got %v, want InvalidSignatureException", err)
	}
	if s.SignatureFailures() != 1 {
		t.Errorf("SignatureFailures = %d, want 1", s.SignatureFailures())
	}
	if n := s.Requests("GetBootstrapBrokers"); n != 1 {
		t.Errorf("Requests = %d, want 1 (refused requests are not counted)", n)
	}
}

// Throttled requests answer TooManyRequestsException, which the SDK types,
// and count; the next ones are served.
func TestThrottle(t *testing.T) {
	s := start(t)
	s.AddCluster(cluster, Brokers{SaslIam: "b:9098"})
	c := client(s, akid, secret)
	ctx := context.Background()
	s.Throttle(2)
	for i := range 2 {
		_, err := c.GetBootstrapBrokers(ctx, &kafka.GetBootstrapBrokersInput{ClusterArn: aws.String(cluster)})
		var tm *types.TooManyRequestsException
		if !errors.As(err, &tm) {
			t.Errorf("request %d: got %v, want TooManyRequestsException", i, err)
		}
	}
	out, err := c.GetBootstrapBrokers(ctx, &kafka.GetBootstrapBrokersInput{ClusterArn: aws.String(cluster)})
	if err != nil || aws.ToString(out.BootstrapBrokerStringSaslIam) != "b:9098" {
		t.Errorf("after the throttled ones: %v, %v", out, err)
	}
	if n := s.Requests("GetBootstrapBrokers"); n != 3 {
		t.Errorf("Requests = %d, want 3", n)
	}
}
