package fhir

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/taxonomy"
)

// The FHIR data types Confide writes, each with only the elements it
// fills. Empty elements are left out, as FHIR JSON requires.
type (
	coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code,omitempty"`
		Display string `json:"display,omitempty"`
	}
	codeableConcept struct {
		Coding []coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	reference struct {
		Reference string `json:"reference,omitempty"`
		Display   string `json:"display,omitempty"`
	}
	identifier struct {
		System string `json:"system,omitempty"`
		Value  string `json:"value,omitempty"`
	}
	contactPoint struct {
		System string `json:"system"`
		Value  string `json:"value"`
		Use    string `json:"use,omitempty"`
	}
	extension struct {
		URL       string `json:"url"`
		ValueDate string `json:"valueDate,omitempty"`
	}
	humanName struct {
		Text string `json:"text"`
	}
	address struct {
		Text       string `json:"text,omitempty"`
		City       string `json:"city,omitempty"`
		PostalCode string `json:"postalCode,omitempty"`
		Country    string `json:"country,omitempty"`
	}
	position struct {
		Longitude float64 `json:"longitude"`
		Latitude  float64 `json:"latitude"`
	}
	meta struct {
		LastUpdated string `json:"lastUpdated,omitempty"`
	}
)

// Practitioner is a therapist as a person: name, languages and the
// register memberships a verifier found.
type practitioner struct {
	ResourceType  string            `json:"resourceType"`
	ID            string            `json:"id"`
	Meta          *meta             `json:"meta,omitempty"`
	Extension     []extension       `json:"extension,omitempty"`
	Active        bool              `json:"active"`
	Name          []humanName       `json:"name"`
	Gender        string            `json:"gender,omitempty"`
	Communication []codeableConcept `json:"communication,omitempty"`
	Qualification []qualification   `json:"qualification,omitempty"`
}

type qualification struct {
	Extension  []extension     `json:"extension,omitempty"`
	Identifier []identifier    `json:"identifier,omitempty"`
	Code       codeableConcept `json:"code"`
	Issuer     *reference      `json:"issuer,omitempty"`
}

// practitionerRole is what a therapist offers: approaches, places, how
// to get in touch (the profile page, and the website, phone and email
// the therapist chose to publish there; never the private address
// enquiries go to).
type practitionerRole struct {
	ResourceType           string            `json:"resourceType"`
	ID                     string            `json:"id"`
	Meta                   *meta             `json:"meta,omitempty"`
	Active                 bool              `json:"active"`
	Practitioner           reference         `json:"practitioner"`
	Code                   []codeableConcept `json:"code"`
	Specialty              []codeableConcept `json:"specialty,omitempty"`
	Location               []reference       `json:"location,omitempty"`
	Telecom                []contactPoint    `json:"telecom"`
	AvailableTime          []availableTime   `json:"availableTime,omitempty"`
	AvailabilityExceptions string            `json:"availabilityExceptions,omitempty"`
}

type availableTime struct {
	DaysOfWeek         []string `json:"daysOfWeek"`
	AvailableStartTime string   `json:"availableStartTime,omitempty"`
}

type location struct {
	ResourceType string    `json:"resourceType"`
	ID           string    `json:"id"`
	Status       string    `json:"status"`
	Name         string    `json:"name"`
	Description  string    `json:"description,omitempty"`
	Mode         string    `json:"mode"`
	Address      address   `json:"address"`
	Position     *position `json:"position,omitempty"`
}

type organization struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Active       bool              `json:"active"`
	Type         []codeableConcept `json:"type"`
	Name         string            `json:"name"`
	Alias        []string          `json:"alias,omitempty"`
	Telecom      []contactPoint    `json:"telecom,omitempty"`
}

// Code system and extension addresses live under the site's own base URL:
// they name Confide's vocabularies, which only this site defines.
func (h *Handler) codeSystem(name string) string {
	return h.BaseURL + "/fhir/CodeSystem/" + name
}

