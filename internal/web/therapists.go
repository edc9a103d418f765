package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

type tagLink struct{ Label, URL string }

type membershipView struct {
	BodyName, RegisterURL, Number, Level string
	// CheckedAt is when a verifier last found the membership on the
	// register; each membership has its own.
	CheckedAt time.Time
}

type locationView struct {
	Area, District, Distance, Access string
	// MapURL and MapAlt show the district's schematic map, when the
	// gazetteer can draw one.
	MapURL, MapAlt string
}

type therapistPage struct {
	layout
	// Photo is the therapist's photo, or nil (initials are shown).
	Photo *photoView
	directory.Verification
	Name, FirstName, Headline string
	Statement                 template.HTML
	Approaches, Issues        []tagLink
	Memberships               []membershipView
	Insurance                 directory.Insurance
	Availability, Fees        string
	// SessionTimes is when, besides weekday daytime, the therapist sees
	// clients ("weekday evenings, Saturdays"), or "".
	SessionTimes     string
	Fresh            bool
	Formats, Clients []string
	Languages        []string
	Gender           string
	Locations        []locationView
	From             string
	// BackURL is the search this profile was reached from ("/search"
	// when none); FromResults says there was one, for "Back to results".
	BackURL     string
	FromResults bool
	// FromQuery is the results page's query string, carried by the
	// enquiry form so that a refused enquiry still leads back.
	FromQuery string
	// Preview is the therapist's own view of an unpublished or
	// unverified profile; Verified says whether to show the badge.
	Preview, Verified bool
	// JSONLD is the schema.org description of a public profile.
	JSONLD any
	// Enquiry is the "send an enquiry" form.
	Enquiry enquiryForm
	Slug    string
	// Contact is what the therapist published besides the form
	// (templates/partials/contact.html).
	Contact contactView
}

func (h *Handler) showTherapist(w http.ResponseWriter, r *http.Request) error {
	now := h.Now()
	p, err := directory.PublicBySlug(r.Context(), h.Profiles, r.PathValue("slug"), now)
	if err != nil {
		return err
	}
	page := h.therapistView(r, p, now)
	page.JSONLD = h.profileJSONLD(p)
	page.Enquiry = h.enquiryFormFor(r.Context(), p, formState{Values: url.Values{}}, "")
	return h.render(w, r, http.StatusOK, "therapist", page)
}

// therapistView builds a profile page; the public page and the therapist's
// preview share it so the preview is exactly what the public will see.
func (h *Handler) therapistView(r *http.Request, p *directory.Profile, now time.Time) therapistPage {
	page := therapistPage{
		Slug:     p.Slug,
		Verified: p.IsPublic(now),
		layout:   h.layout(r, p.DisplayName, "search"), Verification: p.Verification,
		Name: p.DisplayName, FirstName: firstName(p.DisplayName), Headline: p.Headline,
		Statement:    h.Markup.Render(p.Statement),
		Availability: availabilityText(p.Availability, p.AvailabilityConfirmedAt, now),
		Fresh:        directory.ConfirmedRecently(p.AvailabilityConfirmedAt, now),
		Fees:         formatFees(p.FeeMinPence, p.FeeMaxPence, p.Concessions),
		Gender:       p.Gender,
		SessionTimes: directory.SessionTimesPhrase(p.SessionTimes),
		BackURL:      "/search",
		Photo:        h.photoOf(r.Context(), p.ID, 160),
		Insurance:    p.Insurance,
		Contact:      publicContact(p.PublicContact, firstName(p.DisplayName), h.Config.SiteName),
	}
	page.Description = p.Headline
	for _, s := range p.Approaches {
		page.Approaches = append(page.Approaches, tagLink{h.Tax.Label(taxonomy.Approach, s), "/search?approach=" + url.QueryEscape(s)})
	}
	for _, s := range p.Issues {
		page.Issues = append(page.Issues, tagLink{h.Tax.Label(taxonomy.Issue, s), "/search?issue=" + url.QueryEscape(s)})
	}
	for _, m := range p.Memberships {
		mv := membershipView{BodyName: m.Body, Number: m.Number, Level: m.Level, CheckedAt: m.CheckedAt}
		if b, ok := h.Tax.Body(m.Body); ok {
			mv.BodyName, mv.RegisterURL = b.Name+" ("+b.Abbreviation+")", b.RegisterURL
		}
		if h.Verify != nil {
			if reg, ok := h.Verify.Registers.Get(m.Body); ok {
				mv.RegisterURL = reg.Link(m.Number)
			}
		}
		page.Memberships = append(page.Memberships, mv)
	}
	for _, f := range p.Formats {
		page.Formats = append(page.Formats, h.Tax.Label(taxonomy.Format, f))
	}
	for _, c := range p.ClientGroups {
		page.Clients = append(page.Clients, h.Tax.Label(taxonomy.Client, c))
	}
	for _, l := range p.Languages {
		page.Languages = append(page.Languages, h.Tax.LanguageName(l))
	}
	var from *geo.Location
	near := r.URL.Query().Get("near")
	if back, ok := h.resultsURL(r.URL.Query(), now); ok {
		page.BackURL, page.FromResults, page.FromQuery = back.String(), true, r.URL.Query().Get("from")
		near = back.Query().Get("near")
	} else if near != "" {
		page.BackURL = "/search?" + url.Values{"near": {near}}.Encode()
	}
	if near != "" {
		if loc, err := h.Gaz.Resolve(near); err == nil {
			from = &loc
			page.From = loc.Label
		}
	}
	for _, l := range p.Locations {
		lv := locationView{Area: l.Area, District: l.Outcode, Access: accessText(l)}
		if m, err := h.Gaz.DistrictMap(l.Outcode); err == nil {
			lv.MapURL, lv.MapAlt = "/maps/districts/"+url.PathEscape(m.Outcode)+".svg", districtMapAlt(m)
		}
		if from != nil {
			lv.Distance = formatDistance(geo.HaversineKm(from.Point, geo.Point{Lat: l.Lat, Lon: l.Lon}))
		}
		page.Locations = append(page.Locations, lv)
	}
	return page
}

// maxFromLen bounds the search a profile link carries.
const maxFromLen = 4000

// resultsURL is the search results page a profile was opened from, read
// from its "from" parameter (the results page's query string). It is
// only ever a /search URL on this site, never an open redirect: the path
// is fixed, only search parameters are kept, and the search must parse.
func (h *Handler) resultsURL(v url.Values, now time.Time) (*url.URL, bool) {
	raw, ok := v["from"]
	if !ok || len(raw) != 1 || len(raw[0]) > maxFromLen {
		return nil, false
	}
	vals, err := url.ParseQuery(raw[0])
	if err != nil {
		return nil, false
	}
	kept := url.Values{}
	for _, p := range search.Params {
		if vs, ok := vals[p]; ok {
			kept[p] = vs
		}
	}
	if _, err := h.Parser.Parse(kept, now); err != nil {
		return nil, false
	}
	return &url.URL{Path: "/search", RawQuery: kept.Encode()}, true
}

func firstName(name string) string {
	fields := strings.Fields(name)
	if len(fields) > 1 && (fields[0] == "Dr" || fields[0] == "Mr" || fields[0] == "Ms" || fields[0] == "Mrs" || fields[0] == "Mx") {
		return name
	}
	if len(fields) > 0 {
		return fields[0]
	}
	return name
}

func accessText(l directory.Location) string {
	var parts []string
	if l.Wheelchair {
		parts = append(parts, "Wheelchair accessible")
	} else {
		parts = append(parts, "Not wheelchair accessible")
	}
	return strings.Join(parts, "; ")
}
