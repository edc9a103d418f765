package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/confide-org/confide/internal/api"
	"github.com/confide-org/confide/internal/taxonomy"
)

// specValidator loads the API's OpenAPI document with libopenapi, fails
// the test if the document is not valid OpenAPI 3.1, and returns a
// validator for traffic.
func specValidator(t testing.TB) validator.Validator {
	t.Helper()
	doc, err := api.OpenAPI(taxonomy.MustLoad(), api.Version)
	if err != nil {
		t.Fatal(err)
	}
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	if v := d.GetVersion(); v != "3.1.0" {
		t.Fatalf("openapi version %q", v)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("openapi: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("the document is not valid OpenAPI 3.1: %s (%s)", e.Message, e.Reason)
		}
		t.FailNow()
	}
	return v
}

// conformance wraps the API so that every exchange of a test is checked
// against the OpenAPI document: every response, and every request that
// the API accepted (a test that sends a bad parameter on purpose expects
// the document to reject it too, which is checked separately).
func conformance(t *testing.T, next http.Handler) http.Handler {
	v := specValidator(t)
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A body is read twice: by the API, then by the validator.
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		r.Body = io.NopCloser(bytes.NewReader(body))
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		if r.Method == http.MethodOptions {
			return // CORS preflight: not an operation
		}
		mu.Lock()
		defer mu.Unlock()
		if rec.Code < 400 {
			if ok, errs := v.ValidateHttpRequest(r); !ok {
				t.Errorf("request %s does not conform: %s", r.URL, describe(errs))
			}
		}
		if !described(r.URL.Path) {
			// Anything else under /api/ is a JSON 404 in the Error shape.
			var e struct{ Error struct{ Code string } }
			if rec.Code != http.StatusNotFound || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != "not_found" {
				t.Errorf("%s, not described, answered %d %s", r.URL, rec.Code, rec.Body)
			}
			return
		}
		if ok, errs := v.ValidateHttpResponse(r, rec.Result()); !ok {
			t.Errorf("response %d to %s does not conform: %s", rec.Code, r.URL, describe(errs))
		}
	})
}

// described reports whether the document has path (by its routes).
func described(path string) bool {
	for _, route := range api.New(api.Deps{}).Routes() {
		_, pattern, ok := strings.Cut(route, " ")
		if !ok {
			continue
		}
		if prefix, ok := strings.CutSuffix(pattern, "{slug}"); ok {
			if rest, ok := strings.CutPrefix(path, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
				return true
			}
		} else if pattern == path {
			return true
		}
	}
	return false
}

func describe[E interface{ Error() string }](errs []E) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  %s", e.Error())
	}
	return b.String()
}

// TestOpenAPIDocument: the served document is the one validated, lists
// every taxonomy slug as an enum, and rejects what the parser rejects.
func TestOpenAPIDocument(t *testing.T) {
	srv, w := newServer(t)
	res, err := http.Get(srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || res.StatusCode != http.StatusOK || doc.OpenAPI != "3.1.0" {
		t.Fatalf("GET /api/openapi.json: %d %v %q", res.StatusCode, err, doc.OpenAPI)
	}
	for _, route := range api.New(api.Deps{}).Routes() {
		if method, path, ok := strings.Cut(route, " "); ok && doc.Paths[path][strings.ToLower(method)] == nil {
			t.Errorf("%s is not described", route)
		}
	}
	raw, _ := api.OpenAPI(w.Tax, api.Version)
	for _, term := range w.Tax.Terms(taxonomy.Approach) {
		if !strings.Contains(string(raw), `"`+term.Slug+`"`) {
			t.Errorf("approach %q is not in the document", term.Slug)
		}
	}
	v := specValidator(t)
	for _, tc := range []struct {
		query string
		valid bool
	}{
		{"approach=cbt&format=online&issue=anxiety", true},
		{"near=Leeds&radius_km=10&sort=distance&page=2&per_page=50", true},
		{"approach=psychodynamc", false},
		{"sort=alphabetical", false},
		{"per_page=many", false},
		{"concessions=maybe", false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/therapists?"+tc.query, nil)
		if ok, errs := v.ValidateHttpRequest(req); ok != tc.valid {
			t.Errorf("%s: valid %v, want %v%s", tc.query, ok, tc.valid, describe(errs))
		}
	}
}
