package secrets

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// SecretsManagerAPI is the part of the Secrets Manager client a Resolver
// uses; *secretsmanager.Client implements it.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ClientsFromConfig returns a client factory for NewResolver: for region
// "" a Secrets Manager client of cfg (as awsconf.Load returns it), for any
// other region the same client in that region. optFns apply to every
// client after the region is set (e.g. BaseEndpoint for an emulator).
func ClientsFromConfig(cfg aws.Config, optFns ...func(*secretsmanager.Options)) func(ctx context.Context, region string) (SecretsManagerAPI, error) {
	return func(_ context.Context, region string) (SecretsManagerAPI, error) {
		if region == "" && cfg.Region == "" {
			return nil, errors.New("no AWS region for Secrets Manager: configure one, or name the secret by ARN")
		}
		fns := append([]func(*secretsmanager.Options){func(o *secretsmanager.Options) {
			if region != "" {
				o.Region = region
			}
		}}, optFns...)
		return secretsmanager.NewFromConfig(cfg, fns...), nil
	}
}

// client returns the Secrets Manager client of region ("" for the
// default), building it on first use.
func (r *Resolver) client(ctx context.Context, ref Ref, region string) (SecretsManagerAPI, error) {
	if r.sm == nil {
		return nil, refError(ref, nil, nil, "secretsmanager references are not available here (no AWS Secrets Manager client configured); use env: or file:")
	}
	r.mu.Lock()
	c := r.clients[region]
	r.mu.Unlock()
	if c != nil {
		return c, nil
	}
	// Built without the lock: loading AWS configuration may take a while.
	// Two callers may build one each; the first stored wins.
	c, err := r.sm(ctx, region)
	if err != nil {
		where := "the default region"
		if region != "" {
			where = "region " + region
		}
		return nil, refError(ref, nil, err, "cannot make a Secrets Manager client for %s", where)
	}
	if c == nil {
		return nil, refError(ref, nil, nil, "no Secrets Manager client for region %q", region)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev := r.clients[region]; prev != nil {
		return prev, nil
	}
	r.clients[region] = c
	return c, nil
}

// fetchSecretsManager reads the current version of a secret.
func (r *Resolver) fetchSecretsManager(ctx context.Context, ref Ref) ([]byte, bool, error) {
	region := ref.Region()
	c, err := r.client(ctx, ref, region)
	if err != nil {
		return nil, false, err
	}
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.Name)})
	if err != nil {
		return nil, false, smError(ctx, ref, regionName(c, region), err)
	}
	switch {
	case out.SecretString != nil:
		return []byte(*out.SecretString), false, nil
	case out.SecretBinary != nil:
		return out.SecretBinary, true, nil
	}
	return nil, false, refError(ref, ErrNotFound, nil, "Secrets Manager returned neither SecretString nor SecretBinary")
}

// regionName names the region a client works in, for messages.
func regionName(c SecretsManagerAPI, region string) string {
	if region != "" {
		return region
	}
	if o, ok := c.(interface{ Options() secretsmanager.Options }); ok && o.Options().Region != "" {
		return o.Options().Region
	}
	return "the default region"
}

// credentialCodes are the errors AWS answers refused credentials with.
var credentialCodes = map[string]bool{
	"UnrecognizedClientException":         true,
	"InvalidClientTokenId":                true,
	"InvalidSignatureException":           true,
	"SignatureDoesNotMatch":               true,
	"IncompleteSignatureException":        true,
	"MissingAuthenticationTokenException": true,
	"ExpiredTokenException":               true,
	"ExpiredToken":                        true,
}

// smError explains a GetSecretValue failure: what happened and what to do.
func smError(ctx context.Context, ref Ref, region string, err error) error {
	var (
		nf  *types.ResourceNotFoundException
		df  *types.DecryptionFailure
		ir  *types.InvalidRequestException
		ise *types.InternalServiceError
		ae  smithy.APIError
		re  *smithyhttp.ResponseError
		ne  net.Error
	)
	switch {
	case ctx.Err() != nil:
		return refError(ref, nil, err, "fetching it from Secrets Manager in %s was cut short", region)
	case errors.As(err, &nf):
		if strings.Contains(nf.ErrorMessage(), "secret value") {
			return refError(ref, ErrNotFound, err, "the secret has no current value (no version labelled AWSCURRENT)")
		}
		return refError(ref, ErrNotFound, err, "Secrets Manager has no such secret in %s (check the name or ARN, the region and the account)", region)
	case errors.As(err, &df):
		return refError(ref, ErrAccessDenied, err, "Secrets Manager cannot decrypt the secret: the caller needs kms:Decrypt on the secret's KMS key, and the key must be enabled")
	case errors.As(err, &ir) && strings.Contains(ir.ErrorMessage(), "deletion"):
		return refError(ref, ErrNotFound, err, "the secret is scheduled for deletion (restore it with RestoreSecret)")
	case errors.As(err, &ise):
		return refError(ref, ErrUnavailable, err, "Secrets Manager failed; it may work again later")
	case errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException":
		return refError(ref, ErrAccessDenied, err, "access denied: the caller needs secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its KMS key if that is a customer managed key)")
	case errors.As(err, &ae) && credentialCodes[ae.ErrorCode()]:
		return refError(ref, ErrAccessDenied, err, "AWS refused the credentials (check the credential chain or role, and the clock)")
	case errors.As(err, &ae) && isThrottle(ae.ErrorCode()):
		return refError(ref, ErrUnavailable, err, "Secrets Manager is throttling; it may work again later")
	case errors.As(err, &re) && re.HTTPStatusCode() >= 500:
		return refError(ref, ErrUnavailable, err, "Secrets Manager failed; it may work again later")
	case errors.As(err, &ne):
		return refError(ref, ErrUnavailable, err, "Secrets Manager in %s cannot be reached", region)
	}
	return refError(ref, nil, err, "fetching it from Secrets Manager in %s failed", region)
}

func isThrottle(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}
