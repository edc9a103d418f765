package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

type tagLink struct{ Label, URL string }

type membershipView struct {
	BodyName, RegisterURL, Number, Level string
}

type locationView struct {
	Area, District, Distance, Access string
}

type therapistPage struct {
	layout
	directory.Verification
	Name, FirstName, Headline string
	Statement                 template.HTML
	Approaches, Issues        []tagLink
	Memberships               []membershipView
	Availability, Fees        string
	Fresh                     bool
	Formats, Clients          []string
	Languages                 []string
	Gender                    string
	Locations                 []locationView
	From                      string
	BackURL                   string
	// Preview is the therapist's own view of an unpublished or
	// unverified profile; Verified says whether to show the badge.
	Preview, Verified bool
	// JSONLD is the schema.org description of a public profile.
	JSONLD any
	// Enquiry is the "send an enquiry" form.
	Enquiry enquiryForm
	Slug    string
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
		BackURL:      "/search",
	}
	page.Description = p.Headline
	for _, s := range p.Approaches {
		page.Approaches = append(page.Approaches, tagLink{h.Tax.Label(taxonomy.Approach, s), "/search?approach=" + url.QueryEscape(s)})
	}
	for _, s := range p.Issues {
		page.Issues = append(page.Issues, tagLink{h.Tax.Label(taxonomy.Issue, s), "/search?issue=" + url.QueryEscape(s)})
	}
	for _, m := range p.Memberships {
		mv := membershipView{BodyName: m.Body, Number: m.Number, Level: m.Level}
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
	if near := r.URL.Query().Get("near"); near != "" {
		if loc, err := h.Gaz.Resolve(near); err == nil {
			from = &loc
			page.From = loc.Label
			page.BackURL = "/search?" + url.Values{"near": {near}}.Encode()
		}
	}
	for _, l := range p.Locations {
		lv := locationView{Area: l.Area, District: l.Outcode, Access: accessText(l)}
		if from != nil {
			lv.Distance = formatDistance(geo.HaversineKm(from.Point, geo.Point{Lat: l.Lat, Lon: l.Lon}))
		}
		page.Locations = append(page.Locations, lv)
	}
	return page
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
	switch {
	case l.Evenings && l.Weekends:
		parts = append(parts, "evening and weekend appointments")
	case l.Evenings:
		parts = append(parts, "evening appointments")
	case l.Weekends:
		parts = append(parts, "weekend appointments")
	}
	return strings.Join(parts, "; ")
}
