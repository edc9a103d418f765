package hsds

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/search"
)

// Routes lists the HSDS routes, all public and read-only, so that the
// role-by-route test covers them too.
func (h *Handler) Routes() []string {
	return []string{
		"GET " + Prefix + "/{$}",
		"GET " + Prefix + "/services", "GET " + Prefix + "/services/{id}",
		"GET " + Prefix + "/organizations", "GET " + Prefix + "/organizations/{id}",
		"GET " + Prefix + "/locations", "GET " + Prefix + "/locations/{id}",
		"GET " + Prefix + "/service_at_locations", "GET " + Prefix + "/service_at_locations/{id}",
		"GET " + Prefix + "/taxonomies", "GET " + Prefix + "/taxonomies/{id}",
		"GET " + Prefix + "/taxonomy_terms", "GET " + Prefix + "/taxonomy_terms/{id}",
		Prefix + "/",
	}
}

// Register adds the HSDS routes to mux.
func (h *Handler) Register(mux httpx.Router) {
	handlers := map[string]handlerFunc{
		"GET " + Prefix + "/{$}":                       h.root,
		"GET " + Prefix + "/services":                  h.listServices,
		"GET " + Prefix + "/services/{id}":             h.readService,
		"GET " + Prefix + "/organizations":             h.listOrganizations,
		"GET " + Prefix + "/organizations/{id}":        h.readOrganization,
		"GET " + Prefix + "/locations":                 h.listLocations,
		"GET " + Prefix + "/locations/{id}":            h.readLocation,
		"GET " + Prefix + "/service_at_locations":      h.listServiceAtLocations,
		"GET " + Prefix + "/service_at_locations/{id}": h.readServiceAtLocation,
		"GET " + Prefix + "/taxonomies":                h.listTaxonomies,
		"GET " + Prefix + "/taxonomies/{id}":           h.readTaxonomy,
		"GET " + Prefix + "/taxonomy_terms":            h.listTerms,
		"GET " + Prefix + "/taxonomy_terms/{id}":       h.readTerm,
		// Anything else under /api/hsds/ answers in JSON.
		Prefix + "/": h.unknown,
	}
	for _, p := range h.Routes() {
		mux.Handle(p, h.serve(handlers[p]))
		if path, ok := strings.CutPrefix(p, "GET "); ok {
			mux.Handle("OPTIONS "+path, h.serve(handlers[p]))
		}
	}
}

func (h *Handler) unknown(_ http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errMethod
	}
	return fmt.Errorf("hsds path %q: %w", r.URL.Path, errs.NotFound)
}

type rootDoc struct {
	Version    string `json:"version"`
	Profile    string `json:"profile"`
	OpenAPIURL string `json:"openapi_url"`
}

func (h *Handler) root(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseParams(r); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	write(w, r, http.StatusOK, rootDoc{Version: Version, Profile: ProfileURL, OpenAPIURL: OpenAPIURL})
	return nil
}

// The query parameters, as HSDS's API reference names them. A parameter
// an endpoint does not take is refused rather than ignored: a client that
// believes it filtered would otherwise be shown what it did not ask for.
const (
	pPage        = "page"
	pPerPage     = "per_page"
	pFormat      = "format"
	pFull        = "full"
	pFullService = "full_service"
	pTermID      = "taxonomy_term_id"
	pTaxonomyID  = "taxonomy_id"
	pOrgID       = "organization_id"
	pPostcode    = "postcode"
	pParentID    = "parent_id"
	pTopOnly     = "top_only"
)

// maxPage bounds page so that page × per_page cannot overflow.
const maxPage = 1_000_000

// params is a parsed query: paging, the boolean switches and filters.
type params struct {
	page, perPage int
	full          bool
	fullService   bool
	topOnly       bool
	values        map[string]string
}

