package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
)

// signedOut fails unless c, asking for a signed-in page, is sent to sign in.
func signedOut(t *testing.T, who string, c *client) {
	t.Helper()
	if res := c.get("/account"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/signin") {
		t.Errorf("%s still signed in: %d", who, res.status)
	}
}

// replay returns a new client that sends cookie as its session cookie.
func (h *harness) replay(cookie string) *client {
	c := h.client()
	c.setCookie(cookie)
	return c
}

// TestPrivilegeChangeEndsSessions: when an account's roles change, by an
// admin or on the command line, every session it had ends, so no session
// id from before the change (leaked or planted) carries the new
// privileges; signing in again gives a fresh id with the new roles. An
// admin changing their own roles stays signed in on the device they used,
// on a new id, and is signed out everywhere else.
func TestPrivilegeChangeEndsSessions(t *testing.T) {
	h := newHarness(t, 0, nil)
	admin := h.user("admin@example.org", testPassword, account.Admin)
	ac := h.client()
	ac.signIn(admin.Email, testPassword)
	u := h.user("member@example.org", testPassword, account.Therapist)
	for _, tc := range []struct {
		name  string
		roles []string // saved on /admin/users/{id}; nil: `confide admin create` promotes the account
		staff int      // GET /staff once signed in again
	}{
		{"grant", []string{"therapist", "editor"}, http.StatusOK},
		{"revoke", []string{"therapist"}, http.StatusForbidden},
		{"promote on the command line", nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			phone, laptop := h.client(), h.client()
			phone.signIn(u.Email, testPassword)
			laptop.signIn(u.Email, testPassword)
			before := phone.cookie()
			if tc.roles == nil {
				if _, err := h.app.Accounts.CreateAdmin(h.ctx, u.Email, ""); err != nil {
					t.Fatal(err)
				}
			} else if res := ac.post("/admin/users/"+itoa(u.ID)+"/roles", url.Values{"role": tc.roles}); res.status != http.StatusSeeOther {
				t.Fatalf("save roles: %d %s", res.status, excerpt(res.body))
			}
			signedOut(t, "phone", phone)
			signedOut(t, "laptop", laptop)
			signedOut(t, "a replayed cookie", h.replay(before))
			phone.signIn(u.Email, testPassword)
			if phone.cookie() == before {
				t.Error("signed in again on the session id from before the change")
			}
			if res := phone.get("/staff"); res.status != tc.staff {
				t.Errorf("staff pages after signing in again: %d, want %d", res.status, tc.staff)
			}
		})
	}
	t.Run("own roles", func(t *testing.T) {
		other := h.client()
		other.signIn(admin.Email, testPassword)
		before := ac.cookie()
		if res := ac.post("/admin/users/"+itoa(admin.ID)+"/roles", url.Values{"role": {"admin", "verifier"}}); res.status != http.StatusSeeOther {
			t.Fatalf("save own roles: %d %s", res.status, excerpt(res.body))
		}
		if ac.cookie() == before {
			t.Error("own roles changed on the same session id")
		}
		if res := ac.get("/staff/verifications"); res.status != http.StatusOK {
			t.Errorf("the admin's own session, after granting verifier: %d", res.status)
		}
		signedOut(t, "the admin's other device", other)
		signedOut(t, "the admin's replayed cookie", h.replay(before))
	})
}

// TestPasswordChangeEndsOtherSessions: changing the password (which asks
// for the current one) or setting a new one from a reset link ends every
// other session of the account; the device that changed it goes on, on a
// new session id.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	h := newHarness(t, 0, nil)
	u := h.user("change@example.org", testPassword, account.Therapist)
	password := testPassword
	for _, tc := range []struct {
		name   string
		change func(c *client, next string) response
	}{
		{"change", func(c *client, next string) response {
			return c.post("/account/password", url.Values{"current_password": {password}, "password": {next}, "confirm": {next}})
		}},
		{"reset", func(c *client, next string) response {
			if res := c.post("/reset", url.Values{"email": {u.Email}}); res.status != http.StatusOK {
				t.Fatalf("ask for a reset: %d", res.status)
			}
			_, token := h.link(h.mail(u.Email, "Reset your password"))
			return c.post("/reset/new", url.Values{"token": {token}, "password": {next}, "confirm": {next}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			phone, laptop := h.client(), h.client()
			phone.signIn(u.Email, password)
			laptop.signIn(u.Email, password)
			before := phone.cookie()
			next := "a fresh passphrase for " + tc.name
			if res := tc.change(phone, next); res.status != http.StatusSeeOther {
				t.Fatalf("%s password: %d %s", tc.name, res.status, excerpt(res.body))
			}
			password = next
			if res := phone.get("/account"); res.status != http.StatusOK || phone.cookie() == before {
				t.Errorf("the device that changed it: %d, new session id %v", res.status, phone.cookie() != before)
			}
			signedOut(t, "the other device", laptop)
			signedOut(t, "a replayed cookie", h.replay(before))
		})
	}
}

// TestAbsoluteTimeout: a session in constant use still ends when its
// lifetime since sign-in is up, and renewing its id on the way (an admin
// changing their own roles) does not move that deadline.
func TestAbsoluteTimeout(t *testing.T) {
	const lifetime = 3 * time.Second
	h := newHarness(t, 0, func(c *config) { c.SessionIdle = lifetime; c.SessionLifetime = lifetime })
	admin := h.user("lifetime@example.org", testPassword, account.Admin)
	c := h.client()
	c.signIn(admin.Email, testPassword)
	end := time.Now().Add(lifetime)
	renewed := false
	for time.Until(end) > 500*time.Millisecond {
		if res := c.get("/account"); res.status != http.StatusOK {
			t.Fatalf("session ended %v before its lifetime was up: %d", time.Until(end), res.status)
		}
		if !renewed && time.Until(end) < lifetime/2 {
			if res := c.post("/admin/users/"+itoa(admin.ID)+"/roles", url.Values{"role": {"admin", "editor"}}); res.status != http.StatusSeeOther {
				t.Fatalf("save own roles: %d", res.status)
			}
			renewed = true
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Until(end) + 500*time.Millisecond)
	signedOut(t, "a session past its lifetime", c)
}
