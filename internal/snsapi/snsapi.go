// Package snsapi is a local Amazon SNS endpoint for tests: topics and
// the messages published to them held in memory, served on 127.0.0.1 in
// the wire protocol the current aws-sdk-go-v2 sns client speaks (AWS
// Query: POST / with a form-encoded body Action=...&Version=2010-03-31,
// XML responses), with every request's SigV4 signature verified, so that
// the real client parses its answers into the same typed results and
// errors as AWS's.
//
// It implements CreateTopic, GetTopicAttributes, DeleteTopic, ListTopics,
// Publish and PublishBatch, with the rules that matter to a producer:
// batch limits (10 entries, distinct and well-formed Ids, the topic's
// MaximumMessageSize in all), message size (body and attributes, 256 KiB
// unless the topic's MaximumMessageSize says otherwise), attributes,
// subjects and JSON message structures, and FIFO topics (required
// MessageGroupId, MessageDeduplicationId or content-based deduplication,
// a 5-minute deduplication window, sequence numbers). A duplicate publish
// succeeds with the MessageId and SequenceNumber of the message it
// duplicates and records nothing. Nothing is delivered anywhere:
// Published returns what was accepted.
//
// Errors are sent as SNS sends them: the model's HTTP status and
// <ErrorResponse><Error><Type>Sender|Receiver</Type><Code>..</Code>
// <Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>;
// the SDK turns modeled codes (NotFound, InvalidParameter,
// TooManyEntriesInBatchRequest, ...) into their types
// (*types.NotFoundException, ...).
//
// Options.Fault injects failures into whole calls or single batch
// entries; see FaultFunc and the helpers Throttle, Throttled,
// InternalError, Slow, EntryFailure, OnCall, OnEntry, Randomly,
// FailEntriesRandomly, FirstN and Chain.
package snsapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

// Limits of SNS that the endpoint applies.
const (
	// DefaultMaxMessageSize is the default MaximumMessageSize of a topic,
	// the largest message (body and attributes) and batch it accepts:
	// 256 KiB.
	DefaultMaxMessageSize = 256 << 10
	// MaxMessageSizeLimit is the largest MaximumMessageSize a topic may
	// have: 1 MiB.
	MaxMessageSizeLimit = 1 << 20
	// MaxBatchEntries is the most entries a PublishBatch may carry.
	MaxBatchEntries = 10
	// DeduplicationInterval is how long a FIFO topic remembers a
	// deduplication id.
	DeduplicationInterval = 5 * time.Minute
	// listPage is how many topics a ListTopics page holds.
	listPage = 100
)

// Options configures Start.
type Options struct {
	// Region is the region requests must be signed for and topic ARNs
	// name; empty means us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
	// AccountID is the account that owns the topics, in their ARNs;
	// empty means 000000000000.
	AccountID string
	// Logger receives a debug record per request and a warning per
	// refused signature; nil discards.
	Logger *slog.Logger
	// Fault injects failures; nil injects none. See FaultFunc.
	Fault FaultFunc
	// MaxMessageSize is the MaximumMessageSize of topics created without
	// one, in bytes; 0 means DefaultMaxMessageSize.
	MaxMessageSize int
	// Now is the clock of the topics: publish times and the deduplication
	// window. nil means time.Now. Signatures are always checked against
	// time.Now.
	Now func() time.Time
}

// Message is a message accepted by a topic, as Published returns it.
type Message struct {
	// MessageID is the id SNS gave the message.
	MessageID string
	// Message is the message body; Subject and MessageStructure are as
	// given ("" when not).
	Message          string
	Subject          string
	MessageStructure string
	// Attributes are the message attributes.
	Attributes map[string]Attribute
	// GroupID is the MessageGroupId; DeduplicationID the
	// MessageDeduplicationId given or, with content-based deduplication,
	// the SHA-256 of the message in hex; SequenceNumber the FIFO sequence
	// number. Only GroupID may be set for a standard topic.
	GroupID         string
	DeduplicationID string
	SequenceNumber  string
	// PublishedAt is when the message was accepted, by Options.Now.
	PublishedAt time.Time
}

// Server is a running local SNS endpoint. Its URL, Close and
// SignatureFailures are those of the embedded awstest.Endpoint.
type Server struct {
	*awstest.Endpoint
	opts Options

	mu       sync.Mutex
	topics   map[string]*topic // by name
	order    []string          // topic names in creation order
	requests map[string]int
}

