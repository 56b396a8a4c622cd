package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Defaults of a Resolver's refresh.
const (
	// DefaultTTL is how long a value is served before it is fetched again.
	DefaultTTL = 5 * time.Minute
	// DefaultGrace is how long past its TTL a value is still served while
	// fetching it again fails.
	DefaultGrace = time.Hour
	// DefaultRetryInterval is how long a Resolver waits after a failed
	// refresh before it tries again, serving the cached value meanwhile.
	DefaultRetryInterval = 30 * time.Second
	// MaxFileSize is the largest file a file: reference may name.
	MaxFileSize = 1 << 20
)

// Option configures a Resolver.
type Option func(*Resolver)

// WithTTL sets how long a fetched value is served before the next use
// fetches it again; default DefaultTTL. d <= 0 keeps the default.
func WithTTL(d time.Duration) Option {
	return func(r *Resolver) {
		if d > 0 {
			r.ttl = d
		}
	}
}

// WithGrace sets how long past its TTL a value is still served while
// fetching it again fails; default DefaultGrace. 0 serves nothing stale:
// a failed refresh is the caller's error.
func WithGrace(d time.Duration) Option {
	return func(r *Resolver) { r.grace = max(d, 0) }
}

// WithRetryInterval sets how long after a failed refresh the cached value
// is served without trying again; default DefaultRetryInterval. 0 tries
// again at every use.
func WithRetryInterval(d time.Duration) Option {
	return func(r *Resolver) { r.retry = max(d, 0) }
}

// WithClock sets the clock of the cache; nil means time.Now.
func WithClock(now func() time.Time) Option {
	return func(r *Resolver) {
		if now != nil {
			r.now = now
		}
	}
}

// WithRefreshError sets the function told of every failed refresh whose
// stale value is served instead (the caller then gets no error). It is
// called without locks held, after the failure; nil, the default, logs a
// warning with the logger of WithLogger.
func WithRefreshError(f func(ref Ref, err error)) Option {
	return func(r *Resolver) { r.onRefreshError = f }
}

// WithLogger sets the logger of failed refreshes (when no WithRefreshError
// function is set); nil, the default, means slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(r *Resolver) { r.log = l }
}

// Resolver reads the secrets that references name, and caches them. It
// is safe for concurrent use.
//
// A Secrets Manager secret and a file are read on first use and cached,
// the whole secret once for all the keys of it referenced; an environment
// variable is read at every use. A cached value older than the TTL is
// fetched again at its next use (one fetch at a time per secret; other
// users wait for it). When that fetch fails, the old value keeps being
// served, for at most the grace period past its TTL, without a new
// attempt during the retry interval, and the failure is reported through
// WithRefreshError or logged; past the grace period the failure is the
// caller's error and the value is dropped.
type Resolver struct {
	sm             func(ctx context.Context, region string) (SecretsManagerAPI, error)
	ttl            time.Duration
	grace          time.Duration
	retry          time.Duration
	now            func() time.Time
	onRefreshError func(Ref, error)
	log            *slog.Logger

	mu      sync.Mutex
	clients map[string]SecretsManagerAPI
	entries map[source]*entry
}

// source is where a cached value comes from: a Secrets Manager secret
// (region and SecretId as written) or a file.
type source struct {
	scheme, region, id string
}

type entry struct {
	val     []byte
	binary  bool      // val is a SecretBinary
	fetched time.Time // zero when there is no value
	failed  time.Time // last failed refresh, zero after a success
	stale   bool      // Invalidate was called
	flight  *flight   // the fetch under way, if any
}

// flight is a fetch under way; its users wait for done, and then share
// its error unless the fetch was cut short by its caller's context.
type flight struct {
	done      chan struct{}
	err       error
	cancelled bool
}

