package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/verify"
)

// The personas of the role-by-route test.
const (
	anon       = "anonymous"
	therapistA = "therapistA"
	therapistB = "therapistB"
	verifierP  = "verifier"
	editorP    = "editor"
	reviewerP  = "reviewer"
	adminP     = "admin"
)

var personas = []string{anon, therapistA, therapistB, verifierP, editorP, reviewerP, adminP}

var (
	everyone   = personas
	therapists = []string{therapistA, therapistB}
	signedInP  = []string{therapistA, therapistB, verifierP, editorP, reviewerP, adminP}
	staffP     = []string{verifierP, editorP, reviewerP, adminP}
	verifiers  = []string{verifierP}
	moderators = []string{verifierP, adminP}
	admins     = []string{adminP}
	editors    = []string{editorP}
)

func everyOf(ps ...string) []string { return ps }

// allowedBy is who may use each route. Every route the site serves must
// be listed here: a new route without an entry fails the test, so access
// is decided on purpose, never by accident.
var allowedBy = map[string][]string{
	"GET /{$}":                   everyone,
	"GET /search":                everyone,
	"GET /therapists/{slug}":     everyone,
	"GET /therapies":             everyone,
	"GET /issues":                everyone,
	"GET /about":                 everyone,
	"GET /find/guided":           everyone,
	"POST /find/guided":          everyone,
	"GET /find/guided/help":      everyone,
	"GET /find/guided/how":       everyone,
	"GET /maps/districts/{file}": everyone,
	"GET /demo/mailbox":          everyone, // only in demo and mail-catcher mode

	"POST /therapists/{slug}/enquiries":      everyone,
	"GET /enquiries/sent":                    everyone,
	"GET /enquiries/erase":                   everyone,
	"POST /enquiries/erase":                  everyone,
	"GET /dashboard/enquiries":               therapists,
	"GET /dashboard/enquiries/{id}":          therapists,
	"POST /dashboard/enquiries/{id}/replied": therapists,
	"POST /dashboard/enquiries/{id}/archive": therapists,
	"GET /dashboard/export":                  therapists,
	"GET /admin/outbox":                      admins,

	"GET /therapies/{slug}": everyone,
	"GET /issues/{slug}":    everyone,
	"GET /guides":           everyone,
	"GET /guides/{slug}":    everyone,
	"GET /panel":            everyone,
	"GET /sitemap.xml":      everyone,
	"GET /feed.atom":        everyone,
	"GET /robots.txt":       everyone,

	"GET /staff/articles":               everyOf(editorP, reviewerP),
	"GET /staff/articles/new":           editors,
	"POST /staff/articles":              editors,
	"GET /staff/articles/{id}":          everyOf(editorP, reviewerP),
	"POST /staff/articles/{id}":         editors,
	"POST /staff/articles/{id}/submit":  editors,
	"POST /staff/articles/{id}/review":  {reviewerP},
	"POST /staff/articles/{id}/publish": editors,
	"POST /staff/articles/{id}/archive": editors,
	"GET /staff/articles/{id}/preview":  everyOf(editorP, reviewerP),
	"GET /staff/articles/{id}/diff":     everyOf(editorP, reviewerP),
	"GET /staff/contributors":           editors,
	"POST /staff/contributors":          editors,

	"GET /signup":                 everyone,
	"POST /signup":                everyone,
	"GET /confirm":                everyone,
	"POST /confirm":               everyone,
	"GET /signin":                 everyone,
	"POST /signin":                everyone,
	"POST /signout":               signedInP,
	"GET /reset":                  everyone,
	"POST /reset":                 everyone,
	"GET /reset/new":              everyone,
	"POST /reset/new":             everyone,
	"GET /setup":                  everyone,
	"POST /setup":                 everyone,
	"GET /account":                signedInP,
	"POST /account/password":      signedInP,
	"POST /account/email":         signedInP,
	"GET /account/email/confirm":  everyone,
	"POST /account/email/confirm": everyone,

	"GET /dashboard":               therapists,
	"GET /dashboard/profile":       therapists,
	"POST /dashboard/profile":      therapists,
	"GET /dashboard/preview":       therapists,
	"POST /dashboard/publish":      therapists,
	"POST /dashboard/unpublish":    therapists,
	"POST /dashboard/availability": therapists,
	"GET /dashboard/verification":  therapists,
	"POST /dashboard/verification": therapists,

	"GET /staff":                          staffP,
	"GET /staff/verifications":            verifiers,
	"GET /staff/verifications/{id}":       verifiers,
	"POST /staff/verifications/{id}":      verifiers,
	"GET /staff/profiles/{id}":            moderators,
	"POST /staff/profiles/{id}/suspend":   moderators,
	"POST /staff/profiles/{id}/reinstate": moderators,

	"GET /admin/users":               admins,
	"GET /admin/users/{id}":          admins,
	"POST /admin/users/{id}/roles":   admins,
	"POST /admin/users/{id}/disable": admins,
	"POST /admin/users/{id}/enable":  admins,
	"GET /admin/audit":               admins,
	"GET /admin/import":              admins,
	"GET /photos/{id}/{file}":        everyone,
	"GET /dashboard/photo":           therapists,
	"POST /dashboard/photo":          therapists,
	"POST /dashboard/photo/remove":   therapists,
	"GET /staff/photos":              verifiers,
	"POST /staff/photos/{id}":        verifiers,
	"POST /admin/import":             admins,

	"GET /api/v1/therapists":        everyone,
	"GET /api/v1/therapists/{slug}": everyone,
	"GET /api/v1/taxonomy":          everyone,
	"GET /api/v1/places":            everyone,
	"POST /api/v1/guided":           everyone,
	"GET /api/openapi.json":         everyone,
	"GET /healthz":                  everyone,
	"/api/":                         everyone,

	"GET /fhir/r4/metadata":              everyone,
	"GET /fhir/r4/Practitioner":          everyone,
	"GET /fhir/r4/Practitioner/{id}":     everyone,
	"GET /fhir/r4/PractitionerRole":      everyone,
	"GET /fhir/r4/PractitionerRole/{id}": everyone,
	"GET /fhir/r4/Location":              everyone,
	"GET /fhir/r4/Location/{id}":         everyone,
	"GET /fhir/r4/Organization":          everyone,
	"GET /fhir/r4/Organization/{id}":     everyone,
	"/fhir/":                             everyone,

	"GET /api/hsds/{$}":                       everyone,
	"GET /api/hsds/services":                  everyone,
	"GET /api/hsds/services/{id}":             everyone,
	"GET /api/hsds/organizations":             everyone,
	"GET /api/hsds/organizations/{id}":        everyone,
	"GET /api/hsds/locations":                 everyone,
	"GET /api/hsds/locations/{id}":            everyone,
	"GET /api/hsds/service_at_locations":      everyone,
	"GET /api/hsds/service_at_locations/{id}": everyone,
	"GET /api/hsds/taxonomies":                everyone,
	"GET /api/hsds/taxonomies/{id}":           everyone,
	"GET /api/hsds/taxonomy_terms":            everyone,
	"GET /api/hsds/taxonomy_terms/{id}":       everyone,
	"/api/hsds/":                              everyone,
}

