package fhir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/fhir"
	"github.com/confide-org/confide/internal/testworld"
)

// The R4 schema is 3.3 MB: compile it once per test binary.
var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

func fhirSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open("testdata/fhir.schema.json")
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft6)
		if schemaErr = c.AddResource("file:///fhir.schema.json", doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile("file:///fhir.schema.json")
	})
	if schemaErr != nil {
		t.Fatalf("compile FHIR schema: %v", schemaErr)
	}
	return schema
}

type server struct {
	*httptest.Server
	world *testworld.World
}

func newServer(t *testing.T, n int) *server {
	t.Helper()
	w := testworld.New(t, n)
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	fhir.New(fhir.Deps{Log: w.Log, Index: w.Index, Profiles: w.DB, Tax: w.Tax, Gaz: w.Gaz, Now: w.Clock,
		BaseURL: srv.URL, SiteName: "Confide"}).Register(mux)
	return &server{Server: srv, world: w}
}

// answer is one FHIR response, already checked against the R4 schema.
type answer struct {
	status int
	header http.Header
	raw    []byte
	doc    map[string]any
}

// get fetches path and validates the body against the R4 schema: every
// answer, errors included, must be a valid FHIR resource.
func (s *server) get(t *testing.T, path string, hdr ...string) answer {
	t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = s.URL + path
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != fhir.ContentType {
		t.Fatalf("%s: Content-Type %q, want %q", path, ct, fhir.ContentType)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", path, err, raw)
	}
	if err := fhirSchema(t).Validate(inst); err != nil {
		t.Fatalf("%s: not valid FHIR R4: %v\n%s", path, err, raw)
	}
	a := answer{status: res.StatusCode, header: res.Header, raw: raw}
	if err := json.Unmarshal(raw, &a.doc); err != nil {
		t.Fatal(err)
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

// TestEveryPublicProfile reads every public profile of a demo directory
// as Practitioner, PractitionerRole and each of its Locations, validates
// every answer against HL7's R4 schema, and checks that nothing the
// public page hides (the contact email, the full postcode) is in it.
func TestEveryPublicProfile(t *testing.T) {
	t.Parallel()
	s := newServer(t, 120)
	profiles := publicProfiles(t, s.world)
	reads := 0
	for _, p := range profiles {
		paths := []string{"/fhir/r4/Practitioner/" + p.Slug, "/fhir/r4/PractitionerRole/" + p.Slug}
		for i := range p.Locations {
			paths = append(paths, "/fhir/r4/Location/"+p.Slug+"-"+strconv.Itoa(i+1))
		}
		for _, path := range paths {
			a := s.get(t, path)
			reads++
			if a.status != http.StatusOK {
				t.Fatalf("%s: status %d\n%s", path, a.status, a.raw)
			}
			body := string(a.raw)
			if p.ContactEmail != "" && strings.Contains(body, p.ContactEmail) {
				t.Errorf("%s shows the contact email", path)
			}
			for _, l := range p.Locations {
				if l.Postcode != "" && l.Postcode != l.Outcode && strings.Contains(body, l.Postcode) {
					t.Errorf("%s shows the full postcode %s", path, l.Postcode)
				}
			}
		}
		role := s.get(t, "/fhir/r4/PractitionerRole/"+p.Slug)
		if got, want := len(list(role.doc["specialty"])), len(p.Approaches); got != want {
			t.Errorf("%s: %d specialties, want %d", p.Slug, got, want)
		}
		// telecom: the profile page, then each published contact detail
		// and nothing else.
		want := []string{"url " + s.URL + "/therapists/" + p.Slug}
		for _, c := range []struct{ system, value string }{{"url", p.PublicContact.Website}, {"phone", p.PublicContact.Phone}, {"email", p.PublicContact.Email}} {
			if c.value != "" {
				want = append(want, c.system+" "+c.value)
			}
		}
		var got []string
		for _, tc := range list(role.doc["telecom"]) {
			cp, _ := tc.(map[string]any)
			got = append(got, fmt.Sprint(cp["system"], " ", cp["value"]))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: telecom %v, want %v", p.Slug, got, want)
		}
		pr := s.get(t, "/fhir/r4/Practitioner/"+p.Slug)
		quals := list(pr.doc["qualification"])
		if len(quals) != len(p.Memberships) {
			t.Fatalf("%s: %d qualifications, want %d", p.Slug, len(quals), len(p.Memberships))
		}
		for i, m := range p.Memberships {
			issuer, _ := quals[i].(map[string]any)["issuer"].(map[string]any)
			if issuer["reference"] != "Organization/"+m.Body {
				t.Errorf("%s: qualification %d issued by %v, want Organization/%s", p.Slug, i, issuer["reference"], m.Body)
			}
		}
	}
	t.Logf("%d public profiles, %d reads validated", len(profiles), reads)
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// entries returns the resources of a searchset Bundle.
func entries(t *testing.T, a answer) []map[string]any {
	t.Helper()
	if a.doc["resourceType"] != "Bundle" || a.doc["type"] != "searchset" {
		t.Fatalf("not a searchset Bundle: %s", a.raw)
	}
	var out []map[string]any
	for _, e := range list(a.doc["entry"]) {
		em := e.(map[string]any)
		if em["search"].(map[string]any)["mode"] != "match" || em["fullUrl"] == "" {
			t.Fatalf("entry without search.mode or fullUrl: %v", em)
		}
		out = append(out, em["resource"].(map[string]any))
	}
	return out
}

func link(a answer, rel string) string {
	for _, l := range list(a.doc["link"]) {
		lm := l.(map[string]any)
		if lm["relation"] == rel {
			return lm["url"].(string)
		}
	}
	return ""
}

// TestSearchPaging follows next links through whole searches: every match
// comes exactly once, the count is the Bundle's total, and every page
// fits the schema.
func TestSearchPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t, 120)
	p := publicProfiles(t, s.world)[0]
	outcode := p.Locations[0].Outcode
	for _, tc := range []struct {
		name, path, resourceType string
		check                    func(map[string]any) bool
	}{
		{"all practitioners", "/fhir/r4/Practitioner?_count=25", "Practitioner", nil},
		{"CBT by SNOMED CT", "/fhir/r4/PractitionerRole?specialty=" + url.QueryEscape("http://snomed.info/sct|304891004") + "&_count=7", "PractitionerRole",
			func(r map[string]any) bool { return strings.Contains(mustJSON(r["specialty"]), `"304891004"`) }},
		{"CBT or EMDR by plain code", "/fhir/r4/PractitionerRole?specialty=cbt,449030000&_count=10", "PractitionerRole",
			func(r map[string]any) bool {
				sp := mustJSON(r["specialty"])
				return strings.Contains(sp, `"304891004"`) || strings.Contains(sp, `"449030000"`)
			}},
		{"roles in a district", "/fhir/r4/PractitionerRole?location.address-postalcode=" + url.QueryEscape(strings.ToLower(outcode)) + "&_count=2", "PractitionerRole",
			func(r map[string]any) bool { return strings.Contains(mustJSON(r["location"]), "("+outcode+")") }},
		{"locations in a district", "/fhir/r4/Location?address-postalcode=" + outcode + "&_count=3", "Location",
			func(r map[string]any) bool { return r["address"].(map[string]any)["postalCode"] == outcode }},
		{"professional bodies", "/fhir/r4/Organization?_count=3", "Organization", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			first := s.get(t, tc.path)
			total := int(first.doc["total"].(float64))
			if total == 0 {
				t.Fatalf("no matches for %s", tc.path)
			}
			for a, pages := first, 0; ; pages++ {
				if a.status != http.StatusOK || pages > 200 {
					t.Fatalf("status %d after %d pages", a.status, pages)
				}
				for _, r := range entries(t, a) {
					if r["resourceType"] != tc.resourceType {
						t.Fatalf("entry of type %v", r["resourceType"])
					}
					id := r["id"].(string)
					if seen[id] {
						t.Fatalf("%s twice", id)
					}
					seen[id] = true
					if tc.check != nil && !tc.check(r) {
						t.Errorf("%s does not match the search: %s", id, mustJSON(r))
					}
				}
				next := link(a, "next")
				if next == "" {
					break
				}
				if !strings.HasPrefix(next, s.URL+"/fhir/r4/") || link(s.get(t, next), "previous") == "" {
					t.Fatalf("bad next link %q", next)
				}
				a = s.get(t, next)
			}
			if len(seen) != total {
				t.Errorf("walked %d, total says %d", len(seen), total)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestOutcomes: metadata, and every failure answered as an
// OperationOutcome with the right status and issue code.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	s := newServer(t, 40)
	hidden := s.world.HiddenProfile(t)
	for _, tc := range []struct {
		path       string
		hdr        []string
		status     int
		kind, code string
	}{
		{"/fhir/r4/metadata", nil, 200, "CapabilityStatement", ""},
		{"/fhir/r4/metadata?_format=json", []string{"Accept", "application/fhir+json"}, 200, "CapabilityStatement", ""},
		{"/fhir/r4/Organization/bacp", nil, 200, "Organization", ""},
		{"/fhir/r4/PractitionerRole?specialty=no-such-approach", nil, 200, "Bundle", ""},
		{"/fhir/r4/PractitionerRole?location.address-postalcode=ZZ99", nil, 200, "Bundle", ""},
		{"/fhir/r4/Practitioner/no-such-therapist", nil, 404, "OperationOutcome", "not-found"},
		{"/fhir/r4/Practitioner/" + hidden.Slug, nil, 404, "OperationOutcome", "not-found"},
		{"/fhir/r4/PractitionerRole/" + hidden.Slug, nil, 404, "OperationOutcome", "not-found"},
		{"/fhir/r4/Location/" + hidden.Slug + "-1", nil, 404, "OperationOutcome", "not-found"},
		{"/fhir/r4/Location/nohyphen", nil, 404, "OperationOutcome", "not-found"},
		{"/fhir/r4/Organization/no-such-body", nil, 404, "OperationOutcome", "not-found"},
		{"/fhir/r4/Patient/1", nil, 404, "OperationOutcome", "not-supported"},
		{"/fhir/r4/Practitioner?_count=0", nil, 400, "OperationOutcome", "invalid"},
		{"/fhir/r4/Practitioner?_count=101", nil, 400, "OperationOutcome", "invalid"},
		{"/fhir/r4/Practitioner?_page=x", nil, 400, "OperationOutcome", "invalid"},
		{"/fhir/r4/Practitioner?name=smith", nil, 400, "OperationOutcome", "not-supported"},
		{"/fhir/r4/PractitionerRole?specialty=cbt&specialty=emdr", nil, 400, "OperationOutcome", "not-supported"},
		{"/fhir/r4/Location", nil, 400, "OperationOutcome", "required"},
		{"/fhir/r4/metadata?_format=xml", nil, 406, "OperationOutcome", "not-supported"},
		{"/fhir/r4/metadata", []string{"Accept", "application/fhir+xml"}, 406, "OperationOutcome", "not-supported"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			a := s.get(t, tc.path, tc.hdr...)
			if a.status != tc.status || a.doc["resourceType"] != tc.kind {
				t.Fatalf("status %d %v, want %d %s\n%s", a.status, a.doc["resourceType"], tc.status, tc.kind, a.raw)
			}
			if tc.code != "" {
				if got := list(a.doc["issue"])[0].(map[string]any)["code"]; got != tc.code {
					t.Errorf("issue.code %v, want %s", got, tc.code)
				}
			}
			if a.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("no CORS header")
			}
		})
	}
}