// Start listens on a random port of 127.0.0.1 and serves the SNS API
// until Close.
func Start(opts Options) (*Server, error) {
	e, err := awstest.NewEndpoint(awstest.EndpointOptions{
		Name: "snsapi", Service: "sns", Region: opts.Region, Logger: opts.Logger,
		AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey,
	})
	if err != nil {
		return nil, err
	}
	opts.Region = e.Creds.Region
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = DefaultMaxMessageSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		Endpoint: e,
		opts:     opts,
		topics:   map[string]*topic{},
		requests: map[string]int{},
	}
	if err := s.Serve(http.HandlerFunc(s.serveAPI), nil, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// TopicARN returns the ARN of the topic called name, whether or not it
// exists: arn:aws:sns:REGION:ACCOUNT:NAME.
func (s *Server) TopicARN(name string) string {
	return "arn:aws:sns:" + s.opts.Region + ":" + s.opts.AccountID + ":" + name
}

// CreateTopic creates a topic as the CreateTopic action does (or finds
// the existing one with the same attributes) and returns its ARN.
func (s *Server) CreateTopic(name string, attributes map[string]string) (string, error) {
	t, err := s.createTopic(name, attributes)
	if err != nil {
		return "", err
	}
	return t.arn, nil
}

// Published returns the messages the topic accepted, in order. topic is
// an ARN or a name; an unknown or deleted topic has none.
func (s *Server) Published(topic string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[topicName(topic)]
	if t == nil {
		return nil
	}
	out := make([]Message, len(t.msgs))
	for i, m := range t.msgs {
		out[i] = m
		out[i].Attributes = cloneAttrs(m.Attributes)
	}
	return out
}

// Requests returns how many requests for action op (e.g. "PublishBatch")
// passed signature verification, whatever their outcome.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// call is one request being served.
type call struct {
	s    *Server
	ctx  context.Context
	op   string
	form url.Values
	// deferred is the error a committed fault answers with once the call
	// is done.
	deferred *apiError
}

// errAborted marks a call whose client went away during an injected
// delay: nothing is done and nothing answered.
var errAborted = &apiError{}

type handlerFunc func(c *call) (any, *apiError)

var handlers = map[string]handlerFunc{
	"CreateTopic":        (*call).createTopic,
	"GetTopicAttributes": (*call).getTopicAttributes,
	"DeleteTopic":        (*call).deleteTopic,
	"ListTopics":         (*call).listTopics,
	"Publish":            (*call).publish,
	"PublishBatch":       (*call).publishBatch,
}

// serveAPI handles a request whose signature verified.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	id := uuid.New()
	if r.Method != http.MethodPost {
		writeError(w, id, newError("InvalidAction", 400, true, "This endpoint takes POST requests with a form-encoded body."))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, id, newError("MalformedQueryString", 400, true, "Could not read the request body: %v", err))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, id, newError("MalformedQueryString", 400, true, "The request body is not a valid form: %v", err))
		return
	}
	for k, vs := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = vs
		}
	}
	op := form.Get("Action")
	h := handlers[op]
	if h == nil {
		writeError(w, id, newError("InvalidAction", 400, true, "The action %s is not valid for this endpoint.", op))
		return
	}
	if v := form.Get("Version"); v != "" && v != "2010-03-31" {
		writeError(w, id, newError("InvalidParameterValue", 400, true, "Version %s is not supported; use 2010-03-31.", v))
		return
	}
	s.mu.Lock()
	s.requests[op]++
	s.mu.Unlock()
	c := &call{s: s, ctx: r.Context(), op: op, form: form}
	res, aerr := h(c)
	switch {
	case aerr == errAborted:
		s.Log.Debug("snsapi: client gave up during delay", "op", op)
		return
	case c.deferred != nil && aerr == nil:
		aerr = c.deferred
	}
	s.Log.Debug("snsapi: request", "op", op, "err", aerr)
	if aerr != nil {
		writeError(w, id, aerr)
		return
	}
	writeResult(w, id, op, res)
}

// fault asks Options.Fault about a call or an entry.
func (s *Server) fault(op string, i int, e *Entry) *Fault {
	if s.opts.Fault == nil {
		return nil
	}
	return s.opts.Fault(op, i, e)
}

// callFault applies the call-level fault for the topic ARN topic: waits
// out its Delay (errAborted when the client leaves first), and returns
// the error of a failed call, or defers it when it commits.
func (c *call) callFault(topic string) *apiError {
	f := c.s.fault(c.op, -1, &Entry{Topic: topic})
	if f == nil {
		return nil
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return errAborted
		}
	}
	if f.Code == "" {
		return nil
	}
	e := f.asError()
	if e.commit {
		c.deferred = e
		return nil
	}
	return e
}
