package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/penstock-dev/penstock/internal/engine"
	"github.com/penstock-dev/penstock/pipeline"
)

// progress prints one line per pipeline: records in, delivered, filtered,
// the delivery rate since the last line, lag, records given to the
// on-failure destination, filter errors and retries.
type progress struct {
	eng  *engine.Engine
	last map[string]int64
	at   time.Time
}

func newProgress(eng *engine.Engine) *progress {
	return &progress{eng: eng, last: make(map[string]int64), at: time.Now()}
}

func (p *progress) print(w io.Writer) {
	now := time.Now()
	secs := now.Sub(p.at).Seconds()
	p.at = now
	for _, pl := range p.eng.Pipelines() {
		s := pl.Stats()
		rate := 0.0
		if secs > 0 {
			rate = float64(s.Delivered-p.last[s.Name]) / secs
		}
		p.last[s.Name] = s.Delivered
		line := fmt.Sprintf("%-16s %-8s in %s  delivered %s  filtered %s  %s rec/s  lag %s",
			s.Name, s.State, num(s.In), num(s.Delivered), num(s.Filtered), num(int64(rate+0.5)), num(s.Lag()))
		if s.Rejected > 0 {
			line += "  on-failure " + num(s.Rejected)
		}
		if s.FilterErrors > 0 {
			line += "  filter errors " + num(s.FilterErrors)
		}
		if s.State == pipeline.StateFailed {
			line += "  reason " + s.Reason
		} else if r := s.LastProcessingResult; r != "" && r != "OK" {
			line += "  " + r
		}
		if retrying := retryingParts(s); retrying != "" {
			line += "  retrying " + retrying
		}
		fmt.Fprintln(w, line)
	}
}

func retryingParts(s pipeline.Stats) string {
	var parts []string
	for _, p := range s.Partitions {
		if p.Retrying > 0 {
			parts = append(parts, fmt.Sprintf("%d(attempt %d, lag %s)", p.Partition, p.Retrying+1, num(p.Lag())))
		}
	}
	return strings.Join(parts, ",")
}

// printCommitted reports, per pipeline, the next offset committed for each
// partition.
func printCommitted(w io.Writer, eng *engine.Engine) {
	for _, pl := range eng.Pipelines() {
		c := pl.Committed()
		tps := make([]pipeline.TopicPartition, 0, len(c))
		for tp := range c {
			tps = append(tps, tp)
		}
		slices.SortFunc(tps, func(a, b pipeline.TopicPartition) int {
			if a.Topic != b.Topic {
				return strings.Compare(a.Topic, b.Topic)
			}
			return int(a.Partition - b.Partition)
		})
		if len(tps) == 0 {
			fmt.Fprintf(w, "committed %s: nothing this run\n", pl.Name())
			continue
		}
		var b strings.Builder
		for i, tp := range tps {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s@%d", tp, c[tp])
		}
		fmt.Fprintf(w, "committed %s: %s (next offset per partition)\n", pl.Name(), b.String())
	}
}

// num formats n with thousands separators.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
