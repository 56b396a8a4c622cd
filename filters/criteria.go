// Package filters compiles Penstock's record filters: Lambda/EventBridge
// filter patterns and expr-lang expressions. Filters are compiled once into
// a Criteria; Criteria.Match decides for each record, allocation-free, by
// reading only the paths the filters reference straight from the record's
// bytes.
//
// A pattern sees a record as the object
//
//	{"topic": "...", "partition": N, "offset": N, "timestamp": N,
//	 "key": <key>, "value": <value>, "headers": {"name": "value", ...}}
//
// where value and key are their JSON documents when they are valid JSON,
// and plain strings otherwise (as Lambda does for Kafka values). See
// docs/filters.md for the rules.
package filters

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/penstock-dev/penstock/pipeline"
)

// Spec is one filter as written in config: exactly one of Pattern (a JSON
// document, already converted from YAML if the user wrote YAML) or Expr.
type Spec struct {
	Pattern string
	Expr    string
}

// ParseESM parses Lambda's FilterCriteria JSON:
// {"Filters":[{"Pattern":"<json string>"}, ...]}.
func ParseESM(criteria string) ([]Spec, error) {
	var fc struct {
		Filters *[]struct {
			Pattern *string `json:"Pattern"`
		} `json:"Filters"`
	}
	dec := json.NewDecoder(strings.NewReader(criteria))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return nil, fmt.Errorf(`not a Lambda FilterCriteria object ({"Filters":[{"Pattern":"..."}]}): %v`, err)
	}
	if dec.More() {
		return nil, errors.New("not a Lambda FilterCriteria object: text after the end of the object")
	}
	if fc.Filters == nil {
		return nil, nil
	}
	specs := make([]Spec, 0, len(*fc.Filters))
	for i, f := range *fc.Filters {
		if f.Pattern == nil {
			return nil, fmt.Errorf("Filters[%d] has no \"Pattern\"", i)
		}
		specs = append(specs, Spec{Pattern: *f.Pattern})
	}
	return specs, nil
}

// Stats counts what happened while matching.
type Stats struct {
	// ExprErrors counts runtime errors of expressions; the record was
	// treated as not matching that filter.
	ExprErrors int64
	// LastExprError describes a recent one: the filter, the record and
	// expr's message (see Criteria.FilterErrors). Empty when there was
	// none.
	LastExprError string
}

// Criteria is compiled FilterCriteria: a record passes if ANY filter
// matches. It implements pipeline.Filter: Match is safe for concurrent use
// and allocates nothing per record.
type Criteria struct {
	root    *pnode
	value   *pnode // root children, nil when no filter reads them
	key     *pnode
	headers *pnode
	topic   *pnode
	part    *pnode
	offset  *pnode
	ts      *pnode

	filters []filter
	ncaps   int
	words   int
	pool    sync.Pool

	exprErrors atomic.Int64
	lastErr    atomic.Pointer[string] // see noteError
	lastErrAt  atomic.Int64           // when lastErr was set, Unix nanoseconds
}

// filter is one compiled filter: a pattern formula or an expression.
type filter struct {
	pattern *formula
	expr    *exprFilter
}

var _ pipeline.BatchFilter = (*Criteria)(nil)

