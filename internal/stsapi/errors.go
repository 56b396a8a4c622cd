package stsapi

import (
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/penstock-dev/penstock/internal/awstest"
)

// apiError is an error answer. Every error the endpoint answers on its
// own is the caller's fault (Type Sender).
type apiError = awstest.APIError

var newError = awstest.NewAPIError

// validationError is STS's ValidationError, its answer to parameters
// that break the model's constraints.
func validationError(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "ValidationError", format, args...)
}

// errorResponse is STS's error document.
type errorResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error   struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

// writeError answers with e in STS's error document.
func writeError(w http.ResponseWriter, id string, e *apiError) {
	doc := &errorResponse{RequestID: id}
	doc.Error.Type, doc.Error.Code, doc.Error.Message = "Sender", e.Code, e.Message
	write(w, id, e.Status, doc)
}

// write answers with status and doc marshalled as XML.
func write(w http.ResponseWriter, id string, status int, doc any) {
	b, _ := xml.Marshal(doc) // plain structs of strings: nothing to fail
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-RequestId", id)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
