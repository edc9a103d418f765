package errs_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/errs"
)

func TestKindOf(t *testing.T) {
	dup := errs.New(errs.Conflict, "enquiry already received")
	tests := []struct {
		name string
		err  error
		want errs.Kind
	}{
		{"nil", nil, errs.Internal},
		{"plain error", errors.New("disk on fire"), errs.Internal},
		{"bare kind", errs.NotFound, errs.NotFound},
		{"wrapped kind", fmt.Errorf("profile 7: %w", errs.NotFound), errs.NotFound},
		{"wrapped twice", fmt.Errorf("update: %w", fmt.Errorf("slug taken: %w", errs.Conflict)), errs.Conflict},
		{"sentinel of a kind", dup, errs.Conflict},
		{"wrapped sentinel", fmt.Errorf("store: %w", dup), errs.Conflict},
		{"fields", errs.Fields{"email": "Enter an email address"}, errs.Invalid},
		{"wrapped fields", fmt.Errorf("sign up: %w", errs.Fields{"email": "x"}), errs.Invalid},
		{"limit", &errs.LimitError{Limit: "sender", RetryAfter: time.Hour}, errs.RateLimited},
		{"wrapped limit", fmt.Errorf("submit: %w", &errs.LimitError{RetryAfter: time.Minute}), errs.RateLimited},
		{"forbidden", errs.Forbidden, errs.Forbidden},
		{"unavailable sentinel", errs.New(errs.Unavailable, "index still loading"), errs.Unavailable},
		{"joined: the first kind wins", errors.Join(errors.New("x"), errs.Forbidden, errs.NotFound), errs.Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errs.KindOf(tt.err); got != tt.want {
				t.Fatalf("KindOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if tt.want != errs.Internal && !errors.Is(tt.err, tt.want) {
				t.Fatalf("errors.Is(%v, %v) = false", tt.err, tt.want)
			}
		})
	}
}

// TestSentinelsStayDistinct: a sentinel made with New is its kind, but not
// every error of that kind is the sentinel.
func TestSentinelsStayDistinct(t *testing.T) {
	dup := errs.New(errs.Conflict, "enquiry already received")
	if !errors.Is(fmt.Errorf("x: %w", dup), dup) {
		t.Fatal("a wrapped sentinel is not itself")
	}
	if errors.Is(errs.Conflict, dup) || errors.Is(errs.New(errs.Conflict, "enquiry already received"), dup) {
		t.Fatal("another conflict counts as the sentinel")
	}
	if got := fmt.Errorf("profile 7: %w", errs.NotFound).Error(); got != "profile 7: not found" {
		t.Fatalf("wrapped text %q", got)
	}
}

func TestFields(t *testing.T) {
	f := errs.Fields{}
	f.Add("email", "Enter an email address")
	f.Add("email", "a second problem is not shown")
	f.Add("name", "Enter your name")
	err := fmt.Errorf("sign up: %w", f)
	got, ok := errs.FieldsOf(err)
	if !ok || got["email"] != "Enter an email address" || len(got) != 2 {
		t.Fatalf("FieldsOf = %v, %v", got, ok)
	}
	// The text is logged: it names the fields, never the messages.
	if s := f.Error(); s != "invalid input: email, name" {
		t.Fatalf("Error() = %q", s)
	}
	if _, ok := errs.FieldsOf(errs.Invalid); ok {
		t.Fatal("a bare Invalid carries no fields")
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   time.Duration
		wantOK bool
	}{
		{"limit", &errs.LimitError{Limit: "signin", RetryAfter: 90 * time.Second}, 90 * time.Second, true},
		{"wrapped limit", fmt.Errorf("x: %w", &errs.LimitError{RetryAfter: 24 * time.Hour}), 24 * time.Hour, true},
		{"bare kind", errs.RateLimited, 0, false},
		{"other error", errs.NotFound, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := errs.RetryAfter(tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("RetryAfter = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

type sqlStateError string

func (e sqlStateError) Error() string    { return "database: " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

// TestUnreachableIsUnavailable: a database or network that is down is a
// 503, not a 500; other database errors stay internal.
func TestUnreachableIsUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want errs.Kind
	}{
		{"admin shutdown", sqlStateError("57P01"), errs.Unavailable},
		{"connection failure", sqlStateError("08006"), errs.Unavailable},
		{"too many connections", sqlStateError("53300"), errs.Unavailable},
		{"unique violation stays internal", sqlStateError("23505"), errs.Internal},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, errs.Unavailable},
		{"cut off mid-answer", fmt.Errorf("store: read: %w", io.ErrUnexpectedEOF), errs.Unavailable},
		{"wrapped", fmt.Errorf("store: begin: %w", sqlStateError("57P03")), errs.Unavailable},
		{"a kind wins", fmt.Errorf("%w: %w", errs.NotFound, sqlStateError("08006")), errs.NotFound},
		{"plain", errors.New("boom"), errs.Internal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := errs.KindOf(tt.err); got != tt.want {
				t.Fatalf("errs.KindOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
