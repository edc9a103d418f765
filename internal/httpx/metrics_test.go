package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// recorded is one request as RequestMetrics heard it.
type recorded struct {
	route  string
	status int
}

type fakeMetrics struct{ got []recorded }

func (f *fakeMetrics) ObserveRequest(route string, status int, took time.Duration) {
	if took <= 0 {
		route += " (no duration)"
	}
	f.got = append(f.got, recorded{route, status})
}

func TestObserveMetricsByRoute(t *testing.T) {
	mux := NewMux()
	mux.Handle("GET /therapists/{slug}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("slug") == "missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, r.PathValue("slug"))
	}))
	mux.Handle("GET /empty", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	mux.Handle("GET /panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	m := &fakeMetrics{}
	h := Observe(slog.New(slog.NewTextHandler(io.Discard, nil)), m, mux)
	for _, tc := range []struct {
		method, path string
		want         recorded
	}{
		{"GET", "/therapists/alex-example", recorded{"GET /therapists/{slug}", 200}},
		{"GET", "/therapists/missing", recorded{"GET /therapists/{slug}", 404}},
		{"GET", "/empty", recorded{"GET /empty", 200}},
		{"GET", "/panic", recorded{"GET /panic", 500}},
		{"GET", "/nowhere/at/all", recorded{Unmatched, 404}},
		{"POST", "/empty", recorded{Unmatched, 405}},
		{"GET", "/therapists/../empty", recorded{Unmatched, 307}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			m.got = nil
			req := httptest.NewRequest(tc.method, "/", nil)
			req.URL.Path = tc.path
			h.ServeHTTP(httptest.NewRecorder(), req)
			if len(m.got) != 1 || m.got[0] != tc.want {
				t.Fatalf("metrics heard %+v, want one %+v", m.got, tc.want)
			}
		})
	}
}

func TestRequireBearer(t *testing.T) {
	const token = "correct-horse-battery-staple"
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "secret metrics") })
	for _, tc := range []struct {
		name, configured, header string
		want                     int
	}{
		{"no token configured", "", "Bearer " + token, http.StatusNotFound},
		{"no header", token, "", http.StatusUnauthorized},
		{"wrong token", token, "Bearer correct-horse-battery-stapler", http.StatusUnauthorized},
		{"prefix of the token", token, "Bearer correct-horse", http.StatusUnauthorized},
		{"wrong scheme", token, "Basic " + token, http.StatusUnauthorized},
		{"right token", token, "Bearer " + token, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/metrics", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			RequireBearer(tc.configured, ok).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if leaked := strings.Contains(rec.Body.String(), "secret"); leaked != (tc.want == http.StatusOK) {
				t.Fatalf("body %q", rec.Body.String())
			}
			if tc.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestReady(t *testing.T) {
	pass := func(context.Context) error { return nil }
	fail := func(context.Context) error { return errors.New("/secret/path/confide.db: disk I/O error") }
	for _, tc := range []struct {
		name    string
		checks  []Check
		want    int
		failing []string
	}{
		{"no checks", nil, http.StatusOK, nil},
		{"all pass", []Check{{"a", "a broken", pass}, {"b", "b broken", pass}}, http.StatusOK, nil},
		{"one fails", []Check{{"a", "a broken", pass}, {"b", "b broken", fail}}, http.StatusServiceUnavailable, []string{"b broken"}},
		{"both fail", []Check{{"a", "a broken", fail}, {"b", "b broken", fail}}, http.StatusServiceUnavailable, []string{"a broken", "b broken"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Ready(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second, tc.checks...).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			var body readyBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.want || strings.Join(body.Failing, "|") != strings.Join(tc.failing, "|") {
				t.Fatalf("status %d, body %+v; want %d failing %q", rec.Code, body, tc.want, tc.failing)
			}
			if (body.Status == "ready") != (tc.want == http.StatusOK) || strings.Contains(rec.Body.String(), "secret") {
				t.Fatalf("body %s", rec.Body.String())
			}
		})
	}
}
