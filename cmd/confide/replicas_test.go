package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/account"
)

// TestReplicasShareSessionsAndLimits: two application instances on one
// database (replicas behind a load balancer) share sessions, sign-outs
// and rate limits: nothing a person does through one can be undone or
// dodged by landing on the other.
func TestReplicasShareSessionsAndLimits(t *testing.T) {
	a := newHarness(t, 30, nil)
	b := newHarness(t, 0, func(c *config) { c.DB, c.KeyFile, c.Demo = a.app.DSN, a.app.KeyPath, false })
	u := a.user("both@example.org", testPassword, account.Therapist)

	ca := a.client()
	ca.signIn(u.Email, testPassword)
	cb := b.client()
	cb.setCookie(ca.cookie())
	if res := cb.get("/account"); res.status != http.StatusOK || !strings.Contains(res.body, u.Email) {
		t.Fatalf("session from replica A on replica B: %d %s", res.status, excerpt(res.body))
	}
	if res := cb.post("/signout", nil); res.status != http.StatusOK {
		t.Fatalf("sign out on B: %d", res.status)
	}
	if res := ca.get("/account"); res.status == http.StatusOK {
		t.Fatal("signed out on replica B but still signed in on replica A")
	}

	// Five wrong passwords for one account from one address through A;
	// the next try, through B, is refused too.
	wrong := url.Values{"email": {u.Email}, "password": {"not the password"}}
	for i := range 5 {
		if res := a.client().post("/signin", wrong); res.status == http.StatusTooManyRequests {
			t.Fatalf("failure %d refused early", i+1)
		}
	}
	res := b.client().post("/signin", wrong)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("6th failure, through the other replica: %d (Retry-After %q)", res.status, res.header.Get("Retry-After"))
	}
}