func (h *Handler) extensionURL(name string) string {
	return h.BaseURL + "/fhir/StructureDefinition/" + name
}

func fhirDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// fhirGender maps a self-description onto FHIR's administrative gender,
// and leaves it out when the therapist gave none.
func fhirGender(g string) string {
	switch strings.ToLower(strings.TrimSpace(g)) {
	case "":
		return ""
	case "woman", "female":
		return "female"
	case "man", "male":
		return "male"
	}
	return "other"
}

func (h *Handler) practitioner(p *directory.Profile) practitioner {
	out := practitioner{ResourceType: "Practitioner", ID: p.Slug, Meta: lastUpdated(p), Active: true,
		Name: []humanName{{Text: p.DisplayName}}, Gender: fhirGender(p.Gender)}
	for _, code := range p.Languages {
		out.Communication = append(out.Communication, codeableConcept{
			Coding: []coding{{System: "urn:ietf:bcp:47", Code: code, Display: h.Tax.LanguageName(code)}}})
	}
	for _, m := range p.Memberships {
		out.Qualification = append(out.Qualification, h.qualification(m))
	}
	if ins := p.Insurance; ins.Checked() && !ins.Until.IsZero() {
		out.Extension = append(out.Extension, extension{URL: h.extensionURL("insurance-verified-until"), ValueDate: fhirDate(ins.Until)})
	}
	return out
}

// qualification is a register membership: the register is the issuer,
// the membership number its identifier, and the day a verifier last found
// it on the register an extension (FHIR has no element for it).
func (h *Handler) qualification(m directory.Membership) qualification {
	q := qualification{Code: codeableConcept{
		Coding: []coding{{System: h.codeSystem("register-membership"), Code: m.Body}},
	}}
	text := m.Level
	if b, ok := h.Tax.Body(m.Body); ok {
		q.Code.Coding[0].Display = b.Abbreviation + " register"
		q.Issuer = &reference{Reference: "Organization/" + b.Slug, Display: b.Name}
		if text == "" {
			text = "Member"
		}
		text += ", " + b.Name
		if m.Number != "" {
			q.Identifier = []identifier{{System: b.RegisterURL, Value: m.Number}}
		}
	}
	q.Code.Text = text
	if !m.CheckedAt.IsZero() {
		q.Extension = []extension{{URL: h.extensionURL("register-checked-on"), ValueDate: fhirDate(m.CheckedAt)}}
	}
	return q
}

func lastUpdated(p *directory.Profile) *meta {
	if p.UpdatedAt.IsZero() {
		return nil
	}
	return &meta{LastUpdated: p.UpdatedAt.UTC().Format(time.RFC3339)}
}

// specialty is one approach: its SNOMED CT concepts where the taxonomy
// names them, and always Confide's own code, so that every approach can
// be searched for by the slug the rest of the site uses.
func (h *Handler) specialty(slug string) codeableConcept {
	term, ok := h.Tax.Lookup(taxonomy.Approach, slug)
	if !ok {
		return codeableConcept{Coding: []coding{{System: h.codeSystem("approach"), Code: slug}}, Text: slug}
	}
	cc := codeableConcept{Text: term.Label}
	for _, c := range term.Codes {
		cc.Coding = append(cc.Coding, coding{System: c.System, Code: c.Code, Display: c.Display})
	}
	cc.Coding = append(cc.Coding, coding{System: h.codeSystem("approach"), Code: term.Slug, Display: term.Label})
	return cc
}

// roleCode says what every PractitionerRole here is, in words: the
// directory lists counsellors and psychotherapists and nothing else.
var roleCode = []codeableConcept{{Text: "Counsellor or psychotherapist"}}

