// Package awserr sorts the errors of the AWS targets and destinations into
// those retrying cannot fix, which stop the pipeline with the reason
// TARGET_CONFIG_NOT_VALID, and failed attempts.
package awserr

import (
	"errors"
	"fmt"
	"slices"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/penstock-dev/penstock/pipeline"
)

// TargetConfigNotValid is the state reason of a pipeline stopped because its
// queue, topic or bucket can never be written (it does not exist, access is
// denied).
const TargetConfigNotValid = "TARGET_CONFIG_NOT_VALID"

// Classify wraps err, naming the resource: permanent when the service's
// error code is one of codes, or, for an answer without an error code, when
// its HTTP status is one of statuses; a failed attempt otherwise (throttling,
// service and network errors).
func Classify(err error, resource string, codes []string, statuses ...int) error {
	wrapped := fmt.Errorf("%s: %w", resource, err)
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if slices.Contains(codes, ae.ErrorCode()) {
			return pipeline.PermanentReason(TargetConfigNotValid, wrapped)
		}
		return wrapped
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && slices.Contains(statuses, re.Response.StatusCode) {
		return pipeline.PermanentReason(TargetConfigNotValid, wrapped)
	}
	return wrapped
}