// NewResolver returns a Resolver. sm builds the Secrets Manager client of
// a region the first time a reference needs it: the region of a
// reference's ARN, or "" for the default region of the client's
// configuration (see ClientsFromConfig); a nil sm makes secretsmanager
// references an error.
func NewResolver(sm func(ctx context.Context, region string) (SecretsManagerAPI, error), opts ...Option) *Resolver {
	r := &Resolver{
		sm:      sm,
		ttl:     DefaultTTL,
		grace:   DefaultGrace,
		retry:   DefaultRetryInterval,
		now:     time.Now,
		clients: map[string]SecretsManagerAPI{},
		entries: map[source]*entry{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Value returns the secret ref names: the whole value (a Secrets Manager
// secret's SecretString or SecretBinary, a variable's value, a file's
// contents less one final line ending when it is text), or, with
// ref.Key, that key of the secret's JSON object: a JSON string's text, or
// the JSON text of any other value (a number, an object). The slice is
// the caller's. An unset or empty variable and an empty file are errors
// of kind ErrNotFound.
func (r *Resolver) Value(ctx context.Context, ref Ref) ([]byte, error) {
	raw, binary, err := r.get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ref.Key == "" {
		return bytes.Clone(raw), nil
	}
	v, err := keyOf(ref, raw, binary)
	if err != nil {
		return nil, err
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []byte(s), nil
	}
	return bytes.Clone(v), nil
}

// JSON decodes the secret ref names (its key ref.Key when set) as JSON
// into dst, as json.Unmarshal does. A secret that is not JSON, or does not
// fit dst, is an error of kind ErrNotJSON that names the field and types
// at fault but quotes none of the secret.
func (r *Resolver) JSON(ctx context.Context, ref Ref, dst any) error {
	raw, binary, err := r.get(ctx, ref)
	if err != nil {
		return err
	}
	if ref.Key != "" {
		if raw, err = keyOf(ref, raw, binary); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return refError(ref, ErrNotJSON, nil, "%s", decodeError(raw, dst, err))
	}
	return nil
}

// Invalidate makes the next use of ref's secret fetch it again, as if its
// TTL had passed (the value is still served, within the grace period, if
// that fetch fails): for when a credential was just refused.
func (r *Resolver) Invalidate(ref Ref) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[sourceOf(ref)]; e != nil {
		e.stale = true
		e.failed = time.Time{}
	}
}

// keyOf returns the raw JSON of ref.Key in the secret's JSON object.
func keyOf(ref Ref, raw []byte, binary bool) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		what := describeJSON(raw)
		if binary {
			what = "a binary secret (SecretBinary) that is " + what
		}
		return nil, refError(ref, ErrNotJSON, nil, "key %q asked for, but the secret is %s, not a JSON object", ref.Key, what)
	}
	v, ok := obj[ref.Key]
	if !ok {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if len(keys) == 0 {
			return nil, refError(ref, ErrKeyMissing, nil, "no key %q: the secret is an empty JSON object", ref.Key)
		}
		hint := ""
		for _, k := range keys {
			if strings.EqualFold(k, ref.Key) {
				hint = fmt.Sprintf(" (did you mean %q? keys are case-sensitive)", k)
				break
			}
		}
		return nil, refError(ref, ErrKeyMissing, nil, "no key %q in the secret's JSON object%s; its keys are %s",
			ref.Key, hint, quoteList(keys))
	}
	if string(v) == "null" {
		return nil, refError(ref, ErrKeyMissing, nil, "key %q is null", ref.Key)
	}
	return v, nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func sourceOf(ref Ref) source {
	return source{scheme: ref.Scheme, region: ref.Region(), id: ref.Name}
}

// get returns the raw secret ref names, from the cache or fetched.
func (r *Resolver) get(ctx context.Context, ref Ref) ([]byte, bool, error) {
	switch ref.Scheme {
	case SchemeEnv:
		v, err := readEnv(ref)
		return v, false, err
	case SchemeSecretsManager, SchemeFile:
	default:
		return nil, false, refError(ref, ErrInvalidRef, nil, "unknown scheme %q: want %s", ref.Scheme, forms)
	}
	if ref.Name == "" {
		return nil, false, refError(ref, ErrInvalidRef, nil, "no name")
	}
	if ref.Key != "" && ref.Scheme != SchemeSecretsManager {
		return nil, false, refError(ref, ErrInvalidRef, nil, "only secretsmanager references take a JSON key")
	}
	src := sourceOf(ref)
	for {
		r.mu.Lock()
		e := r.entries[src]
		if e == nil {
			e = &entry{}
			r.entries[src] = e
		}
		now := r.now()
		has := !e.fetched.IsZero()
		if has && !e.stale && now.Sub(e.fetched) < r.ttl {
			v, b := e.val, e.binary
			r.mu.Unlock()
			return v, b, nil
		}
		if has && !e.failed.IsZero() && now.Sub(e.failed) < r.retry && now.Sub(e.fetched) < r.ttl+r.grace {
			v, b := e.val, e.binary
			r.mu.Unlock()
			return v, b, nil
		}
		if fl := e.flight; fl != nil {
			r.mu.Unlock()
			select {
			case <-fl.done:
				if fl.err != nil && !fl.cancelled {
					return nil, false, fl.err
				}
				continue // fetched, or cut short by its caller's context: look again
			case <-ctx.Done():
				return nil, false, refError(ref, nil, ctx.Err(), "gave up waiting for the secret")
			}
		}
		fl := &flight{done: make(chan struct{})}
		e.flight = fl
		r.mu.Unlock()

		val, binary, err := r.fetch(ctx, ref)

		r.mu.Lock()
		now = r.now()
		cancelled := err != nil && ctx.Err() != nil
		var stale bool
		var age time.Duration
		switch {
		case err == nil:
			e.val, e.binary, e.fetched, e.failed, e.stale = val, binary, now, time.Time{}, false
		case has && now.Sub(e.fetched) < r.ttl+r.grace:
			// Serve the cached value; others wait for the retry interval.
			stale, age = true, now.Sub(e.fetched)
			val, binary = e.val, e.binary
			if !cancelled {
				e.failed = now
			}
		case has && !cancelled:
			// Past the grace period: the value goes.
			age := now.Sub(e.fetched)
			e.val, e.binary, e.fetched, e.failed, e.stale = nil, false, time.Time{}, time.Time{}, false
			var re *Error
			if errors.As(err, &re) {
				re.msg += fmt.Sprintf(" (the cached value, fetched %s ago, is past its TTL and grace period and no longer served)",
					age.Round(time.Second))
			}
		}
		if !stale {
			fl.err, fl.cancelled = err, cancelled
		}
		e.flight = nil
		close(fl.done)
		r.mu.Unlock()
		if stale {
			if !cancelled {
				r.refreshFailed(ref, err, age)
			}
			return val, binary, nil
		}
		if err != nil {
			return nil, false, err
		}
		return val, binary, nil
	}
}

func (r *Resolver) refreshFailed(ref Ref, err error, age time.Duration) {
	if r.onRefreshError != nil {
		r.onRefreshError(ref, err)
		return
	}
	log := r.log
	if log == nil {
		log = slog.Default()
	}
	log.Warn("secret refresh failed; serving the cached value", "ref", ref.String(), "age", age.Round(time.Second), "err", err)
}

// fetch reads the secret from its store.
func (r *Resolver) fetch(ctx context.Context, ref Ref) ([]byte, bool, error) {
	if ref.Scheme == SchemeFile {
		v, err := readFile(ref)
		return v, false, err
	}
	return r.fetchSecretsManager(ctx, ref)
}

func readEnv(ref Ref) ([]byte, error) {
	v, ok := os.LookupEnv(ref.Name)
	switch {
	case !ok:
		return nil, refError(ref, ErrNotFound, nil, "environment variable %s is not set", ref.Name)
	case v == "":
		return nil, refError(ref, ErrNotFound, nil, "environment variable %s is set but empty", ref.Name)
	}
	return []byte(v), nil
}

func readFile(ref Ref) ([]byte, error) {
	p := ref.Name
	f, err := os.Open(p)
	if err != nil {
		return nil, fileError(ref, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fileError(ref, err)
	}
	if st.IsDir() {
		return nil, refError(ref, ErrNotFound, nil, "%s is a directory, not a file", p)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fileError(ref, err)
	}
	if len(b) > MaxFileSize {
		return nil, refError(ref, nil, nil, "%s is larger than %d bytes: not a secret", p, MaxFileSize)
	}
	if utf8.Valid(b) {
		if t, ok := bytes.CutSuffix(b, []byte("\n")); ok {
			b, _ = bytes.CutSuffix(t, []byte("\r"))
		}
	}
	if len(b) == 0 {
		return nil, refError(ref, ErrNotFound, nil, "%s is empty", p)
	}
	return b, nil
}

func fileError(ref Ref, err error) error {
	kind := error(nil)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		kind = ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		kind = ErrAccessDenied
	}
	return refError(ref, kind, err, "cannot read %s", ref.Name)
}
