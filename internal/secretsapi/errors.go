package secretsapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/penstock-dev/penstock/internal/awstest"
)

// apiError is an error answer.
type apiError = awstest.APIError

// errAborted marks a call whose client went away during an injected
// delay: nothing is done and nothing answered.
var errAborted = &apiError{}

// statusOf is the HTTP status Secrets Manager answers code with: 500 for
// its internal error, 503 for ServiceUnavailable, 400 for everything else
// (AccessDeniedException and ThrottlingException included).
func statusOf(code string) int {
	switch code {
	case "InternalServiceError", "InternalFailure":
		return http.StatusInternalServerError
	case "ServiceUnavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// newError builds the error code answers with.
func newError(code, format string, args ...any) *apiError {
	return awstest.NewAPIError(statusOf(code), code, format, args...)
}

// Shorthands for the errors the endpoint answers with on its own, worded
// as Secrets Manager words them.

func secretNotFound() *apiError {
	return newError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func invalidParameter(format string, args ...any) *apiError {
	return newError("InvalidParameterException", format, args...)
}

func invalidRequest(format string, args ...any) *apiError {
	return newError("InvalidRequestException", format, args...)
}

// validation words a constraint failure the way AWS's request validation
// does.
func validation(member, constraint string) *apiError {
	return newError("ValidationException", "1 validation error detected: Value at '%s' failed to satisfy constraint: %s", member, constraint)
}

func missing(member string) *apiError {
	return newError("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// writeError answers with a Secrets Manager error in the AWS JSON 1.1
// protocol: the status and the body {"__type":CODE,"Message":...}, the
// member spelled as the model spells it.
func writeError(w http.ResponseWriter, id string, e *apiError) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
	}{e.Code, e.Message})
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", id)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	w.Write(b)
}

// writeResult answers 200 with v as the JSON body.
func writeResult(w http.ResponseWriter, id string, v any) {
	b, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", id)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
