package msk

import (
	"context"
	"fmt"
	"net"

	"github.com/aws/aws-msk-iam-sasl-signer-go/signer"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// OAuthMechanismName is the SASL mechanism name of MSK IAM access in its
// OAUTHBEARER form.
const OAuthMechanismName = "OAUTHBEARER"

// OAuthMechanism returns MSK IAM access in its OAUTHBEARER form: the
// bearer token is a SigV4-presigned kafka-cluster:Connect URL made by AWS's
// MSK IAM SASL signer, with credentials retrieved from creds for each
// connection, so that refreshed or assumed-role credentials are used as
// they rotate.
//
// The token is signed for the region a broker's MSK host name carries
// (*.REGION.amazonaws.com), or for region for any other host.
func OAuthMechanism(creds aws.CredentialsProvider, region string) sasl.Mechanism {
	return &oauthMechanism{creds: creds, region: region}
}

type oauthMechanism struct {
	creds  aws.CredentialsProvider
	region string
}

func (m *oauthMechanism) Name() string { return OAuthMechanismName }

func (m *oauthMechanism) Authenticate(ctx context.Context, hostport string) (sasl.Session, []byte, error) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, nil, err
	}
	region := hostRegion(host)
	if region == "" {
		region = m.region
	}
	if region == "" {
		return nil, nil, fmt.Errorf("MSK IAM authentication (OAUTHBEARER): no region to sign for broker %s", hostport)
	}
	if m.creds == nil {
		return nil, nil, fmt.Errorf("MSK IAM authentication (OAUTHBEARER): no AWS credentials")
	}
	token, _, err := signer.GenerateAuthTokenFromCredentialsProvider(ctx, region, m.creds)
	if err != nil {
		return nil, nil, fmt.Errorf("MSK IAM authentication (OAUTHBEARER): %w", err)
	}
	return oauth.Auth{Token: token}.AsMechanism().Authenticate(ctx, hostport)
}
