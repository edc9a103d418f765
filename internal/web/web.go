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
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/importer"
	"github.com/confide-org/confide/internal/mail"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/photo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
)

//go:embed templates/*.html templates/partials/*.html
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
	// RateLimits holds the rate limits' buckets (the store).
	RateLimits RateLimits
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

	// Audit checks the audit chain for the staff page, against the anchor
	// file at AuditAnchor when there is one.
	Audit       *audit.Log
	AuditAnchor string

	// Import checks and imports register files uploaded by admins.
	Import *importer.Service

	// Photos are therapists' profile photos.
	Photos *photo.Service

	// Guided is the reviewed rule set of the "which therapy might suit
	// me?" path; nil, or a rule set past review, turns the path into a
	// note pointing to the plain search.
	Guided *guided.RuleSet
	// SuggestionCounter, when the operator turned anonymous counts on,
	// counts each suggestion the result page shows (never the answers);
	// nil otherwise.
	SuggestionCounter interface{ Suggested(approach string) }

	// Counts are the figures the header shows the signed in: unread
	// enquiries, work waiting in the staff queues.
	Counts Counts
}

// Counts is what the header and home pages of the signed in count; the
// store implements it.
type Counts interface {
	CountUnread(ctx context.Context, profileID int64) (int, error)
	CountPendingRequests(ctx context.Context) (int, error)
	CountArticles(ctx context.Context, state content.State) (int, error)
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
	if d.Sessions != nil {
		d.Sessions.ErrorFunc = h.fail
	}
	pages, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := p[len("templates/") : len(p)-len(".html")]
		if name == "layout" {
			continue
		}
		// Partials are small pieces shared by pages (templates/partials),
		// each in a file of its own so that it can change without
		// touching the pages that include it.
		t, err := template.New("layout.html").Funcs(templateFuncs()).ParseFS(templateFiles, "templates/layout.html", "templates/partials/*.html", p)
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
	// Waiting is what waits for the signed-in account, for the header.
	Waiting waiting
}

// waiting counts the work waiting for the signed-in account: enquiries
// nobody has opened yet (therapists), requests in the verification queue
// (verifiers) and articles sent for review (editors and reviewers). A
// count the account's roles do not cover stays zero.
type waiting struct {
	Unread, Verifications, Reviews int
}

// Staff is the work waiting in the staff queues in all.
func (w waiting) Staff() int { return w.Verifications + w.Reviews }

func (h *Handler) layout(r *http.Request, title, nav string) layout {
	l := layout{Site: h.Config, Title: title, Nav: nav, User: currentUser(r.Context()), Nonce: httpx.Nonce(r.Context())}
	if h.Sessions != nil && l.User != nil {
		l.Flash = h.popFlash(r.Context())
		l.Waiting = h.waitingFor(r.Context(), l.User)
	}
	return l
}

// waitingFor counts what waits for u. The header is not worth failing a
// page for: a count that cannot be read is logged and left at zero.
func (h *Handler) waitingFor(ctx context.Context, u *account.User) waiting {
	var w waiting
	if h.Counts == nil {
		return w
	}
	var err error
	if u.Has(account.Therapist) && h.Records != nil {
		p, perr := h.Records.ProfileByOwner(ctx, u.ID)
		switch {
		case perr == nil:
			w.Unread, err = h.Counts.CountUnread(ctx, p.ID)
		case !errors.Is(perr, directory.ErrNotFound):
			err = perr
		}
	}
	if err == nil && u.Has(account.Verifier) {
		w.Verifications, err = h.Counts.CountPendingRequests(ctx)
	}
	if err == nil && (u.Has(account.Editor) || u.Has(account.Reviewer)) {
		w.Reviews, err = h.Counts.CountArticles(ctx, content.InReview)
	}
	if err != nil {
		h.Log.ErrorContext(ctx, "count work waiting for the header", "err", err)
	}
	return w
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
	if bytes.Contains(buf.Bytes(), []byte(`method="post"`)) {
		// A form that posts carries a token or what someone typed (an
		// enquiry kept after an error, an email address): no cache, shared
		// or private, may keep a copy.
		w.Header().Set("Cache-Control", "no-store")
	}
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

// problem maps an error to what its page says: the one place the HTML
// surface turns an error kind into a status and words safe to show. The
// error's own text is never shown; an error without a kind is a 500. A
// handler that must word one case its own way wraps the error with
// explain, and the status still comes from the kind.
func problem(err error) (status int, heading, message string) {
	status = httpx.Status(err)
	switch errs.KindOf(err) {
	case errs.NotFound:
		heading, message = "Page not found",
			"If you typed the web address, check it is correct. If you followed a link to a therapist, they may have left the directory or be waiting for their credentials to be checked again."
	case errs.Conflict:
		heading, message = "This has already changed",
			"Someone else changed this while you were looking at it. Go back, reload the page and try again."
	case errs.Invalid:
		heading, message = "Sorry, we could not read that form",
			"Some of what was sent is not in the form we expect. Go back, check the form and try again."
	case errs.Forbidden:
		heading, message = "You do not have access to this page",
			"Your account does not have the role this page needs. If you think it should, ask an administrator."
	case errs.RateLimited:
		wait, _ := errs.RetryAfter(err)
		heading, message = "Too many attempts",
			"For your security we limit how often this can be tried from one network. Please wait "+waitText(wait)+" and try again. Nothing has been locked: tries from this network are only slowed down."
	case errs.Unavailable:
		heading, message = "Sorry, this is not available just now",
			"Part of the site cannot take requests at the moment. Nothing you sent has been lost on our side: please try again in a few minutes."
	default:
		heading, message = "Sorry, something went wrong",
			"This is a problem on our side, not yours. Please try again in a few minutes."
	}
	var ex *explained
	if errors.As(err, &ex) {
		heading, message = ex.heading, ex.message
	}
	return status, heading, message
}

// explained is an error whose page words it more particularly than its
// kind does ("Your message has not been sent").
type explained struct {
	err              error
	heading, message string
}

func (e *explained) Error() string { return e.err.Error() }

func (e *explained) Unwrap() error { return e.err }

// explain gives err its own heading and message on the error page.
func explain(err error, heading, message string) error {
	return &explained{err: err, heading: heading, message: message}
}

func (h *Handler) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.fail(w, r, err)
		}
	})
}

// fail answers a request that went wrong with the page its kind of error
// gets (a 503 with Retry-After while the database restarts, say), logging
// what is not the visitor's doing. The session middleware reports its own
// failures here too.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, heading, message := problem(err)
	if status == http.StatusInternalServerError {
		h.Log.ErrorContext(r.Context(), "page error", "request_id", httpx.RequestID(r.Context()), "path", r.URL.Path, "err", err)
	}
	httpx.SetRetryAfter(w.Header(), err)
	h.renderError(w, r, status, heading, message)
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