var uuidShape = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// parseParams reads r's query, which may hold page, per_page, format=json
// and those of allowed. Every problem is a field error naming the
// parameter, answered 400.
func parseParams(r *http.Request, allowed ...string) (params, error) {
	pr := params{page: 1, perPage: search.DefaultPerPage, values: map[string]string{}}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fe := errs.Fields{}
	boolean := func(k, v string) bool {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fe.Add(k, k+" must be true or false.")
		}
		return b
	}
	for _, k := range keys {
		if len(q[k]) > 1 {
			fe.Add(k, "Give "+k+" only once.")
			continue
		}
		v := strings.TrimSpace(q[k][0])
		switch {
		case k == pFormat:
			if v != "json" {
				fe.Add(k, "Only format=json is supported.")
			}
		case k == pPage || k == pPerPage:
			limit := maxPage
			if k == pPerPage {
				limit = search.MaxPerPage
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > limit {
				fe.Add(k, fmt.Sprintf("%s must be a whole number from 1 to %d.", k, limit))
				continue
			}
			if k == pPage {
				pr.page = n
			} else {
				pr.perPage = n
			}
		case !slices.Contains(allowed, k):
			fe.Add(k, fmt.Sprintf("Parameter %q is not supported by this endpoint.", k))
		case k == pFull:
			pr.full = boolean(k, v)
		case k == pFullService:
			pr.fullService = boolean(k, v)
		case k == pTopOnly:
			pr.topOnly = boolean(k, v)
		case v == "":
			fe.Add(k, k+" needs a value.")
		case (k == pTermID || k == pTaxonomyID || k == pOrgID || k == pParentID) && !uuidShape.MatchString(v):
			fe.Add(k, k+" must be a UUID.")
		default:
			pr.values[k] = strings.ToLower(v)
		}
	}
	if len(fe) > 0 {
		return pr, fe
	}
	return pr, nil
}

// page is an HSDS Page object.
type page struct {
	TotalItems int   `json:"total_items"`
	TotalPages int   `json:"total_pages"`
	PageNumber int   `json:"page_number"`
	Size       int   `json:"size"`
	FirstPage  bool  `json:"first_page"`
	LastPage   bool  `json:"last_page"`
	Empty      bool  `json:"empty"`
	Contents   []any `json:"contents"`
}

func newPage(pr params, total int, contents []any) page {
	pages := (total + pr.perPage - 1) / pr.perPage
	if contents == nil {
		contents = []any{}
	}
	return page{TotalItems: total, TotalPages: pages, PageNumber: pr.page, Size: len(contents),
		FirstPage: pr.page == 1, LastPage: pr.page >= pages, Empty: len(contents) == 0, Contents: contents}
}

// window is the part of a list of n items that page pr shows.
func window(pr params, n int) (start, end int) {
	start = min((pr.page-1)*pr.perPage, n)
	return start, min(start+pr.perPage, n)
}

// writePage sends a list. Filters can say what someone is going through:
// keep lists out of shared caches.
func writePage(w http.ResponseWriter, r *http.Request, p page) {
	w.Header().Set("Cache-Control", "no-store")
	write(w, r, http.StatusOK, p)
}

// record reads the profile behind card c and maps it; a profile that
// stopped being public since the index saw it gives errs.NotFound.
func (h *Handler) record(r *http.Request, c *search.Card) (*Record, error) {
	p, err := directory.PublicBySlug(r.Context(), h.Profiles, c.Slug, h.Now())
	if err != nil {
		return nil, err
	}
	if p.ID != c.ID {
		return nil, fmt.Errorf("slug %q now names another profile: %w", c.Slug, errs.NotFound)
	}
	return h.mapper.Record(p, h.Now()), nil
}

// matches reports whether card c passes the service filters in pr.
func (h *Handler) matches(c *search.Card, pr params) bool {
	if v, ok := pr.values[pOrgID]; ok && v != OrganizationID(c.ID) {
		return false
	}
	if v, ok := pr.values[pTaxonomyID]; ok && !slices.ContainsFunc(h.mapper.cardTerms(c), func(t *TaxonomyTerm) bool { return t.TaxonomyID == v }) {
		return false
	}
	if v, ok := pr.values[pTermID]; ok && !slices.ContainsFunc(h.mapper.cardTerms(c), func(t *TaxonomyTerm) bool { return t.ID == v || t.ParentID == v }) {
		return false
	}
	return true
}

// cardTerms are the taxonomy terms a card's service is linked to.
func (m *Mapper) cardTerms(c *search.Card) []*TaxonomyTerm {
	var out []*TaxonomyTerm
	add := func(code string) {
		if t, ok := m.byCode[code]; ok {
			out = append(out, t)
		}
	}
	for _, a := range c.Approaches {
		add(termCode("approach", a))
		for _, t := range m.tax.Approaches {
			if t.Slug == a {
				for _, code := range t.Codes {
					if code.System == snomedSystem {
						add(snomedCode(code.Code))
					}
				}
			}
		}
	}
	for _, s := range c.Issues {
		add(termCode("issue", s))
	}
	for _, s := range c.ClientGroups {
		add(termCode("client", s))
	}
	for _, s := range c.Formats {
		add(termCode("format", s))
	}
	return out
}

