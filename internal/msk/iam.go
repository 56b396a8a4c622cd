package msk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/twmb/franz-go/pkg/sasl"
	awssasl "github.com/twmb/franz-go/pkg/sasl/aws"
)

// IAM SASL constants of the AWS_MSK_IAM mechanism.
const (
	// IAMMechanismName is the SASL mechanism name of MSK IAM access.
	IAMMechanismName = "AWS_MSK_IAM"
	// IAMSigningService is the service name the authentication payload is
	// signed for.
	IAMSigningService = "kafka-cluster"
	// IAMConnectAction is the action the payload asks for.
	IAMConnectAction = "kafka-cluster:Connect"
	// IAMPayloadVersion is the only payload version MSK accepts.
	IAMPayloadVersion = "2020_10_22"
)

// emptySHA256 is the hex SHA-256 of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// IAMMechanism returns the AWS_MSK_IAM SASL mechanism, signing each
// connection's authentication with credentials retrieved from creds at
// that moment, so that refreshed or assumed-role credentials are used as
// they rotate.
//
// For a broker whose host name carries its region (MSK's
// *.REGION.amazonaws.com names) it is franz-go's pkg/sasl/aws mechanism,
// which takes the region from the host. For any other host (an IP address,
// a private DNS alias) that mechanism would fall back to the AWS_REGION
// environment variable; here the payload is signed for region instead,
// with the same fields, by the SDK's SigV4 signer.
func IAMMechanism(creds aws.CredentialsProvider, region string) sasl.Mechanism {
	m := &iamMechanism{creds: creds, region: region}
	m.franz = awssasl.ManagedStreamingIAM(m.auth)
	return m
}

type iamMechanism struct {
	creds  aws.CredentialsProvider
	region string
	franz  sasl.Mechanism
}

func (m *iamMechanism) Name() string { return IAMMechanismName }

// auth retrieves the credentials for one session.
func (m *iamMechanism) auth(ctx context.Context) (awssasl.Auth, error) {
	c, err := m.retrieve(ctx)
	if err != nil {
		return awssasl.Auth{}, err
	}
	return awssasl.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken, UserAgent: userAgent}, nil
}

func (m *iamMechanism) retrieve(ctx context.Context) (aws.Credentials, error) {
	if m.creds == nil {
		return aws.Credentials{}, errors.New("MSK IAM authentication: no AWS credentials")
	}
	c, err := m.creds.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("MSK IAM authentication: AWS credentials: %w", err)
	}
	return c, nil
}

func (m *iamMechanism) Authenticate(ctx context.Context, hostport string) (sasl.Session, []byte, error) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, nil, err
	}
	if hostRegion(host) != "" {
		return m.franz.Authenticate(ctx, hostport)
	}
	if m.region == "" {
		return nil, nil, fmt.Errorf("MSK IAM authentication: no region to sign for broker %s", hostport)
	}
	c, err := m.retrieve(ctx)
	if err != nil {
		return nil, nil, err
	}
	payload, err := iamPayload(ctx, c, host, m.region, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return iamSession{}, payload, nil
}

// iamSession ends after the broker's single answer, as franz-go's does.
type iamSession struct{}

func (iamSession) Challenge(resp []byte) (bool, []byte, error) {
	if len(resp) == 0 {
		return false, nil, errors.New("MSK IAM authentication: empty response from the broker")
	}
	return true, nil, nil
}

// userAgent is the user-agent field of the payload.
var userAgent = func() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "unknown"
	}
	return "penstock/" + runtime.Version() + "/" + h
}()

// iamPayload builds the JSON authentication payload: the query parameters
// of a SigV4-presigned GET kafka://HOST/?Action=kafka-cluster:Connect
// (keys lowercased), plus host, version and user-agent.
func iamPayload(ctx context.Context, c aws.Credentials, host, region string, now time.Time) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "kafka://"+host+"/?Action="+IAMConnectAction+"&X-Amz-Expires=300", nil)
	if err != nil {
		return nil, err
	}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, c, req, emptySHA256, IAMSigningService, region, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("MSK IAM authentication: signing: %w", err)
	}
	u, err := req.URL.Parse(signed)
	if err != nil {
		return nil, err
	}
	kv := map[string]string{}
	for k, vs := range u.Query() {
		kv[strings.ToLower(k)] = vs[0]
	}
	kv["host"] = host
	kv["version"] = IAMPayloadVersion
	kv["user-agent"] = userAgent
	return json.Marshal(kv)
}

// hostRegion returns the region an AWS host name carries before its
// partition's DNS suffix, as franz-go's mechanism finds it, or "".
func hostRegion(host string) string {
	for _, suffix := range []string{".amazonaws.com", ".amazonaws.com.cn", ".c2s.ic.gov", ".sc2s.sgov.gov"} {
		if rest, ok := strings.CutSuffix(host, suffix); ok {
			if i := strings.LastIndexByte(rest, '.'); i >= 0 {
				return rest[i+1:]
			}
			return ""
		}
	}
	return ""
}