func (h *Handler) practitionerRole(p *directory.Profile, now time.Time) practitionerRole {
	out := practitionerRole{ResourceType: "PractitionerRole", ID: p.Slug, Meta: lastUpdated(p), Active: true,
		Practitioner: reference{Reference: "Practitioner/" + p.Slug, Display: p.DisplayName},
		Code:         roleCode,
		// The profile page and its enquiry form, then whatever direct
		// contact the therapist published on it, exactly as it shows.
		Telecom: []contactPoint{{System: "url", Value: h.BaseURL + "/therapists/" + p.Slug}},
	}
	if c := p.PublicContact; !c.IsZero() {
		for _, t := range []contactPoint{{System: "url", Value: c.Website, Use: "work"}, {System: "phone", Value: c.Phone, Use: "work"}, {System: "email", Value: c.Email, Use: "work"}} {
			if t.Value != "" {
				out.Telecom = append(out.Telecom, t)
			}
		}
	}
	for _, a := range p.Approaches {
		out.Specialty = append(out.Specialty, h.specialty(a))
	}
	for i, l := range p.Locations {
		out.Location = append(out.Location, reference{Reference: "Location/" + locationID(p.Slug, i), Display: locationName(l)})
	}
	out.AvailableTime = availableTimes(p.SessionTimes)
	out.AvailabilityExceptions = directory.AvailabilitySummary(p, now)
	return out
}

// availableTimes are the session times the therapist gives besides
// weekday daytime: weekday evenings from 5 pm, and the weekend days they
// named. The profile says no more (no closing time, no daytime hours), so
// nothing more is invented here.
func availableTimes(times []string) []availableTime {
	var out []availableTime
	if slices.Contains(times, directory.TimeEvenings) {
		out = append(out, availableTime{DaysOfWeek: []string{"mon", "tue", "wed", "thu", "fri"}, AvailableStartTime: "17:00:00"})
	}
	var days []string
	if slices.Contains(times, directory.TimeSaturdays) {
		days = append(days, "sat")
	}
	if slices.Contains(times, directory.TimeSundays) {
		days = append(days, "sun")
	}
	if len(days) > 0 {
		out = append(out, availableTime{DaysOfWeek: days})
	}
	return out
}

// locationID names a profile's practice n (0-based) as {slug}-{n+1}.
func locationID(slug string, n int) string { return slug + "-" + strconv.Itoa(n+1) }

// splitLocationID undoes locationID; a slug may itself hold hyphens, so
// the number is what follows the last one.
func splitLocationID(id string) (slug string, n int, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", 0, false
	}
	num, err := strconv.Atoi(id[i+1:])
	if err != nil || num < 1 || id[i+1] == '0' {
		return "", 0, false
	}
	return id[:i], num - 1, true
}

func locationName(l directory.Location) string {
	if l.Area == "" {
		return l.Outcode
	}
	return fmt.Sprintf("%s (%s)", l.Area, l.Outcode)
}

// location is a practice as public as the profile page shows it: the
// postcode district (never the full postcode) and the district's centre.
func (h *Handler) location(p *directory.Profile, n int) location {
	l := p.Locations[n]
	desc := []string{"Practice of " + p.DisplayName + "."}
	if l.Wheelchair {
		desc = append(desc, "Wheelchair accessible.")
	}
	return location{ResourceType: "Location", ID: locationID(p.Slug, n), Status: "active", Name: locationName(l),
		Description: strings.Join(desc, " "), Mode: "instance",
		Address:  address{Text: locationName(l), City: l.Area, PostalCode: l.Outcode, Country: "GB"},
		Position: &position{Longitude: l.Lon, Latitude: l.Lat}}
}

// organization is a professional body whose register the directory
// checks memberships against.
func organizationOf(b taxonomy.Body) organization {
	o := organization{ResourceType: "Organization", ID: b.Slug, Active: true, Name: b.Name,
		Type: []codeableConcept{{Text: "Professional body keeping a register of practitioners"}}}
	if b.Abbreviation != "" {
		o.Alias = []string{b.Abbreviation}
	}
	if b.URL != "" {
		o.Telecom = []contactPoint{{System: "url", Value: b.URL}}
	}
	return o
}
