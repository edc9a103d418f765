package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

type option struct {
	Param, Value, Label, InputID string
	// Count is the facet count, or -1 to show none.
	Count int
	// CountNote says what the count covers when it is not the search's
	// area: "across the UK" for remote formats near a place.
	CountNote string
	Selected  bool
}

type selectBox struct {
	ID, Name, Label string
	Options         []option
}

type filterGroup struct {
	ID, Legend, Error string
	Open              bool
	Options           []option
	Select            *selectBox
}

type link struct{ Text, URL string }

type resultCard struct {
	Name, Headline, URL string
	Verified            string
	// Rechecking says the therapist changed details a verifier checks;
	// the card shows the checked ones.
	Rechecking      bool
	Distance, Where string
	Formats, Fees   string
	Availability    string
	Fresh           bool
	// Matches are the asked issues and approaches this therapist offers,
	// said in words ("Matches: anxiety, psychodynamic therapy") so that
	// what was searched for is on the card whatever else is cut.
	Matches            []string
	Approaches, Issues cardList
}

// cardList is a card's short list: the entries matching the search first
// (Matched), then others up to the card's limit, then how many are left
// out ("+5 more").
type cardList struct {
	Matched, Others []string
	More            int
}

// Empty says there is nothing to list.
func (l cardList) Empty() bool { return len(l.Matched)+len(l.Others) == 0 }

// Card list limits: a card stays short; the profile has the rest.
const (
	cardApproaches = 3
	cardIssues     = 4
)

type noResults struct {
	Reason string
	Links  []link
}

// searchForm is the visitor's input exactly as typed, so that a page with
// errors shows it back unchanged.
type searchForm struct {
	Near, Q           string
	Lat, Lon, PerPage string
}

type searchPage struct {
	layout
	Form        searchForm
	Errors      []errorItem
	FieldError  map[string]string
	Suggestions []link
	// OnlineURL, for a place abroad, is the same search among therapists
	// who work online.
	OnlineURL string
	Location  *geo.Location
	AltURLs   []string
	Radii     []option
	Sorts     []option
	Sort      string
	// Order is the one-line "why this order" note.
	Order       string
	Summary     string
	Results     []resultCard
	Page, Pages int
	PrevURL     string
	NextURL     string
	NoResults   noResults
	// Corrections are search words taken as slips for others.
	Corrections []search.Correction
	Groups      []filterGroup
	// Active counts the filters in use, for the "Filters (3 active)"
	// disclosure that folds them on phones; FiltersOpen unfolds it (a
	// filter has an error to show).
	Active      int
	FiltersOpen bool
}

// radiusChoices are offered in miles, sent in kilometres.
var radiusChoices = []struct {
	km    string
	miles int
}{{"1.6", 1}, {"3.2", 2}, {"8", 5}, {"16", 10}, {"24", 15}, {"40", 25}, {"80", 50}, {"160", 100}}

var feeChoices = []int{30, 40, 50, 60, 70, 80, 100}

