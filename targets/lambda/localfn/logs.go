package localfn

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
)

// maxLine is the longest line of output logged whole; longer lines are cut.
const maxLine = 16 << 10

// maxStderrQuote bounds the last line of stderr quoted in errors.
const maxStderrQuote = 512

// pump logs the lines of one of the process's output streams until EOF.
func (sb *sandbox) pump(r io.Reader, stream string) {
	defer sb.pumps.Done()
	br := bufio.NewReaderSize(r, maxLine)
	cutting := false // in the rest of a line too long to log
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			if !cutting {
				sb.logLine(stream, line, true)
			}
			cutting = true
			continue
		case !cutting:
			sb.logLine(stream, line, false)
		}
		cutting = false
		if err != nil {
			return
		}
	}
}

// logLine logs one line of output.
func (sb *sandbox) logLine(stream string, line []byte, truncated bool) {
	line = bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	msg := string(line)
	sb.mu.Lock()
	id := sb.lastID
	if stream == "stderr" {
		q := msg
		if len(q) > maxStderrQuote {
			q = strings.ToValidUTF8(q[:maxStderrQuote], "") + "..."
		}
		sb.lastStderr = q
	}
	sb.mu.Unlock()
	attrs := make([]slog.Attr, 0, 3)
	attrs = append(attrs, slog.String("stream", stream))
	if id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if truncated {
		attrs = append(attrs, slog.Bool("truncated", true))
	}
	sb.f.log.LogAttrs(context.Background(), slog.LevelInfo, msg, attrs...)
}
