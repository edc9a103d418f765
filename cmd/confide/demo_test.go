package main

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/directory"
)

// TestDemoStaffQueues: a newcomer runs a demo site and can try every
// journey from what the start-up log says: the walkthrough names the
// accounts and their password; at least half of the public profiles (and
// a varied share: several towns) accept enquiries and some publish direct
// contact details; an enquiry to a therapist picked at random is sent;
// the demo therapist signs in and finds enquiries waiting; the staff
// account signs in and finds work in the verification queue and an
// article waiting for its review, and the accounts in the admin pages.
func TestDemoStaffQueues(t *testing.T) {
	logs := &syncBuffer{buf: &bytes.Buffer{}}
	h := newHarnessLogs(t, 400, nil, logs)
	walk := logs.String()
	m := regexp.MustCompile(`demo walkthrough[^\n]*password=([a-z2-7]{4}(?:-[a-z2-7]{4}){3})`).FindStringSubmatch(walk)
	if m == nil {
		t.Fatalf("no demo password in the walkthrough:\n%s", walk)
	}
	password := m[1]
	for _, want := range []string{"email=demo.therapist@example.org", "email=demo.staff@example.org", "unread_enquiries=3", "articles_in_review=1", "/demo/mailbox"} {
		if !strings.Contains(walk, want) {
			t.Errorf("walkthrough lacks %q", want)
		}
	}

	now := h.clock.Now()
	var public, owned []*directory.Profile
	withContact, firstChecks := 0, 0
	areas := map[string]bool{}
	if _, err := h.app.DB.EachProfile(h.ctx, func(p *directory.Profile) error {
		if p.Verification.State == directory.Pending && p.OwnerID != 0 {
			firstChecks++
		}
		if !p.IsPublic(now) {
			return nil
		}
		public = append(public, p)
		if p.OwnerID != 0 {
			owned = append(owned, p)
			for _, l := range p.Locations {
				areas[l.Area] = true
			}
		}
		if !p.PublicContact.IsZero() {
			withContact++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d public demo profiles accept enquiries (in %d areas), %d publish contact details, %d therapists wait for a first check",
		len(owned), len(public), len(areas), withContact, firstChecks)
	if 2*len(owned) < len(public) || len(areas) < 20 {
		t.Fatalf("%d of %d public profiles accept enquiries, in %d areas: want at least half, spread widely", len(owned), len(public), len(areas))
	}
	if withContact < len(public)/5 || withContact == len(public) {
		t.Errorf("%d of %d public profiles publish contact details: want some, not all", withContact, len(public))
	}
	if !strings.Contains(walk, "profiles_taking_enquiries="+strconv.Itoa(len(owned))) {
		t.Errorf("walkthrough does not say %d profiles take enquiries", len(owned))
	}

	t.Run("a seeker contacts a therapist picked at random", func(t *testing.T) {
		p := owned[rand.IntN(len(owned))]
		c := h.client()
		search := "/search?format=online" // an online-only therapist has no place
		if len(p.Locations) > 0 {
			search = "/search?near=" + url.QueryEscape(p.Locations[0].Outcode)
		}
		if res := c.get(search); res.status != http.StatusOK {
			t.Fatalf("search: %d", res.status)
		}
		res := c.enquire(p.Slug, nil)
		if res.status != http.StatusSeeOther {
			t.Fatalf("enquiry to %s: %d %s", p.Slug, res.status, excerpt(res.body))
		}
		if sent := c.get(res.header.Get("Location")); sent.status != http.StatusOK || !strings.Contains(sent.body, "Your enquiry has been sent") {
			t.Fatalf("confirmation: %d %s", sent.status, excerpt(sent.body))
		}
		h.mail(p.ContactEmail, "new enquiry")
		// The therapist named in the notice signs in with the demo password.
		th := h.client()
		th.signIn(p.ContactEmail, password)
		if inbox := th.get("/dashboard/enquiries"); inbox.status != http.StatusOK || !strings.Contains(inbox.body, "Sam Sender") {
			t.Fatalf("%s's inbox: %d %s", p.ContactEmail, inbox.status, excerpt(inbox.body))
		}
	})

	t.Run("the demo therapist finds enquiries waiting", func(t *testing.T) {
		c := h.client()
		c.signIn("demo.therapist@example.org", password)
		inbox := c.get("/dashboard/enquiries")
		if inbox.status != http.StatusOK || strings.Count(inbox.body, `href="/dashboard/enquiries/`) < 3 {
			t.Fatalf("inbox: %d %s", inbox.status, excerpt(inbox.body))
		}
		for _, name := range []string{"Sam Okafor", "Jo Whitfield", "Alex Moreno"} {
			if !strings.Contains(inbox.body, name) {
				t.Errorf("inbox lacks the demo enquiry from %s", name)
			}
		}
		// The header counts what nobody has opened yet, on every page,
		// beside sign-out; reading one lowers it.
		for _, path := range []string{"/dashboard", "/", "/about"} {
			if res := c.get(path); !strings.Contains(res.body, `Enquiries <span class="count">(3 unread)</span>`) || !strings.Contains(res.body, `action="/signout"`) {
				t.Errorf("%s: header lacks the unread count or sign-out", path)
			}
		}
		if res := c.get("/dashboard"); !strings.Contains(res.body, "Enquiries (3 unread)") {
			t.Error("dashboard lacks the unread count")
		}
		first := regexp.MustCompile(`href="(/dashboard/enquiries/[a-z0-9]+)"`).FindStringSubmatch(inbox.body)
		if res := c.get(first[1]); res.status != http.StatusOK {
			t.Fatalf("reading %s: %d", first[1], res.status)
		}
		if res := c.get("/dashboard"); !strings.Contains(res.body, "(2 unread)") {
			t.Error("the unread count did not fall after reading an enquiry")
		}
	})

	t.Run("staff find work in every queue", func(t *testing.T) {
		c := h.client()
		c.signIn("demo.staff@example.org", password)
		for _, tc := range []struct {
			path string
			want *regexp.Regexp
		}{
			{"/staff", regexp.MustCompile(`Verification queue</a> \([1-9][0-9]* waiting\)`)},
			{"/staff", regexp.MustCompile(`Articles and reviews</a> \(1 waiting for review\)`)},
			{"/", regexp.MustCompile(`Staff <span class="count">\([1-9][0-9]* waiting\)</span>`)},
			{"/staff/verifications", regexp.MustCompile(`First check`)},
			{"/staff/verifications", regexp.MustCompile(`href="/staff/verifications/[0-9]+"`)},
			{"/staff/articles", regexp.MustCompile(`Bereavement and grief`)},
			{"/admin/users", regexp.MustCompile(`demo\.therapist@example\.org`)},
		} {
			if res := c.get(tc.path); res.status != http.StatusOK || !tc.want.MatchString(res.body) {
				t.Errorf("%s: %d, does not match %s", tc.path, res.status, tc.want)
			}
		}
	})
}
