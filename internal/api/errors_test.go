package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/testworld"
)

// TestErrorMapping is the JSON surface's one mapping, kind by kind, for
// the domain errors as they come (wrapped in context by the service and
// again by the handler): status, code, message, Retry-After, and never
// the error's own text.
func TestErrorMapping(t *testing.T) {
	const secret = "row 42 of table users"
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
		param   string
		retry   string
	}{
		{"profile not found", fmt.Errorf("profile %q (%s): %w", "anna", secret, directory.ErrNotFound), 404, "not_found", "There is nothing at this address.", "", ""},
		{"account not found", account.ErrNotFound, 404, "not_found", "There is nothing at this address.", "", ""},
		{"closed to enquiries", enquiry.ErrClosed, 404, "not_found", "There is nothing at this address.", "", ""},
		{"slug taken", fmt.Errorf("slug %q is taken (%s): %w", "anna", secret, directory.ErrConflict), 409, "conflict", "This clashes with the current state", "", ""},
		{"article state", content.ErrConflict, 409, "conflict", "This clashes", "", ""},
		{"field errors", errs.Fields{"q": "Type the start of a town or postcode"}, 400, "invalid_parameter", "Type the start of a town or postcode", "q", ""},
		{"invalid without fields", account.ErrTokenInvalid, 400, "invalid_request", "The request is not in the form", "", ""},
		{"forbidden", account.ErrForbidden, 403, "forbidden", "You may not do this.", "", ""},
		{"rate limited", &errs.LimitError{Limit: secret, RetryAfter: 24 * time.Hour}, 429, "rate_limited", "Retry-After", "", "86400"},
		{"unavailable", fmt.Errorf("database: %s: %w", secret, errs.Unavailable), 503, "unavailable", "not available just now", "", "5"},
		{"unknown", errors.New(secret), 500, "internal_error", "Something went wrong on our side", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, detail := problem(tt.err)
			if status != tt.status || detail.Code != tt.code || !strings.Contains(detail.Message, tt.message) || detail.Param != tt.param {
				t.Fatalf("problem = %d %+v, want %d %s %q param %q", status, detail, tt.status, tt.code, tt.message, tt.param)
			}

			var logs bytes.Buffer
			h := New(Deps{Log: slog.New(slog.NewTextHandler(&logs, nil))})
			srv := httpx.Observe(slog.New(slog.DiscardHandler), nil, h.serve(func(http.ResponseWriter, *http.Request) error {
				return fmt.Errorf("handler: %w", tt.err)
			}))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/x", nil))
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != tt.status || body.Error.Code != tt.code || body.Error.Message != detail.Message {
				t.Fatalf("wrapped: %d %+v, want %d %s", rec.Code, body.Error, tt.status, tt.code)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retry {
				t.Fatalf("Retry-After %q, want %q", got, tt.retry)
			}
			if strings.Contains(rec.Body.String(), secret) {
				t.Fatalf("the answer leaks the error's text: %s", rec.Body)
			}
			id := rec.Header().Get("X-Request-Id")
			if tt.status == 500 {
				if body.Error.RequestID != id || !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), secret) {
					t.Fatalf("a 500 must carry and log request id %q: body %+v, log %q", id, body.Error, logs.String())
				}
			} else if logs.Len() > 0 || body.Error.RequestID != "" {
				t.Fatalf("a %d is logged or carries an id: %q %+v", tt.status, logs.String(), body.Error)
			}
		})
	}
}

// TestInvalidParameterBody: the invalid-parameter answer always has a
// suggestions list, even an empty one, and other answers have none.
func TestInvalidParameterBody(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no suggestions", errs.Fields{"limit": "limit must be a whole number from 1 to 10"}, `"suggestions":[]`},
		{"not found", errs.NotFound, `{"error":{"code":"not_found","message":"There is nothing at this address."}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, d := problem(tt.err)
			b, err := json.Marshal(errorBody{d})
			if err != nil || !strings.Contains(string(b), tt.want) {
				t.Fatalf("body %s (%v), want it to contain %s", b, err, tt.want)
			}
		})
	}
}

// FuzzSearchAPI sends arbitrary query strings to the search endpoint: the
// answer is never a 5xx, and a 400 always names a parameter with a
// message.
func FuzzSearchAPI(f *testing.F) {
	w := testworld.New(f, 100)
	h := New(Deps{Log: w.Log, Parser: w.Parser, Index: w.Index, Profiles: w.DB, DB: w.DB, Tax: w.Tax, Gaz: w.Gaz, Markup: w.Markup, Now: w.Clock})
	mux := http.NewServeMux()
	h.Register(mux)
	for _, seed := range []string{"approach=cbt", "aproach=cbt", "gender=x", "near=Leds&radius_km=500", "near=Paris", "per_page=0&page=-1",
		"near=Cornwall&sort=distance", "q=%FF&lat=1", "utm_source=x&near=LS1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := url.ParseQuery(raw); err != nil {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/therapists", nil)
		req.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s: %d %s", raw, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusBadRequest {
			var e struct {
				Error struct{ Param, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Param == "" || e.Error.Message == "" {
				t.Fatalf("%s: 400 without a parameter and message: %s", raw, rec.Body)
			}
		}
	})
}
