package secretsapi

import (
	"sync/atomic"
	"time"
)

// FaultFunc decides which requests fail, and how; it is Options.Fault.
//
// It is called once for every request whose signature verified and whose
// body parsed, before anything is looked up, with the operation name of
// the X-Amz-Target header (GetSecretValue, CreateSecret, PutSecretValue,
// DescribeSecret) and the secret the request names as sent: its SecretId,
// or its Name for CreateSecret. A Fault with a Code fails the call; one
// with only a Delay slows it down.
//
// A FaultFunc may be called from several requests at once and must not
// call the Server's methods.
type FaultFunc func(op, secretID string) *Fault

// Fault is an injected failure; see FaultFunc. The zero Fault does
// nothing.
type Fault struct {
	// Code is the error code. A modeled Secrets Manager error
	// (ResourceNotFoundException, DecryptionFailure, InternalServiceError,
	// InvalidRequestException, ...) reaches the SDK as its type
	// (*types.DecryptionFailure, ...); any other code
	// (ThrottlingException, AccessDeniedException, ...) as a
	// smithy.GenericAPIError with that code. Empty means no failure, only
	// Delay.
	Code string
	// Message is the error message; empty picks a standard one.
	Message string
	// Status is the HTTP status; 0 means Secrets Manager's for Code: 500
	// for InternalServiceError, 503 for ServiceUnavailable, else 400.
	Status int
	// Delay holds the answer back this long before anything is done;
	// when the client gives up first, the call has no effect and nothing
	// is answered.
	Delay time.Duration
}

// Throttling is the throttling error of AWS services, ThrottlingException
// "Rate exceeded", HTTP 400, which the SDK's retryer treats as
// throttling.
func Throttling() *Fault {
	return &Fault{Code: "ThrottlingException", Message: "Rate exceeded"}
}

// InternalServiceError is Secrets Manager's own failure,
// InternalServiceError, HTTP 500 (*types.InternalServiceError).
func InternalServiceError() *Fault {
	return &Fault{Code: "InternalServiceError", Message: "An error occurred on the server side."}
}

// DecryptionFailure is the failure to decrypt a secret with its KMS key
// (*types.DecryptionFailure), as when the caller lacks kms:Decrypt or the
// key is disabled.
func DecryptionFailure() *Fault {
	return &Fault{Code: "DecryptionFailure", Message: decryptionFailureMessage}
}

const decryptionFailureMessage = "Secrets Manager can't decrypt the protected secret text using the provided KMS key."

// Slow delays a call by d and then serves it normally.
func Slow(d time.Duration) *Fault { return &Fault{Delay: d} }

// OnCall fails every call of op ("" for any operation) with f.
func OnCall(op string, f *Fault) FaultFunc {
	return func(o, _ string) *Fault {
		if op == "" || o == op {
			return f
		}
		return nil
	}
}

// OnSecret fails every call naming secretID (exactly as the request sends
// it: a name or an ARN) with f.
func OnSecret(secretID string, f *Fault) FaultFunc {
	return func(_, id string) *Fault {
		if id == secretID {
			return f
		}
		return nil
	}
}

// FirstN passes on the first n faults next returns and none after: a
// service that recovers, for testing retries.
func FirstN(n int64, next FaultFunc) FaultFunc {
	var seen atomic.Int64
	return func(op, id string) *Fault {
		f := next(op, id)
		if f == nil || seen.Add(1) > n {
			return nil
		}
		return f
	}
}

// Chain asks each FaultFunc in turn and returns the first fault.
func Chain(fs ...FaultFunc) FaultFunc {
	return func(op, id string) *Fault {
		for _, f := range fs {
			if f == nil {
				continue
			}
			if r := f(op, id); r != nil {
				return r
			}
		}
		return nil
	}
}

// asError turns an injected fault into the error it answers with.
func (f *Fault) asError() *apiError {
	msg := f.Message
	if msg == "" {
		msg = defaultFaultMessage(f.Code)
	}
	e := newError(f.Code, "%s", msg)
	if f.Status != 0 {
		e.Status = f.Status
	}
	return e
}

func defaultFaultMessage(code string) string {
	switch code {
	case "ThrottlingException":
		return "Rate exceeded"
	case "InternalServiceError":
		return "An error occurred on the server side."
	case "DecryptionFailure":
		return decryptionFailureMessage
	case "ResourceNotFoundException":
		return "Secrets Manager can't find the specified secret."
	case "ServiceUnavailable":
		return "Service is unavailable. Please try again later."
	}
	return "Injected failure."
}
