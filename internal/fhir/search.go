package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
)

// The search parameters beyond the common ones, by resource type. Any
// other parameter is refused rather than ignored: a client that believes
// it filtered by something this server does not know would otherwise be
// shown therapists it did not ask for.
const (
	paramSpecialty      = "specialty"
	paramRolePostalCode = "location.address-postalcode"
	paramPostalCode     = "address-postalcode"
	paramCount          = "_count"
	paramPage           = "_page"
)

// searchRequest is a parsed FHIR search: its own parameters, the page
// asked for, and the values to repeat in paging links.
type searchRequest struct {
	values url.Values
	count  int
	page   int
}

// parseSearch reads the query of a search of resourceType, which takes
// the parameters its CapabilityStatement entry lists, and _format.
func parseSearch(r *http.Request, resourceType string) (searchRequest, error) {
	var allowed []string
	for _, p := range searchParams()[resourceType] {
		allowed = append(allowed, p.Name)
	}
	sr := searchRequest{values: url.Values{}, count: search.DefaultPerPage, page: 1}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vals := q[k]
		if len(vals) > 1 {
			return sr, notSupported(k, fmt.Sprintf("Give %s only once; for either of several values, separate them with commas.", k))
		}
		v := vals[0]
		switch {
		case k == "_format":
		case k == paramCount:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > search.MaxPerPage {
				return sr, invalid(k, fmt.Sprintf("_count must be a whole number from 1 to %d.", search.MaxPerPage))
			}
			sr.count = n
		case k == paramPage:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > search.MaxPage {
				return sr, invalid(k, fmt.Sprintf("_page must be a whole number from 1 to %d.", search.MaxPage))
			}
			sr.page = n
		case slices.Contains(allowed, k):
			if strings.TrimSpace(v) == "" {
				return sr, invalid(k, k+" needs a value.")
			}
			sr.values.Set(k, v)
		default:
			return sr, notSupported(k, fmt.Sprintf("Search parameter %q is not supported here; see %s/metadata for those that are.", k, Prefix))
		}
	}
	return sr, nil
}

// bundle is a searchset Bundle.
type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Total        int           `json:"total"`
	Link         []bundleLink  `json:"link"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string      `json:"fullUrl"`
	Resource any         `json:"resource"`
	Search   entrySearch `json:"search"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

// newBundle starts the answer to sr on r, which found total matches, with
// its self, first, previous and next links.
func (h *Handler) newBundle(r *http.Request, sr searchRequest, total int) *bundle {
	link := func(rel string, page int) bundleLink {
		v := url.Values{}
		for k, vals := range sr.values {
			v[k] = vals
		}
		v.Set(paramCount, strconv.Itoa(sr.count))
		v.Set(paramPage, strconv.Itoa(page))
		return bundleLink{Relation: rel, URL: h.BaseURL + r.URL.Path + "?" + v.Encode()}
	}
	b := &bundle{ResourceType: "Bundle", Type: "searchset", Total: total,
		Link: []bundleLink{link("self", sr.page), link("first", 1)}}
	if sr.page > 1 {
		b.Link = append(b.Link, link("previous", min(sr.page-1, lastPage(total, sr.count))))
	}
	if sr.page*sr.count < total && sr.page < search.MaxPage {
		b.Link = append(b.Link, link("next", sr.page+1))
	}
	return b
}

func lastPage(total, count int) int { return max(1, (total+count-1)/count) }

func (b *bundle) add(h *Handler, resourceType, id string, resource any) {
	b.Entry = append(b.Entry, bundleEntry{FullURL: h.BaseURL + Prefix + "/" + resourceType + "/" + id,
		Resource: resource, Search: entrySearch{Mode: "match"}})
}

// writeBundle sends a search answer. Searches can say what someone is
// going through: keep them out of shared caches.
func writeBundle(w http.ResponseWriter, r *http.Request, b *bundle) {
	w.Header().Set("Cache-Control", "no-store")
	write(w, r, http.StatusOK, b)
}

// pageOf is page n (1-based) of count items of all.
func pageOf[T any](all []T, count, n int) []T {
	start := (n - 1) * count
	if start >= len(all) {
		return nil
	}
	return all[start:min(start+count, len(all))]
}

// specialtySlugs turns a token search value — comma-separated codes, each
// "code", "system|code" or "|code" — into the approaches it names, by
// SNOMED CT concept or by Confide's own approach code.
func (h *Handler) specialtySlugs(value string) []string {
	var out []string
	own := h.codeSystem("approach")
	for _, tok := range strings.Split(value, ",") {
		system, code, hasSystem := strings.Cut(strings.TrimSpace(tok), "|")
		if !hasSystem {
			system, code = "", system
		}
		for _, term := range h.Tax.Approaches {
			match := (system == own || !hasSystem) && code == term.Slug
			for _, c := range term.Codes {
				match = match || ((system == c.System || !hasSystem) && code == c.Code)
			}
			if match && !slices.Contains(out, term.Slug) {
				out = append(out, term.Slug)
			}
		}
	}
	return out
}

// district reads a postal-code search value. The directory keeps no more
// than the postcode district public, so a full postcode is narrowed to
// its district, and a district matches exactly.
func (h *Handler) district(value string) (geo.District, bool) {
	outcode, _, ok := geo.SplitPostcode(value)
	if !ok {
		outcode = strings.ToUpper(strings.Join(strings.Fields(value), ""))
	}
	return h.Gaz.District(outcode)
}

