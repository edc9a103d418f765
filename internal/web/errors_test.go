package web

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/httpx"
)

// TestErrorMapping is the HTML surface's one mapping, kind by kind, for
// domain errors as handlers return them (wrapped in context on the way
// up): status, heading, message, Retry-After, and never the error's text.
func TestErrorMapping(t *testing.T) {
	const secret = "row 42 of table users"
	tests := []struct {
		name    string
		err     error
		status  int
		heading string
		message string
		retry   string
	}{
		{"profile not found", fmt.Errorf("profile %q is not public (%s): %w", "anna", secret, directory.ErrNotFound), 404, "Page not found", "check it is correct", ""},
		{"enquiry not found", enquiry.ErrNotFound, 404, "Page not found", "check it is correct", ""},
		{"closed to enquiries", enquiry.ErrClosed, 404, "Page not found", "check it is correct", ""},
		{"article not found", content.ErrNotFound, 404, "Page not found", "check it is correct", ""},
		{"request no longer pending", fmt.Errorf("request 3 is approved (%s): %w", secret, directory.ErrConflict), 409, "This has already changed", "reload the page", ""},
		{"article in the wrong state", content.ErrConflict, 409, "This has already changed", "reload the page", ""},
		{"malformed form", errs.Invalid, 400, "Sorry, we could not read that form", "check the form", ""},
		{"field errors no form shows", errs.Fields{"role": secret}, 400, "Sorry, we could not read that form", "check the form", ""},
		{"forbidden", errs.Forbidden, 403, "You do not have access to this page", "ask an administrator", ""},
		{"account forbidden", account.ErrForbidden, 403, "You do not have access to this page", "ask an administrator", ""},
		{"rate limited", &errs.LimitError{RetryAfter: 150 * time.Second}, 429, "Too many attempts", "wait 3 minutes", "150"},
		{"rate limited, no wait given", errs.RateLimited, 429, "Too many attempts", "wait a minute", "60"},
		{"unavailable", fmt.Errorf("database: %s: %w", secret, errs.Unavailable), 503, "Sorry, this is not available just now", "try again in a few minutes", "5"},
		{"unknown", errors.New(secret), 500, "Sorry, something went wrong", "problem on our side", ""},
		{"explained limit", explain(&errs.LimitError{Limit: "sender", RetryAfter: 24 * time.Hour}, "Your message has not been sent", "Please try again tomorrow."),
			429, "Your message has not been sent", "Please try again tomorrow.", "86400"},
		{"explained internal error", explain(fmt.Errorf("enquiry x: %w", enquiry.ErrOpen), "This enquiry cannot be opened", "logged for our operators"),
			500, "This enquiry cannot be opened", "logged for our operators", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, heading, message := problem(tt.err)
			if status != tt.status || heading != tt.heading || !strings.Contains(message, tt.message) {
				t.Fatalf("problem = %d %q %q, want %d %q %q", status, heading, message, tt.status, tt.heading, tt.message)
			}

			var logs bytes.Buffer
			h, err := New(Deps{Config: Config{SiteName: "Confide"}, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			srv := httpx.Observe(slog.New(slog.DiscardHandler), nil, h.serve(func(http.ResponseWriter, *http.Request) error {
				return fmt.Errorf("handler: %w", tt.err)
			}))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", "/somewhere", nil))
			body := html.UnescapeString(rec.Body.String())
			if rec.Code != tt.status || !strings.Contains(body, tt.heading) || !strings.Contains(body, message) {
				t.Fatalf("wrapped: status %d, want %d with %q and %q in the page", rec.Code, tt.status, tt.heading, message)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retry {
				t.Fatalf("Retry-After %q, want %q", got, tt.retry)
			}
			if strings.Contains(body, secret) {
				t.Fatal("the page shows the error's text")
			}
			id := rec.Header().Get("X-Request-Id")
			if tt.status == 500 {
				if !strings.Contains(body, id) || !strings.Contains(logs.String(), "request_id="+id) {
					t.Fatalf("a 500 must show and log request id %q; log %q", id, logs.String())
				}
			} else if logs.Len() > 0 {
				t.Fatalf("a %d is logged: %q", tt.status, logs.String())
			}
		})
	}
}

// TestSessionStoreDownIsUnavailable: when the session store cannot be
// read (the database restarting), a signed-in page is a 503 with
// Retry-After, not scs's bare 500.
func TestSessionStoreDownIsUnavailable(t *testing.T) {
	sm := NewSessions(downStore{}, SessionConfig{IdleTimeout: time.Hour, Lifetime: time.Hour})
	h := &Handler{Deps: Deps{Log: slog.New(slog.DiscardHandler), Sessions: sm}}
	sm.ErrorFunc = h.fail
	srv := sm.LoadAndSave(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler ran without its session") }))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	req.AddCookie(&http.Cookie{Name: "confide_session", Value: "abc"})
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

type downStore struct{}

func (downStore) Find(string) ([]byte, bool, error) {
	return nil, false, &net.OpError{Op: "dial", Err: errors.New("connection refused")}
}
func (downStore) Commit(string, []byte, time.Time) error { return nil }
func (downStore) Delete(string) error                    { return nil }
