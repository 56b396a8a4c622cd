package kafka

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A fetch error repeated on every fetch is logged once per partition per
// interval, then with the number of repeats; other partitions and other
// errors are logged on their own.
func TestFetchErrorsAreNotLoggedForEveryFetch(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var l errorLog
	unknown := errors.New("UNKNOWN_TOPIC_ID: This server does not host this topic ID.")
	for range 1000 {
		l.log(log, 0, unknown)
	}
	l.log(log, 1, unknown)
	l.log(log, 0, errors.New("NOT_LEADER_OR_FOLLOWER"))
	if n := strings.Count(buf.String(), "fetch error"); n != 3 {
		t.Fatalf("%d lines, want 3:\n%s", n, buf.String())
	}
	l.seen[errorKey{0, unknown.Error()}].at = time.Now().Add(-errorLogInterval)
	l.log(log, 0, unknown)
	if !strings.Contains(buf.String(), "repeats=999") {
		t.Fatalf("the repeats are not counted:\n%s", buf.String())
	}
}
