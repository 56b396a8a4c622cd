package wasm

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Limits on what one instance may write to the log.
const (
	// logLinesPerSecond is how many lines an instance may log in a second;
	// further lines are counted and reported as one line.
	logLinesPerSecond = 100
	// maxLogLine is the longest line logged; longer output is cut into
	// lines of this size.
	maxLogLine = 4 << 10
)

// guestLog turns one instance's output (the penstock_v1.log import, WASI
// stdout and stderr) into log lines, rate-limited for the whole instance.
type guestLog struct {
	logger *slog.Logger

	mu         sync.Mutex
	window     time.Time   // start of the current second
	lines      int         // lines logged in the window
	suppressed int         // lines dropped since the last report
	pending    atomic.Bool // suppressed > 0, read without the lock

	stdout, stderr lineWriter
}

func newGuestLog(logger *slog.Logger) *guestLog {
	g := &guestLog{logger: logger}
	g.stdout = lineWriter{g: g, stream: "stdout", level: slog.LevelInfo}
	g.stderr = lineWriter{g: g, stream: "stderr", level: slog.LevelWarn}
	return g
}

// line logs one line of the guest, unless the instance is over its rate.
// The caller holds g.mu.
func (g *guestLog) line(level slog.Level, stream string, msg []byte) {
	now := time.Now()
	if g.lines >= logLinesPerSecond {
		if now.Sub(g.window) < time.Second {
			g.suppressed++
			g.pending.Store(true)
			return
		}
		g.report()
	}
	if g.lines == 0 || now.Sub(g.window) >= time.Second {
		g.window, g.lines = now, 0
	}
	g.lines++
	g.logger.Log(context.Background(), level, string(msg), "stream", stream)
}

// report logs the count of suppressed lines, if any. The caller holds g.mu.
func (g *guestLog) report() {
	if g.suppressed > 0 {
		g.logger.Warn(fmt.Sprintf("… suppressed %d log lines (more than %d a second)", g.suppressed, logLinesPerSecond))
		g.suppressed = 0
		g.pending.Store(false)
	}
}

// log is the penstock_v1.log import.
func (g *guestLog) log(level int32, msg []byte) {
	var l slog.Level
	switch {
	case level <= 0:
		l = slog.LevelDebug
	case level == 1:
		l = slog.LevelInfo
	case level == 2:
		l = slog.LevelWarn
	default:
		l = slog.LevelError
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(msg) > maxLogLine {
		g.line(l, "log", msg[:maxLogLine])
		msg = msg[maxLogLine:]
	}
	g.line(l, "log", msg)
}

// afterCall reports suppressed lines once their second is over, so that a
// burst is reported even if the guest then stays quiet.
func (g *guestLog) afterCall() {
	if !g.pending.Load() {
		return
	}
	g.mu.Lock()
	if g.suppressed > 0 && time.Since(g.window) >= time.Second {
		g.report()
		g.lines = 0
	}
	g.mu.Unlock()
}

// close logs what is left: partial lines and the suppressed count.
func (g *guestLog) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stdout.flush()
	g.stderr.flush()
	g.report()
}

// lineWriter is the io.Writer given to WASI for stdout or stderr. Bytes
// passed to Write are a view of guest memory: they are copied or logged
// before Write returns.
type lineWriter struct {
	g      *guestLog
	stream string
	level  slog.Level
	buf    []byte // the unfinished line
}

// Write implements io.Writer.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.g.mu.Lock()
	defer w.g.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLogLine - len(w.buf)
			if len(p) < room {
				w.buf = append(w.buf, p...)
				break
			}
			w.buf = append(w.buf, p[:room]...)
			p = p[room:]
			w.flush()
			continue
		}
		line := p[:i]
		p = p[i+1:]
		if len(w.buf) > 0 {
			for len(line) > 0 {
				room := maxLogLine - len(w.buf)
				k := min(room, len(line))
				w.buf = append(w.buf, line[:k]...)
				line = line[k:]
				if len(line) > 0 {
					w.flush()
				}
			}
			w.flush()
			continue
		}
		for len(line) > maxLogLine {
			w.g.line(w.level, w.stream, line[:maxLogLine])
			line = line[maxLogLine:]
		}
		w.g.line(w.level, w.stream, trimCR(line))
	}
	return n, nil
}

// flush logs the unfinished line, if any. The caller holds g.mu.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.g.line(w.level, w.stream, trimCR(w.buf))
		w.buf = w.buf[:0]
	}
}

func trimCR(p []byte) []byte {
	if len(p) > 0 && p[len(p)-1] == '\r' {
		return p[:len(p)-1]
	}
	return p
}
