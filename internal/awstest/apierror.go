package awstest

import "fmt"

// APIError is an error a local endpoint answers with: the HTTP status, the
// service's error code and its message. Each endpoint writes it in its
// service's error document.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// NewAPIError returns the error code with status and a formatted message.
func NewAPIError(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}
