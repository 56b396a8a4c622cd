package lambda

import (
	"context"

	"github.com/penstock-dev/penstock/targets/lambda/localfn"
)

// LocalFunction invokes a local Lambda custom-runtime executable run by
// package localfn. A crash, a timeout or an init failure of the process is a
// failed attempt; an error the function reports is a function error.
type LocalFunction struct{ F *localfn.Function }

// Invoke implements Invoker.
func (l LocalFunction) Invoke(ctx context.Context, payload []byte) (Reply, error) {
	r, err := l.F.Invoke(ctx, payload)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Payload: r.Payload, FunctionError: r.FunctionError, StatusCode: 200, ExecutedVersion: "$LATEST", RequestID: r.RequestID}, nil
}

// ARN implements Invoker.
func (l LocalFunction) ARN() string { return l.F.ARN() }

// Close implements Invoker: it stops the function's processes.
func (l LocalFunction) Close(ctx context.Context) error { return l.F.Close(ctx) }
