package hsds

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Version is the HSDS release the API and the data package follow.
const Version = "3.0"

// The published taxonomies. Confide's own holds every term a profile can
// carry; SNOMED CT holds the concepts the taxonomy maps approaches to, so
// that a consumer coding by SNOMED CT can match without knowing Confide.
const (
	confideTaxonomy = "confide"
	snomedTaxonomy  = "snomed-ct"
	snomedSystem    = "http://snomed.info/sct"
)

// kinds are the branches of Confide's taxonomy as HSDS top-level terms,
// with the attribute link_type their terms are linked to a service by.
var kinds = []struct {
	kind  taxonomy.Kind
	code  string
	name  string
	about string
}{
	{taxonomy.Approach, "approach", "Therapy approaches", "The ways of working therapists in the directory practise."},
	{taxonomy.Issue, "issue", "Issues", "What people seek help with."},
	{taxonomy.Client, "client", "Client groups", "Whom a therapist works with."},
	{taxonomy.Format, "format", "Session formats", "How sessions are held: in person, online or by phone."},
}

// Mapper turns public profiles into HSDS records. It holds the taxonomy
// as HSDS terms, built once: the taxonomy does not change while the
// process runs.
type Mapper struct {
	tax      *taxonomy.Taxonomy
	baseURL  string
	siteName string
	terms    []TaxonomyTerm
	byCode   map[string]*TaxonomyTerm
	byID     map[string]*TaxonomyTerm
	taxa     []Taxonomy
	taxaByID map[string]*Taxonomy
}

// NewMapper returns a Mapper for tax. baseURL (no trailing slash) makes
// every link absolute; siteName names the directory in descriptions.
func NewMapper(tax *taxonomy.Taxonomy, baseURL, siteName string) *Mapper {
	if siteName == "" {
		siteName = "Confide"
	}
	m := &Mapper{tax: tax, baseURL: baseURL, siteName: siteName, byCode: map[string]*TaxonomyTerm{}, byID: map[string]*TaxonomyTerm{}, taxaByID: map[string]*Taxonomy{}}
	m.taxa = []Taxonomy{
		{ID: TaxonomyID(confideTaxonomy), Name: siteName + " taxonomy",
			Description: "The approaches, issues, client groups and session formats of the " + siteName + " directory of counsellors and psychotherapists.",
			URI:         baseURL + "/api/v1/taxonomy", Version: tax.Version},
		{ID: TaxonomyID(snomedTaxonomy), Name: "SNOMED CT",
			Description: "SNOMED CT concepts for therapy approaches, as the " + siteName + " taxonomy maps them.", URI: snomedSystem},
	}
	for i := range m.taxa {
		m.taxaByID[m.taxa[i].ID] = &m.taxa[i]
	}
	own := &m.taxa[0]
	add := func(t TaxonomyTerm) {
		if _, dup := m.byCode[t.Code]; !dup {
			m.terms = append(m.terms, t)
			m.byCode[t.Code] = nil
		}
	}
	for _, k := range kinds {
		parent := TaxonomyTerm{ID: TaxonomyTermID(k.code), Code: k.code, Name: k.name, Description: k.about,
			Taxonomy: own.Name, Language: "en", TaxonomyID: own.ID}
		add(parent)
		for _, t := range tax.Terms(k.kind) {
			desc := t.Description
			if desc == "" {
				desc = t.Label
			}
			add(TaxonomyTerm{ID: TaxonomyTermID(termCode(k.code, t.Slug)), Code: termCode(k.code, t.Slug), Name: t.Label, Description: desc,
				ParentID: parent.ID, Taxonomy: own.Name, Language: "en", TaxonomyID: own.ID})
		}
	}
	for _, t := range tax.Approaches {
		for _, c := range t.Codes {
			if c.System == snomedSystem {
				add(TaxonomyTerm{ID: TaxonomyTermID(snomedCode(c.Code)), Code: snomedCode(c.Code), Name: c.Display,
					Description: "SNOMED CT concept " + c.Code + ": " + c.Display + ".", Taxonomy: "SNOMED CT", Language: "en",
					TaxonomyID: TaxonomyID(snomedTaxonomy), TermURI: "http://snomed.info/id/" + c.Code})
			}
		}
	}
	for i := range m.terms {
		m.byCode[m.terms[i].Code] = &m.terms[i]
		m.byID[m.terms[i].ID] = &m.terms[i]
	}
	return m
}

