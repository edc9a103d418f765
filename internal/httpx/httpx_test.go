package httpx

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/errs"
)

func TestObserve(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var seenID string
	h := Observe(log, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenID = RequestID(r.Context())
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		w.WriteHeader(http.StatusTeapot)
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/search?q=suicidal+thoughts&near=SW1A+1AA", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("status %d", rec.Code)
	}
	if id := rec.Header().Get("X-Request-Id"); id == "" || id != seenID {
		t.Fatalf("request id header %q, handler saw %q", id, seenID)
	}
	line := logs.String()
	if !strings.Contains(line, "path=/search") || !strings.Contains(line, "status=418") || !strings.Contains(line, seenID) {
		t.Fatalf("log line lacks path, status or id: %s", line)
	}
	for _, secret := range []string{"suicidal", "SW1A", "q="} {
		if strings.Contains(line, secret) {
			t.Fatalf("log line leaks the query (%q): %s", secret, line)
		}
	}

	logs.Reset()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/panic", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "panic") {
		t.Fatalf("panic: status %d, logs %s", rec.Code, logs.String())
	}
}

func TestSecureHeaders(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		t.Run(fmt.Sprintf("hsts=%v", hsts), func(t *testing.T) {
			var seen []string
			h := SecureHeaders(hsts, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = append(seen, Nonce(r.Context())) }))
			for range 2 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				csp := rec.Header().Get("Content-Security-Policy")
				for _, want := range []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "'nonce-" + seen[len(seen)-1] + "'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("CSP %q lacks %q", csp, want)
					}
				}
				if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
					t.Errorf("headers %v", rec.Header())
				}
				if got := rec.Header().Get("Strict-Transport-Security") != ""; got != hsts {
					t.Errorf("HSTS present %v, want %v", got, hsts)
				}
			}
			if len(seen) != 2 || seen[0] == seen[1] || len(seen[0]) < 20 {
				t.Errorf("nonces %q must be fresh per response", seen)
			}
		})
	}
}

// TestStatusAndRetryAfter is the one kind → status table both surfaces
// share, with and without context wrapped around the error.
func TestStatusAndRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		retry  string
	}{
		{"not found", errs.NotFound, 404, ""},
		{"conflict", errs.Conflict, 409, ""},
		{"invalid", errs.Fields{"q": "Type something"}, 400, ""},
		{"forbidden", errs.Forbidden, 403, ""},
		{"rate limited with a wait", &errs.LimitError{RetryAfter: 90500 * time.Millisecond}, 429, "91"},
		{"rate limited without one", errs.RateLimited, 429, "60"},
		{"unavailable", errs.New(errs.Unavailable, "index still loading"), 503, "5"},
		{"no kind", fmt.Errorf("database: connection reset"), 500, ""},
	}
	for _, tt := range tests {
		for _, wrap := range []bool{false, true} {
			err := tt.err
			if wrap {
				err = fmt.Errorf("handler: %w", fmt.Errorf("service: %w", err))
			}
			t.Run(fmt.Sprintf("%s/wrapped=%v", tt.name, wrap), func(t *testing.T) {
				if got := Status(err); got != tt.status {
					t.Fatalf("Status = %d, want %d", got, tt.status)
				}
				h := http.Header{}
				SetRetryAfter(h, err)
				if got := h.Get("Retry-After"); got != tt.retry {
					t.Fatalf("Retry-After %q, want %q", got, tt.retry)
				}
			})
		}
	}
}
