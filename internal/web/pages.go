package web

import (
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

type homePage struct {
	layout
	Total      int
	Issues     []term
	Approaches []term
}

// everything is the unfiltered search whose facets give the counts shown
// when browsing. It is cached: the home page must not cost a full facet
// count on every visit.
func (h *Handler) everything() search.Result {
	now := h.Now()
	day := now.UTC().Format(time.DateOnly)
	h.browseMu.Lock()
	defer h.browseMu.Unlock()
	if v := h.Index.Version(); v != h.browseVersion || day != h.browseDay || h.browse.Facets == nil {
		q := search.NewQuery(now)
		q.PerPage = 1
		h.browse, h.browseVersion, h.browseDay = h.Index.Search(q), v, day
	}
	return h.browse
}

func (h *Handler) showHome(w http.ResponseWriter, r *http.Request) error {
	res := h.everything()
	page := homePage{layout: h.layout(r, "Find a verified counsellor or psychotherapist", ""), Total: res.Total,
		Issues:     h.terms(taxonomy.Issue, res.Facets[search.FacetIssue]),
		Approaches: h.terms(taxonomy.Approach, res.Facets[search.FacetApproach])}
	page.Description = "Find a counsellor or psychotherapist whose professional membership has been checked, near you or online."
	return h.render(w, r, http.StatusOK, "home", page)
}

type termsPage struct {
	layout
	Heading, Intro, Param string
	// Find is the start of each term's "find a therapist" link ("Find a
	// therapist who offers"), the heading linking to the term's article.
	Find  string
	Terms []term
}

// withArticles links each term to its article, where one is published.
func (h *Handler) withArticles(r *http.Request, kind content.Kind, terms []term) ([]term, error) {
	links, err := h.publicArticles(r.Context(), kind)
	if err != nil {
		return nil, err
	}
	for i := range terms {
		if l, ok := links[terms[i].Slug]; ok {
			terms[i].ArticleURL, terms[i].ArticleTitle = l.URL, l.Title
		}
	}
	return terms, nil
}

func (h *Handler) listTherapies(w http.ResponseWriter, r *http.Request) error {
	res := h.everything()
	page := termsPage{layout: h.layout(r, "Types of therapy", "therapies"), Heading: "Types of therapy",
		Intro: "The main approaches to counselling and psychotherapy, and how many verified therapists offer each.",
		Param: "/search?approach=", Find: "Find a therapist who offers", Terms: h.terms(taxonomy.Approach, res.Facets[search.FacetApproach])}
	var err error
	if page.Terms, err = h.withArticles(r, content.KindTherapy, page.Terms); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "terms", page)
}

func (h *Handler) listIssues(w http.ResponseWriter, r *http.Request) error {
	res := h.everything()
	page := termsPage{layout: h.layout(r, "What therapy can help with", "issues"), Heading: "What therapy can help with",
		Intro: "Issues people bring to therapy, and how many verified therapists work with each.",
		Param: "/search?issue=", Find: "Find a therapist who works with", Terms: h.terms(taxonomy.Issue, res.Facets[search.FacetIssue])}
	var err error
	if page.Terms, err = h.withArticles(r, content.KindIssue, page.Terms); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "terms", page)
}

type aboutPage struct {
	layout
	Bodies          []taxonomy.Body
	TaxonomyVersion string
}

func (h *Handler) showAbout(w http.ResponseWriter, r *http.Request) error {
	page := aboutPage{layout: h.layout(r, "About", "about"), Bodies: h.Tax.Bodies, TaxonomyVersion: h.Tax.Version}
	return h.render(w, r, http.StatusOK, "about", page)
}

func (h *Handler) showNotFound(w http.ResponseWriter, r *http.Request) error {
	return errs.NotFound
}

// staticHandler serves the embedded stylesheet and any other assets with a
// day's caching.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}
