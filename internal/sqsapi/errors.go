package sqsapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// errorShape is an SQS error the service model declares: its shape name
// (the "__type" of a JSON error), the code of the query protocol that the
// X-Amzn-Query-Error header carries (and that the SDK reports as the
// error's ErrorCode), and its HTTP status.
type errorShape struct {
	shape, query string
	status       int
}

// modeled lists the errors of the SQS model (KMS ones aside), from the
// awsQueryError traits of the aws-sdk-go-v2 sqs schemas.
var modeled = []errorShape{
	{"BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400},
	{"BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400},
	{"EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400},
	{"InvalidAddress", "InvalidAddress", 404},
	{"InvalidAttributeName", "InvalidAttributeName", 400},
	{"InvalidAttributeValue", "InvalidAttributeValue", 400},
	{"InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400},
	{"InvalidIdFormat", "InvalidIdFormat", 400},
	{"InvalidMessageContents", "InvalidMessageContents", 400},
	{"InvalidSecurity", "InvalidSecurity", 403},
	{"MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400},
	{"OverLimit", "OverLimit", 403},
	{"PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403},
	{"QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently", 400},
	{"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400},
	{"QueueNameExists", "QueueAlreadyExists", 400},
	{"ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404},
	{"RequestThrottled", "RequestThrottled", 403},
	{"ResourceNotFoundException", "ResourceNotFoundException", 404},
	{"TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400},
	{"UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400},
}

// lookupShape finds a modeled error by shape name or query code.
func lookupShape(code string) (errorShape, bool) {
	for _, e := range modeled {
		if e.shape == code || e.query == code {
			return e, true
		}
	}
	return errorShape{}, false
}

// apiError is an error answer, or the failure of one batch entry.
type apiError struct {
	status int
	// shape is the "__type" name without the namespace.
	shape string
	// query is the query-protocol code: the X-Amzn-Query-Error code and a
	// failed batch entry's Code.
	query  string
	sender bool
	msg    string
	// commit marks an injected fault answered after the call was carried
	// out.
	commit bool
}

func (e *apiError) Error() string { return e.query + ": " + e.msg }

// newError builds the error for code, a modeled shape name or query
// code, or any other code (which is then both). status 0 means the
// modeled status, else 400 for sender faults and 500 for the others.
func newError(code string, status int, sender bool, format string, args ...any) *apiError {
	e := &apiError{status: status, shape: code, query: code, sender: sender, msg: fmt.Sprintf(format, args...)}
	if m, ok := lookupShape(code); ok {
		e.shape, e.query = m.shape, m.query
		if status == 0 {
			e.status = m.status
		}
	}
	if e.status == 0 {
		switch {
		case code == "InternalError" || code == "InternalFailure":
			e.status = http.StatusInternalServerError
		case code == "ServiceUnavailable":
			e.status = http.StatusServiceUnavailable
		case sender:
			e.status = http.StatusBadRequest
		default:
			e.status = http.StatusInternalServerError
		}
	}
	return e
}

// Shorthands for the errors the endpoint answers with on its own.

func invalidParameterValue(format string, args ...any) *apiError {
	return newError("InvalidParameterValue", 400, true, format, args...)
}

func missingParameter(name string) *apiError {
	return newError("MissingParameter", 400, true, "The request must contain the parameter %s.", name)
}

func queueDoesNotExist() *apiError {
	return newError("QueueDoesNotExist", 0, true, "The specified queue does not exist.")
}

// errorNamespace prefixes the "__type" of the JSON errors SQS sends.
const errorNamespace = "com.amazonaws.sqs#"

// writeError answers with an SQS error in the JSON protocol: status, the
// X-Amzn-Query-Error header "CODE;Sender|Receiver" (from which the SDK
// takes the error code, its awsQueryCompatible mode) and the body
// {"__type":"com.amazonaws.sqs#SHAPE","message":...}.
func writeError(w http.ResponseWriter, id string, e *apiError) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{errorNamespace + e.shape, e.msg})
	fault := "Receiver"
	if e.sender {
		fault = "Sender"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", id)
	h.Set("X-Amzn-Query-Error", e.query+";"+fault)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.status)
	w.Write(b)
}

// writeResult answers 200 with v as the JSON body; a nil v sends an empty
// body, as SQS does for operations without output.
func writeResult(w http.ResponseWriter, id string, v any) {
	var b []byte
	if v != nil {
		b, _ = json.Marshal(v)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", id)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
