package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/api"
	"github.com/confide-org/confide/internal/testworld"
)

func newServer(t *testing.T) (*httptest.Server, *testworld.World) {
	t.Helper()
	w := testworld.New(t, 600)
	mux := http.NewServeMux()
	api.New(api.Deps{Log: w.Log, Parser: w.Parser, Index: w.Index, Profiles: w.DB, DB: w.DB, Tax: w.Tax, Gaz: w.Gaz, Markup: w.Markup, Now: w.Clock}).Register(mux)
	srv := httptest.NewServer(conformance(t, mux))
	t.Cleanup(srv.Close)
	return srv, w
}

func get(t *testing.T, url string, v any) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: content type %q", url, ct)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("%s: decode: %v", url, err)
	}
	return res.StatusCode
}

type errorBody struct {
	Error struct {
		Code        string   `json:"code"`
		Param       string   `json:"param"`
		Message     string   `json:"message"`
		Suggestions []string `json:"suggestions"`
	} `json:"error"`
}

// TestMalformedRequests sends requests a careless or hostile client might,
// and expects a 400 naming the parameter, with a message — never a 500.
func TestMalformedRequests(t *testing.T) {
	srv, _ := newServer(t)
	tests := []struct {
		query, param string
	}{
		{"approach=psychodynamc", "approach"},
		{"approach=", ""}, // empty is absent: a 200
		{"issue=grief", "issue"},
		{"client=teens", "client"},
		{"format=video", "format"},
		{"language=english", "language"},
		{"language=xx", "language"},
		{"gender=%21%21", "gender"},
		{"radius_km=0", "radius_km"},
		{"radius_km=201", "radius_km"},
		{"radius_km=ten", "radius_km"},
		{"radius_km=NaN", "radius_km"},
		{"radius_km=1e3", "radius_km"},
		{"radius_km=0x10", "radius_km"},
		{"near=Atlantis", "near"},
		{"near=ZZ9+9ZZ", "near"},
		{"near=M1&lat=53&lon=-2", "near"},
		{"lat=53", "lon"},
		{"lon=-2", "lat"},
		{"lat=95&lon=0", "lat"},
		{"lat=53&lon=-200", "lon"},
		{"max_fee=-5", "max_fee"},
		{"max_fee=fifty", "max_fee"},
		{"max_fee=99999", "max_fee"},
		{"concessions=maybe", "concessions"},
		{"accepting=2", "accepting"},
		{"wheelchair=yes+please", "wheelchair"},
		{"sort=cheapest", "sort"},
		{"sort=distance", "sort"},
		{"sort=relevance", "sort"},
		{"page=0", "page"},
		{"page=-1", "page"},
		{"page=1001", "page"},
		{"page=two", "page"},
		{"per_page=0", "per_page"},
		{"per_page=101", "per_page"},
		{"per_page=99999999999999999999", "per_page"},
		{"near=M1&near=LS1", "near"},
		{"q=" + strings.Repeat("a", 201), "q"},
		{"q=%FF%FE", "q"},
		{"near=%FF", "near"},
		// Unknown values that are well formed: refused with the list.
		{"gender=x", "gender"},
		{"gender=martian", "gender"},
		{"gender=woman", ""},
		{"gender=Non+Binary", ""},
		// Unknown parameter names: a misspelt filter must not be ignored.
		{"aproach=cbt", "aproach"},
		{"approach=cbt&fromat=online", "fromat"},
		{"utm_source=newsletter", "utm_source"},
		{"Near=Leeds", "Near"},
		{"evenings=true", "evenings"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var body errorBody
			status := get(t, srv.URL+"/api/v1/therapists?"+tt.query, &body)
			if tt.param == "" {
				if status != http.StatusOK {
					t.Fatalf("status %d, want 200", status)
				}
				return
			}
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 (%+v)", status, body)
			}
			if body.Error.Code != "invalid_parameter" || body.Error.Param != tt.param || body.Error.Message == "" || body.Error.Suggestions == nil {
				t.Fatalf("error body %+v, want invalid_parameter for %q with a message and a suggestions list", body.Error, tt.param)
			}
		})
	}
}

func TestSuggestionsForUnknownValues(t *testing.T) {
	srv, _ := newServer(t)
	tests := []struct{ query, want string }{
		{"issue=grief", "bereavement"},
		{"approach=psychodynamc", "psychodynamic"},
		{"near=Edinborough", "Edinburgh"},
		{"aproach=cbt", "approach"},
		{"per_pgae=5", "per_page"},
		{"gender=womn", "woman"},
		{"language=polish", "pl"},
		{"sort=dist", "distance"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var body errorBody
			get(t, srv.URL+"/api/v1/therapists?"+tt.query, &body)
			if len(body.Error.Suggestions) == 0 || body.Error.Suggestions[0] != tt.want {
				t.Fatalf("suggestions %v, want %q first", body.Error.Suggestions, tt.want)
			}
			if len(body.Error.Suggestions) > 3 {
				t.Fatalf("more than 3 suggestions: %v", body.Error.Suggestions)
			}
		})
	}
}

