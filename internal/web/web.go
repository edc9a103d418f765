// Package web serves Confide's HTML pages: the home page, search, profiles,
// vocabularies and about. Pages are rendered on the server from
// html/template, work without JavaScript, load nothing from third parties
// and set no cookies.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Config is the site's presentation settings.
type Config struct {
	SiteName string
	// CrisisLines are shown in the footer of every page, in order.
	CrisisLines []string
	// Demo marks a site whose profiles are all fictional.
	Demo bool
}

// Searcher answers search queries; *search.Index is one.
type Searcher interface {
	Search(q search.Query) search.Result
	// Version changes whenever the indexed profiles change.
	Version() uint64
}

// Deps are what the pages need.
type Deps struct {
	Config   Config
	Log      *slog.Logger
	Parser   *search.Parser
	Index    Searcher
	Profiles directory.SlugReader
	Tax      *taxonomy.Taxonomy
	Gaz      *geo.Gazetteer
	Markup   *markup.Renderer
	Now      func() time.Time
}

// Handler serves the HTML pages.
type Handler struct {
	Deps
	pages map[string]*template.Template

	// browse caches the unfiltered search behind the home and vocabulary
	// pages until the index or the day changes.
	browseMu      sync.Mutex
	browse        search.Result
	browseVersion uint64
	browseDay     string
}

// New parses the templates and returns a handler.
func New(d Deps) (*Handler, error) {
	h := &Handler{Deps: d, pages: make(map[string]*template.Template)}
	pages, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := p[len("templates/") : len(p)-len(".html")]
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs()).ParseFS(templateFiles, "templates/layout.html", p)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", p, err)
		}
		h.pages[name] = t
	}
	return h, nil
}

// layout is the data every page shares.
type layout struct {
	Site  Config
	Title string
	// Nav is the header link to mark as current.
	Nav string
	// Description is the meta description.
	Description string
}

func (h *Handler) layout(title, nav string) layout {
	return layout{Site: h.Config, Title: title, Nav: nav}
}

// render executes a page into a buffer first, so that a template error
// becomes a clean error page rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) error {
	t, ok := h.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
	return nil
}

// handlerFunc is a page handler that returns its error; serve maps errors
// to friendly pages in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type errorPage struct {
	layout
	Status    int
	Heading   string
	Message   string
	RequestID string
}

// errPageNotFound answers any address that has no page.
var errPageNotFound = errors.New("page not found")

func (h *Handler) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		if errors.Is(err, directory.ErrNotFound) || errors.Is(err, errPageNotFound) {
			h.renderError(w, r, http.StatusNotFound, "Page not found",
				"If you typed the web address, check it is correct. If you followed a link to a therapist, they may have left the directory or be waiting for their credentials to be checked again.")
			return
		}
		id := httpx.RequestID(r.Context())
		h.Log.ErrorContext(r.Context(), "page error", "request_id", id, "path", r.URL.Path, "err", err)
		h.renderError(w, r, http.StatusInternalServerError, "Sorry, something went wrong",
			"This is a problem on our side, not yours. Please try again in a few minutes.")
	})
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	data := errorPage{layout: h.layout(heading, ""), Status: status, Heading: heading, Message: message, RequestID: httpx.RequestID(r.Context())}
	if err := h.render(w, r, status, "error", data); err != nil {
		h.Log.ErrorContext(r.Context(), "render error page", "err", err)
		http.Error(w, heading, status)
	}
}

// term is a vocabulary entry with how many public therapists offer it.
type term struct {
	Slug, Label, Description string
	Count                    int
}

// terms lists a vocabulary with counts from an unfiltered search's facets.
func (h *Handler) terms(kind taxonomy.Kind, counts []search.FacetCount) []term {
	byValue := make(map[string]int, len(counts))
	for _, c := range counts {
		byValue[c.Value] = c.Count
	}
	var out []term
	for _, t := range h.Tax.Terms(kind) {
		out = append(out, term{Slug: t.Slug, Label: t.Label, Description: t.Description, Count: byValue[t.Slug]})
	}
	return out
}
