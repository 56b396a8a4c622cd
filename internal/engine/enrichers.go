package engine

import (
	"context"
	"log/slog"

	"github.com/penstock-dev/penstock/enrichers/wasm"
	"github.com/penstock-dev/penstock/pipeline"
	"github.com/penstock-dev/penstock/pipeline/config"
)

// BuildEnrichers loads the enrichers of pc, in order. Load errors (a missing
// module, a wrong ABI version, a failing init) are config errors at the
// enricher's line in f.
func BuildEnrichers(ctx context.Context, f *config.File, pc *config.Pipeline, log *slog.Logger) ([]pipeline.Enricher, error) {
	var out []pipeline.Enricher
	var errs config.Errors
	for _, ce := range pc.Enrichers {
		if ce.WASM == nil {
			continue
		}
		e, err := wasm.New(ctx, wasm.Options{
			Module:      ce.WASM.Module,
			Config:      []byte(ce.WASM.Config),
			Timeout:     ce.WASM.Timeout,
			MemoryLimit: ce.WASM.MemoryLimit,
			MaxOutput:   ce.WASM.MaxOutput,
			Logger:      log.With("pipeline", pc.Name),
		})
		if err != nil {
			if f == nil {
				closeAll(out)
				return nil, err
			}
			errs = append(errs, f.Errorf(ce.Path+".module", "%v", err))
			continue
		}
		out = append(out, e)
	}
	if len(errs) > 0 {
		closeAll(out)
		return nil, errs
	}
	return out, nil
}

func closeAll(es []pipeline.Enricher) {
	for _, e := range es {
		_ = e.Close(context.Background())
	}
}
