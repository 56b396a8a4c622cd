package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// The kinds of failure, for errors.Is: every error of this package is an
// *Error whose Kind is one of them (or nil for failures of no particular
// kind).
var (
	// ErrInvalidRef: the text is not a well-formed reference.
	ErrInvalidRef = errors.New("invalid secret reference")
	// ErrNotFound: no such secret, variable or file, or it has no value.
	ErrNotFound = errors.New("secret not found")
	// ErrAccessDenied: the secret exists but may not be read: a missing
	// IAM permission (secretsmanager:GetSecretValue, kms:Decrypt), refused
	// AWS credentials, or a file's permissions.
	ErrAccessDenied = errors.New("secret access denied")
	// ErrNotJSON: the secret is not the JSON (object) the caller needs.
	ErrNotJSON = errors.New("secret is not the JSON expected")
	// ErrKeyMissing: the secret's JSON object lacks the key asked for.
	ErrKeyMissing = errors.New("secret lacks the JSON key")
	// ErrUnavailable: the secret store failed or throttled; trying again
	// later may work.
	ErrUnavailable = errors.New("secret store unavailable")
)

// Error is the error of everything in this package: which reference
// failed, what kind of failure it is, and why. Its text never holds a
// secret value nor any part of one.
type Error struct {
	// Ref is the reference that failed; zero for a text Parse refused.
	Ref Ref
	// Kind is ErrInvalidRef, ErrNotFound, ErrAccessDenied, ErrNotJSON,
	// ErrKeyMissing, ErrUnavailable, or nil.
	Kind error
	// Err is the underlying error (from the AWS SDK, the file system or
	// the context), if any.
	Err error

	msg string
}

// Error returns "secret REF: WHAT: CAUSE", or "invalid secret reference:
// WHAT" for a text that does not parse.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Ref.Scheme == "" {
		b.WriteString("invalid secret reference: ")
	} else {
		b.WriteString("secret ")
		b.WriteString(e.Ref.String())
		b.WriteString(": ")
	}
	b.WriteString(e.msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and Err, so that errors.Is(err, ErrNotFound) and
// errors.As(err, &someSDKError) both work.
func (e *Error) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func invalid(format string, args ...any) *Error {
	return &Error{Kind: ErrInvalidRef, msg: fmt.Sprintf(format, args...)}
}

func refError(ref Ref, kind, cause error, format string, args ...any) *Error {
	return &Error{Ref: ref, Kind: kind, Err: cause, msg: fmt.Sprintf(format, args...)}
}

// describeJSON names what kind of JSON value b is, or says it is not
// JSON, without quoting any of it.
func describeJSON(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Sprintf("not JSON (syntax error at byte %d of %d)", se.Offset, len(b))
		}
		return "not JSON"
	}
	switch v.(type) {
	case map[string]any:
		return "a JSON object"
	case []any:
		return "a JSON array"
	case string:
		return "a JSON string"
	case float64:
		return "a JSON number"
	case bool:
		return "a JSON boolean"
	}
	return "JSON null"
}

// decodeError rewords an error of json.Unmarshal(secret, dst) so that it
// names the offending field and types but none of the secret's text
// (encoding/json quotes characters of a syntax error and the literal of
// a number that does not fit).
func decodeError(b []byte, dst any, err error) string {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
		ie *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("is not valid JSON (syntax error at byte %d of %d)", se.Offset, len(b))
	case errors.As(err, &te):
		kind, _, _ := strings.Cut(te.Value, " ") // "number 1.5" quotes the number
		where := "the secret"
		if te.Field != "" {
			where = "field " + te.Field
		}
		return fmt.Sprintf("does not fit %s: %s is a JSON %s, which does not fit Go type %s", reflect.TypeOf(dst), where, kind, te.Type)
	case errors.As(err, &ie):
		return ie.Error()
	}
	// A field's own UnmarshalJSON (a time, a custom type) may quote what
	// it could not parse.
	return fmt.Sprintf("does not decode into %s (the decoder's message is withheld: it may quote the secret)", reflect.TypeOf(dst))
}
