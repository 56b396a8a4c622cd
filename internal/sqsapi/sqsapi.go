// Package sqsapi is a local Amazon SQS endpoint for tests: queues and
// messages held in memory, served on 127.0.0.1 in the wire protocol the
// current aws-sdk-go-v2 sqs client speaks (AWS JSON 1.0: POST / with
// X-Amz-Target: AmazonSQS.<Operation>, query-compatible errors), with
// every request's SigV4 signature verified, so that the real client
// parses its answers into the same typed results and errors as AWS's.
//
// It implements CreateQueue, GetQueueUrl, GetQueueAttributes, SendMessage,
// SendMessageBatch, ReceiveMessage (with long polling), DeleteMessage,
// DeleteMessageBatch and PurgeQueue, with the rules that matter to a
// producer: batch limits (10 entries, distinct and well-formed Ids, 1 MiB
// in all), message size, attribute and content rules, MD5 digests of body
// and attributes computed as SQS computes them, and FIFO queues (required
// MessageGroupId, MessageDeduplicationId or content-based deduplication,
// a 5-minute deduplication window, per-group ordering, sequence numbers).
// A duplicate send succeeds with the MessageId and SequenceNumber of the
// message it duplicates, and stores nothing.
//
// Errors are sent as SQS sends them in its JSON protocol: the HTTP status
// of the model, an X-Amzn-Query-Error header "CODE;Sender|Receiver" and a
// body {"__type":"com.amazonaws.sqs#SHAPE","message":...}. The SDK turns
// modeled errors into their types (*types.QueueDoesNotExist,
// *types.TooManyEntriesInBatchRequest, ...) whose ErrorCode is the query
// code (AWS.SimpleQueueService.NonExistentQueue, ...), and the others
// (InvalidParameterValue, MissingParameter, ...) into a
// smithy.GenericAPIError with the query code.
//
// Options.Fault injects failures into whole calls or single batch
// entries; see FaultFunc and the helpers Throttle, Throttling,
// InternalError, Slow, EntryFailure, OnCall, OnEntry, Randomly,
// FailEntriesRandomly, FirstN and Chain. Messages, Requests and
// SignatureFailures let a test inspect what the endpoint received.
//
// Not implemented: queue deletion, tags, permissions, dead-letter queues
// and message moves, visibility changes, message retention (messages stay
// until deleted or purged) and PurgeQueue's once-a-minute limit.
package sqsapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/penstock-dev/penstock/internal/awstest"
	"github.com/penstock-dev/penstock/internal/uuid"
)

// Limits of SQS that the endpoint applies.
const (
	// DefaultMaxMessageSize is SQS's largest message (body and
	// attributes) and the default MaximumMessageSize of a queue: 1 MiB.
	// It used to be 256 KiB.
	DefaultMaxMessageSize = 1 << 20
	// DefaultMaxBatchSize is SQS's limit on the sum of the message sizes
	// of one SendMessageBatch: 1 MiB.
	DefaultMaxBatchSize = 1 << 20
	// MaxBatchEntries is the most entries a batch request may carry.
	MaxBatchEntries = 10
	// MaxMessageAttributes is the most message attributes a message may
	// carry.
	MaxMessageAttributes = 10
	// DeduplicationInterval is how long a FIFO queue remembers a
	// deduplication id.
	DeduplicationInterval = 5 * time.Minute
)

const (
	targetPrefix = "AmazonSQS."
	contentType  = "application/x-amz-json-1.0"
)

// Options configures Start.
type Options struct {
	// Region is the region requests must be signed for; empty means
	// us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must come with every request (temporary
	// credentials, as an assumed role's).
	SessionToken string
	// AccountID is the account that owns the queues, in their URLs and
	// ARNs; empty means 000000000000.
	AccountID string
	// Logger receives a debug record per request and a warning per
	// refused signature; nil discards.
	Logger *slog.Logger
	// Fault injects failures; nil injects none. See FaultFunc.
	Fault FaultFunc
	// MaxMessageSize is the MaximumMessageSize of queues created without
	// one, in bytes; 0 means DefaultMaxMessageSize.
	MaxMessageSize int
	// MaxBatchSize is the largest total size of the messages of one
	// SendMessageBatch, in bytes; 0 means DefaultMaxBatchSize.
	MaxBatchSize int
	// Now is the clock of the queues: sent and receive timestamps,
	// delays, visibility timeouts and the deduplication window. nil
	// means time.Now. Signatures are always checked against time.Now.
	Now func() time.Time
}

// Message is a message held by a queue, as Messages returns it.
type Message struct {
	// MessageID is the id SQS gave the message.
	MessageID string
	// Body is the message body.
	Body string
	// Attributes are the message (user) attributes.
	Attributes map[string]Attribute
	// SystemAttributes are the message system attributes
	// (AWSTraceHeader).
	SystemAttributes map[string]Attribute
	// GroupID is the MessageGroupId; DeduplicationID the
	// MessageDeduplicationId given or, with content-based deduplication,
	// the SHA-256 of the body in hex; SequenceNumber the FIFO sequence
	// number. All three are empty on a standard queue but for a GroupID
	// given to it.
	GroupID         string
	DeduplicationID string
	SequenceNumber  string
	// SentAt is when the message was stored, by Options.Now.
	SentAt time.Time
	// ReceiveCount is how many times ReceiveMessage returned it.
	ReceiveCount int
}