// inDistrict is every card with a practice in d, found through the index
// around the district's centre (a practice's position is its district's
// centre), nearest first.
func (h *Handler) inDistrict(q search.Query, d geo.District) []*search.Card {
	pt := d.Point
	q.Point, q.RadiusKm, q.Sort, q.PerPage = &pt, search.MinRadiusKm, search.SortDistance, search.MaxPerPage
	var out []*search.Card
	for q.Page = 1; q.Page <= search.MaxPage; q.Page++ {
		res := h.Index.Search(q)
		for _, hit := range res.Hits {
			if slices.ContainsFunc(hit.Card.Locations, func(l directory.Location) bool { return l.Outcode == d.Outcode }) {
				out = append(out, hit.Card)
			}
		}
		if q.Page*q.PerPage >= res.Total {
			break
		}
	}
	return out
}

// matchingProfiles runs a therapist search — by approaches and, when
// postalCode is set, by district — and reads the page of public profiles
// sr asks for, with the number of matches.
func (h *Handler) matchingProfiles(r *http.Request, sr searchRequest, approaches []string, postalCode string) ([]*directory.Profile, int, error) {
	q := search.NewQuery(h.Now())
	q.Approaches = approaches
	var slugs []string
	total := 0
	if postalCode != "" {
		d, ok := h.district(postalCode)
		if !ok {
			return nil, 0, nil
		}
		cards := h.inDistrict(q, d)
		total = len(cards)
		for _, c := range pageOf(cards, sr.count, sr.page) {
			slugs = append(slugs, c.Slug)
		}
	} else {
		q.Page, q.PerPage = sr.page, sr.count
		res := h.Index.Search(q)
		total = res.Total
		for _, hit := range res.Hits {
			slugs = append(slugs, hit.Card.Slug)
		}
	}
	profiles, err := h.readAll(r, slugs)
	return profiles, total, err
}

// readAll reads the public profiles at slugs, leaving out any that
// stopped being public since the index was built.
func (h *Handler) readAll(r *http.Request, slugs []string) ([]*directory.Profile, error) {
	out := make([]*directory.Profile, 0, len(slugs))
	for _, s := range slugs {
		p, err := h.public(r, s)
		if errors.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (h *Handler) searchPractitioners(w http.ResponseWriter, r *http.Request) error {
	sr, err := parseSearch(r, "Practitioner")
	if err != nil {
		return err
	}
	profiles, total, err := h.matchingProfiles(r, sr, nil, "")
	if err != nil {
		return err
	}
	b := h.newBundle(r, sr, total)
	for _, p := range profiles {
		b.add(h, "Practitioner", p.Slug, h.practitioner(p))
	}
	writeBundle(w, r, b)
	return nil
}

func (h *Handler) searchRoles(w http.ResponseWriter, r *http.Request) error {
	sr, err := parseSearch(r, "PractitionerRole")
	if err != nil {
		return err
	}
	var approaches []string
	if v := sr.values.Get(paramSpecialty); v != "" {
		if approaches = h.specialtySlugs(v); len(approaches) == 0 {
			// No approach has that code: nothing matches (an empty
			// filter would match everyone).
			writeBundle(w, r, h.newBundle(r, sr, 0))
			return nil
		}
	}
	profiles, total, err := h.matchingProfiles(r, sr, approaches, sr.values.Get(paramRolePostalCode))
	if err != nil {
		return err
	}
	b := h.newBundle(r, sr, total)
	now := h.Now()
	for _, p := range profiles {
		b.add(h, "PractitionerRole", p.Slug, h.practitionerRole(p, now))
	}
	writeBundle(w, r, b)
	return nil
}

// searchLocations finds the practices in one postcode district; without
// a district there is no sensible order to list every practice in, so
// the parameter is required.
func (h *Handler) searchLocations(w http.ResponseWriter, r *http.Request) error {
	sr, err := parseSearch(r, "Location")
	if err != nil {
		return err
	}
	value := sr.values.Get(paramPostalCode)
	if value == "" {
		return &outcomeError{status: http.StatusBadRequest, code: "required", param: paramPostalCode,
			msg: "Location search needs address-postalcode (a postcode or postcode district)."}
	}
	type practice struct {
		slug string
		n    int
	}
	var all []practice
	if d, ok := h.district(value); ok {
		for _, c := range h.inDistrict(search.NewQuery(h.Now()), d) {
			for i, l := range c.Locations {
				if l.Outcode == d.Outcode {
					all = append(all, practice{c.Slug, i})
				}
			}
		}
	}
	b := h.newBundle(r, sr, len(all))
	for _, pr := range pageOf(all, sr.count, sr.page) {
		p, err := h.public(r, pr.slug)
		if errors.Is(err, errs.NotFound) || (err == nil && pr.n >= len(p.Locations)) {
			continue
		}
		if err != nil {
			return err
		}
		b.add(h, "Location", locationID(p.Slug, pr.n), h.location(p, pr.n))
	}
	writeBundle(w, r, b)
	return nil
}

func (h *Handler) searchOrganizations(w http.ResponseWriter, r *http.Request) error {
	sr, err := parseSearch(r, "Organization")
	if err != nil {
		return err
	}
	b := h.newBundle(r, sr, len(h.Tax.Bodies))
	for _, body := range pageOf(h.Tax.Bodies, sr.count, sr.page) {
		b.add(h, "Organization", body.Slug, organizationOf(body))
	}
	writeBundle(w, r, b)
	return nil
}
