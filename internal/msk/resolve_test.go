package msk

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/aws/aws-sdk-go-v2/service/kafka/types"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/mskapi"
)

const (
	testRegion = "us-east-1"
	testKey    = "AKIDRESOLVE"
	testSecret = "resolve-secret"

	fullARN       = "arn:aws:kafka:us-east-1:111122223333:cluster/full/aaaa-1"
	iamOnlyARN    = "arn:aws:kafka:us-east-1:111122223333:cluster/iamonly/bbbb-2"
	serverlessARN = "arn:aws:kafka:us-east-1:111122223333:cluster/sls/cccc-3"
	forbiddenARN  = "arn:aws:kafka:us-east-1:111122223333:cluster/locked/dddd-4"
	remoteCluster = "arn:aws:kafka:us-east-1:444455556666:cluster/remote/eeee-5"
	vpcARN        = "arn:aws:kafka:us-east-1:111122223333:vpc-connection/444455556666/remote/eeee-5"
)

func startMSK(t *testing.T) *kafka.Client {
	t.Helper()
	s, err := mskapi.Start(mskapi.Options{Region: testRegion, AccessKeyID: testKey, SecretAccessKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddCluster(fullARN, mskapi.Brokers{
		Plaintext: "b-1.full:9092, b-2.full:9092",
		TLS:       "b-1.full:9094,b-2.full:9094",
		SaslScram: "b-1.full:9096,b-2.full:9096",
		SaslIam:   "b-1.full:9098,b-2.full:9098",
	})
	s.AddCluster(iamOnlyARN, mskapi.Brokers{SaslIam: "b-1.iam:9098"})
	s.AddCluster(serverlessARN, mskapi.Brokers{Serverless: true, SaslIam: "boot-1.sls:9098"})
	s.AddCluster(forbiddenARN, mskapi.Brokers{Forbidden: true, SaslIam: "b-1.locked:9098"})
	s.AddCluster(remoteCluster, mskapi.Brokers{
		SaslIam:                "b-1.remote:9098",
		VpcConnectivitySaslIam: "b-1-vpc.remote:14001,b-2-vpc.remote:14002",
		VpcConnectivityTLS:     "b-1-vpc.remote:14101",
	})
	return kafka.New(kafka.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(s.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.HTTPClient(),
	})
}

// brokersOnly hides the client's DescribeClusterV2.
type brokersOnly struct{ API }

func TestResolve(t *testing.T) {
	c := startMSK(t)
	tests := []struct {
		name   string
		arn    string
		access Access
		api    API
		want   []string
		code   string
		err    string
	}{
		{name: "mtls uses tls", arn: fullARN, access: AccessMTLS, want: []string{"b-1.full:9094", "b-2.full:9094"}},
		{name: "scram", arn: fullARN, access: AccessSCRAM, want: []string{"b-1.full:9096", "b-2.full:9096"}},
		{name: "iam", arn: fullARN, access: AccessIAM, want: []string{"b-1.full:9098", "b-2.full:9098"}},
		{name: "tls", arn: fullARN, access: AccessTLS, want: []string{"b-1.full:9094", "b-2.full:9094"}},
		{name: "plaintext trims blanks", arn: fullARN, access: AccessPlaintext, want: []string{"b-1.full:9092", "b-2.full:9092"}},
		{name: "no fallback from scram", arn: iamOnlyARN, access: AccessSCRAM, code: CodeConfigNotValid,
			err: "has no BootstrapBrokerStringSaslScram (SASL/SCRAM, port 9096), which scram access needs: enable SASL/SCRAM"},
		{name: "no fallback from mtls", arn: iamOnlyARN, access: AccessMTLS, code: CodeConfigNotValid, err: "no BootstrapBrokerStringTls"},
		{name: "no plaintext", arn: iamOnlyARN, access: AccessPlaintext, code: CodeConfigNotValid, err: "no BootstrapBrokerString (plaintext"},
		{name: "serverless iam", arn: serverlessARN, access: AccessIAM, want: []string{"boot-1.sls:9098"}},
		{name: "serverless scram", arn: serverlessARN, access: AccessSCRAM, code: CodeConfigNotValid, err: "serverless and supports only IAM"},
		{name: "serverless without describe", arn: serverlessARN, access: AccessTLS, api: brokersOnly{c}, code: CodeConfigNotValid, err: "no BootstrapBrokerStringTls"},
		{name: "vpc iam", arn: vpcARN, access: AccessIAM, want: []string{"b-1-vpc.remote:14001", "b-2-vpc.remote:14002"}},
		{name: "vpc mtls", arn: vpcARN, access: AccessMTLS, want: []string{"b-1-vpc.remote:14101"}},
		{name: "vpc scram missing", arn: vpcARN, access: AccessSCRAM, code: CodeConfigNotValid, err: "no BootstrapBrokerStringVpcConnectivitySaslScram"},
		{name: "vpc plaintext", arn: vpcARN, access: AccessPlaintext, code: CodeConfigNotValid, err: "supports only IAM, SASL/SCRAM and mutual TLS"},
		{name: "unknown access", arn: fullARN, access: "kerberos", code: CodeConfigNotValid, err: `unknown access "kerberos"`},
		{name: "not found", arn: "arn:aws:kafka:us-east-1:111122223333:cluster/gone/ffff-6", access: AccessIAM, code: CodeConfigNotValid, err: "does not exist"},
		{name: "forbidden", arn: forbiddenARN, access: AccessIAM, code: CodeAuthzError, err: "not allowed to call kafka:DescribeClusterV2"},
		{name: "forbidden brokers", arn: forbiddenARN, access: AccessIAM, api: brokersOnly{c}, code: CodeAuthzError, err: "kafka:GetBootstrapBrokers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arn, err := ParseClusterARN(tt.arn)
			if err != nil {
				t.Fatal(err)
			}
			api := tt.api
			if api == nil {
				api = c
			}
			got, err := Resolve(context.Background(), api, arn, tt.access)
			if tt.code != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.code || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %s containing %q", err, tt.code, tt.err)
				}
				if !strings.HasPrefix(err.Error(), tt.code+": ") {
					t.Errorf("error %q does not start with its code", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResolveWrapsSDKErrors(t *testing.T) {
	c := startMSK(t)
	arn, _ := ParseClusterARN("arn:aws:kafka:us-east-1:111122223333:cluster/gone/ffff-6")
	_, err := Resolve(context.Background(), c, arn, AccessIAM)
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("errors.As NotFoundException failed on %v", err)
	}
}
