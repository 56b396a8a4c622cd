// Package kafka is the Kafka on-failure destination: records a pipeline
// gives up on are written to a topic of the source cluster, with their keys,
// values and headers, plus headers that say why.
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/penstock-dev/penstock/pipeline"
)

// Failure headers added to every record written to the destination topic.
const (
	HeaderCondition = "penstock-failure-condition"
	HeaderAttempts  = "penstock-failure-attempts"
	HeaderTopic     = "penstock-source-topic"
	HeaderPartition = "penstock-source-partition"
	HeaderOffset    = "penstock-source-offset"
	HeaderTimestamp = "penstock-failed-at"
	HeaderError     = "penstock-failure-error"
)

// Config says where failed records go.
type Config struct {
	// Brokers are the cluster's bootstrap servers (the source's).
	Brokers []string
	// Topic is the destination topic; it must exist.
	Topic string
	// TLS, when not nil, makes connections use TLS.
	TLS *tls.Config
	// Opts are extra franz-go options (authentication, as the source's).
	Opts []kgo.Opt
}

// Failures is an on-failure destination producing to a Kafka topic. A
// failure is accepted once every record of it is acknowledged by all
// in-sync replicas.
type Failures struct {
	cl    *kgo.Client
	topic string
}

// NewFailures returns a destination writing to cfg.Topic.
func NewFailures(cfg Config) (*Failures, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("kafka destination: no brokers or topic")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ClientID("penstock-on-failure"), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil))}
	if cfg.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(cfg.TLS))
	}
	opts = append(opts, cfg.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka destination: %w", err)
	}
	return &Failures{cl: cl, topic: cfg.Topic}, nil
}

// HandleFailure implements pipeline.FailureHandler: it writes the failed
// records, in order, and waits until all are acknowledged.
func (f *Failures) HandleFailure(ctx context.Context, fl *pipeline.Failure) error {
	recs := make([]*kgo.Record, len(fl.Records))
	at := fl.At.UTC().Format("2006-01-02T15:04:05.000Z")
	errText := ""
	if fl.Err != nil {
		errText = fl.Err.Error()
		if len(errText) > 1024 {
			errText = errText[:1024]
		}
	}
	for i := range fl.Records {
		r := &fl.Records[i]
		hs := make([]kgo.RecordHeader, 0, len(r.Headers)+7)
		for _, h := range r.Headers {
			hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		hs = append(hs,
			kgo.RecordHeader{Key: HeaderCondition, Value: []byte(fl.Condition)},
			kgo.RecordHeader{Key: HeaderAttempts, Value: strconv.AppendInt(nil, int64(fl.Attempts), 10)},
			kgo.RecordHeader{Key: HeaderTopic, Value: []byte(r.Topic)},
			kgo.RecordHeader{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(r.Partition), 10)},
			kgo.RecordHeader{Key: HeaderOffset, Value: strconv.AppendInt(nil, r.Offset, 10)},
			kgo.RecordHeader{Key: HeaderTimestamp, Value: []byte(at)})
		if errText != "" {
			hs = append(hs, kgo.RecordHeader{Key: HeaderError, Value: []byte(errText)})
		}
		recs[i] = &kgo.Record{Topic: f.topic, Key: r.Key, Value: r.Value, Headers: hs}
	}
	if err := f.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("kafka destination %s: %w", f.topic, err)
	}
	return nil
}

// Close implements pipeline.FailureHandler.
func (f *Failures) Close(context.Context) error {
	f.cl.Close()
	return nil
}
