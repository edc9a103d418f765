package httpx

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestObserve(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var seenID string
	h := Observe(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	rec := httptest.NewRecorder()
	SecureHeaders(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP allows third parties: %s", csp)
	}
}
