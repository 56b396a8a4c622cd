package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("x: &a {<<: *a}\nversion: 1\npipelines: [{<<: *a}]\n"))
	f.Add([]byte("version: 1\npipelines:\n  - <<: [&b {name: x}, *b]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err == nil {
			if file == nil || len(file.Pipelines) == 0 {
				t.Fatalf("no error but no pipelines: %+v", file)
			}
			for _, p := range file.Pipelines {
				if p.Source.Kafka == nil || (p.Target.Stdout == nil) == (p.Target.File == nil) {
					t.Fatalf("valid file with incomplete pipeline: %+v", p)
				}
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is not a non-empty Errors: %T %v", err, err)
		}
		for _, e := range errs {
			if e.Line < 1 && e.Msg != emptyFileMsg {
				t.Errorf("error without a line: %v", e)
			}
			if e.File != "fuzz.yaml" {
				t.Errorf("error with file %q: %v", e.File, e)
			}
		}
	})
}