func (h *Handler) showSearch(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	if strings.TrimSpace(v.Get("near")) != "" {
		// The form carries a map point as hidden lat and lon; a town typed
		// into the box replaces it. (The API, stricter, refuses both.)
		v.Del("lat")
		v.Del("lon")
	}
	now := h.Now()
	page := searchPage{
		layout:     h.layout(r, "Find a therapist", "search"),
		Form:       searchForm{Near: v.Get("near"), Q: v.Get("q"), Lat: v.Get("lat"), Lon: v.Get("lon"), PerPage: v.Get("per_page")},
		FieldError: map[string]string{},
	}
	page.Description = "Search verified counsellors and psychotherapists by town or postcode, issue, therapy, fees and availability."
	q, err := h.Parser.Parse(v, now)
	status := http.StatusOK
	var res search.Result
	if err != nil {
		fe, ok := errs.FieldsOf(err)
		if !ok {
			return err
		}
		status = http.StatusBadRequest
		page.Title = "Error: Find a therapist"
		for _, param := range search.ParamOrder(fe) {
			page.Errors = append(page.Errors, errorItem{Field: fieldID(param), Message: fe[param]})
			page.FieldError[param] = fe[param]
		}
		for _, s := range search.SuggestionsFor(err, "near") {
			alt := cloneValues(v)
			alt.Set("near", s)
			page.Suggestions = append(page.Suggestions, link{Text: s, URL: "/search?" + alt.Encode()})
		}
		var ue *geo.UnknownLocationError
		if _, gerr := h.Gaz.Resolve(v.Get("near")); fe["near"] != "" && errors.As(gerr, &ue) && ue.Outside != "" {
			// Somewhere abroad: the same search, online, without the place.
			online := cloneValues(v)
			online.Del("near")
			online.Del("radius_km")
			online["format"] = []string{taxonomy.FormatOnline}
			page.OnlineURL = "/search?" + online.Encode()
		}
		for _, p := range []string{"lat", "lon"} {
			if page.FieldError["near"] == "" && page.FieldError[p] != "" {
				page.FieldError["near"] = page.FieldError[p]
			}
		}
	} else {
		res = h.Index.Search(q)
		page.Location = q.Location
		page.Corrections = q.Corrections
		if q.Location != nil {
			for _, a := range q.Location.Alternatives {
				alt := q.Values()
				alt.Set("near", a)
				alt.Del("page")
				page.AltURLs = append(page.AltURLs, "/search?"+alt.Encode())
			}
		}
		h.fillResults(&page, q, res, now)
	}
	page.Radii = radiusOptions(v.Get("radius_km"))
	page.Sorts = sortOptions(q, v.Get("sort"))
	page.Groups = h.filterGroups(v, res.Facets, page.FieldError, err == nil && q.Point != nil)
	for _, g := range page.Groups {
		page.FiltersOpen = page.FiltersOpen || g.Error != ""
		for _, o := range g.Options {
			if o.Selected {
				page.Active++
			}
		}
		if g.Select != nil && !g.Select.Options[0].Selected {
			page.Active++
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	return h.render(w, r, status, "search", page)
}

// errorItem is one entry of the error summary, linking to its field.
type errorItem struct{ Field, Message string }

// fieldID is the id of the input a parameter's error should link to.
func fieldID(param string) string {
	switch param {
	case "near", "q", "radius_km", "sort":
		return param
	case "max_fee":
		return "f-fees-max"
	case "lat", "lon":
		return "near"
	case "page", "per_page":
		return "results-summary"
	}
	return "f-" + param
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = slices.Clone(vals)
	}
	return out
}

func (h *Handler) fillResults(page *searchPage, q search.Query, res search.Result, now time.Time) {
	page.Sort = res.Sort
	page.Order = h.orderNote(q)
	page.Summary = h.summary(q, res.Total)
	page.Page = q.Page
	page.Pages = (res.Total + q.PerPage - 1) / q.PerPage
	pageURL := func(n int) string {
		v := q.Values()
		v.Del("page")
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		return "/search?" + v.Encode()
	}
	if q.Page > 1 {
		page.PrevURL = pageURL(min(q.Page-1, max(page.Pages, 1)))
	}
	if q.Page < page.Pages {
		page.NextURL = pageURL(q.Page + 1)
	}
	// A profile opened from here carries the search, so that "Back to
	// results" returns to exactly this page.
	from := q.Values().Encode()
	for _, hit := range res.Hits {
		rc := h.card(hit, q, now)
		rc.URL += "?" + url.Values{"from": {from}}.Encode()
		page.Results = append(page.Results, rc)
	}
	if res.Total == 0 {
		page.NoResults = h.noResults(q)
	} else if len(res.Hits) == 0 {
		page.NoResults = noResults{Reason: fmt.Sprintf("There are only %d pages of results.", page.Pages), Links: []link{{"Go to the first page", pageURL(1)}}}
	}
}

func (h *Handler) card(hit search.Hit, q search.Query, now time.Time) resultCard {
	c := hit.Card
	rc := resultCard{
		Name: c.Name, Headline: c.Headline, URL: "/therapists/" + c.Slug,
		Fees:         formatFees(c.FeeMinPence, c.FeeMaxPence, c.Concessions),
		Availability: availabilityText(c.Availability, c.ConfirmedAt, now),
		Fresh:        directory.ConfirmedRecently(c.ConfirmedAt, now),
	}
	body := c.Membership.Body
	if b, ok := h.Tax.Body(body); ok {
		body = b.Abbreviation
	}
	checked := c.Membership.CheckedAt
	if checked.IsZero() {
		checked = c.VerifiedAt
	}
	rc.Verified = fmt.Sprintf("Verified: %s, checked %s", body, formatDate(checked))
	rc.Rechecking = c.Rechecking
	if hit.HasDistance {
		rc.Distance = formatDistance(hit.DistanceKm)
	}
	rc.Where = whereText(c)
	var formats []string
	for _, f := range c.Formats {
		formats = append(formats, h.Tax.Label(taxonomy.Format, f))
	}
	rc.Formats = strings.Join(formats, ", ")
	rc.Approaches = h.cardList(taxonomy.Approach, c.Approaches, q.Approaches, cardApproaches)
	rc.Issues = h.cardList(taxonomy.Issue, c.Issues, q.Issues, cardIssues)
	for _, l := range []cardList{rc.Issues, rc.Approaches} {
		for _, m := range l.Matched {
			rc.Matches = append(rc.Matches, lowerFirst(m))
		}
	}
	return rc
}

// cardList lists the labels of have, those in asked first (all of them,
// whatever the limit), then the others up to limit entries in all.
func (h *Handler) cardList(kind taxonomy.Kind, have, asked []string, limit int) cardList {
	var l cardList
	for _, s := range have {
		if slices.Contains(asked, s) {
			l.Matched = append(l.Matched, h.Tax.Label(kind, s))
		}
	}
	for _, s := range have {
		if slices.Contains(asked, s) {
			continue
		}
		if len(l.Matched)+len(l.Others) < limit {
			l.Others = append(l.Others, h.Tax.Label(kind, s))
		} else {
			l.More++
		}
	}
	return l
}

// orderNote says in one line why the results come in their order.
func (h *Handler) orderNote(q search.Query) string {
	const ties = "ties take turns, changing daily."
	switch q.Sort {
	case search.SortDistance:
		return "Nearest first; " + ties
	case search.SortFee:
		return "Lowest fee first; " + ties
	case search.SortRelevance:
		return "Best match for your keywords first; " + ties
	case search.SortRecommended:
		var parts []string
		if len(q.Approaches) > 0 {
			parts = append(parts, "the approaches you chose")
		}
		if !q.Terms.Empty() {
			parts = append(parts, "your keywords")
		}
		if q.Point != nil {
			parts = append(parts, "distance")
		}
		parts = append(parts, "recently confirmed availability")
		return "Recommended: weighs " + joinComma(parts) + "; " + ties
	}
	return "Without a location or keywords, therapists are shown in an order that changes every day, so that nobody is always at the top."
}

// joinComma joins with commas and a final "then".
func joinComma(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + ", then " + items[len(items)-1]
}

// whereText names the practice areas, never a street: "Leeds (LS1)".
func whereText(c *search.Card) string {
	if len(c.Locations) == 0 {
		return "Works remotely only"
	}
	var areas []string
	for _, l := range c.Locations {
		areas = append(areas, fmt.Sprintf("%s (%s)", l.Area, l.Outcode))
	}
	return strings.Join(areas, "; ")
}

// summary describes the results in a sentence: "148 therapists within 10
// miles of Leeds (LS1) who work with anxiety".
func (h *Handler) summary(q search.Query, total int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", formatCount(total), plural(total, "therapist", "therapists"))
	if q.Point != nil {
		place := "the point you chose"
		if q.Location != nil {
			place = q.Location.Label
		}
		fmt.Fprintf(&b, " within %s of %s", formatRadius(q.RadiusKm), place)
		if slices.Contains(q.Formats, taxonomy.FormatOnline) || slices.Contains(q.Formats, taxonomy.FormatPhone) {
			b.WriteString(" or working remotely")
		}
	}
	if len(q.Issues) > 0 {
		var labels []string
		for _, s := range q.Issues {
			labels = append(labels, lowerFirst(h.Tax.Label(taxonomy.Issue, s)))
		}
		fmt.Fprintf(&b, " who work with %s", joinAnd(labels))
	}
	if len(q.Approaches) > 0 {
		var labels []string
		for _, s := range q.Approaches {
			labels = append(labels, lowerFirst(h.Tax.Label(taxonomy.Approach, s)))
		}
		fmt.Fprintf(&b, " offering %s", joinOr(labels))
	}
	if q.Text != "" {
		fmt.Fprintf(&b, " matching “%s”", q.Text)
	}
	return b.String()
}

// noResults explains an empty answer and offers the two relaxations that
// most often help: a wider radius and including online sessions.
func (h *Handler) noResults(q search.Query) noResults {
	nr := noResults{Reason: "No verified therapists match all of your choices."}
	if q.Text != "" {
		if alt := h.Parser.DidYouMean(q.Text); alt != "" {
			v := q.Values()
			v.Del("page")
			v.Set("q", alt)
			nr.Links = append(nr.Links, link{fmt.Sprintf("Search for “%s” instead", alt), "/search?" + v.Encode()})
		}
	}
	if q.Point != nil {
		place := "there"
		if q.Location != nil {
			place = q.Location.Label
		}
		nr.Reason = fmt.Sprintf("No verified therapists within %s of %s match all of your choices.", formatRadius(q.RadiusKm), place)
		if q.RadiusKm < search.MaxRadiusKm {
			wider := min(search.MaxRadiusKm, q.RadiusKm*2.5)
			v := q.Values()
			v.Del("page")
			v.Set("radius_km", strconv.FormatFloat(wider, 'f', -1, 64))
			nr.Links = append(nr.Links, link{"Search within " + formatRadius(wider) + " instead", "/search?" + v.Encode()})
		}
		if !slices.Contains(q.Formats, taxonomy.FormatOnline) {
			v := q.Values()
			v.Del("page")
			if len(q.Formats) == 0 {
				v.Add("format", taxonomy.FormatInPerson)
			}
			v.Add("format", taxonomy.FormatOnline)
			nr.Links = append(nr.Links, link{"Include therapists who work online", "/search?" + v.Encode()})
		}
	}
	if q.Text != "" {
		v := q.Values()
		v.Del("q")
		v.Del("page")
		v.Del("sort")
		nr.Links = append(nr.Links, link{"Search without the keywords “" + q.Text + "”", "/search?" + v.Encode()})
	}
	if len(nr.Links) < 2 && (facetFiltered(q) || q.Accepting || q.Concessions || q.Wheelchair || q.MaxFeePence >= 0) {
		v := url.Values{}
		if q.Near != "" {
			v.Set("near", q.Near)
		}
		nr.Links = append(nr.Links, link{"Clear all filters", "/search?" + v.Encode()})
	}
	return nr
}

// facetFiltered reports whether q filters on any facet but the format
// (which the no-results advice widens on its own).
func facetFiltered(q search.Query) bool {
	for _, f := range search.Facets() {
		if f.Name != search.FacetFormat && len(f.Selected(&q)) > 0 {
			return true
		}
	}
	return false
}

func radiusOptions(current string) []option {
	var out []option
	found := false
	for _, c := range radiusChoices {
		sel := current == c.km || (current == "" && c.km == "16")
		found = found || sel
		label := fmt.Sprintf("Within %d miles", c.miles)
		if c.miles == 1 {
			label = "Within 1 mile"
		}
		out = append(out, option{Value: c.km, Label: label, Selected: sel})
	}
	if !found {
		out = append(out, option{Value: current, Label: "Within " + current + " km", Selected: true})
	}
	return out
}

// sortOptions lists the orders a visitor may choose. The first is the
// default: recommended with a place or keywords, otherwise the day's
// rotation (with recommended offered as well).
func sortOptions(q search.Query, current string) []option {
	def := search.SortRotation
	if q.Point != nil || !q.Terms.Empty() {
		def = search.SortRecommended
	}
	if current == def {
		current = ""
	}
	out := []option{{Value: "", Label: "Recommended", Selected: current == ""}}
	if def == search.SortRotation {
		out[0].Label = "Changes every day"
		out = append(out, option{Value: search.SortRecommended, Label: "Recommended", Selected: current == search.SortRecommended})
	}
	if q.Point != nil || current == search.SortDistance {
		out = append(out, option{Value: search.SortDistance, Label: "Nearest first", Selected: current == search.SortDistance})
	}
	if !q.Terms.Empty() || current == search.SortRelevance {
		out = append(out, option{Value: search.SortRelevance, Label: "Best match for keywords", Selected: current == search.SortRelevance})
	}
	out = append(out, option{Value: search.SortFee, Label: "Lowest fee first", Selected: current == search.SortFee})
	return out
}

// filterGroups builds the filter form: every group in a fixed order, each
// option with its facet count. Options nobody offers are left out unless
// selected, so the lists stay short.
//
// Near a place, the online and phone counts are national (a remote
// therapist is in range wherever they live), so those counts say "across
// the UK" (local).
func (h *Handler) filterGroups(v url.Values, facets map[string][]search.FacetCount, fieldErr map[string]string, local bool) []filterGroup {
	counts := func(facet string) map[string]int {
		m := map[string]int{}
		for _, c := range facets[facet] {
			m[c.Value] = c.Count
		}
		return m
	}
	// Every facet of the search package's table is one group: one with a
	// list of values (a vocabulary or fixed choices) shows them in their
	// order, leaving out those nobody offers unless selected; one whose
	// values come from the profiles (languages, genders) shows those the
	// counts give. Vocabularies come before the fees, the rest after.
	group := func(f search.Facet) filterGroup {
		sel, cnt := map[string]bool{}, counts(f.Name)
		for _, s := range v[f.Name] {
			sel[f.Key(s)] = true
		}
		g := filterGroup{ID: "f-" + f.Name, Legend: f.Label, Error: fieldErr[f.Name]}
		mk := func(value string, n int) option {
			o := option{Param: f.Name, Value: value, Label: f.ValueLabel(h.Tax, value), InputID: "f-" + f.Name + "-" + value, Count: n, Selected: sel[value]}
			if local && n >= 0 && f.Name == search.FacetFormat && (value == taxonomy.FormatOnline || value == taxonomy.FormatPhone) {
				o.CountNote = "across the UK"
			}
			return o
		}
		switch f.Source {
		case search.FromTaxonomy, search.FromChoices:
			for _, value := range f.Enum(h.Tax) {
				n, has := cnt[value]
				if facets == nil {
					n = -1
				}
				if facets != nil && !has && !sel[value] {
					continue
				}
				g.Options = append(g.Options, mk(value, n))
				g.Open = g.Open || sel[value]
			}
		default:
			for _, c := range facets[f.Name] {
				g.Options = append(g.Options, mk(c.Value, c.Count))
			}
			if f.Source == search.FromLanguages {
				slices.SortStableFunc(g.Options, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
			}
			g.Open = len(sel) > 0
		}
		g.Open = g.Open || g.Error != "" || f.FormOpen
		return g
	}
	var groups, later []filterGroup
	for _, f := range search.Facets() {
		if f.Source == search.FromTaxonomy {
			groups = append(groups, group(f))
		} else {
			later = append(later, group(f))
		}
	}

	fees := filterGroup{ID: "f-fees", Legend: "Fees", Error: fieldErr["max_fee"]}
	maxFee := strings.TrimPrefix(strings.TrimSpace(v.Get("max_fee")), "£")
	box := &selectBox{ID: "f-fees-max", Name: "max_fee", Label: "Most you can pay a session"}
	box.Options = append(box.Options, option{Value: "", Label: "Any amount", Selected: maxFee == ""})
	found := maxFee == ""
	for _, f := range feeChoices {
		s := strconv.Itoa(f)
		box.Options = append(box.Options, option{Value: s, Label: "£" + s, Selected: maxFee == s})
		found = found || maxFee == s
	}
	if !found {
		box.Options = append(box.Options, option{Value: maxFee, Label: maxFee, Selected: true})
	}
	fees.Select = box
	fees.Options = []option{boolOption(v, "concessions", "Offers concessions or low-cost places", fees.ID)}
	fees.Open = maxFee != "" || fees.Options[0].Selected || fees.Error != ""
	groups = append(groups, fees)

	groups = append(groups, later...)

	avail := filterGroup{ID: "f-accepting", Legend: "Availability", Error: fieldErr["accepting"],
		Options: []option{boolOption(v, "accepting", "Accepting new clients (confirmed in the last 30 days)", "f-accepting")}}
	avail.Open = avail.Options[0].Selected || avail.Error != ""
	access := filterGroup{ID: "f-wheelchair", Legend: "Access", Error: fieldErr["wheelchair"],
		Options: []option{boolOption(v, "wheelchair", "Wheelchair-accessible practice", "f-wheelchair")}}
	access.Open = access.Options[0].Selected || access.Error != ""
	return append(groups, avail, access)
}

func boolOption(v url.Values, param, label, group string) option {
	s := strings.ToLower(v.Get(param))
	return option{Param: param, Value: "true", Label: label, InputID: group + "-" + param, Count: -1,
		Selected: s == "true" || s == "1" || s == "yes" || s == "on"}
}

// lowerFirst lower-cases a label's first letter for use mid-sentence,
// unless it starts an abbreviation: "Anxiety" → "anxiety", "ADHD" stays.
func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) > 1 && unicode.IsUpper(r[0]) && unicode.IsLower(r[1]) {
		r[0] = unicode.ToLower(r[0])
	}
	return string(r)
}