// TestForgivingPlaces: a slip is answered for the place meant, and says
// so; a county is searched across; a city abroad is a 400 saying the
// directory covers the UK.
func TestForgivingPlaces(t *testing.T) {
	srv, _ := newServer(t)
	var found struct {
		RadiusKm float64 `json:"radius_km"`
		Location struct {
			Kind, Label string
			Corrected   bool
		}
	}
	if status := get(t, srv.URL+"/api/v1/therapists?near=Leedz", &found); status != 200 || found.Location.Label != "Leeds" || !found.Location.Corrected || found.RadiusKm != 16 {
		t.Errorf("near=Leedz: %d %+v", status, found)
	}
	found.Location.Corrected = false
	if status := get(t, srv.URL+"/api/v1/therapists?near=Cornwall", &found); status != 200 || found.Location.Kind != "county" || found.Location.Corrected || found.RadiusKm < 30 {
		t.Errorf("near=Cornwall: %d %+v", status, found)
	}
	if status := get(t, srv.URL+"/api/v1/therapists?near=Cornwall&radius_km=5", &found); status != 200 || found.RadiusKm != 5 {
		t.Errorf("near=Cornwall&radius_km=5: a given radius must win: %d %+v", status, found)
	}
	var e errorBody
	if status := get(t, srv.URL+"/api/v1/therapists?near=Paris", &e); status != 400 || e.Error.Param != "near" || !strings.Contains(e.Error.Message, "in the UK") {
		t.Errorf("near=Paris: %d %+v", status, e.Error)
	}
}

type searchBody struct {
	Total   int `json:"total"`
	Results []struct {
		ID          int64    `json:"id"`
		Slug        string   `json:"slug"`
		DistanceKm  *float64 `json:"distance_km"`
		Approaches  []string `json:"approaches"`
		Locations   []map[string]any
		Verify      map[string]any `json:"verification"`
		ContactMail string         `json:"contact_email"`
	} `json:"results"`
	Facets map[string][]struct {
		Value string `json:"value"`
		Count int    `json:"count"`
	} `json:"facets"`
}

func TestNearestPsychodynamic(t *testing.T) {
	srv, w := newServer(t)
	var body searchBody
	status := get(t, srv.URL+"/api/v1/therapists?near=M1&radius_km=60&approach=psychodynamic&sort=distance&per_page=100", &body)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if body.Total == 0 {
		t.Fatal("no psychodynamic therapists within 60 km of M1 in the test world")
	}
	if body.Total != len(body.Results) {
		t.Fatalf("total %d but %d results on a 100-result page", body.Total, len(body.Results))
	}
	prev := -1.0
	for _, r := range body.Results {
		if r.DistanceKm == nil || *r.DistanceKm > 60 || *r.DistanceKm < prev {
			t.Fatalf("result %s: distance %v out of order or range (previous %v)", r.Slug, r.DistanceKm, prev)
		}
		prev = *r.DistanceKm
		found := false
		for _, a := range r.Approaches {
			found = found || a == "psychodynamic"
		}
		if !found {
			t.Fatalf("result %s does not offer psychodynamic therapy: %v", r.Slug, r.Approaches)
		}
		p, err := w.DB.ProfileBySlug(t.Context(), r.Slug)
		if err != nil || !p.IsPublic(testworld.Now) {
			t.Fatalf("result %s is not a public profile (%v)", r.Slug, err)
		}
		for _, l := range r.Locations {
			if _, leaked := l["postcode"]; leaked {
				t.Fatalf("result %s leaks a postcode", r.Slug)
			}
		}
		if r.ContactMail != "" {
			t.Fatalf("result %s leaks its contact email", r.Slug)
		}
	}
}

