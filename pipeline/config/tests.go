package config

import (
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Test is one config unit test of a pipelines file: input records go
// through a pipeline's filters (and enrichers), and the records that come
// out must equal Expect, in order. `penstock test FILE` runs them.
type Test struct {
	// Name describes the test; required.
	Name string
	// Pipeline names the pipeline under test; required, must exist.
	Pipeline string
	// Input are the records fed to the pipeline, in order.
	Input []TestRecord
	// Expect are the records the pipeline must deliver, in order.
	Expect []TestRecord
	// Path is the test's field path, e.g. tests[0], for error messages.
	Path string
}

// TestRecord is a record of a test. A value written as YAML (a mapping or a
// list) is turned into JSON text; a string is taken as is.
type TestRecord struct {
	// Key is the record key; nil means no key.
	Key *string
	// Value is the record value; nil means a null value.
	Value *string
	// Headers are the record headers; in Expect, only the headers named
	// are compared.
	Headers map[string]string
	// Topic, Partition, Offset and Timestamp default to the pipeline's
	// topic, 0, the record's position in Input, and 0.
	Topic     string
	Partition int
	Offset    int
	Timestamp time.Time
	// Path is the record's field path, for error messages.
	Path string
}

func testsField(dst *[]Test) field {
	return field{key: "tests", decode: func(w *walker, n *yaml.Node, path string) bool {
		items, ok := w.list(n, path, "a list of tests")
		if !ok {
			return false
		}
		all := true
		for i, item := range items {
			p := index(path, i)
			t := Test{Path: p}
			b := w.mapping(item, p, []field{
				required(stringField("name", &t.Name, "a test name", nil)),
				required(stringField("pipeline", &t.Pipeline, "a pipeline name", nil)),
				required(testRecordsField("input", &t.Input)),
				required(testRecordsField("expect", &t.Expect)),
			})
			if !b.ok || !b.valid("name") || !b.valid("pipeline") || !b.valid("input") || !b.valid("expect") {
				all = false
				continue
			}
			*dst = append(*dst, t)
		}
		return all
	}}
}

func testRecordsField(key string, dst *[]TestRecord) field {
	return field{key: key, decode: func(w *walker, n *yaml.Node, path string) bool {
		items, ok := w.list(n, path, "a list of records")
		if !ok {
			return false
		}
		all := true
		for i, item := range items {
			p := index(path, i)
			r := TestRecord{Path: p, Offset: i}
			b := w.mapping(item, p, []field{
				{key: "key", decode: func(w *walker, n *yaml.Node, path string) bool {
					s, ok := w.str(n, path, "a string")
					r.Key = &s
					return ok
				}},
				{key: "value", decode: func(w *walker, n *yaml.Node, path string) bool {
					v := resolve(n)
					switch {
					case isNull(v):
						return true
					case v.Kind == yaml.ScalarNode:
						s, ok := w.str(n, path, "a string, a mapping or a list")
						r.Value = &s
						return ok
					}
					b, err := nodeJSON(nil, v, 0)
					if err != nil {
						w.errorf(n, path, "%v", err)
						return false
					}
					s := string(b)
					r.Value = &s
					return true
				}},
				{key: "headers", decode: func(w *walker, n *yaml.Node, path string) bool {
					r.Headers = map[string]string{}
					ok := true
					for _, e := range w.entries(resolve(n), path) {
						name := resolve(e.key).Value
						s, vok := w.str(e.val, join(path, name), "a string")
						ok = ok && vok
						r.Headers[name] = s
					}
					if v := resolve(n); !isNull(v) && v.Kind != yaml.MappingNode {
						w.errorf(n, path, "expected a mapping of header names to strings, got %s", describe(n))
						return false
					}
					return ok
				}},
				stringField("topic", &r.Topic, "a topic name", checkTopic),
				intField("partition", &r.Partition, 0, 1<<31-1),
				intField("offset", &r.Offset, 0, 1<<62),
				{key: "timestamp", decode: func(w *walker, n *yaml.Node, path string) bool {
					t, ok := w.timestamp(n, path)
					r.Timestamp = t
					return ok
				}},
			})
			if !b.ok {
				all = false
				continue
			}
			*dst = append(*dst, r)
		}
		return all
	}}
}

// checkTests reports tests that name a pipeline the file does not have.
func (w *walker) checkTests(f *File) {
	names := make(map[string]bool, len(f.Pipelines))
	known := make([]string, 0, len(f.Pipelines))
	for _, p := range f.Pipelines {
		names[p.Name] = true
		known = append(known, p.Name)
	}
	for _, t := range f.Tests {
		if !names[t.Pipeline] {
			pos := w.pos[t.Path+".pipeline"]
			e := w.errorf(&yaml.Node{Line: pos.Line, Column: pos.Column}, t.Path+".pipeline", "no pipeline named %s in this file", strconv.Quote(t.Pipeline))
			if s := suggest(t.Pipeline, known); s != "" {
				e.Hint = "did you mean " + strconv.Quote(s) + "?"
			}
		}
	}
}
