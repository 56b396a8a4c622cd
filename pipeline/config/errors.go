package config

import (
	"sort"
	"strconv"
	"strings"
)

// Position is a place in a config file. Line and Column start at 1; zero
// means unknown.
type Position struct {
	Line, Column int
}

// String returns "line:column", or "line" when the column is unknown, or ""
// when the position is unknown.
func (p Position) String() string {
	switch {
	case p.Line <= 0:
		return ""
	case p.Column <= 0:
		return strconv.Itoa(p.Line)
	default:
		return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
	}
}

// Error is one problem in a config file.
type Error struct {
	// File is the config file path as given to Load or Parse.
	File string
	// Line and Column locate the offending node; they start at 1. Column is
	// zero when only the line is known (YAML syntax errors), and both are
	// zero for problems with the file as a whole, such as an empty file.
	Line, Column int
	// Path is the field path of the offending value, such as
	// pipelines[0].batch.size, or empty for problems at the top of the file.
	// Errors about a key that is unknown, duplicated or missing carry the
	// path of the mapping that holds it.
	Path string
	// Msg says what is wrong.
	Msg string
	// Hint suggests a fix, such as `did you mean "window"?`; it may be empty.
	Hint string
}

// Error formats e as "file:line:column: path: message (hint)", leaving out
// the parts that are unknown or empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File != "" {
			b.WriteByte(':')
		}
		b.WriteString(Position{e.Line, e.Column}.String())
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteByte(')')
	}
	return b.String()
}

// Errors is every problem found in a config file, sorted by line and column.
// Load and Parse return an Errors value whenever the file is invalid.
type Errors []*Error

// Error joins the messages of all errors with newlines.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors, so that errors.As can reach each
// *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// normalize sorts es by position, keeping the order of discovery among
// errors at the same position, and drops repeats of the same message at the
// same position (a value reached through several YAML aliases is reported
// once).
func (es Errors) normalize() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Column < es[j].Column
	})
	type key struct {
		line, col int
		msg       string
	}
	seen := make(map[key]bool, len(es))
	out := es[:0]
	for _, e := range es {
		k := key{e.Line, e.Column, e.Msg}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

// quote renders a user-supplied string for a message, shortening long ones.
func quote(s string) string {
	const max = 60
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max]) + "..."
	}
	return strconv.Quote(s)
}
