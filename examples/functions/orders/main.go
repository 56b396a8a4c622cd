// Command orders is an AWS Lambda function for a Kafka event source mapping,
// written for Lambda and nothing else: it runs unchanged on Lambda (as the
// bootstrap of a provided.al2023 function) and under Penstock.
//
// It decodes the JSON orders in each batch, logs one line per partition to
// stderr, and answers with a partial batch response. With ORDERS_FAIL_EVERY=N
// set, it reports every record whose offset is a multiple of N as failed, to
// show how the event source mapping retries them.
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/functions/orders
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// order is the part of an order record this function reads.
type order struct {
	ID       string  `json:"order_id"`
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

// response is the Kafka partial batch response: the records to retry.
type response struct {
	BatchItemFailures []failure `json:"batchItemFailures"`
}

type failure struct {
	ItemIdentifier itemID `json:"itemIdentifier"`
}

type itemID struct {
	Partition string `json:"partition"` // "<topic>-<partition>"
	Offset    int64  `json:"offset"`
}

var failEvery, _ = strconv.ParseInt(os.Getenv("ORDERS_FAIL_EVERY"), 10, 64)

func handle(ctx context.Context, ev events.KafkaEvent) (response, error) {
	resp := response{BatchItemFailures: []failure{}}
	for _, tp := range slices.Sorted(maps.Keys(ev.Records)) {
		records := ev.Records[tp]
		if len(records) == 0 {
			continue
		}
		totals := map[string]float64{}
		failed, bad := 0, 0
		for _, r := range records {
			if failEvery > 0 && r.Offset%failEvery == 0 {
				resp.BatchItemFailures = append(resp.BatchItemFailures,
					failure{itemID{Partition: tp, Offset: r.Offset}})
				failed++
				continue
			}
			var o order
			value, err := base64.StdEncoding.DecodeString(r.Value)
			if err == nil {
				err = json.Unmarshal(value, &o)
			}
			if err != nil {
				bad++ // not an order: skip it rather than retry it forever
				continue
			}
			totals[o.Currency] += o.Amount
		}
		line := fmt.Sprintf("orders: %d records from %s offsets %d..%d, total amount",
			len(records), tp, records[0].Offset, records[len(records)-1].Offset)
		for _, cur := range slices.Sorted(maps.Keys(totals)) {
			line += fmt.Sprintf(" %.2f %s", totals[cur], cur)
		}
		if failed > 0 {
			line += fmt.Sprintf(", %d reported failed", failed)
		}
		if bad > 0 {
			line += fmt.Sprintf(", %d skipped (not an order)", bad)
		}
		log.Print(line)
	}
	return resp, nil
}

func main() {
	log.SetFlags(0) // Lambda timestamps each line itself
	lambda.Start(handle)
}