// listCards pages through the cards passing pr's filters, mapping each
// page's profiles with item.
func (h *Handler) listCards(w http.ResponseWriter, r *http.Request, pr params, item func(*Record) any) error {
	cat := h.catalog(h.Now())
	var cards []*search.Card
	for _, c := range cat.cards {
		if h.matches(c, pr) {
			cards = append(cards, c)
		}
	}
	start, end := window(pr, len(cards))
	var contents []any
	for _, c := range cards[start:end] {
		rec, err := h.record(r, c)
		if errors.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		contents = append(contents, item(rec))
	}
	writePage(w, r, newPage(pr, len(cards), contents))
	return nil
}

func (h *Handler) listServices(w http.ResponseWriter, r *http.Request) error {
	pr, err := parseParams(r, pFull, pTermID, pTaxonomyID, pOrgID)
	if err != nil {
		return err
	}
	return h.listCards(w, r, pr, func(rec *Record) any {
		if pr.full {
			return h.mapper.FullService(rec)
		}
		return rec.ListService()
	})
}

func (h *Handler) listOrganizations(w http.ResponseWriter, r *http.Request) error {
	pr, err := parseParams(r, pFull, pFullService)
	if err != nil {
		return err
	}
	return h.listCards(w, r, pr, func(rec *Record) any {
		if pr.full || pr.fullService {
			return h.mapper.FullOrganization(rec, pr.fullService)
		}
		o := rec.Organization
		return &o
	})
}

// byID finds the profile behind the id in r's path, in the catalogue
// table ids picks.
func (h *Handler) byID(r *http.Request, ids func(*catalog) map[string]int) (*Record, error) {
	cat := h.catalog(h.Now())
	id := strings.ToLower(r.PathValue("id"))
	i, ok := ids(cat)[id]
	if !ok {
		return nil, fmt.Errorf("hsds id %q: %w", id, errs.NotFound)
	}
	return h.record(r, cat.cards[i])
}

func (h *Handler) readService(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseParams(r); err != nil {
		return err
	}
	rec, err := h.byID(r, func(c *catalog) map[string]int { return c.service })
	if err != nil {
		return err
	}
	write(w, r, http.StatusOK, h.mapper.FullService(rec))
	return nil
}

func (h *Handler) readOrganization(w http.ResponseWriter, r *http.Request) error {
	pr, err := parseParams(r, pFullService)
	if err != nil {
		return err
	}
	rec, err := h.byID(r, func(c *catalog) map[string]int { return c.org })
	if err != nil {
		return err
	}
	write(w, r, http.StatusOK, h.mapper.FullOrganization(rec, pr.fullService))
	return nil
}

// placeRef is one location of one card.
type placeRef struct {
	card *search.Card
	n    int
}

// listPlaces pages through every location (or service at location) of
// the cards passing pr's filters, in the postcode district pr names if
// any.
func (h *Handler) listPlaces(w http.ResponseWriter, r *http.Request, pr params, item func(*Record, int) any) error {
	var district *geo.District
	if v, ok := pr.values[pPostcode]; ok {
		d, found := h.district(v)
		if !found {
			writePage(w, r, newPage(pr, 0, nil))
			return nil
		}
		district = &d
	}
	var all []placeRef
	for _, c := range h.catalog(h.Now()).cards {
		if !h.matches(c, pr) {
			continue
		}
		for n := range places(c) {
			if district != nil && (n >= len(c.Locations) || c.Locations[n].Outcode != district.Outcode) {
				continue
			}
			all = append(all, placeRef{c, n})
		}
	}
	start, end := window(pr, len(all))
	var contents []any
	for _, pl := range all[start:end] {
		rec, err := h.record(r, pl.card)
		if errors.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		n, ok := rec.placeIndex(pl.card, pl.n)
		if !ok {
			continue
		}
		contents = append(contents, item(rec, n))
	}
	writePage(w, r, newPage(pr, len(all), contents))
	return nil
}

// placeIndex turns location n of the card (as the index saw the profile)
// into the index of the same location in rec (as read now), by id.
func (rec *Record) placeIndex(c *search.Card, n int) (int, bool) {
	want := locationIDOf(c, n)
	for i, l := range rec.Locations {
		if l.ID == want {
			return i, true
		}
	}
	return 0, false
}

// district reads a postcode value: a full postcode is narrowed to its
// district, since the directory keeps no more than that public.
func (h *Handler) district(value string) (geo.District, bool) {
	outcode, _, ok := geo.SplitPostcode(value)
	if !ok {
		outcode = strings.ToUpper(strings.Join(strings.Fields(value), ""))
	}
	return h.Gaz.District(outcode)
}

