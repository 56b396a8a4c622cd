package sqsapi

import (
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
)

// FaultFunc decides which requests fail, and how; it is Options.Fault.
//
// It is called once for every request whose signature verified and whose
// body parsed, with entryIndex -1: the call as a whole. entry then carries
// only Queue, the name of the queue the request addresses (from its
// QueueUrl, or its QueueName for CreateQueue and GetQueueUrl), whether or
// not it exists. A Fault with a Code fails the call; one with only a Delay
// slows it down.
//
// For SendMessage, SendMessageBatch and DeleteMessageBatch it is then
// called once per entry that passed validation, in request order, with
// the entry's index (0 for SendMessage) and contents. A Fault fails that
// entry alone: a SendMessageBatch or DeleteMessageBatch entry is reported
// in Failed with the Fault's Code, Message and SenderFault, and the call
// still succeeds; for SendMessage the whole call fails with the Fault.
// Entry faults' Delay is ignored.
//
// The operation names are those of the X-Amz-Target header: CreateQueue,
// GetQueueUrl, GetQueueAttributes, SendMessage, SendMessageBatch,
// ReceiveMessage, DeleteMessage, DeleteMessageBatch and PurgeQueue.
//
// A FaultFunc may be called from several requests at once and must not
// call the Server's methods.
type FaultFunc = awstest.EntryFaults[Fault, Entry]

// Entry is what a FaultFunc sees of a request or of one of its entries.
type Entry struct {
	// Queue is the name of the queue the request addresses.
	Queue string
	// ID is the batch entry's Id; "" for SendMessage and whole calls.
	ID string
	// Body, Attributes, GroupID and DeduplicationID are those of a
	// message being sent. DeduplicationID is the one given, not one
	// derived from the content.
	Body            string
	Attributes      map[string]Attribute
	GroupID         string
	DeduplicationID string
	// ReceiptHandle is a DeleteMessageBatch entry's.
	ReceiptHandle string
}

// Fault is an injected failure; see FaultFunc. The zero Fault does
// nothing.
type Fault struct {
	// Code is the error code. A modeled SQS error may be named by its
	// shape (RequestThrottled, QueueDoesNotExist, ...) or by its query
	// code (AWS.SimpleQueueService.NonExistentQueue, ...): the SDK then
	// returns the typed error (*types.RequestThrottled, ...). Any other
	// code (InternalError, ThrottlingException, ServiceUnavailable, ...)
	// reaches the SDK as a smithy.GenericAPIError with that code. Empty
	// means no failure, only Delay.
	Code string
	// Message is the error message; empty picks a standard one.
	Message string
	// Status is the HTTP status of a failed call; 0 means the modeled
	// status for a modeled Code, 500 for InternalError, 503 for
	// ServiceUnavailable, else 400 when SenderFault is set and 500 when
	// not.
	Status int
	// SenderFault says the failure is the client's: it is the
	// SenderFault of a failed batch entry and, for a failed call, makes
	// X-Amzn-Query-Error end in ";Sender" rather than ";Receiver".
	SenderFault bool
	// Delay holds a call's answer back this long before anything is
	// done; when the client gives up first, the call has no effect and
	// nothing is answered.
	Delay time.Duration
	// Commit carries the call (or the entry) out as if it had succeeded
	// and only then answers with the failure: a lost acknowledgement.
	// Messages sent that way are stored, and a later resend with the same
	// deduplication id is a duplicate.
	Commit bool
}

// Throttle is SQS's own throttling error: RequestThrottled, HTTP 403,
// which the SDK returns as *types.RequestThrottled and its retryer treats
// as throttling.
func Throttle() *Fault {
	return &Fault{Code: "RequestThrottled", Message: "Request is throttled.", SenderFault: true}
}

// Throttling is the throttling error common to AWS services,
// ThrottlingException "Rate exceeded", HTTP 400 (a
// smithy.GenericAPIError for the SDK, which retries it as throttling).
func Throttling() *Fault {
	return &Fault{Code: "ThrottlingException", Message: "Rate exceeded", Status: 400, SenderFault: true}
}

// InternalError is SQS's internal failure: InternalError, HTTP 500.
func InternalError() *Fault {
	return &Fault{Code: "InternalError", Message: "We encountered an internal error. Please try again.", Status: 500}
}

// Slow delays a call by d and then serves it normally.
func Slow(d time.Duration) *Fault { return &Fault{Delay: d} }

// EntryFailure is a batch entry failure with the given Code, Message and
// SenderFault (real SQS reports its own trouble with SenderFault false).
func EntryFailure(code, message string, senderFault bool) *Fault {
	return &Fault{Code: code, Message: message, SenderFault: senderFault}
}

// OnCall fails every call of op ("" for any operation) with f.
func OnCall(op string, f *Fault) FaultFunc { return awstest.OnCall[Fault, Entry](op, f) }

// OnEntry fails every entry of op ("" for any operation with entries)
// with f.
func OnEntry(op string, f *Fault) FaultFunc { return awstest.OnEntry[Fault, Entry](op, f) }

// Randomly passes on next's faults with probability rate (0..1) each,
// and drops the others. The draws come from a PCG generator seeded with
// seed, one per fault next returns, so the same seed and the same order
// of requests always fail the same calls or entries.
func Randomly(rate float64, seed uint64, next FaultFunc) FaultFunc {
	return awstest.Randomly(rate, seed, next)
}

// FailEntriesRandomly fails a fraction rate of SendMessageBatch entries,
// chosen as by Randomly, the way SQS reports its own trouble with an
// entry: Code InternalError, SenderFault false.
func FailEntriesRandomly(rate float64, seed uint64) FaultFunc {
	return Randomly(rate, seed, OnEntry("SendMessageBatch",
		EntryFailure("InternalError", "We encountered an internal error. Please try again.", false)))
}

// FirstN passes on the first n faults next returns and none after: a
// service that recovers, for testing retries.
func FirstN(n int64, next FaultFunc) FaultFunc { return awstest.FirstN(n, next) }

// Chain asks each FaultFunc in turn and returns the first fault.
func Chain(fs ...FaultFunc) FaultFunc { return awstest.Chain(fs...) }

// asError turns an injected fault into the error it answers with.
func (f *Fault) asError() *apiError {
	msg := f.Message
	if msg == "" {
		msg = defaultFaultMessage(f.Code)
	}
	e := newError(f.Code, f.Status, f.SenderFault, "%s", msg)
	e.commit = f.Commit
	return e
}

func defaultFaultMessage(code string) string {
	switch code {
	case "RequestThrottled":
		return "Request is throttled."
	case "ThrottlingException":
		return "Rate exceeded"
	case "InternalError":
		return "We encountered an internal error. Please try again."
	case "ServiceUnavailable":
		return "Service is unavailable. Please try again later."
	}
	return "Injected failure."
}
