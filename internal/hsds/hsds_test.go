package hsds_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/hsds"
	"github.com/confide-org/confide/internal/hsds/hsdstest"
	"github.com/confide-org/confide/internal/testworld"
)

type server struct {
	*httptest.Server
	world   *testworld.World
	schemas *hsdstest.Set
}

func newServer(t *testing.T, n int) *server {
	t.Helper()
	w := testworld.New(t, n)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	hsds.New(hsds.Deps{Log: w.Log, Index: w.Index, Profiles: w.DB, Tax: w.Tax, Gaz: w.Gaz, Now: w.Clock,
		BaseURL: srv.URL, SiteName: "Confide"}).Register(mux)
	return &server{Server: srv, world: w, schemas: hsdstest.Load(t)}
}

// answer is one HSDS response.
type answer struct {
	status int
	header http.Header
	raw    []byte
	doc    map[string]any
}

// get fetches path; when schemas are named, a 200 answer must validate
// against every one of them.
func (s *server) get(t *testing.T, path string, schemas ...string) answer {
	t.Helper()
	res, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != hsds.ContentType {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	a := answer{status: res.StatusCode, header: res.Header, raw: raw}
	if err := json.Unmarshal(raw, &a.doc); err != nil {
		t.Fatalf("%s: not a JSON object: %v\n%s", path, err, raw)
	}
	if res.StatusCode == http.StatusOK {
		if len(schemas) == 0 {
			t.Fatalf("%s: no schema to validate the answer against", path)
		}
		for _, sc := range schemas {
			if err := s.schemas.Validate(t, sc, raw); err != nil {
				t.Fatalf("%s: not valid against HSDS %s: %v\n%s", path, sc, err, raw)
			}
		}
	}
	if a.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%s: no CORS header", path)
	}
	return a
}

