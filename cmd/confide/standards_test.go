package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/hsds"
	"github.com/confide-org/confide/internal/hsds/hsdstest"
)

// fhirR4Schema compiles HL7's official R4 JSON schema (the copy the FHIR
// package's tests use).
func fhirR4Schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("../../internal/fhir/testdata/fhir.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft6)
	if err := c.AddResource("file:///fhir.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("file:///fhir.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStandardsEveryDemoProfile: the directory `serve --demo` makes (2,000
// profiles) served by the whole application over HTTP, and every public
// profile read through both open-standard APIs, each answer validated
// against the official schema: HL7 FHIR R4 (Practitioner,
// PractitionerRole, each Location) and Open Referral HSDS 3.0 (service,
// organization, each location and service_at_location). No answer may
// carry a contact email or a full postcode.
func TestStandardsEveryDemoProfile(t *testing.T) {
	t.Parallel()
	therapists := 2000
	if raceDetector {
		therapists = 150 // the race run checks concurrency, not the count
	}
	h := newHarness(t, therapists, nil)
	fhirSchema := fhirR4Schema(t)
	hs := hsdstest.Load(t)
	var profiles []*directory.Profile
	if _, err := h.app.DB.EachProfile(h.ctx, func(p *directory.Profile) error {
		if p.IsPublic(h.clock.Now()) {
			profiles = append(profiles, p.Clone())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(profiles) < therapists/2 {
		t.Fatalf("only %d of %d demo profiles are public", len(profiles), therapists)
	}
	hc := &http.Client{}
	get := func(p *directory.Profile, path string) []byte {
		t.Helper()
		res, err := hc.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", path, res.StatusCode, b)
		}
		body := string(b)
		if p.ContactEmail != "" && strings.Contains(body, p.ContactEmail) {
			t.Errorf("%s shows the contact email", path)
		}
		for _, l := range p.Locations {
			if l.Postcode != "" && l.Postcode != l.Outcode && strings.Contains(body, l.Postcode) {
				t.Errorf("%s shows the full postcode %s", path, l.Postcode)
			}
		}
		return b
	}
	var fhirReads, hsdsReads int
	for _, p := range profiles {
		paths := []string{"/fhir/r4/Practitioner/" + p.Slug, "/fhir/r4/PractitionerRole/" + p.Slug}
		for i := range p.Locations {
			paths = append(paths, "/fhir/r4/Location/"+p.Slug+"-"+strconv.Itoa(i+1))
		}
		for _, path := range paths {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(get(p, path)))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if err := fhirSchema.Validate(doc); err != nil {
				t.Fatalf("%s is not valid FHIR R4: %v", path, err)
			}
			fhirReads++
		}
		type read struct{ path, schema string }
		reads := []read{
			{"/api/hsds/services/" + hsds.ServiceID(p.ID), "compiled-service_with_definitions.json"},
			{"/api/hsds/organizations/" + hsds.OrganizationID(p.ID), "organization.json"},
		}
		for i, l := range p.Locations {
			if l.Outcode == "" {
				continue
			}
			reads = append(reads, read{"/api/hsds/locations/" + hsds.LocationID(p.ID, i), "location.json"},
				read{"/api/hsds/service_at_locations/" + hsds.ServiceAtLocationID(p.ID, i), "service_at_location.json"})
		}
		for _, r := range reads {
			b := get(p, r.path)
			if err := hs.Validate(t, r.schema, b); err != nil {
				t.Fatalf("%s is not valid HSDS 3.0 (%s): %v", r.path, r.schema, err)
			}
			hsdsReads++
		}
		var svc struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(get(p, reads[0].path), &svc); err != nil || svc.Name != p.DisplayName {
			t.Errorf("%s: HSDS service named %q, want %q (%v)", p.Slug, svc.Name, p.DisplayName, err)
		}
	}
	t.Logf("%d demo profiles, %d public: %d FHIR R4 and %d HSDS 3.0 answers validated", therapists, len(profiles), fhirReads, hsdsReads)
}
