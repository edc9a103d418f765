package search

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Sort orders.
const (
	SortDistance  = "distance"
	SortRelevance = "relevance"
	SortFee       = "fee"
	// SortRecommended is the default with text or a location: match
	// quality, text relevance, distance and fresh availability together
	// (see RecWeightMatch), ties in the day's rotation.
	SortRecommended = "recommended"
	// SortRotation is the default without text or a location: a shuffle
	// seeded by the date, so no therapist sits on top for ever.
	SortRotation = "rotation"
)

// Query limits and defaults.
const (
	DefaultRadiusKm = 16.0
	MinRadiusKm     = 1.0
	MaxRadiusKm     = 200.0
	DefaultPerPage  = 20
	MaxPerPage      = 100
	MaxPage         = 1000
	MaxTextLen      = 200
	MaxFeeGBP       = 10000
	maxValues       = 50 // repeated values of one parameter
)

// Query is a parsed search. The zero value (plus Now) searches everything.
type Query struct {
	// Near is the place text as typed; Location is what it resolved to.
	Near     string
	Location *geo.Location
	// Point is the search centre, from Near or from lat and lon; nil when
	// the search is not local.
	Point    *geo.Point
	RadiusKm float64

	Formats    []string
	Approaches []string
	Issues     []string
	Clients    []string
	Languages  []string
	Genders    []string
	// Times are session times (directory.TimeEvenings, …): any of them.
	Times []string

	// MaxFeePence is the highest acceptable minimum fee; -1 when unset.
	MaxFeePence int
	Concessions bool
	Accepting   bool
	Wheelchair  bool

	Text  string
	Terms QueryTerms
	// Corrections are the words of Text searched for as others ("anxeity"
	// as anxiety), for the page to say so.
	Corrections []Correction

	Sort    string
	Page    int
	PerPage int

	// Now is the moment the search is made, which decides which profiles
	// are current, which availability is fresh and the day's rotation.
	Now time.Time
}

// NewQuery returns a query with every default set.
func NewQuery(now time.Time) Query {
	return Query{RadiusKm: DefaultRadiusKm, MaxFeePence: -1, Page: 1, PerPage: DefaultPerPage, Sort: SortRotation, Now: now}
}

// QueryError is every problem with one search's parameters: the one
// field-error shape, keyed by parameter name, and for a value we did not
// recognise, up to three values the visitor may have meant. It is of kind
// Invalid, so errs.FieldsOf finds its Params.
type QueryError struct {
	Params      errs.Fields
	Suggestions map[string][]string
}

// Error names the parameters at fault, never what was typed: searches can
// say what someone is going through.
func (e *QueryError) Error() string {
	return "invalid search: " + strings.Join(ParamOrder(e.Params), ", ")
}

// Unwrap exposes the field problems to errs.FieldsOf and errs.KindOf.
func (e *QueryError) Unwrap() error { return e.Params }

// ParamOrder lists the parameters at fault in f in the order Params lists
// them (any others after, sorted), so that the problem the API reports
// first, and the order of the search page's summary, are stable.
func ParamOrder(f errs.Fields) []string {
	names := f.Names()
	rank := func(p string) int {
		if i := slices.Index(Params, p); i >= 0 {
			return i
		}
		return len(Params)
	}
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	return names
}

// SuggestionsFor returns what the visitor may have meant by param, from
// an error Parse returned; never nil, so the API always sends a list.
func SuggestionsFor(err error, param string) []string {
	var qe *QueryError
	if errors.As(err, &qe) && qe.Suggestions[param] != nil {
		return qe.Suggestions[param]
	}
	return []string{}
}

// Parser reads search parameters. The JSON API and the HTML search page
// share it, so both accept and refuse exactly the same input.
type Parser struct {
	Tax      *taxonomy.Taxonomy
	Gaz      *geo.Gazetteer
	Analyzer *Analyzer
	// Genders, when set, lists the genders therapists give (the index
	// does): any other gender filter is refused with the list, rather
	// than silently finding nobody. Nil accepts any well-formed word.
	Genders interface{ GenderKeys() []string }
	// Vocabulary, when set, lets the parser correct a search word the
	// index does not know to the vocabulary word it is a slip of
	// (spell.go). Nil searches words as typed.
	Vocabulary Vocabulary
}

// BaseGenders are accepted as gender filters even while no listed
// therapist gives them, so that a link to the commonest choices never
// breaks.
var BaseGenders = []string{"woman", "man", "non-binary"}

// Params lists every parameter the parser reads, in the order errors are
// reported.
var Params = slices.Concat([]string{"near", "lat", "lon", "radius_km"}, FacetNames(),
	[]string{"max_fee", "concessions", "accepting", "wheelchair", "q", "sort", "page", "per_page"})

