package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/penstock-dev/penstock/filters"
	"github.com/penstock-dev/penstock/pipeline/config"
)

// BuildFilter compiles the filters of pc. It returns nil when pc has none.
// Compile errors are config errors that point at the filter's line in f.
func BuildFilter(f *config.File, pc *config.Pipeline) (*filters.Criteria, error) {
	if len(pc.Filters) == 0 {
		return nil, nil
	}
	specs := make([]filters.Spec, len(pc.Filters))
	for i, cf := range pc.Filters {
		specs[i] = filters.Spec{Pattern: cf.Pattern, Expr: cf.Expr}
	}
	c, err := filters.Compile(specs)
	if err == nil {
		return c, nil
	}
	return nil, FilterErrors(f, pc, err)
}

// FilterErrors turns filter compile errors into config errors.
func FilterErrors(f *config.File, pc *config.Pipeline, err error) error {
	var out config.Errors
	for _, e := range flatten(err) {
		var ce *filters.CompileError
		if !errors.As(e, &ce) || f == nil || ce.Filter < 0 || ce.Filter >= len(pc.Filters) {
			return fmt.Errorf("pipeline %q: filters: %w", pc.Name, err)
		}
		path := pc.Filters[ce.Filter].Path
		msg := ce.Reason
		switch {
		case ce.Path != "":
			msg = fmt.Sprintf("at %s: %s", ce.Path, ce.Reason)
		case ce.Line > 0:
			msg = fmt.Sprintf("expression line %d, column %d: %s", ce.Line, ce.Column, ce.Reason)
		}
		out = append(out, f.Errorf(path, "%s", msg))
	}
	return out
}

// flatten lists the errors joined in err.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// Check compiles every part of f that is compiled before a pipeline starts
// (filters and enrichers; targets as they come), so that `penstock
// validate` reports what `penstock run` would refuse. It returns every
// error found.
func Check(f *config.File) error {
	var errs config.Errors
	for i := range f.Pipelines {
		es, err := BuildEnrichers(context.Background(), f, &f.Pipelines[i], slog.New(slog.DiscardHandler))
		closeAll(es)
		if err != nil {
			var ce config.Errors
			if errors.As(err, &ce) {
				errs = append(errs, ce...)
			} else {
				return err
			}
		}
		if _, err := BuildFilter(f, &f.Pipelines[i]); err != nil {
			var ce config.Errors
			if errors.As(err, &ce) {
				errs = append(errs, ce...)
				continue
			}
			return err
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
