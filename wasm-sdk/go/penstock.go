// Package penstock writes Penstock enrichers in Go. An enricher is a
// WebAssembly module that Penstock calls once per batch of Kafka records;
// this package implements the binding contract (wasm-sdk/ABI.md) so that a
// module only says what to do with each record:
//
//	package main
//
//	import penstock "github.com/penstock-dev/penstock/wasm-sdk/go"
//
//	func init() {
//		penstock.Handle(func(config []byte) (penstock.Handler, error) {
//			return penstock.HandlerFunc(func(r *penstock.Record, out *penstock.Emitter) {
//				if len(r.Value) == 0 {
//					out.Drop(r)
//					return
//				}
//				out.Keep(r)
//			}), nil
//		})
//	}
//
//	func main() {}
//
// Build it as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o enricher.wasm .
//
// Penstock does not run main; register the handler from an init function.
package penstock

// TimestampType says where a record's timestamp comes from.
type TimestampType uint8

const (
	// CreateTime is a timestamp set by the producer.
	CreateTime TimestampType = iota
	// LogAppendTime is a timestamp set by the broker.
	LogAppendTime
)

// Header is one Kafka record header.
type Header struct {
	Name  string
	Value []byte
}

// Record is one Kafka record of a batch. Key, Value and header values are
// views of the batch Penstock passed in: they are valid only until the
// handler returns, and must be copied to be kept. A nil Key or Value is
// absent (Kafka null), which is not the same as empty.
type Record struct {
	Topic         string
	Partition     int32
	Offset        int64
	Timestamp     int64 // milliseconds since the Unix epoch
	TimestampType TimestampType
	Key           []byte
	Value         []byte
	Headers       []Header

	index          int // position in the batch
	hstart, hcount int // the record's headers in the batch's header array
}

// Handler processes records. Penstock creates one handler per instance of
// the module (one per partition) and calls it for each record of a batch,
// in offset order, never concurrently.
type Handler interface {
	// Enrich reports the outputs of r through out: Keep, Emit (any number of
	// times, to split a record), Drop or Error. A record with no output is
	// dropped.
	Enrich(r *Record, out *Emitter)
}

// HandlerFunc turns a function into a Handler.
type HandlerFunc func(r *Record, out *Emitter)

// Enrich implements Handler.
func (f HandlerFunc) Enrich(r *Record, out *Emitter) { f(r, out) }

// BatchHandler is implemented by handlers that want a whole batch at once,
// for example to look at neighbouring records. When the handler returned by
// the Handle function implements it, EnrichBatch is called instead of
// Enrich. Outputs must still be reported in offset order of their inputs.
type BatchHandler interface {
	EnrichBatch(records []Record, out *Emitter)
}

// Handle registers the function that creates the module's handler from the
// enricher's config (the JSON object of the pipeline file, "{}" when none
// is given; the slice is the function's to keep). An error fails the
// pipeline's start with its message. Call Handle from an init function of
// package main.
func Handle(newHandler func(config []byte) (Handler, error)) {
	g.newHandler = newHandler
}

// Level is the level of a log message.
type Level int32

// Log levels.
const (
	LevelDebug Level = iota
	LevelInfo
	LevelWarn
	LevelError
)

// Log writes msg to the pipeline's log, tagged with the module's name. Log
// lines of an instance are rate-limited by Penstock. Writes to os.Stdout
// and os.Stderr are logged too, one line per line written.
func Log(level Level, msg string) { hostLog(level, msg) }
