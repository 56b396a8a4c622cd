package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// emptyFileMsg is the message for a file with no YAML content. It is the
// only error without a line number.
const emptyFileMsg = `the file is empty; it needs "version: 1" and a "pipelines" list`

// document parses data as a single YAML document and returns its top node,
// or nil after reporting why there is none.
func (w *walker) document(data []byte) (top *yaml.Node) {
	defer func() {
		// The YAML parser reports problems by returning errors; this only
		// guards against a bug in it taking the caller down.
		if r := recover(); r != nil {
			w.errs = append(w.errs, &Error{File: w.path, Line: 1, Msg: fmt.Sprintf("cannot parse YAML: %v", r)})
			top = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			w.errs = append(w.errs, &Error{File: w.path, Msg: emptyFileMsg})
		} else {
			w.syntaxError(data, err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		w.syntaxError(data, err)
		return nil
	default:
		e := w.errorf(&next, "", "the file holds more than one YAML document; Penstock reads only the first")
		e.Hint = `remove the "---" line or move the other pipelines into the first document`
	}
	if len(doc.Content) == 0 {
		w.errs = append(w.errs, &Error{File: w.path, Msg: emptyFileMsg})
		return nil
	}
	return doc.Content[0]
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
var unknownAnchorErr = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

// syntaxError turns a YAML parser error into an Error. The parser gives a
// line for most problems but never a column; for the few it gives no line
// for, the position is found in data where possible.
func (w *walker) syntaxError(data []byte, err error) {
	msg := err.Error()
	e := &Error{File: w.path, Line: 1}
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if isParserProblem(msg) {
			// The parser (unlike the scanner) reports 0-based lines.
			e.Line++
		}
	} else {
		if m := unknownAnchorErr.FindStringSubmatch(msg); m != nil {
			if p, ok := findAlias(data, m[1]); ok {
				e.Line, e.Column = p.Line, p.Column
			}
		} else if p, ok := findBadChar(data); ok {
			e.Line, e.Column = p.Line, p.Column
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	e.Msg = "invalid YAML: " + msg
	switch msg {
	case "did not find expected key", "did not find expected '-' indicator", "mapping values are not allowed in this context":
		e.Hint = "check the indentation here and on the lines above"
	}
	if strings.Contains(msg, "tab character") || strings.Contains(msg, "cannot start any token") {
		// Point at the offending tab, which is on the reported line or,
		// when the scanner reports the start of the scalar it was reading,
		// on the next one.
		for line := e.Line; line <= e.Line+1; line++ {
			if col, ok := indentTab(data, line); ok {
				e.Line, e.Column = line, col
				e.Hint = "indent with spaces; YAML does not allow tabs"
				break
			}
		}
	}
	w.errs = append(w.errs, e)
}

// isParserProblem reports whether msg comes from the YAML parser rather
// than its scanner.
func isParserProblem(msg string) bool {
	switch msg {
	case "did not find expected <stream-start>",
		"did not find expected <document start>",
		"did not find expected node content",
		"did not find expected '-' indicator",
		"did not find expected key",
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"found undefined tag handle",
		"found duplicate %YAML directive",
		"found duplicate %TAG directive",
		"found incompatible YAML document":
		return true
	}
	return strings.HasPrefix(msg, "expected ") && strings.Contains(msg, " event but got ")
}

// positionAt converts a byte offset in data to a 1-based line and column
// (counted in characters).
func positionAt(data []byte, off int) Position {
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return Position{line, 1 + utf8.RuneCount(data[start:off])}
}

// findAlias finds the first use of the alias *name.
func findAlias(data []byte, name string) (Position, bool) {
	pat := []byte("*" + name)
	for off := 0; ; {
		i := bytes.Index(data[off:], pat)
		if i < 0 {
			return Position{}, false
		}
		end := off + i + len(pat)
		if end == len(data) || bytes.IndexByte([]byte(" \t\r\n,]}"), data[end]) >= 0 {
			return positionAt(data, off+i), true
		}
		off = end
	}
}

// findBadChar finds the first byte that YAML rejects: invalid UTF-8 or a
// control character other than tab, newline and carriage return.
func findBadChar(data []byte) (Position, bool) {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if (r == utf8.RuneError && size <= 1) || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r < 0xa0 && r != 0x85) {
			return positionAt(data, off), true
		}
		off += size
	}
	return Position{}, false
}

// indentTab returns the column of a tab in the indentation of a line.
func indentTab(data []byte, line int) (int, bool) {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return 0, false
	}
	for i, c := range lines[line-1] {
		switch c {
		case '\t':
			return i + 1, true
		case ' ', '-', '?', ':':
			// Still indentation, including "- " of sequence entries.
		default:
			return 0, false
		}
	}
	return 0, false
}
