package s3api

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an S3 error answer: the status, the code and message of the
// <Error> document and the extra elements S3 adds for some codes (Key,
// BucketName, UploadId, PartNumber, ...), in order.
type apiError struct {
	status  int
	code    string
	message string
	extra   [][2]string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func (e *apiError) with(name, value string) *apiError {
	e.extra = append(e.extra, [2]string{name, value})
	return e
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// The errors S3 answers, with its own wording.

func errNoSuchBucket(bucket string) *apiError {
	return errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist").with("BucketName", bucket)
}

func errNoSuchKey(key string) *apiError {
	return errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.").with("Key", key)
}

func errNoSuchUpload(id string) *apiError {
	return errorf(http.StatusNotFound, "NoSuchUpload",
		"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.").
		with("UploadId", id)
}

func errInvalidPart(id string, part int, etag string) *apiError {
	return errorf(http.StatusBadRequest, "InvalidPart",
		"One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.").
		with("UploadId", id).with("PartNumber", strconv.Itoa(part)).with("ETag", etag)
}

func errInvalidRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidRequest", format, args...)
}

func errInvalidArgument(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidArgument", format, args...)
}

func errMalformedXML() *apiError {
	return errorf(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema")
}

func errBadDigest(alg string) *apiError {
	return errorf(http.StatusBadRequest, "BadDigest", "The %s you specified did not match the calculated checksum.", alg)
}

func errNotImplemented(what string) *apiError {
	return errorf(http.StatusNotImplemented, "NotImplemented",
		"A header or query you provided implies functionality that is not implemented (%s).", what)
}

// defaultCode is the error code S3 usually answers status with.
func defaultCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "InvalidRequest"
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusNotFound:
		return "NoSuchKey"
	case http.StatusConflict:
		return "OperationAborted"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed"
	case http.StatusInternalServerError:
		return "InternalError"
	case http.StatusNotImplemented:
		return "NotImplemented"
	case http.StatusServiceUnavailable:
		return "SlowDown"
	}
	if status >= 500 {
		return "InternalError"
	}
	return "InvalidRequest"
}

// defaultMessage is S3's message for a code.
func defaultMessage(code string) string {
	switch code {
	case "SlowDown":
		return "Please reduce your request rate."
	case "InternalError":
		return "We encountered an internal error. Please try again."
	case "ServiceUnavailable":
		return "Service is unable to handle request."
	case "AccessDenied":
		return "Access Denied"
	case "PreconditionFailed":
		return "At least one of the pre-conditions you specified did not hold"
	}
	return code
}

// errorDocument renders S3's error XML.
func errorDocument(e *apiError, requestID, hostID string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	xml.EscapeText(&b, []byte(e.code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(e.message))
	b.WriteString("</Message>")
	for _, kv := range e.extra {
		fmt.Fprintf(&b, "<%s>", kv[0])
		xml.EscapeText(&b, []byte(kv[1]))
		fmt.Fprintf(&b, "</%s>", kv[0])
	}
	b.WriteString("<RequestId>" + requestID + "</RequestId><HostId>" + hostID + "</HostId></Error>")
	return b.Bytes()
}

// writeError answers with e. HEAD answers carry no body, as S3's do; the
// SDK then derives the code from the status (404 is NotFound).
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	h := w.Header()
	body := errorDocument(e, h.Get("X-Amz-Request-Id"), h.Get("X-Amz-Id-2"))
	h.Set("Content-Type", "application/xml")
	if r.Method == http.MethodHead {
		w.WriteHeader(e.status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	w.Write(body)
}