// termCode is the code of a Confide term: its kind and slug, so that
// codes are unique across kinds as HSDS requires.
func termCode(kind, slug string) string { return kind + ":" + slug }

// snomedCode is the code of a SNOMED CT concept's term: "sct:" and the
// concept id, so that it can never clash with a Confide code.
func snomedCode(concept string) string { return "sct:" + concept }

// Terms are every taxonomy term, the kinds' top-level terms first.
func (m *Mapper) Terms() []TaxonomyTerm { return m.terms }

// Taxonomies are the published taxonomies.
func (m *Mapper) Taxonomies() []Taxonomy { return m.taxa }

// TaxonomyByID is the taxonomy with id.
func (m *Mapper) TaxonomyByID(id string) (*Taxonomy, bool) {
	t, ok := m.taxaByID[id]
	return t, ok
}

// Term is the term with id, with its taxonomy nested.
func (m *Mapper) Term(id string) (*TaxonomyTerm, bool) {
	t, ok := m.byID[id]
	if !ok {
		return nil, false
	}
	c := *t
	c.TaxonomyDetail = m.taxaByID[t.TaxonomyID]
	return &c, true
}

// Record is one public profile as HSDS tables: every row it contributes,
// each holding only its own fields and the ids that link it.
type Record struct {
	ProfileID          int64
	Organization       Organization
	Identifiers        []OrganizationIdentifier
	Service            Service
	Locations          []Location
	Accessibility      []Accessibility
	ServiceAtLocations []ServiceAtLocation
	Schedules          []Schedule
	CostOptions        []CostOption
	Languages          []Language
	Attributes         []Attribute
}