var (
	decimalRe = regexp.MustCompile(`^-?[0-9]{1,6}(\.[0-9]{1,8})?$`)
	moneyRe   = regexp.MustCompile(`^£?[0-9]{1,5}(\.[0-9]{1,2})?$`)
	intRe     = regexp.MustCompile(`^[0-9]{1,9}$`)
	genderRe  = regexp.MustCompile(`^[a-z][a-z-]{0,49}$`)
)

// Parse reads a query from URL parameters. Empty values count as absent
// (an HTML form sends "near=" when the box is blank); unknown parameters
// are ignored. Every problem is collected into a *QueryError.
func (p *Parser) Parse(v url.Values, now time.Time) (Query, error) {
	q := NewQuery(now)
	bad := &QueryError{Params: errs.Fields{}, Suggestions: map[string][]string{}}
	failed := func(param string) bool { _, ok := bad.Params[param]; return ok }
	fail := func(param, msg string, suggestions ...string) {
		if !failed(param) {
			bad.Params[param] = msg
			if len(suggestions) > 0 {
				bad.Suggestions[param] = suggestions
			}
		}
	}
	single := func(name string) string {
		vals := nonEmpty(v[name])
		if len(vals) > 1 {
			fail(name, fmt.Sprintf("Give %s only once", name))
		}
		if len(vals) == 0 {
			return ""
		}
		return vals[0]
	}

	near := single("near")
	lat, lon := single("lat"), single("lon")
	if near != "" {
		if !utf8.ValidString(near) {
			fail("near", "Town or postcode contains characters we cannot read")
		} else if utf8.RuneCountInString(near) > 100 {
			fail("near", "Enter a town or postcode of up to 100 characters")
		} else if lat != "" || lon != "" {
			fail("near", "Give either a town or postcode, or lat and lon, not both")
		} else if loc, err := p.Gaz.Resolve(near); err != nil {
			var ue *geo.UnknownLocationError
			switch {
			case errors.As(err, &ue) && ue.Outside != "":
				fail("near", fmt.Sprintf("This directory lists therapists in the UK, and %s is outside it. Many of them work online: leave the place blank and choose Online", ue.Outside))
			case errors.As(err, &ue):
				fail("near", fmt.Sprintf("We could not find %q. Check the spelling, or try a postcode", near), ue.Suggestions...)
			default:
				fail("near", "We could not understand that place")
			}
		} else {
			q.Near = near
			q.Location = &loc
			pt := loc.Point
			q.Point = &pt
		}
	} else if lat != "" || lon != "" {
		la, okLat := parseDecimal(lat, -90, 90)
		lo, okLon := parseDecimal(lon, -180, 180)
		switch {
		case lat == "":
			fail("lat", "Give lat together with lon")
		case lon == "":
			fail("lon", "Give lon together with lat")
		case !okLat:
			fail("lat", "lat must be a number of degrees from -90 to 90")
		case !okLon:
			fail("lon", "lon must be a number of degrees from -180 to 180")
		default:
			q.Point = &geo.Point{Lat: la, Lon: lo}
		}
	}
	if s := single("radius_km"); s != "" {
		r, ok := parseDecimal(s, MinRadiusKm, MaxRadiusKm)
		if !ok {
			fail("radius_km", fmt.Sprintf("Distance must be a number of kilometres from %g to %g", MinRadiusKm, MaxRadiusKm))
		} else {
			q.RadiusKm = r
		}
	} else if q.Location != nil && q.Location.SpanKm > q.RadiusKm {
		// A county is searched across, not around its middle.
		q.RadiusKm = min(q.Location.SpanKm, MaxRadiusKm)
	}

	for i := range facetTable {
		f := &facetTable[i]
		*f.query(&q) = p.parseFacet(f, v, fail)
	}

	if s := single("max_fee"); s != "" {
		if !moneyRe.MatchString(s) {
			fail("max_fee", "Maximum fee must be an amount in pounds, such as 60")
		} else {
			f, _ := strconv.ParseFloat(strings.TrimPrefix(s, "£"), 64)
			if f > MaxFeeGBP {
				fail("max_fee", fmt.Sprintf("Maximum fee must be £%d or less", MaxFeeGBP))
			} else {
				q.MaxFeePence = int(math.Round(f * 100))
			}
		}
	}
	q.Concessions = parseBool(single("concessions"), "concessions", fail)
	q.Accepting = parseBool(single("accepting"), "accepting", fail)
	q.Wheelchair = parseBool(single("wheelchair"), "wheelchair", fail)

	if s := single("q"); s != "" {
		if !utf8.ValidString(s) {
			fail("q", "Search words contain characters we cannot read")
		} else if utf8.RuneCountInString(s) > MaxTextLen {
			fail("q", fmt.Sprintf("Search words must be %d characters or fewer", MaxTextLen))
		} else {
			q.Text = s
			q.Terms, q.Corrections = p.spell(s, p.Analyzer.ParseQueryTerms(s))
		}
	}

	switch s := single("sort"); s {
	case "":
		q.Sort = q.defaultSort()
	case SortRecommended:
		q.Sort = s
	case SortDistance:
		if q.Point == nil && !failed("near") && !failed("lat") && !failed("lon") {
			fail("sort", "Sorting by distance needs a town or postcode (near) or lat and lon")
		}
		q.Sort = s
	case SortRelevance:
		if q.Terms.Empty() && !failed("q") {
			fail("sort", "Sorting by relevance needs search words (q)")
		}
		q.Sort = s
	case SortFee:
		q.Sort = s
	default:
		fail("sort", "Sort must be recommended, distance, relevance or fee", closestOf(s, SortRecommended, SortDistance, SortRelevance, SortFee)...)
	}

	if s := single("page"); s != "" {
		if n, ok := parseInt(s, 1, MaxPage); ok {
			q.Page = n
		} else {
			fail("page", fmt.Sprintf("Page must be a whole number from 1 to %d", MaxPage))
		}
	}
	if s := single("per_page"); s != "" {
		if n, ok := parseInt(s, 1, MaxPerPage); ok {
			q.PerPage = n
		} else {
			fail("per_page", fmt.Sprintf("Results per page must be a whole number from 1 to %d", MaxPerPage))
		}
	}
	if len(bad.Params) > 0 {
		return q, bad
	}
	return q, nil
}