func (h *Handler) listLocations(w http.ResponseWriter, r *http.Request) error {
	pr, err := parseParams(r, pPostcode, pOrgID)
	if err != nil {
		return err
	}
	return h.listPlaces(w, r, pr, func(rec *Record, n int) any { return rec.FullLocation(n) })
}

func (h *Handler) listServiceAtLocations(w http.ResponseWriter, r *http.Request) error {
	pr, err := parseParams(r, pFull, pTermID, pTaxonomyID, pOrgID, pPostcode)
	if err != nil {
		return err
	}
	return h.listPlaces(w, r, pr, func(rec *Record, n int) any {
		if pr.full {
			return rec.FullServiceAtLocation(n)
		}
		return rec.ListServiceAtLocation(n)
	})
}

// readPlace finds the record and location index behind a location or
// service-at-location id.
func (h *Handler) readPlace(r *http.Request, ids func(*catalog) map[string]place) (*Record, int, error) {
	if _, err := parseParams(r); err != nil {
		return nil, 0, err
	}
	cat := h.catalog(h.Now())
	id := strings.ToLower(r.PathValue("id"))
	pl, ok := ids(cat)[id]
	if !ok {
		return nil, 0, fmt.Errorf("hsds id %q: %w", id, errs.NotFound)
	}
	rec, err := h.record(r, cat.cards[pl.c])
	if err != nil {
		return nil, 0, err
	}
	n, ok := rec.placeIndex(cat.cards[pl.c], pl.n)
	if !ok {
		return nil, 0, fmt.Errorf("hsds id %q is gone from its profile: %w", id, errs.NotFound)
	}
	return rec, n, nil
}

func (h *Handler) readLocation(w http.ResponseWriter, r *http.Request) error {
	rec, n, err := h.readPlace(r, func(c *catalog) map[string]place { return c.loc })
	if err != nil {
		return err
	}
	write(w, r, http.StatusOK, rec.FullLocation(n))
	return nil
}

func (h *Handler) readServiceAtLocation(w http.ResponseWriter, r *http.Request) error {
	rec, n, err := h.readPlace(r, func(c *catalog) map[string]place { return c.sal })
	if err != nil {
		return err
	}
	write(w, r, http.StatusOK, rec.FullServiceAtLocation(n))
	return nil
}

func (h *Handler) listTaxonomies(w http.ResponseWriter, r *http.Request) error {
	pr, err := parseParams(r)
	if err != nil {
		return err
	}
	all := h.mapper.Taxonomies()
	start, end := window(pr, len(all))
	var contents []any
	for i := range all[start:end] {
		contents = append(contents, &all[start+i])
	}
	p := newPage(pr, len(all), contents)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	write(w, r, http.StatusOK, p)
	return nil
}

func (h *Handler) readTaxonomy(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseParams(r); err != nil {
		return err
	}
	t, ok := h.mapper.TaxonomyByID(strings.ToLower(r.PathValue("id")))
	if !ok {
		return fmt.Errorf("taxonomy %q: %w", r.PathValue("id"), errs.NotFound)
	}
	write(w, r, http.StatusOK, t)
	return nil
}

func (h *Handler) listTerms(w http.ResponseWriter, r *http.Request) error {
	pr, err := parseParams(r, pTaxonomyID, pParentID, pTopOnly)
	if err != nil {
		return err
	}
	var terms []TaxonomyTerm
	for _, t := range h.mapper.Terms() {
		if v, ok := pr.values[pTaxonomyID]; ok && t.TaxonomyID != v {
			continue
		}
		if v, ok := pr.values[pParentID]; ok && t.ParentID != v {
			continue
		}
		if pr.topOnly && t.ParentID != "" {
			continue
		}
		terms = append(terms, t)
	}
	start, end := window(pr, len(terms))
	var contents []any
	for i := range terms[start:end] {
		contents = append(contents, &terms[start+i])
	}
	p := newPage(pr, len(terms), contents)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	write(w, r, http.StatusOK, p)
	return nil
}

func (h *Handler) readTerm(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseParams(r); err != nil {
		return err
	}
	t, ok := h.mapper.Term(strings.ToLower(r.PathValue("id")))
	if !ok {
		return fmt.Errorf("taxonomy term %q: %w", r.PathValue("id"), errs.NotFound)
	}
	write(w, r, http.StatusOK, t)
	return nil
}
