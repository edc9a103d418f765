// Package errs is the one small set of error kinds every domain package
// returns — not found, conflict, invalid, forbidden, rate limited and
// unavailable — and the one shape for problems with what someone typed.
// Domain packages wrap a kind with context (fmt.Errorf("profile %d: %w",
// id, errs.NotFound)); the HTML and JSON surfaces each turn a kind into a
// status and a safe message in a single function, so a new error needs no
// new mapping as long as it says what kind it is.
//
// It sits at the bottom of the house and imports nothing of Confide's.
package errs

import (
	"errors"
	"io"
	"slices"
	"strings"
	"time"
)

// Kind is what sort of failure an error is, which decides how it is
// answered. A Kind is itself an error, so it can be returned, wrapped
// with %w and tested with errors.Is like any sentinel, and it is a
// constant, so no package can change it.
type Kind uint8

// The kinds. Internal, the zero value, stands for every error that has no
// kind: a fault on our side, answered with a generic message and logged.
const (
	Internal Kind = iota
	// NotFound: the thing asked for does not exist, or may not be shown.
	NotFound
	// Conflict: the request clashes with the current state (a slug taken,
	// an article no longer in review, an enquiry already received).
	Conflict
	// Invalid: what was sent cannot be accepted; a Fields says why, field
	// by field.
	Invalid
	// Forbidden: the actor may not do this.
	Forbidden
	// RateLimited: too many attempts; a *LimitError says how long to wait.
	RateLimited
	// Unavailable: something we depend on cannot take the work just now;
	// trying again later may succeed.
	Unavailable
)

// Error is the kind's name in words; a wrapped error reads "profile 7:
// not found".
func (k Kind) Error() string {
	switch k {
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Invalid:
		return "invalid input"
	case Forbidden:
		return "not allowed"
	case RateLimited:
		return "rate limited"
	case Unavailable:
		return "unavailable"
	}
	return "internal error"
}

// KindOf returns the kind err is or wraps, and Internal for an error
// without one (nil included), which the surfaces answer with a 500.
func KindOf(err error) Kind {
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	if unreachable(err) {
		return Unavailable
	}
	return k
}

// unreachable recognises, by shape rather than by importing any driver,
// the errors of a database or service that is down or restarting: network
// errors (connection refused, reset, timed out), a connection cut off
// mid-answer, and PostgreSQL's SQLSTATEs for the same (class 08
// "connection exception", 57P01–57P03 "shutting down" or "cannot connect
// now", 53300 "too many connections"). Such a failure is temporary and not
// the caller's fault: it is Unavailable (503, try again) rather than a
// 500, and nothing was done, since a transaction cut off is rolled back.
func unreachable(err error) bool {
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		c := state.SQLState()
		return strings.HasPrefix(c, "08") || c == "57P01" || c == "57P02" || c == "57P03" || c == "53300"
	}
	var netErr interface {
		error
		Timeout() bool
	}
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF)
}

// New returns an error of kind k with its own text, for a sentinel that
// callers must tell apart from others of its kind (enquiry.ErrDuplicate
// is a Conflict that Submit treats as success). errors.Is(err, k) holds.
func New(k Kind, text string) error { return &kindError{kind: k, text: text} }

type kindError struct {
	kind Kind
	text string
}

func (e *kindError) Error() string { return e.text }

func (e *kindError) Unwrap() error { return e.kind }

// Fields is the one shape for problems with what someone typed: field
// name → message worded for the person, shown beside the field, so every
// form and API answer can report every problem at once. It is an error
// of kind Invalid.
type Fields map[string]string

// Error lists the fields at fault, never the messages or what was typed:
// errors are logged, and messages may quote private input.
func (f Fields) Error() string { return "invalid input: " + strings.Join(f.Names(), ", ") }

// Unwrap makes every Fields of kind Invalid.
func (f Fields) Unwrap() error { return Invalid }

// Add records msg for field unless the field already has a message, so
// the first problem found with a field is the one shown.
func (f Fields) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Names lists the fields at fault in sorted order, for a stable summary.
func (f Fields) Names() []string {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// FieldsOf returns the field problems err carries, if any.
func FieldsOf(err error) (Fields, bool) {
	var f Fields
	ok := errors.As(err, &f)
	return f, ok
}

// LimitError is a RateLimited error that names the limit reached and how
// long until another try may succeed, which the surfaces send as
// Retry-After.
type LimitError struct {
	// Limit names the limit, for pages that word each one differently.
	Limit      string
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	if e.Limit == "" {
		return "rate limited"
	}
	return "rate limited: " + e.Limit
}

// Unwrap makes every *LimitError of kind RateLimited.
func (e *LimitError) Unwrap() error { return RateLimited }

// RetryAfter returns how long err asks the caller to wait, if it says.
func RetryAfter(err error) (time.Duration, bool) {
	var le *LimitError
	if errors.As(err, &le) {
		return le.RetryAfter, true
	}
	return 0, false
}