// Compile compiles filters. An error is a *CompileError, or several joined
// with errors.Join (each reachable with errors.As). No filters at all make
// a Criteria that passes every record.
func Compile(specs []Spec) (*Criteria, error) {
	c := &Criteria{root: newNode("", -1)}
	if len(specs) > MaxFilters {
		return nil, &CompileError{Filter: MaxFilters, Reason: fmt.Sprintf("%d filters; the limit is %d", len(specs), MaxFilters)}
	}
	var errs []error
	pc := &patternCompiler{root: c.root}
	for i, s := range specs {
		switch {
		case s.Pattern != "" && s.Expr != "":
			errs = append(errs, &CompileError{Filter: i, Reason: "a filter has either a pattern or an expression, not both"})
		case s.Expr != "":
			x, err := compileExpr(i, s.Expr, c.root)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			c.filters = append(c.filters, filter{expr: x})
		case s.Pattern != "":
			pc.filter = i
			f, err := pc.compile(s.Pattern)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			c.filters = append(c.filters, filter{pattern: f})
		default:
			errs = append(errs, &CompileError{Filter: i, Reason: "the filter has neither a pattern nor an expression"})
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	if len(errs) > 1 {
		return nil, errors.Join(errs...)
	}
	var caps int32
	c.words = int(c.root.layout(&caps))
	c.ncaps = int(caps)
	for _, f := range c.filters {
		if f.pattern != nil {
			f.pattern.resolve()
		}
	}
	for _, k := range c.root.keys {
		switch k.key {
		case fieldValue:
			c.value = k
		case fieldKey:
			c.key = k
		case fieldHeaders:
			c.headers = k
		case fieldTopic:
			c.topic = k
		case fieldPartition:
			c.part = k
		case fieldOffset:
			c.offset = k
		case fieldTimestamp:
			c.ts = k
		}
	}
	c.pool.New = func() any {
		return &state{
			frames: make([]uint64, c.words),
			caps:   make([]span, c.ncaps),
			buf:    make([]byte, 0, 256),
		}
	}
	return c, nil
}

// Stats returns the counts so far.
func (c *Criteria) Stats() Stats {
	s := Stats{ExprErrors: c.exprErrors.Load()}
	if p := c.lastErr.Load(); p != nil {
		s.LastExprError = *p
	}
	return s
}

// FilterErrors implements pipeline.FilterErrorReporter: the expressions'
// runtime errors so far and a recent one.
func (c *Criteria) FilterErrors() (int64, string) {
	s := c.Stats()
	return s.ExprErrors, s.LastExprError
}

// errorNoteEvery is how often at most a runtime error is described:
// describing one may run the record through expr's VM again.
const errorNoteEvery = time.Second

// noteError keeps a description of expression filter i's runtime error on
// r, at most once per errorNoteEvery, so that a stream of failing records
// costs one description per interval. The evaluation that failed may be
// the one on the record's bytes, which knows only that it failed; the VM
// then evaluates the record again for expr's own message.
func (c *Criteria) noteError(i int, x *exprFilter, st *state, r *pipeline.Record, err error) {
	now := time.Now().UnixNano()
	at := c.lastErrAt.Load()
	if at != 0 && now-at < int64(errorNoteEvery) || !c.lastErrAt.CompareAndSwap(at, now) {
		return
	}
	if errors.Is(err, errRuntime) {
		if _, verr := x.runVM(st, r); verr != nil {
			err = verr
		}
	}
	src := strings.Join(strings.Fields(x.src), " ") // on one line
	if len(src) > 80 {
		n := 77
		for n > 0 && !utf8.RuneStart(src[n]) {
			n--
		}
		src = src[:n] + "..."
	}
	why, _, _ := strings.Cut(err.Error(), "\n") // expr adds the source, marked, on more lines
	msg := fmt.Sprintf("filter %d (%s) on %s[%d] offset %d: %s", i, src, r.Topic, r.Partition, r.Offset, why)
	c.lastErr.Store(&msg)
}

// Match reports whether the record passes: whether any filter matches it.
func (c *Criteria) Match(r *pipeline.Record) bool {
	if len(c.filters) == 0 {
		return true
	}
	st := c.pool.Get().(*state)
	ok := c.match(st, r)
	c.put(st)
	return ok
}

// put returns st to the pool, without the references it held.
func (c *Criteria) put(st *state) {
	st.b = nil
	if st.x.used { // drop what the VM was given
		st.x.env = exprEnv{}
		st.x.used = false
	}
	c.pool.Put(st)
}

// FilterBatch implements pipeline.BatchFilter: it marks the Active records
// of b that match no filter Filtered, with one reader state for the whole
// batch.
func (c *Criteria) FilterBatch(b *pipeline.Batch) {
	if len(c.filters) == 0 {
		return
	}
	st := c.pool.Get().(*state)
	for i := range b.Records {
		if b.Status[i] == pipeline.Active && !c.match(st, &b.Records[i]) {
			b.Status[i] = pipeline.Filtered
		}
	}
	c.put(st)
}

func (c *Criteria) match(st *state, r *pipeline.Record) bool {
	st.sp = 0
	st.buf = st.buf[:0]
	for i := range st.caps { // a few: no call
		st.caps[i] = span{}
	}
	f := st.push(c.root.nwords)
	if n := c.topic; n != nil && n.hasScalar() {
		st.scalar(n, rawString(strBytes(r.Topic)), f)
	}
	if n := c.part; n != nil && n.hasScalar() {
		st.scalar(n, numScalar(float64(r.Partition)), f)
	}
	if n := c.offset; n != nil && n.hasScalar() {
		st.scalar(n, numScalar(float64(r.Offset)), f)
	}
	if n := c.ts; n != nil && n.hasScalar() {
		st.scalar(n, numScalar(float64(r.Timestamp)), f)
	}
	if n := c.headers; n != nil && len(n.groups) > 0 {
		hf := st.push(n.nwords)
		for i := range r.Headers {
			h := &r.Headers[i]
			k := n.lookupKey(strBytes(h.Key))
			if k == nil {
				continue
			}
			st.reset(k, hf, false)
			if k.hasScalar() {
				st.scalar(k, rawString(h.Value), hf)
			}
		}
		st.finish(n, hf, f)
		st.sp = hf
	}
	if n := c.key; n != nil {
		st.doc(n, r.Key, f)
	}
	st.valKind = kAbsent
	if n := c.value; n != nil {
		st.valKind = st.doc(n, r.Value, f)
	}
	if len(c.root.emptyFix) > 0 {
		st.fix(c.root, f)
	}
	for i := range c.filters {
		fl := &c.filters[i]
		if fl.pattern != nil {
			if st.eval(fl.pattern, f) {
				return true
			}
			continue
		}
		ok, err := fl.expr.run(st, r)
		if err != nil {
			c.exprErrors.Add(1)
			c.noteError(i, fl.expr, st, r, err)
			continue
		}
		if ok {
			return true
		}
	}
	return false
}
