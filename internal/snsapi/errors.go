package snsapi

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// xmlns is the namespace of SNS's response documents.
const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

// modeledStatus gives the HTTP status of the SNS errors the endpoint
// answers with on its own or that faults name, by query code (the
// awsQueryError codes of the aws-sdk-go-v2 sns schemas).
var modeledStatus = map[string]int{
	"AuthorizationError":           403,
	"BatchEntryIdsNotDistinct":     400,
	"BatchRequestTooLong":          400,
	"EmptyBatchRequest":            400,
	"InternalError":                500,
	"InvalidBatchEntryId":          400,
	"InvalidParameter":             400,
	"ParameterValueInvalid":        400,
	"InvalidSecurity":              403,
	"KMSThrottling":                400,
	"NotFound":                     404,
	"ResourceNotFound":             404,
	"Throttled":                    429,
	"TooManyEntriesInBatchRequest": 400,
	"TopicLimitExceeded":           403,
	"ValidationException":          400,
}

// apiError is an error answer, or the failure of one batch entry.
type apiError struct {
	status int
	code   string
	sender bool
	msg    string
	// commit marks an injected fault answered after the call was carried
	// out.
	commit bool
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// newError builds an error with code; status 0 means the modeled status
// of code, else 400 for sender faults and 500 for the others.
func newError(code string, status int, sender bool, format string, args ...any) *apiError {
	e := &apiError{status: status, code: code, sender: sender, msg: fmt.Sprintf(format, args...)}
	if e.status == 0 {
		if s, ok := modeledStatus[code]; ok {
			e.status = s
		} else if code == "ServiceUnavailable" {
			e.status = http.StatusServiceUnavailable
		} else if sender {
			e.status = http.StatusBadRequest
		} else {
			e.status = http.StatusInternalServerError
		}
	}
	return e
}

// invalidParameter is SNS's InvalidParameter, whose messages read
// "Invalid parameter: ...".
func invalidParameter(format string, args ...any) *apiError {
	return newError("InvalidParameter", 0, true, "Invalid parameter: "+format, args...)
}

// parameterValueInvalid is SNS's ParameterValueInvalid
// (InvalidParameterValueException), which it answers for bad message
// attributes.
func parameterValueInvalid(format string, args ...any) *apiError {
	return newError("ParameterValueInvalid", 0, true, format, args...)
}

func notFound() *apiError {
	return newError("NotFound", 0, true, "Topic does not exist")
}

// writeError answers with an error document of the query protocol:
// <ErrorResponse><Error><Type>Sender|Receiver</Type><Code>..</Code>
// <Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>.
func writeError(w http.ResponseWriter, id string, e *apiError) {
	typ := "Receiver"
	if e.sender {
		typ = "Sender"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xmlns, typ, escape(e.code), escape(e.msg), id)
	write(w, id, e.status, b.String())
}

// writeResult answers 200 with the response document of action:
// <ActionResponse><ActionResult>..</ActionResult><ResponseMetadata>
// <RequestId>..</RequestId></ResponseMetadata></ActionResponse>. result
// is marshalled with encoding/xml and must name its element
// ActionResult; nil leaves the result out.
func writeResult(w http.ResponseWriter, id, action string, result any) {
	var inner []byte
	if result != nil {
		var err error
		if inner, err = xml.Marshal(result); err != nil {
			writeError(w, id, newError("InternalError", 500, false, "marshalling the response: %v", err))
			return
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, xmlns, inner, id, action)
	write(w, id, http.StatusOK, b.String())
}

func write(w http.ResponseWriter, id string, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-RequestId", id)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
