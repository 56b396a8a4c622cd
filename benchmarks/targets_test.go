package benchmarks

import (
	"context"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/penstock-dev/penstock/internal/template"
	"github.com/penstock-dev/penstock/targets/s3"
	"github.com/penstock-dev/penstock/targets/sns"
	"github.com/penstock-dev/penstock/targets/sqs"
)

// nopSQS and nopSNS accept every request without looking at it, so the
// benchmarks measure what the targets do per record: rendering bodies and
// ids and filling the SDK's request entries.
type nopSQS struct{}

func (nopSQS) SendMessageBatch(context.Context, *awssqs.SendMessageBatchInput, ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	return &sqsOut, nil
}
func (nopSQS) SendMessage(context.Context, *awssqs.SendMessageInput, ...func(*awssqs.Options)) (*awssqs.SendMessageOutput, error) {
	return &awssqs.SendMessageOutput{}, nil
}

var (
	sqsOut awssqs.SendMessageBatchOutput
	snsOut awssns.PublishBatchOutput
)

type nopSNS struct{}

func (nopSNS) PublishBatch(context.Context, *awssns.PublishBatchInput, ...func(*awssns.Options)) (*awssns.PublishBatchOutput, error) {
	return &snsOut, nil
}
func (nopSNS) Publish(context.Context, *awssns.PublishInput, ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	return &awssns.PublishOutput{}, nil
}

// BenchmarkTargetEncoding measures the per-record work of the SQS, SNS and
// S3 targets on batches of 100 ~300-byte order records with one header,
// without the network: SQS/SNS bodies (ESM records or a template), FIFO
// group and deduplication ids, attributes, request entries; S3 object
// bodies (JSON lines). One op is one batch.
func BenchmarkTargetEncoding(b *testing.B) {
	tmpl, _ := template.Compile(`{"id": <$.value.order_id>, "amount": <$.value.amount>, "src": "<topic>-<partition>-<offset>"}`, "bench")
	run := func(name string, deliver func()) {
		b.Run(name, func(b *testing.B) {
			bt := orderBatch(100)
			b.SetBytes(int64(bt.Bytes()))
			b.ReportAllocs()
			for b.Loop() {
				deliver()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/record")
		})
	}
	bt := orderBatch(100)
	for _, c := range []struct {
		name  string
		queue string
		body  *template.Template
	}{
		{"sqs/esm", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders", nil},
		{"sqs/template", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders", tmpl},
		{"sqs-fifo/esm", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo", nil},
	} {
		tg, _ := sqs.New(sqs.Options{API: nopSQS{}, QueueURL: c.queue, Body: c.body, Attributes: true})
		run(c.name, func() { tg.Deliver(context.Background(), bt) })
	}
	st, _ := sns.New(sns.Options{API: nopSNS{}, TopicARN: "arn:aws:sns:eu-west-1:123456789012:orders", Attributes: true})
	run("sns/esm", func() { st.Deliver(context.Background(), bt) })
	for _, c := range []struct {
		name string
		o    s3.Options
	}{
		{"s3-body/jsonl", s3.Options{}},
		{"s3-body/raw", s3.Options{Format: s3.Raw}},
		{"s3-body/template", s3.Options{Lines: tmpl}},
	} {
		c.o.API, c.o.Bucket = (*awss3.Client)(nil), "bucket"
		tg, err := s3.New(c.o)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, 1<<20)
		run(c.name, func() { buf = tg.AppendBody(buf[:0], bt) })
	}
	b.Run("template", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		r := &bt.Records[0]
		b.ReportAllocs()
		for b.Loop() {
			buf = tmpl.Append(buf[:0], r)
		}
	})
}
