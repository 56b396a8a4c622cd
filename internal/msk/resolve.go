package msk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/aws/aws-sdk-go-v2/service/kafka/types"
)

// Access is how the pipeline authenticates to the cluster, decided by its
// SourceAccessConfigurations: the strongest one given wins, as in Lambda.
type Access string

// The accesses, strongest first.
const (
	// AccessMTLS is mutual TLS (CLIENT_CERTIFICATE_TLS_AUTH secret).
	AccessMTLS Access = "mtls"
	// AccessSCRAM is SASL/SCRAM over TLS (SASL_SCRAM_*_AUTH secret).
	AccessSCRAM Access = "scram"
	// AccessIAM is SASL AWS_MSK_IAM (no secret, IAM enabled).
	AccessIAM Access = "iam"
	// AccessTLS is unauthenticated TLS.
	AccessTLS Access = "tls"
	// AccessPlaintext is unauthenticated plaintext.
	AccessPlaintext Access = "plaintext"
)

// ESM error codes a resolution failure reports.
const (
	// CodeConfigNotValid is a configuration that cannot work: unknown
	// cluster, a listener the cluster lacks, an access a serverless
	// cluster does not support.
	CodeConfigNotValid = "ESM_CONFIG_NOT_VALID"
	// CodeAuthzError is a refusal of the MSK API (missing kafka:
	// permissions of the role Penstock runs as).
	CodeAuthzError = "EVENT_SOURCE_AUTHZ_ERROR"
)

