package lambdaapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// capitalMessage lists the Lambda errors whose model spells the message
// member "Message"; every other one spells it "message". The SDK accepts
// either spelling for an error's message, but the endpoint sends what AWS
// sends.
var capitalMessage = map[string]bool{
	"CallbackTimeoutException":                true,
	"CodeSigningConfigNotFoundException":      true,
	"CodeVerificationFailedException":         true,
	"DurableExecutionAlreadyStartedException": true,
	"EC2AccessDeniedException":                true,
	"EC2ThrottledException":                   true,
	"EC2UnexpectedException":                  true,
	"EFSIOException":                          true,
	"EFSMountConnectivityException":           true,
	"EFSMountFailureException":                true,
	"EFSMountTimeoutException":                true,
	"ENILimitReachedException":                true,
	"ENINotReadyException":                    true,
	"InvalidCodeSignatureException":           true,
	"InvalidRuntimeException":                 true,
	"InvalidSecurityGroupIDException":         true,
	"InvalidSubnetIDException":                true,
	"InvalidZipFileException":                 true,
	"KMSAccessDeniedException":                true,
	"KMSDisabledException":                    true,
	"KMSInvalidStateException":                true,
	"KMSNotFoundException":                    true,
	"RecursiveInvocationException":            true,
	"ResourceNotFoundException":               true,
	"ServiceException":                        true,
	"SnapStartException":                      true,
	"SnapStartNotReadyException":              true,
	"SnapStartTimeoutException":               true,
	"SubnetIPAddressLimitReachedException":    true,
	"AccessDeniedException":                   true,
	"UnknownOperationException":               true,
}

// defaultErrorType is the error code Lambda usually answers status with.
func defaultErrorType(status int) string {
	switch status {
	case http.StatusForbidden:
		return "AccessDeniedException"
	case http.StatusNotFound:
		return "ResourceNotFoundException"
	case http.StatusConflict:
		return "ResourceConflictException"
	case http.StatusRequestEntityTooLarge:
		return "RequestTooLargeException"
	case http.StatusUnsupportedMediaType:
		return "UnsupportedMediaTypeException"
	case http.StatusTooManyRequests:
		return "TooManyRequestsException"
	case http.StatusBadGateway:
		return "ResourceNotReadyException"
	}
	if status >= 500 {
		return "ServiceException"
	}
	return "InvalidParameterValueException"
}

// defaultMessage is the message sent for an error without one.
func defaultMessage(code string) string {
	switch code {
	case "TooManyRequestsException":
		return "Rate Exceeded."
	case "ServiceException":
		return "The AWS Lambda service encountered an internal error."
	case "AccessDeniedException":
		return "User is not authorized to perform: lambda:InvokeFunction"
	case "ResourceNotFoundException":
		return "Function not found"
	}
	return code
}

// writeError answers with a Lambda service error: status, the
// X-Amzn-ErrorType header (which the SDK maps to the typed error) and the
// JSON body {"Type":"User"|"Service","message"|"Message":...} (plus Reason
// for throttling), with Retry-After when retryAfter is set.
func writeError(w http.ResponseWriter, id string, status int, code, message, reason, retryAfter string) {
	if message == "" {
		message = defaultMessage(code)
	}
	body := map[string]string{}
	if code != "UnknownOperationException" {
		body["Type"] = "User"
		if status >= 500 {
			body["Type"] = "Service"
		}
	}
	if capitalMessage[code] {
		body["Message"] = message
	} else {
		body["message"] = message
	}
	if reason != "" {
		body["Reason"] = reason
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-RequestId", id)
	h.Set("X-Amzn-ErrorType", code)
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
