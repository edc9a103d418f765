package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/account"
)

var hstsMaxAge = regexp.MustCompile(`max-age=(\d+)`)

// checkHeaders fails unless res carries the headers every response must:
// a CSP that allows no inline script or style (only this response's
// nonce), no plugins, no <base> and no framing; no MIME sniffing; no
// referrer; no powerful features; no CORS grant; HSTS (a year or more, subdomains too)
// exactly when the site is served over HTTPS.
func checkHeaders(t *testing.T, where string, res response, https bool) {
	t.Helper()
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'nonce-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", where, csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "unsafe-hashes", "*", "http:", "https:"} {
		if strings.Contains(csp, bad) {
			t.Errorf("%s: CSP %q allows %q", where, csp, bad)
		}
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
		"Cross-Origin-Opener-Policy": "same-origin", "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
	} {
		if got := res.header.Get(name); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %s is %q, want %q", where, name, got, want)
		}
	}
	// Only the public, read-only JSON API may be read by other sites'
	// scripts, and never with credentials; no page, form or signed-in
	// answer may.
	public := strings.Contains(where, " /api/") || strings.HasSuffix(where, " /healthz")
	if acao := res.header.Get("Access-Control-Allow-Origin"); (public && acao != "*") || (!public && acao != "") {
		t.Errorf("%s: Access-Control-Allow-Origin %q", where, acao)
	}
	if res.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("%s: Access-Control-Allow-Credentials is set", where)
	}
	hsts := res.header.Get("Strict-Transport-Security")
	if !https {
		if hsts != "" {
			t.Errorf("%s: HSTS %q over plain HTTP", where, hsts)
		}
		return
	}
	m := hstsMaxAge.FindStringSubmatch(hsts)
	if m == nil || !strings.Contains(hsts, "includeSubDomains") {
		t.Errorf("%s: HSTS %q", where, hsts)
	} else if age, _ := strconv.Atoi(m[1]); age < 365*24*60*60 {
		t.Errorf("%s: HSTS max-age %d is under a year", where, age)
	}
}

// TestSecurityHeaders requests public pages, API answers, static files,
// errors and signed-in pages, and checks every response's security
// headers; every HTML page must also be free of inline style attributes,
// event handlers and scripts without the nonce (the CSP allows none), and
// signed-in pages must not be cached and must offer signing out in the
// header.
func TestSecurityHeaders(t *testing.T) {
	anonymous := []string{"/", "/search?near=Leeds", "/therapies", "/issues", "/about", "/guides", "/panel", "/signin", "/signup", "/reset",
		"/static/site.css", "/api/v1/therapists", "/api/v1/taxonomy", "/api/hsds/", "/api/hsds/services", "/api/hsds/nothing", "/healthz", "/sitemap.xml", "/feed.atom", "/robots.txt", "/no-such-page"}
	signedIn := []string{"/account", "/dashboard", "/dashboard/profile", "/dashboard/enquiries", "/staff", "/staff/verifications", "/admin/users", "/admin/audit", "/admin/outbox"}
	for _, https := range []bool{false, true} {
		t.Run(fmt.Sprintf("https=%v", https), func(t *testing.T) {
			h := newHarness(t, 5, func(c *config) {
				if https {
					c.BaseURL = "https://confide.example.org"
				}
			})
			_, p := h.therapist("headers@example.org")
			c := h.client()
			check := func(what string, res response) {
				checkHeaders(t, what, res, https)
				if strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
					assertSafe(t, what, res)
				}
			}
			for _, path := range append(anonymous, "/therapists/"+p.Slug) {
				check("GET "+path, c.get(path))
			}
			check("refused sign-in", c.post("/signin", url.Values{"email": {"nobody@example.org"}, "password": {"wrong password here"}}))
			if https {
				// The Secure session cookie is not sent back over the
				// test's plain HTTP; https=false covers signed-in pages.
				return
			}
			h.user("everything@example.org", testPassword, account.Therapist, account.Verifier, account.Editor, account.Admin)
			c.signIn("everything@example.org", testPassword)
			for _, path := range signedIn {
				res := c.get(path)
				if res.status != http.StatusOK {
					t.Errorf("GET %s signed in: %d", path, res.status)
				}
				check("GET "+path+" signed in", res)
				if cc := res.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("GET %s signed in: Cache-Control %q", path, cc)
				}
				if !strings.Contains(res.body, `<form class="nav-form" method="post" action="/signout">`) {
					t.Errorf("GET %s signed in: no sign-out button in the header", path)
				}
			}
		})
	}
}
