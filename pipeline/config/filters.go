package config

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Filter is one filter of a pipeline: exactly one of Pattern and Expr is
// set. A record passes the pipeline's filters if ANY of them matches.
type Filter struct {
	// Pattern is a Lambda/EventBridge filter pattern as JSON text. In the
	// file it may be written as YAML or as a JSON string.
	Pattern string
	// Expr is an expr-lang expression that must evaluate to a boolean.
	Expr string
	// Path is the field path of this filter in the file, for errors found
	// when the filter is compiled (see File.Errorf).
	Path string
}

// filtersField is `filters:`, a list of {pattern: …} or {expr: …} items.
func filtersField(dst *[]Filter) field {
	return field{key: "filters", decode: func(w *walker, n *yaml.Node, path string) bool {
		items, ok := w.list(n, path, "a list of filters")
		if !ok {
			return false
		}
		all := true
		for i, item := range items {
			p := index(path, i)
			f := Filter{Path: p}
			kind := w.oneOf(item, p, "filter", []field{
				{key: "pattern", decode: func(w *walker, n *yaml.Node, path string) bool {
					s, ok := w.patternJSON(n, path)
					f.Pattern = s
					return ok
				}},
				stringField("expr", &f.Expr, "an expression", func(s string) (string, string) {
					if strings.TrimSpace(s) == "" {
						return "the expression is empty", ""
					}
					return "", ""
				}),
			})
			if f.Pattern == "" && f.Expr == "" {
				all = false
				continue
			}
			f.Path = join(p, kind)
			*dst = append(*dst, f)
		}
		return all
	}}
}

// filterCriteriaField is `filter_criteria:`, Lambda's FilterCriteria pasted
// as is: {"Filters":[{"Pattern":"<json>"}]}, as a JSON string or as YAML.
func filterCriteriaField(dst *[]Filter) field {
	return field{key: "filter_criteria", decode: func(w *walker, n *yaml.Node, path string) bool {
		text, ok := w.patternJSON(n, path)
		if !ok {
			return false
		}
		var fc struct {
			Filters []struct {
				Pattern *string `json:"Pattern"`
			} `json:"Filters"`
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fc); err != nil {
			w.errorf(n, path, "not a Lambda FilterCriteria object: %v", err).Hint = `write {"Filters":[{"Pattern":"{\"value\":{…}}"}]}`
			return false
		}
		if fc.Filters == nil {
			w.errorf(n, path, `missing "Filters"`).Hint = `write {"Filters":[{"Pattern":"…"}]}`
			return false
		}
		for i, f := range fc.Filters {
			p := fmt.Sprintf("%s.Filters[%d].Pattern", path, i)
			if f.Pattern == nil {
				w.errorf(n, path, "Filters[%d] has no \"Pattern\"", i)
				return false
			}
			*dst = append(*dst, Filter{Pattern: *f.Pattern, Path: p})
			w.record(n, p)
		}
		return true
	}}
}

// patternJSON returns a pattern written either as a JSON string or as YAML
// (a mapping), as JSON text.
func (w *walker) patternJSON(n *yaml.Node, path string) (string, bool) {
	v := resolve(n)
	switch {
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
		s := strings.TrimSpace(v.Value)
		if s == "" {
			w.errorf(n, path, "the pattern is empty")
			return "", false
		}
		if !json.Valid([]byte(s)) {
			var x any
			err := json.Unmarshal([]byte(s), &x)
			w.errorf(n, path, "the pattern is not valid JSON: %v", err)
			return "", false
		}
		return s, true
	case v.Kind == yaml.MappingNode:
		b, err := nodeJSON(nil, v, 0)
		if err != nil {
			w.errorf(n, path, "%v", err)
			return "", false
		}
		return string(b), true
	}
	w.errorf(n, path, "expected a pattern (a mapping, or a JSON string), got %s", describe(n))
	return "", false
}

// nodeJSON appends the JSON form of a YAML node.
func nodeJSON(dst []byte, n *yaml.Node, depth int) ([]byte, error) {
	if depth > 64 {
		return nil, fmt.Errorf("line %d: nested too deeply", n.Line)
	}
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		dst = append(dst, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				dst = append(dst, ',')
			}
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a key must be a string", k.Line)
			}
			kb, _ := json.Marshal(k.Value)
			dst = append(dst, kb...)
			dst = append(dst, ':')
			var err error
			if dst, err = nodeJSON(dst, n.Content[i+1], depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, c := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = nodeJSON(dst, c, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return append(dst, "null"...), nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return strconv.AppendBool(dst, b), nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return strconv.AppendInt(dst, i, 10), nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, fmt.Errorf("line %d: %q is not a JSON number", n.Line, n.Value)
			}
			// Keep the number as written when it is valid JSON, so 1.50
			// stays 1.50 for the matcher's own number handling.
			if json.Valid([]byte(n.Value)) {
				return append(dst, n.Value...), nil
			}
			return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
		default:
			b, _ := json.Marshal(n.Value)
			return append(dst, b...), nil
		}
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}
