package benchmarks

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/penstock-dev/penstock/internal/awsconf"
	"github.com/penstock-dev/penstock/internal/esm"
	"github.com/penstock-dev/penstock/internal/lambdaapi"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/targets/lambda"
)

// orderBatch returns a batch of n ~300-byte order records of one partition.
func orderBatch(n int) *pipeline.Batch {
	recs := make([]pipeline.Record, n)
	for i := range recs {
		recs[i] = pipeline.Record{Topic: "orders", Partition: 3, Offset: 1_000_000 + int64(i), Timestamp: 1764000000000 + int64(i),
			Key: fmt.Appendf(nil, "ord-%09d", i), Value: orderJSON, Headers: []pipeline.Header{{Key: "type", Value: []byte("order")}}}
	}
	return pipeline.NewBatch(pipeline.TopicPartition{Topic: "orders", Partition: 3}, recs)
}

// BenchmarkLambdaPayload measures the function target. encode: writing the
// ESM event of a batch (MB/s counts record bytes: key, value, headers);
// invoke: a whole Deliver through the aws-sdk-go-v2 Lambda client to a local
// Invoke API endpoint on loopback that checks the SigV4 signature and parses
// nothing. One op is one batch.
func BenchmarkLambdaPayload(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		bt := orderBatch(n)
		enc := esm.NewEncoder(esm.Source{BootstrapServers: "b-1.example.com:9092,b-2.example.com:9092"})
		b.Run(fmt.Sprintf("encode/batch=%d", n), func(b *testing.B) {
			buf := enc.Append(nil, bt, 0, n)
			b.SetBytes(int64(bt.Bytes()))
			b.ReportAllocs()
			for b.Loop() {
				buf = enc.Append(buf[:0], bt, 0, n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("invoke/batch=%d", n), func(b *testing.B) {
			srv, err := lambdaapi.Start(lambdaapi.Options{Region: "eu-west-1", AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench",
				Handler: lambdaapi.Respond(lambdaapi.Reply{Payload: []byte("null")})})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			c := awslambda.New(awslambda.Options{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench", ""),
				BaseEndpoint: aws.String(srv.URL()), RetryMaxAttempts: 1, HTTPClient: awsconf.HTTPClient()})
			inv, _ := lambda.NewAWSFunction(c, "orders", "", "eu-west-1")
			tg, err := lambda.New(lambda.Options{Invoker: inv})
			if err != nil {
				b.Fatal(err)
			}
			bt := orderBatch(n)
			b.SetBytes(int64(bt.Bytes()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tg.Deliver(context.Background(), bt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			if srv.SignatureFailures() != 0 {
				b.Fatal("signature failures")
			}
		})
	}
}
