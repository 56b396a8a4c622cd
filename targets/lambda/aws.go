package lambda

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/penstock-dev/penstock/pipeline"
)

// InvokeAPI is the part of the Lambda client the target uses.
type InvokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// AWSFunction invokes an AWS Lambda function with RequestResponse
// invocations.
type AWSFunction struct {
	api       InvokeAPI
	name      string
	qualifier *string
	arn       string
}

// NewAWSFunction returns an invoker of function (a name, a name with
// ":alias" or ":version", a partial "ACCOUNT:function:NAME" or a full ARN)
// through api. qualifier, when not empty, names the alias or version.
func NewAWSFunction(api InvokeAPI, function, qualifier, region string) (*AWSFunction, error) {
	if function == "" {
		return nil, errors.New("lambda target: function is empty")
	}
	f := &AWSFunction{api: api, name: function}
	if qualifier != "" {
		f.qualifier = aws.String(qualifier)
	}
	f.arn = functionARN(function, qualifier, region)
	return f, nil
}

// functionARN names the function as on-failure records do; a bare name
// gets the region and an unknown (zero) account.
func functionARN(function, qualifier, region string) string {
	arn := function
	switch {
	case strings.HasPrefix(function, "arn:"):
	case strings.Contains(function, ":function:"):
		arn = "arn:aws:lambda:" + region + ":" + function
	default:
		arn = "arn:aws:lambda:" + region + ":000000000000:function:" + function
	}
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

// ARN implements Invoker.
func (f *AWSFunction) ARN() string { return f.arn }

// Close implements Invoker.
func (f *AWSFunction) Close(context.Context) error { return nil }

// Invoke implements Invoker. Errors the function's configuration causes and
// that retrying cannot fix (the function or qualifier does not exist, access
// is denied, the credentials are refused) are permanent and carry the reason
// FUNCTION_CONFIG_NOT_VALID; throttling, service errors and network errors
// are failed attempts; a request over the service's size limit is a batch
// fault, so bisecting can make it fit.
func (f *AWSFunction) Invoke(ctx context.Context, payload []byte) (Reply, error) {
	out, err := f.api.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   &f.name,
		Qualifier:      f.qualifier,
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		r := Reply{}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.Response != nil {
			r.StatusCode = re.Response.StatusCode
			r.RequestID = re.Response.Header.Get("X-Amzn-RequestId")
		}
		return r, classify(err, r.StatusCode, f.arn)
	}
	r := Reply{Payload: out.Payload, StatusCode: int(out.StatusCode), ExecutedVersion: aws.ToString(out.ExecutedVersion),
		FunctionError: aws.ToString(out.FunctionError)}
	if id, ok := awsmw.GetRequestIDMetadata(out.ResultMetadata); ok {
		r.RequestID = id
	}
	if r.ExecutedVersion == "" {
		r.ExecutedVersion = "$LATEST"
	}
	return r, nil
}

// classify sorts an invoke error into permanent, batch fault or retryable.
func classify(err error, status int, arn string) error {
	var (
		notFound  *types.ResourceNotFoundException
		tooLarge  *types.RequestTooLargeException
		badParam  *types.InvalidParameterValueException
		badReq    *types.InvalidRequestContentException
		kmsDenied *types.KMSAccessDeniedException
	)
	switch {
	case errors.As(err, &tooLarge) || status == http.StatusRequestEntityTooLarge:
		return pipeline.BatchFault(fmt.Errorf("invoke %s: request too large: %w", arn, err))
	case errors.As(err, &notFound), errors.As(err, &badParam), errors.As(err, &badReq), errors.As(err, &kmsDenied),
		status == http.StatusBadRequest, status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusNotFound:
		return pipeline.PermanentReason(ConfigNotValid, fmt.Errorf("invoke %s: %w", arn, err))
	}
	return fmt.Errorf("invoke %s: %w", arn, err)
}