func publicProfiles(t *testing.T, w *testworld.World) []*directory.Profile {
	t.Helper()
	var out []*directory.Profile
	if _, err := w.DB.EachProfile(context.Background(), func(p *directory.Profile) error {
		if p.IsPublic(testworld.Now) {
			out = append(out, p.Clone())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no public profiles")
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// TestUUIDs: ids are RFC 9562 version 5 UUIDs under the fixed namespace
// (the value below is Python's uuid.uuid5 of the same name), stable, and
// distinct between tables.
func TestUUIDs(t *testing.T) {
	t.Parallel()
	if got, want := hsds.ServiceID(7), "c6994c03-df99-53b3-bb9b-0fcf97693379"; got != want {
		t.Fatalf("ServiceID(7) = %s, want %s", got, want)
	}
	seen := map[string]string{}
	for name, id := range map[string]string{
		"service": hsds.ServiceID(7), "organization": hsds.OrganizationID(7), "location": hsds.LocationID(7, 0),
		"online": hsds.OnlineLocationID(7), "sal": hsds.ServiceAtLocationID(7, 0), "other service": hsds.ServiceID(8),
	} {
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s share id %s", name, other, id)
		}
		seen[id] = name
	}
}

// TestEveryPublicProfile reads every public profile of a demo directory
// through the HSDS API — its service, its organization, each of its
// locations and services at location — validates every answer against
// the official HSDS 3.0 schemas, and checks that nothing the public page
// hides (the contact email, the full postcode) is in it.
func TestEveryPublicProfile(t *testing.T) {
	t.Parallel()
	s := newServer(t, 120)
	profiles := publicProfiles(t, s.world)
	reads := 0
	read := func(path string, schemas ...string) answer {
		t.Helper()
		a := s.get(t, path, schemas...)
		reads++
		if a.status != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", path, a.status, a.raw)
		}
		body := string(a.raw)
		for _, p := range profiles {
			if p.ContactEmail != "" && strings.Contains(body, p.ContactEmail) {
				t.Errorf("%s shows a contact email", path)
			}
		}
		return a
	}
	for _, p := range profiles {
		svc := read("/api/hsds/services/"+hsds.ServiceID(p.ID), "compiled-service_with_definitions.json", "service.json")
		body := string(svc.raw)
		for _, l := range p.Locations {
			if l.Postcode != "" && l.Postcode != l.Outcode && strings.Contains(body, l.Postcode) {
				t.Errorf("%s: the service shows the full postcode %s", p.Slug, l.Postcode)
			}
		}
		if svc.doc["name"] != p.DisplayName || svc.doc["organization_id"] != hsds.OrganizationID(p.ID) ||
			obj(svc.doc["organization"])["id"] != hsds.OrganizationID(p.ID) {
			t.Errorf("%s: service %v of organization %v", p.Slug, svc.doc["name"], svc.doc["organization_id"])
		}
		// Approaches are linked as Confide terms (and as SNOMED CT
		// concepts where the taxonomy names them).
		links := map[string][]string{}
		snomed := 0
		for _, a := range list(svc.doc["attributes"]) {
			am := obj(a)
			term := obj(am["taxonomy_term"])
			if am["link_id"] != svc.doc["id"] || am["link_entity"] != "service" || term["id"] != am["taxonomy_term_id"] {
				t.Fatalf("%s: attribute %v", p.Slug, am)
			}
			if obj(term["taxonomy_detail"])["name"] == "SNOMED CT" {
				snomed++
				continue
			}
			links[am["link_type"].(string)] = append(links[am["link_type"].(string)], term["code"].(string))
		}
		for kind, want := range map[string][]string{"approach": p.Approaches, "issue": p.Issues, "client": p.ClientGroups, "format": p.Formats} {
			if len(links[kind]) != len(want) {
				t.Errorf("%s: %d %s terms, want %d", p.Slug, len(links[kind]), kind, len(want))
			}
		}
		wantSnomed := 0
		for _, a := range p.Approaches {
			if term, ok := s.world.Tax.Lookup("approach", a); ok {
				wantSnomed += len(term.Codes)
			}
		}
		if wantSnomed > 0 && snomed == 0 {
			t.Errorf("%s: no SNOMED CT attributes for approaches that have codes", p.Slug)
		}
		if got, want := len(list(svc.doc["languages"])), len(p.Languages); got != want {
			t.Errorf("%s: %d languages, want %d", p.Slug, got, want)
		}
		if p.FeeMinPence > 0 && len(list(svc.doc["cost_options"])) == 0 {
			t.Errorf("%s: fees but no cost options", p.Slug)
		}
		sals := list(svc.doc["service_at_locations"])
		wantPlaces := len(p.Locations)
		if p.OffersFormat("online") {
			wantPlaces++
		}
		if len(sals) != wantPlaces {
			t.Fatalf("%s: %d services at location, want %d", p.Slug, len(sals), wantPlaces)
		}
		for i, sl := range sals {
			sal := obj(sl)
			loc := obj(sal["location"])
			wantType := "physical"
			if i == len(p.Locations) {
				wantType = "virtual"
			}
			if loc["location_type"] != wantType {
				t.Errorf("%s: location %d is %v, want %s", p.Slug, i, loc["location_type"], wantType)
			}
			read("/api/hsds/locations/"+loc["id"].(string), "location.json")
			one := read("/api/hsds/service_at_locations/"+sal["id"].(string), "service_at_location.json", "compiled-service_at_location_list.json")
			if obj(one.doc["service"])["id"] != svc.doc["id"] || obj(one.doc["location"])["id"] != loc["id"] {
				t.Errorf("%s: service at location %v links %v", p.Slug, sal["id"], one.doc)
			}
		}
		org := read("/api/hsds/organizations/"+hsds.OrganizationID(p.ID), "organization.json", "compiled-organization_list.json")
		if svcs := list(org.doc["services"]); len(svcs) != 1 || obj(svcs[0])["id"] != svc.doc["id"] {
			t.Errorf("%s: organization's services %v", p.Slug, org.doc["services"])
		}
		if got := len(list(org.doc["organization_identifiers"])); got > len(p.Memberships) {
			t.Errorf("%s: %d identifiers for %d memberships", p.Slug, got, len(p.Memberships))
		}
		read("/api/hsds/organizations/"+hsds.OrganizationID(p.ID)+"?full_service=true", "organization.json")
	}
	t.Logf("%d public profiles, %d reads validated", len(profiles), reads)
}

// TestPaging walks every list to its last page: every item comes exactly
// once, total_items counts them, every page is a valid HSDS Page of valid
// items, and a filter returns only what it names.
func TestPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t, 120)
	p := publicProfiles(t, s.world)[0]
	outcode := p.Locations[0].Outcode
	cbtSnomed := termID(t, s, "sct:304891004")
	anxiety := termID(t, s, "issue:anxiety")
	for _, tc := range []struct {
		name, path, items string
		check             func(map[string]any) bool
	}{
		{"services", "/api/hsds/services?per_page=25", "compiled-service_list.json", nil},
		{"full services", "/api/hsds/services?per_page=40&full=true", "compiled-service_with_definitions.json", nil},
		{"services by SNOMED CT term", "/api/hsds/services?full=true&per_page=7&taxonomy_term_id=" + cbtSnomed, "compiled-service_with_definitions.json",
			func(m map[string]any) bool { return strings.Contains(mustJSON(m["attributes"]), `"sct:304891004"`) }},
		{"services by issue", "/api/hsds/services?full=true&taxonomy_term_id=" + anxiety, "service.json",
			func(m map[string]any) bool { return strings.Contains(mustJSON(m["attributes"]), `"issue:anxiety"`) }},
		{"services of an organization", "/api/hsds/services?organization_id=" + hsds.OrganizationID(p.ID), "compiled-service_list.json",
			func(m map[string]any) bool { return m["id"] == hsds.ServiceID(p.ID) }},
		{"organizations", "/api/hsds/organizations?per_page=30", "compiled-organization_list.json", nil},
		{"full organizations", "/api/hsds/organizations?full_service=true&per_page=50", "organization.json", nil},
		{"locations", "/api/hsds/locations?per_page=100", "location.json", nil},
		{"locations in a district", "/api/hsds/locations?postcode=" + strings.ToLower(outcode), "location.json",
			func(m map[string]any) bool { return strings.Contains(m["name"].(string), "("+outcode+")") }},
		{"services at location", "/api/hsds/service_at_locations?per_page=60", "compiled-service_at_location_list.json", nil},
		{"full services at location in a district", "/api/hsds/service_at_locations?full=true&postcode=" + outcode, "service_at_location.json",
			func(m map[string]any) bool {
				return strings.Contains(obj(m["location"])["name"].(string), "("+outcode+")")
			}},
		{"taxonomies", "/api/hsds/taxonomies?per_page=1", "taxonomy.json", nil},
		{"taxonomy terms", "/api/hsds/taxonomy_terms?per_page=30", "taxonomy_term.json", nil},
		{"top-level terms", "/api/hsds/taxonomy_terms?top_only=true", "taxonomy_term.json",
			func(m map[string]any) bool { return m["parent_id"] == nil }},
		{"SNOMED CT terms", "/api/hsds/taxonomy_terms?taxonomy_id=" + snomedTaxonomy(t, s), "taxonomy_term.json",
			func(m map[string]any) bool { return strings.HasPrefix(m["code"].(string), "sct:") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := map[string]bool{}
			total := -1
			for n := 1; ; n++ {
				sep := "?"
				if strings.Contains(tc.path, "?") {
					sep = "&"
				}
				a := s.get(t, fmt.Sprintf("%s%spage=%d", tc.path, sep, n), "page:"+tc.items)
				if a.status != http.StatusOK || n > 200 {
					t.Fatalf("page %d: status %d\n%s", n, a.status, a.raw)
				}
				if total < 0 {
					total = int(a.doc["total_items"].(float64))
				}
				if a.doc["page_number"] != float64(n) || a.doc["first_page"] != (n == 1) || int(a.doc["size"].(float64)) != len(list(a.doc["contents"])) {
					t.Fatalf("page %d: %s", n, a.raw)
				}
				for _, it := range list(a.doc["contents"]) {
					m := obj(it)
					id := m["id"].(string)
					if seen[id] {
						t.Fatalf("%s twice", id)
					}
					seen[id] = true
					if tc.check != nil && !tc.check(m) {
						t.Errorf("%s does not match the filter: %s", id, mustJSON(m))
					}
				}
				if a.doc["last_page"] == true {
					if int(a.doc["total_pages"].(float64)) != n {
						t.Errorf("last page %d, total_pages %v", n, a.doc["total_pages"])
					}
					break
				}
			}
			if total == 0 || len(seen) != total {
				t.Errorf("walked %d, total_items says %d", len(seen), total)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func termID(t *testing.T, s *server, code string) string {
	t.Helper()
	for n := 1; n < 10; n++ {
		a := s.get(t, fmt.Sprintf("/api/hsds/taxonomy_terms?per_page=100&page=%d", n), "page:taxonomy_term.json")
		for _, it := range list(a.doc["contents"]) {
			if obj(it)["code"] == code {
				return obj(it)["id"].(string)
			}
		}
	}
	t.Fatalf("no term %s", code)
	return ""
}

func snomedTaxonomy(t *testing.T, s *server) string {
	t.Helper()
	a := s.get(t, "/api/hsds/taxonomies", "page:taxonomy.json")
	for _, it := range list(a.doc["contents"]) {
		if obj(it)["name"] == "SNOMED CT" {
			return obj(it)["id"].(string)
		}
	}
	t.Fatal("no SNOMED CT taxonomy")
	return ""
}

// TestAnswers: the root document, reads of single taxonomy records, and
// every refusal: bad parameters are 400 naming the parameter, unknown or
// hidden ids 404, writes 405, never a 500.
func TestAnswers(t *testing.T) {
	t.Parallel()
	s := newServer(t, 40)
	hidden := s.world.HiddenProfile(t)
	public := s.world.PublicProfile(t)
	term := termID(t, s, "approach:cbt")
	for _, tc := range []struct {
		path   string
		status int
		schema string
		param  string
	}{
		{"/api/hsds/", 200, "root.json", ""},
		{"/api/hsds/?format=json", 200, "root.json", ""},
		{"/api/hsds/taxonomy_terms/" + term, 200, "taxonomy_term.json", ""},
		{"/api/hsds/taxonomy_terms/" + strings.ToUpper(term), 200, "taxonomy_term.json", ""},
		{"/api/hsds/taxonomies/" + snomedTaxonomy(t, s), 200, "taxonomy.json", ""},
		{"/api/hsds/services?taxonomy_term_id=00000000-0000-5000-8000-000000000000", 200, "page:compiled-service_list.json", ""},
		{"/api/hsds/services?page=999", 200, "page:compiled-service_list.json", ""},
		{"/api/hsds/service_at_locations?postcode=ZZ99", 200, "page:compiled-service_at_location_list.json", ""},
		{"/api/hsds/services?page=0", 400, "", "page"},
		{"/api/hsds/services?page=x", 400, "", "page"},
		{"/api/hsds/services?per_page=101", 400, "", "per_page"},
		{"/api/hsds/services?per_page=-1", 400, "", "per_page"},
		{"/api/hsds/services?page=1&page=2", 400, "", "page"},
		{"/api/hsds/services?full=maybe", 400, "", "full"},
		{"/api/hsds/services?format=ndjson", 400, "", "format"},
		{"/api/hsds/services?search=anxiety", 400, "", "search"},
		{"/api/hsds/services?taxonomy_term_id=cbt", 400, "", "taxonomy_term_id"},
		{"/api/hsds/services?organization_id=", 400, "", "organization_id"},
		{"/api/hsds/services?modified_after=2026-01-01", 400, "", "modified_after"},
		{"/api/hsds/locations?taxonomy_term_id=" + term, 400, "", "taxonomy_term_id"},
		{"/api/hsds/services/" + hsds.ServiceID(public.ID) + "?full=true", 400, "", "full"},
		{"/api/hsds/taxonomy_terms?top_only=yes", 400, "", "top_only"},
		{"/api/hsds/services/" + hsds.ServiceID(hidden.ID), 404, "", ""},
		{"/api/hsds/organizations/" + hsds.OrganizationID(hidden.ID), 404, "", ""},
		{"/api/hsds/locations/" + hsds.LocationID(hidden.ID, 0), 404, "", ""},
		{"/api/hsds/service_at_locations/" + hsds.ServiceAtLocationID(hidden.ID, 0), 404, "", ""},
		{"/api/hsds/services/" + hsds.OrganizationID(public.ID), 404, "", ""},
		{"/api/hsds/locations/" + hsds.LocationID(public.ID, 99), 404, "", ""},
		{"/api/hsds/services/not-a-uuid", 404, "", ""},
		{"/api/hsds/taxonomy_terms/" + hsds.ServiceID(public.ID), 404, "", ""},
		{"/api/hsds/taxonomies/x", 404, "", ""},
		{"/api/hsds/programs", 404, "", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			a := s.get(t, tc.path, tc.schema)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", a.status, tc.status, a.raw)
			}
			if tc.status == 200 {
				return
			}
			e := obj(a.doc["error"])
			if e["code"] == "" || e["message"] == "" || e["param"] != orNil(tc.param) {
				t.Errorf("error body %s, want param %q", a.raw, tc.param)
			}
		})
	}
	root := s.get(t, "/api/hsds/", "root.json")
	if root.doc["version"] != "3.0" || !strings.HasPrefix(root.doc["openapi_url"].(string), "https://") {
		t.Errorf("root %s", root.raw)
	}
	res, err := http.Post(s.URL+"/api/hsds/services", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", res.StatusCode)
	}
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestConditionalGET: answers carry an ETag and a CORS grant, a repeat
// with If-None-Match is 304, and a CORS preflight is answered.
func TestConditionalGET(t *testing.T) {
	t.Parallel()
	s := newServer(t, 20)
	p := s.world.PublicProfile(t)
	for path, schema := range map[string]string{
		"/api/hsds/services/" + hsds.ServiceID(p.ID): "service.json",
		"/api/hsds/services":                         "page:compiled-service_list.json",
		"/api/hsds/taxonomy_terms":                   "page:taxonomy_term.json",
	} {
		a := s.get(t, path, schema)
		tag := a.header.Get("ETag")
		if tag == "" {
			t.Fatalf("%s: no ETag", path)
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		req.Header.Set("If-None-Match", tag)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d", path, res.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodOptions, s.URL+path, nil)
		req.Header.Set("Origin", "https://elsewhere.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "GET") {
			t.Errorf("%s preflight: %d %v", path, res.StatusCode, res.Header)
		}
	}
}

// TestSchemasBite: the validation the other tests rely on refuses what
// HSDS refuses — a missing required field, an id that is not a UUID, a
// wrong enum value, a nested object broken through a relative $ref, a
// Page without its counts — so a passing test means something.
func TestSchemasBite(t *testing.T) {
	t.Parallel()
	set := hsdstest.Load(t)
	good := `{"id":"c6994c03-df99-53b3-bb9b-0fcf97693379","name":"A","status":"active"}`
	if err := set.Validate(t, "service.json", []byte(good)); err != nil {
		t.Fatalf("a minimal service is refused: %v", err)
	}
	for name, tc := range map[string]struct{ schema, doc string }{
		"no status":       {"service.json", `{"id":"c6994c03-df99-53b3-bb9b-0fcf97693379","name":"A"}`},
		"id not a uuid":   {"service.json", `{"id":"x","name":"A","status":"active"}`},
		"unknown status":  {"service.json", `{"id":"c6994c03-df99-53b3-bb9b-0fcf97693379","name":"A","status":"open"}`},
		"bad nested":      {"service.json", `{"id":"c6994c03-df99-53b3-bb9b-0fcf97693379","name":"A","status":"active","languages":[{"name":"x"}]}`},
		"bad url":         {"service.json", `{"id":"c6994c03-df99-53b3-bb9b-0fcf97693379","name":"A","status":"active","url":"not a uri"}`},
		"page sans count": {"page:service.json", `{"total_pages":1,"page_number":1,"size":0,"first_page":true,"last_page":true,"empty":true,"contents":[]}`},
		"page bad item":   {"page:service.json", `{"total_items":1,"total_pages":1,"page_number":1,"size":1,"first_page":true,"last_page":true,"empty":false,"contents":[{"id":"x"}]}`},
	} {
		if err := set.Validate(t, tc.schema, []byte(tc.doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