func limit(v url.Values, param string, fail func(string, string, ...string)) []string {
	vals := nonEmpty(v[param])
	if len(vals) > maxValues {
		fail(param, fmt.Sprintf("Choose at most %d values of %s", maxValues, param))
		return nil
	}
	return vals
}

func nonEmpty(vals []string) []string {
	var out []string
	for _, s := range vals {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// GenderKey folds a self-described gender into the key search filters on:
// lower case, words joined by hyphens ("Non binary" → "non-binary").
func GenderKey(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == '-' || r == '_' }), "-")
}

func parseDecimal(s string, lo, hi float64) (float64, bool) {
	if !decimalRe.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < lo || f > hi {
		return 0, false
	}
	return f, true
}

func parseInt(s string, lo, hi int) (int, bool) {
	if !intRe.MatchString(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

func parseBool(s, param string, fail func(string, string, ...string)) bool {
	switch strings.ToLower(s) {
	case "", "false", "0", "no", "off":
		return false
	case "true", "1", "yes", "on":
		return true
	}
	fail(param, param+" must be true or false")
	return false
}

func closestOf(s string, options ...string) []string {
	var out []string
	for _, o := range options {
		if strings.HasPrefix(o, strings.ToLower(s)) && s != "" {
			out = append(out, o)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// Values writes the query back as URL parameters, for links such as
// "next page" or "widen the radius". Defaults are left out.
func (q Query) Values() url.Values {
	v := url.Values{}
	if q.Near != "" {
		v.Set("near", q.Near)
	} else if q.Point != nil {
		v.Set("lat", strconv.FormatFloat(q.Point.Lat, 'f', -1, 64))
		v.Set("lon", strconv.FormatFloat(q.Point.Lon, 'f', -1, 64))
	}
	if q.RadiusKm != DefaultRadiusKm {
		v.Set("radius_km", strconv.FormatFloat(q.RadiusKm, 'f', -1, 64))
	}
	for _, f := range facetTable {
		for _, s := range f.Selected(&q) {
			v.Add(f.Name, s)
		}
	}
	if q.MaxFeePence >= 0 {
		v.Set("max_fee", strconv.FormatFloat(float64(q.MaxFeePence)/100, 'f', -1, 64))
	}
	for _, kv := range []struct {
		name string
		on   bool
	}{{"concessions", q.Concessions}, {"accepting", q.Accepting}, {"wheelchair", q.Wheelchair}} {
		if kv.on {
			v.Set(kv.name, "true")
		}
	}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if q.Sort != "" && q.Sort != q.defaultSort() {
		v.Set("sort", q.Sort)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.PerPage != DefaultPerPage && q.PerPage > 0 {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	return v
}

// defaultSort is the order when none is asked for: recommended when the
// person gave words or a place, otherwise the day's rotation (with
// nothing to match or measure, every profile is an equal tie).
func (q Query) defaultSort() string {
	if !q.Terms.Empty() || q.Point != nil {
		return SortRecommended
	}
	return SortRotation
}
