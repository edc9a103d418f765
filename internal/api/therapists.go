package api

import (
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/search"
)

type locationJSON struct {
	District   string  `json:"district"`
	Area       string  `json:"area"`
	Lat        float64 `json:"lat"`
	Lon        float64 `json:"lon"`
	Wheelchair bool    `json:"wheelchair"`
	// Evenings and Weekends are deprecated: session times belong to the
	// therapist (therapistJSON.SessionTimes), and these repeat them on
	// every practice so that older clients keep working.
	Evenings bool `json:"evenings"`
	Weekends bool `json:"weekends"`
}

type verificationJSON struct {
	Status           string `json:"status"`
	Body             string `json:"body"`
	BodyName         string `json:"body_name"`
	MembershipNumber string `json:"membership_number"`
	Level            string `json:"level"`
	VerifiedAt       string `json:"verified_at"`
	NextCheckDue     string `json:"next_check_due"`
	// Rechecking is true while details the therapist changed wait for a
	// verifier; everything else here is what was last checked.
	Rechecking bool `json:"rechecking"`
}

type therapistJSON struct {
	ID                      int64            `json:"id"`
	Slug                    string           `json:"slug"`
	URL                     string           `json:"url"`
	Name                    string           `json:"name"`
	Headline                string           `json:"headline"`
	DistanceKm              *float64         `json:"distance_km"`
	Approaches              []string         `json:"approaches"`
	Issues                  []string         `json:"issues"`
	Formats                 []string         `json:"formats"`
	ClientGroups            []string         `json:"client_groups"`
	Languages               []string         `json:"languages"`
	Gender                  *string          `json:"gender"`
	SessionTimes            []string         `json:"session_times"`
	FeeMinGBP               float64          `json:"fee_min_gbp"`
	FeeMaxGBP               float64          `json:"fee_max_gbp"`
	Concessions             bool             `json:"concessions"`
	Availability            string           `json:"availability"`
	AvailabilityConfirmedAt *time.Time       `json:"availability_confirmed_at"`
	AcceptingNewClients     bool             `json:"accepting_new_clients"`
	Locations               []locationJSON   `json:"locations"`
	Verification            verificationJSON `json:"verification"`
	Score                   *float64         `json:"score,omitempty"`
	// RecommendedScore is the recommended order's score (0 to 8; README,
	// Searching), so that a client can see why results come in this order.
	RecommendedScore *float64 `json:"recommended_score,omitempty"`
}

type facetJSON struct {
	Value string `json:"value"`
	Label string `json:"label"`
	Count int    `json:"count"`
}

type placeJSON struct {
	Kind         string   `json:"kind"`
	Label        string   `json:"label"`
	Lat          float64  `json:"lat"`
	Lon          float64  `json:"lon"`
	District     string   `json:"district,omitempty"`
	Alternatives []string `json:"alternatives,omitempty"`
	// Corrected says near was a slip for label ("Leds" for Leeds).
	Corrected bool `json:"corrected,omitempty"`
}

type searchJSON struct {
	Total    int                    `json:"total"`
	Page     int                    `json:"page"`
	PerPage  int                    `json:"per_page"`
	Sort     string                 `json:"sort"`
	RadiusKm *float64               `json:"radius_km"`
	Location *placeJSON             `json:"location"`
	Results  []therapistJSON        `json:"results"`
	Facets   map[string][]facetJSON `json:"facets"`
	// Corrections are words of q searched for as others ("anxeity" as
	// anxiety).
	Corrections []correctionJSON `json:"corrections,omitempty"`
}

type correctionJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (h *Handler) listTherapists(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r, search.Params...); err != nil {
		return err
	}
	q, err := h.Parser.Parse(r.URL.Query(), h.Now())
	if err != nil {
		return err
	}
	res := h.Index.Search(q)
	out := searchJSON{Total: res.Total, Page: res.Page, PerPage: res.PerPage, Sort: res.Sort,
		Results: make([]therapistJSON, 0, len(res.Hits)), Facets: map[string][]facetJSON{}}
	if q.Point != nil {
		rad := q.RadiusKm
		out.RadiusKm = &rad
		if q.Location != nil {
			out.Location = &placeJSON{Kind: q.Location.Kind, Label: q.Location.Label, Lat: q.Location.Lat, Lon: q.Location.Lon, District: q.Location.Outcode, Alternatives: q.Location.Alternatives, Corrected: q.Location.Corrected}
		} else {
			out.Location = &placeJSON{Kind: "point", Label: "the point you gave", Lat: q.Point.Lat, Lon: q.Point.Lon}
		}
	}
	for _, c := range q.Corrections {
		out.Corrections = append(out.Corrections, correctionJSON{From: c.From, To: c.To})
	}
	for _, hit := range res.Hits {
		t := h.cardJSON(hit.Card, q.Now)
		if hit.HasDistance {
			d := roundKm(hit.DistanceKm)
			t.DistanceKm = &d
		}
		if !q.Terms.Empty() {
			s := math.Round(hit.Score*1e4) / 1e4
			t.Score = &s
		}
		if q.Sort == search.SortRecommended {
			s := math.Round(hit.Rank*1e4) / 1e4
			t.RecommendedScore = &s
		}
		out.Results = append(out.Results, t)
	}
	for name, counts := range res.Facets {
		list := make([]facetJSON, 0, len(counts))
		for _, c := range counts {
			list = append(list, facetJSON{Value: c.Value, Label: h.facetLabel(name, c.Value), Count: c.Count})
		}
		out.Facets[name] = list
	}
	// Searches can say what someone is going through: keep them out of
	// shared caches.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

