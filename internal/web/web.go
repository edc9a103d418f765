// Package web serves Confide's HTML pages: the home page, search, profiles,
// vocabularies and about. Pages are rendered on the server from
// html/template, work without JavaScript, load nothing from third parties
// and set no cookies.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/mail"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
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
	// BaseURL is the public address of the site, without a trailing slash.
	BaseURL string
	// TrustProxy takes the client address from X-Forwarded-For.
	TrustProxy bool
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

	// Accounts, sessions and verification. A Handler built without them
	// serves only the public pages.
	Accounts  *account.Service
	Sessions  *scs.SessionManager
	Directory *directory.Service
	Verify    *verify.Service
	Records   Records
	// Mailbox, in demo mode, shows the emails the site has sent.
	Mailbox Mailbox

	// The information hub.
	Content       ContentReader
	Editorial     *content.Service
	ArticleMarkup *markup.Renderer
	ProfileList   ProfileLister

	// Enquiries.
	Enquiries *enquiry.Service
	Outbox    EnquiryDeps
}

// Records is what the signed-in pages read from the store.
type Records interface {
	ProfileByOwner(ctx context.Context, userID int64) (*directory.Profile, error)
	ProfileByID(ctx context.Context, id int64) (*directory.Profile, error)
	LatestRequest(ctx context.Context, profileID int64) (*verify.Request, error)
	Requests(ctx context.Context, status verify.Status, limit int) ([]verify.Request, error)
	RequestByID(ctx context.Context, id int64) (*verify.Request, error)
	RecentAudit(ctx context.Context, limit int) ([]audit.Entry, error)
	audit.Store
}

// Mailbox lists caught emails (demo mode only).
type Mailbox interface {
	Messages() []mail.Message
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

	limits *limits
}

// New parses the templates and returns a handler.
func New(d Deps) (*Handler, error) {
	h := &Handler{Deps: d, pages: make(map[string]*template.Template), limits: newLimits()}
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
	// User is the signed-in account, or nil.
	User *account.User
	// Nonce allows the page's own inline script under the CSP.
	Nonce string
	// Flash is a one-off confirmation ("Profile saved").
	Flash string
	// Nav is the header link to mark as current.
	Nav string
	// Description is the meta description.
	Description string
}

func (h *Handler) layout(r *http.Request, title, nav string) layout {
	l := layout{Site: h.Config, Title: title, Nav: nav, User: currentUser(r.Context()), Nonce: httpx.Nonce(r.Context())}
	if h.Sessions != nil && l.User != nil {
		l.Flash = h.popFlash(r.Context())
	}
	return l
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
		var tooMany *tooManyError
		switch {
		case errors.As(err, &tooMany):
			w.Header().Set("Retry-After", tooMany.seconds())
			h.renderError(w, r, http.StatusTooManyRequests, "Too many attempts",
				"For your security we limit how often this can be tried. Please wait "+waitText(tooMany.retryAfter)+" and try again. Your account has not been locked.")
			return
		case errors.Is(err, errForbidden) || errors.Is(err, account.ErrForbidden):
			h.renderError(w, r, http.StatusForbidden, "You do not have access to this page",
				"Your account does not have the role this page needs. If you think it should, ask an administrator.")
			return
		case errors.Is(err, directory.ErrConflict) || errors.Is(err, errConflictState):
			h.renderError(w, r, http.StatusConflict, "This has already changed",
				"Someone else changed this while you were looking at it. Go back, reload the page and try again.")
			return
		case errors.Is(err, errBadForm):
			h.renderError(w, r, http.StatusBadRequest, "Sorry, we could not read that form",
				"Some of what was sent is not in the form we expect. Go back, check the form and try again.")
			return
		}
		if errors.Is(err, directory.ErrNotFound) || errors.Is(err, errPageNotFound) || errors.Is(err, account.ErrNotFound) || errors.Is(err, enquiry.ErrNotFound) {
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
	data := errorPage{layout: h.layout(r, heading, ""), Status: status, Heading: heading, Message: message, RequestID: httpx.RequestID(r.Context())}
	if err := h.render(w, r, status, "error", data); err != nil {
		h.Log.ErrorContext(r.Context(), "render error page", "err", err)
		http.Error(w, heading, status)
	}
}

// term is a vocabulary entry with how many public therapists offer it.
type term struct {
	Slug, Label, Description string
	Count                    int
	// ArticleURL and ArticleTitle link to the term's article, if any.
	ArticleURL, ArticleTitle string
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

// errBadForm is a request body that cannot be parsed as a form.
var errBadForm = errors.New("malformed form")

func waitText(d time.Duration) string {
	if d < time.Minute {
		return "a minute"
	}
	m := int(d.Round(time.Minute) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