func TestProfileEndpoint(t *testing.T) {
	srv, w := newServer(t)
	pub, hidden := w.PublicProfile(t), w.HiddenProfile(t)
	var body map[string]any
	if status := get(t, srv.URL+"/api/v1/therapists/"+pub.Slug, &body); status != http.StatusOK {
		t.Fatalf("public profile: status %d", status)
	}
	raw, _ := json.Marshal(body)
	for _, secret := range []string{pub.ContactEmail, pub.Locations[0].Postcode} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("profile JSON leaks %q", secret)
		}
	}
	if body["statement_html"] == "" || body["verification"] == nil {
		t.Fatalf("profile JSON lacks statement or verification: %v", body)
	}
	// The published contact details, as the profile page shows them:
	// null where the therapist gave none.
	contact, _ := body["contact"].(map[string]any)
	for key, want := range map[string]string{"website": pub.PublicContact.Website, "phone": pub.PublicContact.Phone, "email": pub.PublicContact.Email} {
		got, present := contact[key]
		if !present || (want == "" && got != nil) || (want != "" && got != want) {
			t.Errorf("contact.%s = %v (present %v), want %q", key, got, present, want)
		}
	}
	for _, slug := range []string{hidden.Slug, "no-such-therapist"} {
		var e errorBody
		if status := get(t, srv.URL+"/api/v1/therapists/"+slug, &e); status != http.StatusNotFound || e.Error.Code != "not_found" {
			t.Fatalf("%s: status %d, body %+v; want a JSON 404", slug, status, e)
		}
	}
}

func TestOtherEndpoints(t *testing.T) {
	srv, _ := newServer(t)
	var tax struct {
		Version    string           `json:"version"`
		Approaches []map[string]any `json:"approaches"`
		Issues     []map[string]any `json:"issues"`
	}
	if status := get(t, srv.URL+"/api/v1/taxonomy", &tax); status != 200 || len(tax.Approaches) < 25 || len(tax.Issues) < 40 || tax.Version == "" {
		t.Fatalf("taxonomy: status %d, %d approaches, %d issues", status, len(tax.Approaches), len(tax.Issues))
	}
	var places struct {
		Results []struct{ Value, Kind string } `json:"results"`
	}
	if status := get(t, srv.URL+"/api/v1/places?q=manch", &places); status != 200 || len(places.Results) == 0 || places.Results[0].Value != "Manchester" {
		t.Fatalf("places: status %d, %+v", status, places)
	}
	var e errorBody
	if status := get(t, srv.URL+"/api/v1/places", &e); status != 400 || e.Error.Param != "q" {
		t.Fatalf("places without q: %d %+v", status, e)
	}
	if status := get(t, srv.URL+"/api/v1/nothing-here", &e); status != 404 {
		t.Fatalf("unknown API path: %d", status)
	}
	var health map[string]any
	if status := get(t, srv.URL+"/healthz", &health); status != 200 || health["status"] != "ok" {
		t.Fatalf("healthz: %d %v", status, health)
	}
}

func TestHealthReportsDatabaseDown(t *testing.T) {
	srv, w := newServer(t)
	w.DB.Close()
	var health map[string]any
	if status := get(t, srv.URL+"/healthz", &health); status != http.StatusServiceUnavailable || health["database"] != "unavailable" {
		t.Fatalf("healthz with the database closed: %d %v", status, health)
	}
}

// TestCORSAndConditionalGET: any web page may read the public API (no
// credentials), a preflight is answered, and a client that sends back an
// answer's ETag gets 304 with no body until the answer changes.
func TestCORSAndConditionalGET(t *testing.T) {
	srv, w := newServer(t)
	slug := w.PublicProfile(t).Slug
	paths := []string{"/api/v1/taxonomy", "/api/v1/places?q=leed", "/api/v1/therapists?approach=cbt", "/api/v1/therapists/" + slug}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("Origin", "https://council.example")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			tag := res.Header.Get("ETag")
			if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "*" || res.Header.Get("Access-Control-Allow-Credentials") != "" ||
				!strings.HasPrefix(tag, `"`) || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "ETag") {
				t.Fatalf("first GET: %d, headers %v", res.StatusCode, res.Header)
			}
			for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
				req, _ = http.NewRequest(http.MethodGet, srv.URL+path, nil)
				req.Header.Set("If-None-Match", inm)
				res, err = http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusNotModified || len(b) != 0 || res.Header.Get("ETag") != tag {
					t.Fatalf("If-None-Match %s: %d, %d bytes", inm, res.StatusCode, len(b))
				}
			}
			req, _ = http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("If-None-Match", `"stale"`)
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || string(b) != string(body) {
				t.Fatalf("a stale tag: %d", res.StatusCode)
			}
			req, _ = http.NewRequest(http.MethodOptions, srv.URL+strings.SplitN(path, "?", 2)[0], nil)
			req.Header.Set("Origin", "https://council.example")
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "if-none-match")
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "GET") || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "If-None-Match") {
				t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
			}
		})
	}
	// An error is never a 304, and carries no ETag.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/therapists/nobody-here", nil)
	req.Header.Set("If-None-Match", "*")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || res.Header.Get("ETag") != "" {
		t.Fatalf("missing profile with If-None-Match *: %d, ETag %q", res.StatusCode, res.Header.Get("ETag"))
	}
}