// Error is a failure to resolve a cluster's brokers, with the ESM error
// code a mapping reports for it. It wraps the MSK API error, if any.
type Error struct {
	// Code is the ESM error code (CodeConfigNotValid, ...).
	Code string
	// Msg says what is wrong and what to do.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

// Error returns "CODE: message[: cause]".
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// API is the part of the MSK client Resolve uses; *kafka.Client
// implements it.
type API interface {
	GetBootstrapBrokers(ctx context.Context, in *kafka.GetBootstrapBrokersInput, optFns ...func(*kafka.Options)) (*kafka.GetBootstrapBrokersOutput, error)
}

// Describer is implemented by an API that can also describe the cluster
// (*kafka.Client does). When the API given to Resolve implements it,
// Resolve tells serverless clusters apart and refuses what they do not
// support with a clear error.
type Describer interface {
	DescribeClusterV2(ctx context.Context, in *kafka.DescribeClusterV2Input, optFns ...func(*kafka.Options)) (*kafka.DescribeClusterV2Output, error)
}

// listener is one broker string of GetBootstrapBrokers and what to say
// when the cluster lacks it.
type listener struct {
	field string
	get   func(*kafka.GetBootstrapBrokersOutput) *string
	how   string
}

var (
	plaintextListener = listener{"BootstrapBrokerString (plaintext, port 9092)",
		func(o *kafka.GetBootstrapBrokersOutput) *string { return o.BootstrapBrokerString },
		"allow plaintext traffic between clients and brokers (EncryptionInTransit ClientBroker TLS_PLAINTEXT or PLAINTEXT)"}
	tlsListener = listener{"BootstrapBrokerStringTls (TLS, port 9094)",
		func(o *kafka.GetBootstrapBrokersOutput) *string { return o.BootstrapBrokerStringTls },
		"enable TLS in transit and, for mutual TLS, TLS client authentication with a private CA (ClientAuthentication.Tls), or for unauthenticated TLS, unauthenticated access"}
	scramListener = listener{"BootstrapBrokerStringSaslScram (SASL/SCRAM, port 9096)",
		func(o *kafka.GetBootstrapBrokersOutput) *string { return o.BootstrapBrokerStringSaslScram },
		"enable SASL/SCRAM client authentication (ClientAuthentication.Sasl.Scram) and associate the secret with the cluster"}
	iamListener = listener{"BootstrapBrokerStringSaslIam (SASL/IAM, port 9098)",
		func(o *kafka.GetBootstrapBrokersOutput) *string { return o.BootstrapBrokerStringSaslIam },
		"enable IAM access control (ClientAuthentication.Sasl.Iam), or configure a SCRAM or client certificate secret"}
	vpcTLSListener = listener{"BootstrapBrokerStringVpcConnectivityTls (multi-VPC, TLS)",
		func(o *kafka.GetBootstrapBrokersOutput) *string { return o.BootstrapBrokerStringVpcConnectivityTls },
		"turn on multi-VPC private connectivity for TLS client authentication on the cluster (ConnectivityInfo.VpcConnectivity.ClientAuthentication.Tls)"}
	vpcSCRAMListener = listener{"BootstrapBrokerStringVpcConnectivitySaslScram (multi-VPC, SASL/SCRAM)",
		func(o *kafka.GetBootstrapBrokersOutput) *string {
			return o.BootstrapBrokerStringVpcConnectivitySaslScram
		},
		"turn on multi-VPC private connectivity for SASL/SCRAM on the cluster (ConnectivityInfo.VpcConnectivity.ClientAuthentication.Sasl.Scram)"}
	vpcIAMListener = listener{"BootstrapBrokerStringVpcConnectivitySaslIam (multi-VPC, SASL/IAM)",
		func(o *kafka.GetBootstrapBrokersOutput) *string { return o.BootstrapBrokerStringVpcConnectivitySaslIam },
		"turn on multi-VPC private connectivity for IAM on the cluster (ConnectivityInfo.VpcConnectivity.ClientAuthentication.Sasl.Iam)"}
)

// listenerFor returns the broker string access uses on a cluster reached
// directly or through a vpc-connection.
func listenerFor(access Access, vpc bool) (listener, error) {
	if vpc {
		switch access {
		case AccessMTLS:
			return vpcTLSListener, nil
		case AccessSCRAM:
			return vpcSCRAMListener, nil
		case AccessIAM:
			return vpcIAMListener, nil
		case AccessTLS, AccessPlaintext:
			return listener{}, fmt.Errorf("a vpc-connection (multi-VPC private connectivity) supports only IAM, SASL/SCRAM and mutual TLS, not %s access: configure one of them", access)
		}
	} else {
		switch access {
		case AccessMTLS, AccessTLS:
			return tlsListener, nil
		case AccessSCRAM:
			return scramListener, nil
		case AccessIAM:
			return iamListener, nil
		case AccessPlaintext:
			return plaintextListener, nil
		}
	}
	return listener{}, fmt.Errorf("unknown access %q: want one of mtls, scram, iam, tls, plaintext", access)
}

// Resolve returns the bootstrap brokers (host:port) of the cluster arn
// names for access, as Lambda chooses them: the TLS brokers for mutual TLS
// and unauthenticated TLS, the SASL/SCRAM brokers for SCRAM, the SASL/IAM
// brokers for IAM, the plaintext ones otherwise, and their multi-VPC
// connectivity variants for a vpc-connection ARN. When the cluster lacks
// the listener access needs, Resolve fails saying which and how to enable
// it; it never falls back to a weaker listener.
//
// When api is also a Describer, the cluster is described first: a
// serverless cluster accepts only IAM, and no vpc-connection.
//
// Errors are *Error with the ESM code: CodeConfigNotValid for an unknown
// cluster and for a configuration the cluster cannot serve,
// CodeAuthzError when the MSK API refuses the caller; other API failures
// (network, throttling) are returned as they are, wrapped, to be retried.
func Resolve(ctx context.Context, api API, arn ClusterARN, access Access) ([]string, error) {
	l, err := listenerFor(access, arn.VPCConnection)
	if err != nil {
		return nil, &Error{Code: CodeConfigNotValid, Msg: fmt.Sprintf("MSK cluster %s: %v", arn, err)}
	}
	clusterARN := aws.String(arn.Cluster())
	if d, ok := api.(Describer); ok {
		out, err := d.DescribeClusterV2(ctx, &kafka.DescribeClusterV2Input{ClusterArn: clusterARN})
		if err != nil {
			return nil, apiError(arn, "DescribeClusterV2", err)
		}
		if out.ClusterInfo != nil && out.ClusterInfo.ClusterType == types.ClusterTypeServerless {
			switch {
			case arn.VPCConnection:
				return nil, &Error{Code: CodeConfigNotValid, Msg: fmt.Sprintf(
					"MSK cluster %s is serverless: a serverless cluster cannot be reached through a vpc-connection; use the cluster ARN from an account that can reach it", arn)}
			case access != AccessIAM:
				return nil, &Error{Code: CodeConfigNotValid, Msg: fmt.Sprintf(
					"MSK cluster %s is serverless and supports only IAM access, not %s: remove the secret from the source's access configuration", arn, access)}
			}
		}
	}
	out, err := api.GetBootstrapBrokers(ctx, &kafka.GetBootstrapBrokersInput{ClusterArn: clusterARN})
	if err != nil {
		return nil, apiError(arn, "GetBootstrapBrokers", err)
	}
	brokers := splitBrokers(aws.ToString(l.get(out)))
	if len(brokers) == 0 {
		return nil, &Error{Code: CodeConfigNotValid, Msg: fmt.Sprintf(
			"MSK cluster %s has no %s, which %s access needs: %s", arn, l.field, access, l.how)}
	}
	return brokers, nil
}

// apiError classifies an MSK API failure.
func apiError(arn ClusterARN, op string, err error) error {
	var nf *types.NotFoundException
	var fb *types.ForbiddenException
	var ua *types.UnauthorizedException
	switch {
	case errors.As(err, &nf):
		return &Error{Code: CodeConfigNotValid, Msg: fmt.Sprintf("MSK cluster %s does not exist (or not in region %s)", arn.Cluster(), arn.Region), Err: err}
	case errors.As(err, &fb), errors.As(err, &ua):
		return &Error{Code: CodeAuthzError, Msg: fmt.Sprintf(
			"not allowed to call kafka:%s on MSK cluster %s: grant it to the role Penstock runs as (for a vpc-connection, also in the cluster policy)", op, arn.Cluster()), Err: err}
	}
	return fmt.Errorf("MSK cluster %s: %s: %w", arn, op, err)
}

// splitBrokers splits a comma-separated broker string, dropping blanks.
func splitBrokers(s string) []string {
	var out []string
	for b := range strings.SplitSeq(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