// facetLabel is how a facet value reads, as the search package's facet
// table says.
func (h *Handler) facetLabel(name, value string) string {
	if f, ok := search.FacetByName(name); ok {
		return f.ValueLabel(h.Tax, value)
	}
	return value
}

func roundKm(d float64) float64 { return math.Round(d*10) / 10 }

func (h *Handler) cardJSON(c *search.Card, now time.Time) therapistJSON {
	t := therapistJSON{
		ID: c.ID, Slug: c.Slug, URL: "/therapists/" + c.Slug, Name: c.Name, Headline: c.Headline,
		Approaches: nonNil(c.Approaches), Issues: nonNil(c.Issues), Formats: nonNil(c.Formats),
		ClientGroups: nonNil(c.ClientGroups), Languages: nonNil(c.Languages), SessionTimes: nonNil(c.SessionTimes),
		FeeMinGBP: float64(c.FeeMinPence) / 100, FeeMaxGBP: float64(c.FeeMaxPence) / 100,
		Concessions: c.Concessions, Availability: string(c.Availability),
		AcceptingNewClients: directory.AcceptingNow(c.Availability, c.ConfirmedAt, now),
		Locations:           locationsJSON(c.Locations, c.SessionTimes),
		Verification:        h.verificationJSON(directory.Verified, c.Membership, c.VerifiedAt, c.NextCheckDue),
	}
	t.Verification.Rechecking = c.Rechecking
	if c.Gender != "" {
		g := c.Gender
		t.Gender = &g
	}
	if !c.ConfirmedAt.IsZero() {
		at := c.ConfirmedAt.UTC()
		t.AvailabilityConfirmedAt = &at
	}
	return t
}

// locationsJSON lists the practices, each with the deprecated evenings
// and weekends flags derived from the therapist's session times.
func locationsJSON(locs []directory.Location, times []string) []locationJSON {
	evenings, weekends := slices.Contains(times, directory.TimeEvenings), directory.OffersWeekends(times)
	out := make([]locationJSON, 0, len(locs))
	for _, l := range locs {
		out = append(out, locationJSON{District: l.Outcode, Area: l.Area, Lat: l.Lat, Lon: l.Lon, Wheelchair: l.Wheelchair, Evenings: evenings, Weekends: weekends})
	}
	return out
}

func (h *Handler) verificationJSON(state directory.VerificationState, m directory.Membership, verifiedAt, due time.Time) verificationJSON {
	v := verificationJSON{Status: string(state), Body: m.Body, MembershipNumber: m.Number, Level: m.Level}
	if b, ok := h.Tax.Body(m.Body); ok {
		v.BodyName = b.Name
	}
	if !verifiedAt.IsZero() {
		v.VerifiedAt = verifiedAt.UTC().Format(time.DateOnly)
	}
	if !due.IsZero() {
		v.NextCheckDue = due.UTC().Format(time.DateOnly)
	}
	return v
}

type membershipJSON struct {
	Body             string `json:"body"`
	BodyName         string `json:"body_name"`
	MembershipNumber string `json:"membership_number"`
	Level            string `json:"level"`
	// CheckedAt is the date a verifier last found this membership on
	// the register, or null.
	CheckedAt *string `json:"checked_at"`
}

// insuranceJSON says whether professional insurance was verified and
// until when.
type insuranceJSON struct {
	Verified  bool    `json:"verified"`
	Until     *string `json:"until"`
	CheckedAt *string `json:"checked_at"`
}

type profileJSON struct {
	therapistJSON
	StatementMarkdown string           `json:"statement_markdown"`
	StatementHTML     string           `json:"statement_html"`
	Memberships       []membershipJSON `json:"memberships"`
	Insurance         insuranceJSON    `json:"insurance"`
	Contact           contactJSON      `json:"contact"`
}

// contactJSON is what the therapist chose to publish besides the enquiry
// form, exactly as the profile page shows it: each field null when not
// given. The private address enquiries go to is never in it.
type contactJSON struct {
	Website *string `json:"website"`
	Phone   *string `json:"phone"`
	Email   *string `json:"email"`
}

// optional is s, or nil (null) when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// dateJSON is a calendar date, or nil (null) for zero.
func dateJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.DateOnly)
	return &s
}

func (h *Handler) showTherapist(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r, "near"); err != nil {
		return err
	}
	now := h.Now()
	p, err := directory.PublicBySlug(r.Context(), h.Profiles, r.PathValue("slug"), now)
	if err != nil {
		return err
	}
	card := search.NewCard(p)
	out := profileJSON{therapistJSON: h.cardJSON(card, now), StatementMarkdown: p.Statement, StatementHTML: string(h.Markup.Render(p.Statement))}
	if near := r.URL.Query().Get("near"); near != "" {
		if loc, err := h.Gaz.Resolve(near); err == nil {
			if d, ok := search.NearestKm(loc.Point, p.Locations); ok {
				d = roundKm(d)
				out.DistanceKm = &d
			}
		}
	}
	for _, m := range p.Memberships {
		mj := membershipJSON{Body: m.Body, MembershipNumber: m.Number, Level: m.Level, CheckedAt: dateJSON(m.CheckedAt)}
		if b, ok := h.Tax.Body(m.Body); ok {
			mj.BodyName = b.Name
		}
		out.Memberships = append(out.Memberships, mj)
	}
	if ins := p.Insurance; ins.Checked() {
		out.Insurance = insuranceJSON{Verified: true, Until: dateJSON(ins.Until), CheckedAt: dateJSON(ins.CheckedAt)}
	}
	c := p.PublicContact
	out.Contact = contactJSON{Website: optional(c.Website), Phone: optional(c.Phone), Email: optional(c.Email)}
	writeJSON(w, r, http.StatusOK, out)
	return nil
}