// Server is a running local SQS endpoint. Its URL and SignatureFailures
// are those of the embedded awstest.Endpoint.
type Server struct {
	*awstest.Endpoint
	opts Options

	mu       sync.Mutex
	queues   map[string]*queue
	handles  map[string]*message
	requests map[string]int
	changed  chan struct{}
}

// Start listens on a random port of 127.0.0.1 and serves the SQS API
// until Close.
func Start(opts Options) (*Server, error) {
	e, err := awstest.NewEndpoint(awstest.EndpointOptions{
		Name: "sqsapi", Service: "sqs", Region: opts.Region, Logger: opts.Logger,
		AccessKeyID: opts.AccessKeyID, SecretAccessKey: opts.SecretAccessKey, SessionToken: opts.SessionToken,
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
	if opts.MaxBatchSize <= 0 {
		opts.MaxBatchSize = DefaultMaxBatchSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		Endpoint: e,
		opts:     opts,
		queues:   map[string]*queue{},
		handles:  map[string]*message{},
		requests: map[string]int{},
		changed:  make(chan struct{}),
	}
	if err := s.Serve(http.HandlerFunc(s.serveAPI), nil, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// QueueURL returns the URL of the queue called name, whether or not it
// exists: URL()/ACCOUNT/NAME.
func (s *Server) QueueURL(name string) string {
	return s.URL() + "/" + s.opts.AccountID + "/" + name
}

// Close stops the server: open connections are closed (cancelling the
// contexts of requests in flight, long polls included) and Close returns
// once every handler has returned. It may be called more than once.
func (s *Server) Close() { s.Endpoint.Close() }

// CreateQueue creates a queue as the CreateQueue operation does (or finds
// the existing one with the same attributes) and returns its URL.
func (s *Server) CreateQueue(name string, attributes map[string]string) (string, error) {
	q, err := s.createQueue(name, attributes)
	if err != nil {
		return "", err
	}
	return q.url, nil
}

// Messages returns the messages the queue holds (sent and neither
// deleted nor purged, in flight or not), in the order they were stored.
// queue is a name or a queue URL; an unknown queue has none.
func (s *Server) Messages(queue string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[queueName(queue)]
	if q == nil {
		return nil
	}
	out := make([]Message, len(q.msgs))
	for i, m := range q.msgs {
		out[i] = m.snapshot()
	}
	return out
}

// Requests returns how many requests for operation op (e.g.
// "SendMessageBatch") passed signature verification, whatever their
// outcome.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// call is one request being served.
type call struct {
	s   *Server
	ctx context.Context
	op  string
	// deferred is the error a committed fault answers with once the call
	// is done.
	deferred *apiError
}

// errAborted marks a call whose client went away during an injected
// delay: nothing is done and nothing answered.
var errAborted = &apiError{}

type handlerFunc func(c *call, body []byte) (any, *apiError)

var handlers = map[string]handlerFunc{
	"CreateQueue":        (*call).createQueue,
	"GetQueueUrl":        (*call).getQueueURL,
	"GetQueueAttributes": (*call).getQueueAttributes,
	"SendMessage":        (*call).sendMessage,
	"SendMessageBatch":   (*call).sendMessageBatch,
	"ReceiveMessage":     (*call).receiveMessage,
	"DeleteMessage":      (*call).deleteMessage,
	"DeleteMessageBatch": (*call).deleteMessageBatch,
	"PurgeQueue":         (*call).purgeQueue,
}

// serveAPI handles a request whose signature verified.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	id := uuid.New()
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	if r.Method != http.MethodPost || !ok {
		writeError(w, id, newError("UnknownOperationException", http.StatusBadRequest, true,
			"This endpoint speaks the AWS JSON 1.0 protocol: POST with X-Amz-Target: %s<Operation>.", targetPrefix))
		return
	}
	h := handlers[op]
	if h == nil {
		writeError(w, id, newError("UnknownOperationException", http.StatusBadRequest, true, "Operation %s is not supported.", op))
		return
	}
	s.mu.Lock()
	s.requests[op]++
	s.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, id, newError("SerializationException", http.StatusBadRequest, true, "Could not read the request body: %v", err))
		return
	}
	c := &call{s: s, ctx: r.Context(), op: op}
	res, aerr := h(c, body)
	switch {
	case aerr == errAborted:
		s.Log.Debug("sqsapi: client gave up during delay", "op", op)
		return
	case c.deferred != nil && aerr == nil:
		aerr = c.deferred
	}
	s.Log.Debug("sqsapi: request", "op", op, "err", aerr)
	if aerr != nil {
		writeError(w, id, aerr)
		return
	}
	writeResult(w, id, res)
}

// decode parses a JSON request body into v.
func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return newError("SerializationException", http.StatusBadRequest, true, "Could not parse the request body: %v", err)
	}
	return nil
}

// fault asks Options.Fault about a call or an entry.
func (s *Server) fault(op string, i int, e *Entry) *Fault {
	if s.opts.Fault == nil {
		return nil
	}
	return s.opts.Fault(op, i, e)
}

// callFault applies the call-level fault for the queue named queue:
// waits out its Delay (errAborted when the client leaves first), and
// returns the error of a failed call, or defers it when it commits.
func (c *call) callFault(queue string) *apiError {
	f := c.s.fault(c.op, -1, &Entry{Queue: queue})
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

// notify wakes up long polls; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}