func date(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Record maps p, which must be public at now, showing only what its
// public page shows: never the contact email or a full postcode.
func (m *Mapper) Record(p *directory.Profile, now time.Time) *Record {
	pid := p.ID
	page := m.baseURL + "/therapists/" + p.Slug
	r := &Record{ProfileID: pid}
	r.Organization = Organization{ID: OrganizationID(pid), Name: p.DisplayName, Website: page,
		Description: "The independent counselling and psychotherapy practice of " + p.DisplayName + ", listed in the " + m.siteName + " directory after a check of their professional registration."}
	svc := Service{ID: ServiceID(pid), OrganizationID: r.Organization.ID, Name: p.DisplayName, URL: page, Status: "active",
		Description:        strings.TrimSpace(p.Headline + "\n\n" + p.Statement),
		ApplicationProcess: directory.AvailabilitySummary(p, now) + " To get in touch, send an enquiry through the form at " + page + ": the directory passes it on and never shows the therapist's email address.",
		FeesDescription:    fees(p),
		Accreditations:     m.accreditations(p),
	}
	if !p.Verification.VerifiedAt.IsZero() {
		svc.AssuredDate = date(p.Verification.VerifiedAt)
	}
	if !p.UpdatedAt.IsZero() {
		svc.LastModified = p.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if p.Verification.Rechecking() {
		svc.Alert = "Some details changed recently and are waiting to be checked again; what is shown is what was checked."
	}
	if len(p.ClientGroups) > 0 {
		var labels []string
		for _, c := range p.ClientGroups {
			labels = append(labels, m.tax.Label(taxonomy.Client, c))
		}
		svc.EligibilityDescription = "Works with: " + strings.Join(labels, ", ") + "."
	}
	r.Service = svc
	for _, ms := range p.Memberships {
		if b, ok := m.tax.Body(ms.Body); ok && ms.Number != "" {
			r.Identifiers = append(r.Identifiers, OrganizationIdentifier{ID: id("organization_identifier", pid, ms.Body),
				OrganizationID: r.Organization.ID, IdentifierType: b.Abbreviation + " register membership number", Identifier: ms.Number})
		}
	}

	for n, l := range p.Locations {
		name := locationName(l)
		lat, lon := l.Lat, l.Lon
		loc := Location{ID: LocationID(pid, n), LocationType: "physical", OrganizationID: r.Organization.ID, Name: name,
			Description: "Practice of " + p.DisplayName + " in the " + l.Outcode + " postcode district. Its position is the district's centre, not the practice's.",
			Latitude:    &lat, Longitude: &lon}
		r.Locations = append(r.Locations, loc)
		if l.Wheelchair {
			r.Accessibility = append(r.Accessibility, Accessibility{ID: id("accessibility", pid, strconv.Itoa(n+1)), LocationID: loc.ID,
				Description: "Wheelchair accessible."})
		}
		sal := ServiceAtLocation{ID: ServiceAtLocationID(pid, n), ServiceID: svc.ID, LocationID: loc.ID,
			Description: "Sessions in person with " + p.DisplayName + " at " + name + "."}
		r.ServiceAtLocations = append(r.ServiceAtLocations, sal)
	}
	if p.OffersFormat(taxonomy.FormatOnline) {
		loc := Location{ID: OnlineLocationID(pid), LocationType: "virtual", OrganizationID: r.Organization.ID, Name: "Online",
			Description: "Sessions with " + p.DisplayName + " by video call."}
		r.Locations = append(r.Locations, loc)
		r.ServiceAtLocations = append(r.ServiceAtLocations, ServiceAtLocation{ID: OnlineServiceAtLocationID(pid), ServiceID: svc.ID,
			LocationID: loc.ID, Description: "Sessions online by video call with " + p.DisplayName + "."})
	}
	if len(p.Formats) > 0 {
		r.Schedules = append(r.Schedules, Schedule{ID: id("schedule", pid, "service"), ServiceID: svc.ID,
			AttendingType: m.attending(p), Description: directory.AvailabilitySummary(p, now)})
	}
	if len(p.SessionTimes) > 0 {
		// Out-of-hours times are the therapist's, whatever the format:
		// weekend days as the RFC 5545 rule HSDS uses; weekday evenings
		// in words only, as the profile gives no hours.
		s := Schedule{ID: id("schedule", pid, "times"), ServiceID: svc.ID, AttendingType: m.attending(p),
			Description: "Also sees clients: " + directory.SessionTimesPhrase(p.SessionTimes) + "."}
		var days []string
		if slices.Contains(p.SessionTimes, directory.TimeSaturdays) {
			days = append(days, "SA")
		}
		if slices.Contains(p.SessionTimes, directory.TimeSundays) {
			days = append(days, "SU")
		}
		if len(days) > 0 {
			s.Freq, s.Byday = "WEEKLY", strings.Join(days, ",")
		}
		r.Schedules = append(r.Schedules, s)
	}

	gbp := func(pence int) *float64 { f := float64(pence) / 100; return &f }
	if p.FeeMinPence > 0 {
		r.CostOptions = append(r.CostOptions, CostOption{ID: id("cost_option", pid, "min"), ServiceID: svc.ID, Option: "Session fee",
			Currency: "GBP", Amount: gbp(p.FeeMinPence), AmountDescription: "Lowest fee per session."})
	}
	if p.FeeMaxPence > p.FeeMinPence {
		r.CostOptions = append(r.CostOptions, CostOption{ID: id("cost_option", pid, "max"), ServiceID: svc.ID, Option: "Session fee",
			Currency: "GBP", Amount: gbp(p.FeeMaxPence), AmountDescription: "Highest fee per session."})
	}
	if p.Concessions {
		r.CostOptions = append(r.CostOptions, CostOption{ID: id("cost_option", pid, "concessions"), ServiceID: svc.ID, Option: "Concessions",
			Currency: "GBP", AmountDescription: "Reduced fees for some clients: ask when you get in touch."})
	}
	for _, code := range p.Languages {
		r.Languages = append(r.Languages, Language{ID: id("language", pid, code), ServiceID: svc.ID, Name: m.tax.LanguageName(code), Code: code})
	}

	link := func(kind, code string) {
		if _, ok := m.byCode[code]; !ok {
			return
		}
		for _, a := range r.Attributes {
			if a.TaxonomyTermID == TaxonomyTermID(code) {
				return
			}
		}
		r.Attributes = append(r.Attributes, Attribute{ID: id("attribute", pid, code), LinkID: svc.ID, TaxonomyTermID: TaxonomyTermID(code),
			LinkType: kind, LinkEntity: "service"})
	}
	for _, a := range p.Approaches {
		link("approach", termCode("approach", a))
		if t, ok := m.tax.Lookup(taxonomy.Approach, a); ok {
			for _, c := range t.Codes {
				if c.System == snomedSystem {
					link("approach", snomedCode(c.Code))
				}
			}
		}
	}
	for _, s := range p.Issues {
		link("issue", termCode("issue", s))
	}
	for _, s := range p.ClientGroups {
		link("client", termCode("client", s))
	}
	for _, s := range p.Formats {
		link("format", termCode("format", s))
	}
	return r
}

func locationName(l directory.Location) string {
	if l.Area == "" {
		return l.Outcode
	}
	return fmt.Sprintf("%s (%s)", l.Area, l.Outcode)
}

// attending says in words how sessions can be had.
func (m *Mapper) attending(p *directory.Profile) string {
	var ways []string
	for _, f := range p.Formats {
		switch f {
		case taxonomy.FormatInPerson:
			ways = append(ways, "in person")
		case taxonomy.FormatOnline:
			ways = append(ways, "online by video call")
		case taxonomy.FormatPhone:
			ways = append(ways, "by telephone")
		default:
			ways = append(ways, strings.ToLower(m.tax.Label(taxonomy.Format, f)))
		}
	}
	if len(ways) == 0 {
		return ""
	}
	s := strings.Join(ways, ", ")
	if i := strings.LastIndex(s, ", "); i >= 0 {
		s = s[:i] + " or " + s[i+2:]
	}
	return "Sessions " + s + "."
}

func pounds(pence int) string {
	if pence%100 == 0 {
		return "£" + strconv.Itoa(pence/100)
	}
	return fmt.Sprintf("£%d.%02d", pence/100, pence%100)
}

func fees(p *directory.Profile) string {
	var s string
	switch {
	case p.FeeMinPence > 0 && p.FeeMaxPence > p.FeeMinPence:
		s = pounds(p.FeeMinPence) + " to " + pounds(p.FeeMaxPence) + " per session."
	case p.FeeMinPence > 0:
		s = pounds(p.FeeMinPence) + " per session."
	}
	if p.Concessions {
		s = strings.TrimSpace(s + " Reduced fees (concessions) for some clients.")
	}
	return s
}

// accreditations lists the register memberships a verifier checked, and
// the insurance, as the profile page does.
func (m *Mapper) accreditations(p *directory.Profile) string {
	var parts []string
	for _, ms := range p.Memberships {
		b, ok := m.tax.Body(ms.Body)
		if !ok {
			continue
		}
		level := ms.Level
		if level == "" {
			level = "Member"
		}
		s := level + ", " + b.Name + " (" + b.Abbreviation + ")"
		if ms.Number != "" {
			s += ", membership number " + ms.Number
		}
		if !ms.CheckedAt.IsZero() {
			s += "; found on the register on " + date(ms.CheckedAt)
		}
		parts = append(parts, s+".")
	}
	if ins := p.Insurance; ins.Checked() && !ins.Until.IsZero() {
		parts = append(parts, "Professional indemnity insurance checked, valid until "+date(ins.Until)+".")
	}
	return strings.Join(parts, " ")
}
