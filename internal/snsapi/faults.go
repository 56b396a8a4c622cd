package snsapi

import (
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
)

// FaultFunc decides which requests fail, and how; it is Options.Fault.
//
// It is called once for every request whose signature verified, with
// entryIndex -1: the call as a whole. entry then carries only Topic, the
// topic ARN the request addresses (TopicArn, or TargetArn for Publish; ""
// for CreateTopic and ListTopics), whether or not the topic exists. A
// Fault with a Code fails the call; one with only a Delay slows it down.
//
// For Publish and PublishBatch it is then called once per message that
// passed validation, in request order, with the entry's index (0 for
// Publish) and contents. A Fault fails that message alone: a PublishBatch
// entry is reported in Failed with the Fault's Code, Message and
// SenderFault, and the call still succeeds; for Publish the whole call
// fails with the Fault. Entry faults' Delay is ignored.
//
// The operation names are the Action parameter's: CreateTopic,
// GetTopicAttributes, DeleteTopic, ListTopics, Publish and PublishBatch.
//
// A FaultFunc may be called from several requests at once and must not
// call the Server's methods.
type FaultFunc = awstest.EntryFaults[Fault, Entry]

// Entry is what a FaultFunc sees of a request or of one of its messages.
type Entry struct {
	// Topic is the ARN of the topic the request addresses.
	Topic string
	// ID is the batch entry's Id; "" for Publish and whole calls.
	ID string
	// Message, Subject, MessageStructure, Attributes, GroupID and
	// DeduplicationID are those of a message being published.
	// DeduplicationID is the one given, not one derived from the content.
	Message          string
	Subject          string
	MessageStructure string
	Attributes       map[string]Attribute
	GroupID          string
	DeduplicationID  string
}

// Fault is an injected failure; see FaultFunc. The zero Fault does
// nothing.
type Fault struct {
	// Code is the error code of the query protocol: a modeled one
	// (Throttled, InternalError, NotFound, InvalidParameter,
	// KMSThrottling, ...) reaches the SDK as its type
	// (*types.ThrottledException, *types.InternalErrorException, ...),
	// any other (Throttling, ServiceUnavailable, ...) as a
	// smithy.GenericAPIError with that code. Empty means no failure, only
	// Delay.
	Code string
	// Message is the error message; empty picks a standard one.
	Message string
	// Status is the HTTP status of a failed call; 0 means the modeled
	// status for a modeled Code, 503 for ServiceUnavailable, else 400 when
	// SenderFault is set and 500 when not.
	Status int
	// SenderFault says the failure is the client's: it is the SenderFault
	// of a failed batch entry and, for a failed call, makes the error's
	// Type "Sender" rather than "Receiver".
	SenderFault bool
	// Delay holds a call's answer back this long before anything is done;
	// when the client gives up first, the call has no effect and nothing
	// is answered.
	Delay time.Duration
	// Commit carries the call (or the entry) out as if it had succeeded
	// and only then answers with the failure: a lost acknowledgement.
	// Messages published that way are recorded, and a later publish with
	// the same deduplication id to a FIFO topic is a duplicate.
	Commit bool
}

// Throttle is what SNS answers when a publish rate quota is exceeded:
// Throttling "Rate exceeded", HTTP 400, type Sender (a
// smithy.GenericAPIError for the SDK, whose retryer treats it as
// throttling).
func Throttle() *Fault {
	return &Fault{Code: "Throttling", Message: "Rate exceeded", Status: 400, SenderFault: true}
}

// Throttled is SNS's modeled throttling error: Throttled, HTTP 429, which
// the SDK returns as *types.ThrottledException. The SDK's default
// retryer does not retry it.
func Throttled() *Fault {
	return &Fault{Code: "Throttled", Message: "Rate exceeded", SenderFault: true}
}

// InternalError is SNS's internal failure: InternalError, HTTP 500
// (*types.InternalErrorException).
func InternalError() *Fault {
	return &Fault{Code: "InternalError", Message: "Internal Error", Status: 500}
}

// Slow delays a call by d and then serves it normally.
func Slow(d time.Duration) *Fault { return &Fault{Delay: d} }

// EntryFailure is a batch entry failure with the given Code, Message and
// SenderFault (real SNS reports its own trouble with SenderFault false).
func EntryFailure(code, message string, senderFault bool) *Fault {
	return &Fault{Code: code, Message: message, SenderFault: senderFault}
}

// OnCall fails every call of op ("" for any operation) with f.
func OnCall(op string, f *Fault) FaultFunc { return awstest.OnCall[Fault, Entry](op, f) }

// OnEntry fails every message of op ("" for Publish and PublishBatch)
// with f.
func OnEntry(op string, f *Fault) FaultFunc { return awstest.OnEntry[Fault, Entry](op, f) }

// Randomly passes on next's faults with probability rate (0..1) each,
// and drops the others. The draws come from a PCG generator seeded with
// seed, one per fault next returns, so the same seed and the same order
// of requests always fail the same calls or entries.
func Randomly(rate float64, seed uint64, next FaultFunc) FaultFunc {
	return awstest.Randomly(rate, seed, next)
}

// FailEntriesRandomly fails a fraction rate of PublishBatch entries,
// chosen as by Randomly, the way SNS reports its own trouble with an
// entry: Code InternalError, SenderFault false.
func FailEntriesRandomly(rate float64, seed uint64) FaultFunc {
	return Randomly(rate, seed, OnEntry("PublishBatch", EntryFailure("InternalError", "Internal Error", false)))
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
		switch f.Code {
		case "Throttling", "Throttled":
			msg = "Rate exceeded"
		case "InternalError":
			msg = "Internal Error"
		case "ServiceUnavailable":
			msg = "Service Unavailable"
		default:
			msg = "Injected failure."
		}
	}
	e := newError(f.Code, f.Status, f.SenderFault, "%s", msg)
	e.commit = f.Commit
	return e
}