// TestRoleByRoute signs in as each persona and tries every route in the
// route tables, asserting allow or deny. Denied means: anonymous visitors
// are redirected to sign in, signed-in accounts get 403.
func TestRoleByRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 60, nil)
	const pw = "tawny harbour seven quills"
	users := map[string]*account.User{
		therapistA: h.user("a@example.org", pw, account.Therapist),
		therapistB: h.user("b@example.org", pw, account.Therapist),
		verifierP:  h.user("verifier@example.org", pw, account.Verifier),
		editorP:    h.user("editor@example.org", pw, account.Editor),
		reviewerP:  h.user("reviewer@example.org", pw, account.Reviewer),
		adminP:     h.user("admin@example.org", pw, account.Admin),
	}
	target := h.user("target@example.org", pw, account.Therapist) // what admin routes act on
	clients := map[string]*client{anon: h.client()}
	for _, p := range personas[1:] {
		clients[p] = h.client()
		clients[p].signIn(users[p].Email, pw)
	}
	// Therapist A has a profile with pending evidence, for the {id} routes.
	if res := clients[therapistA].post("/dashboard/profile", profileForm("Alex Example")); res.status != http.StatusSeeOther {
		t.Fatalf("profile: %d", res.status)
	}
	prof := h.ownProfile(users[therapistA])
	req, err := h.app.Verify.Submit(h.ctx, prof, verify.Evidence{Body: "ukcp", Number: "20081234", Insurer: "Example Mutual",
		InsuranceExpires: h.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly), Qualification: "MSc Psychotherapy"})
	if err != nil {
		t.Fatal(err)
	}
	publicSlug := ""
	for _, r := range []string{"/api/v1/therapists?per_page=1"} {
		res := clients[anon].get(r)
		if i := strings.Index(res.body, `"slug":"`); i >= 0 {
			publicSlug = strings.SplitN(res.body[i+8:], `"`, 2)[0]
		}
	}
	if publicSlug == "" {
		t.Fatal("no public profile to visit")
	}

	var patterns []string
	for _, r := range h.app.Web.Routes() {
		patterns = append(patterns, r.Pattern)
	}
	patterns = append(patterns, h.app.API.Routes()...)
	patterns = append(patterns, h.app.FHIR.Routes()...)
	patterns = append(patterns, h.app.HSDS.Routes()...)
	for p := range allowedBy {
		if !slices.Contains(patterns, p) {
			t.Errorf("allowedBy lists %q, which is not a route any more", p)
		}
	}
	// Signing out revokes every session of the account, so it goes last.
	slices.SortStableFunc(patterns, func(a, b string) int {
		return boolInt(a == "POST /signout") - boolInt(b == "POST /signout")
	})
	fill := strings.NewReplacer("{slug}", publicSlug, "{$}", "", "{id}", "ID")
	for _, pattern := range patterns {
		allowed, ok := allowedBy[pattern]
		if !ok {
			t.Errorf("route %q has no entry in allowedBy: decide who may use it", pattern)
			continue
		}
		method, path, found := strings.Cut(pattern, " ")
		if !found {
			method, path = http.MethodGet, pattern+"v1/nothing"
		}
		id := "0"
		switch {
		case strings.HasPrefix(path, "/staff/verifications/"):
			id = itoa(req.ID)
		case strings.HasPrefix(path, "/staff/profiles/"):
			id = itoa(prof.ID)
		case strings.HasPrefix(path, "/admin/users/"):
			id = itoa(target.ID)
		case strings.HasPrefix(path, "/staff/articles/"):
			id = "1"
		}
		switch {
		case strings.HasPrefix(path, "/therapies/"):
			path = "/therapies/psychodynamic-therapy"
		case strings.HasPrefix(path, "/issues/"):
			path = "/issues/anxiety"
		}
		path = strings.Replace(fill.Replace(path), "ID", id, 1)
		for _, persona := range personas {
			t.Run(pattern+"/"+persona, func(t *testing.T) {
				var res response
				if method == http.MethodPost {
					res = clients[persona].post(path, url.Values{})
				} else {
					res = clients[persona].get(path)
				}
				denied := res.status == http.StatusForbidden ||
					(res.status == http.StatusSeeOther && strings.HasPrefix(res.header.Get("Location"), "/signin"))
				want := slices.Contains(allowed, persona)
				if denied == want {
					t.Errorf("%s %s as %s: status %d (Location %q); allowed=%v", method, path, persona, res.status, res.header.Get("Location"), want)
				}
				if persona == anon && !want && res.status != http.StatusSeeOther {
					t.Errorf("anonymous visitors should be sent to sign in, got %d", res.status)
				}
				if res.status >= 500 {
					t.Errorf("%s %s as %s: server error %d", method, path, persona, res.status)
				}
			})
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
