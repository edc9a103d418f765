package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
)

// queueItem returns the path of the queue item whose row names name, or
// "" when the queue has none.
func queueItem(t *testing.T, verifier *client, name string) string {
	t.Helper()
	res := verifier.get("/staff/verifications")
	if res.status != http.StatusOK {
		t.Fatalf("queue: %d", res.status)
	}
	m := regexp.MustCompile(`(/staff/verifications/\d+)">` + regexp.QuoteMeta(name) + `<`).FindStringSubmatch(res.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// auditEntries lists the audit log's entries about a profile.
func (h *harness) auditEntries(profileID int64) []audit.Entry {
	h.t.Helper()
	var out []audit.Entry
	object := audit.Profile(profileID)
	if err := h.app.DB.EachAudit(h.ctx, func(e audit.Entry) error {
		if e.Object == object || strings.HasPrefix(e.Object, object+" ") {
			out = append(out, e)
		}
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// TestReverification is issue 13's "verified stays true after edits": a
// verified therapist who renames themself keeps their verified name on
// the public page (and in search and the API), marked "details changed,
// re-checking", while the new name waits in the verification queue with
// a before/after comparison; every edit is audited by field, never by
// content. Each case then ends the wait its own way.
func TestReverification(t *testing.T) {
	h := newHarness(t, 200, nil)
	verifier := h.client()
	h.user("verifier@example.org", testPassword, account.Verifier)
	verifier.signIn("verifier@example.org", testPassword)

	tests := []struct {
		name string
		// end ends the wait for a verifier, given the queue item's path.
		end func(t *testing.T, ann *client, item, verifiedName string)
		// wantNew says whether the public sees the new name afterwards.
		wantNew bool
	}{
		{"verifier approves the new name", func(t *testing.T, _ *client, item, _ string) {
			if res := verifier.post(item, url.Values{"decision": {"approve"}}); res.status != http.StatusSeeOther {
				t.Fatalf("approve: %d %s", res.status, excerpt(res.body))
			}
		}, true},
		{"verifier cannot find the new name", func(t *testing.T, _ *client, item, _ string) {
			if res := verifier.post(item, url.Values{"decision": {"changes"}, "reason": {"The register still lists your old name."}}); res.status != http.StatusSeeOther {
				t.Fatalf("ask for changes: %d %s", res.status, excerpt(res.body))
			}
		}, false},
		{"therapist goes back to the verified name", func(t *testing.T, ann *client, _, verifiedName string) {
			if res := ann.post("/dashboard/profile", profileForm(verifiedName)); res.status != http.StatusSeeOther {
				t.Fatalf("rename back: %d %s", res.status, excerpt(res.body))
			}
		}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local, family := []string{"ann", "bea", "cat"}[i], []string{"Quillfeather", "Marrowdale", "Penhallow"}[i]
			u, p := h.therapist(local + "@example.org")
			verifiedName := p.DisplayName
			newName := "Zennor " + family
			ann := h.client()
			ann.signIn(local+"@example.org", testPassword)
			page := "/therapists/" + p.Slug

			res := ann.post("/dashboard/profile", profileForm(newName))
			if res.status != http.StatusSeeOther {
				t.Fatalf("rename: %d %s", res.status, excerpt(res.body))
			}
			public := h.client().get(page)
			if public.status != http.StatusOK || !strings.Contains(public.body, "<h1>"+verifiedName+"</h1>") || strings.Contains(public.body, newName) {
				t.Fatalf("public page after the rename does not show the verified name only: %d %s", public.status, excerpt(public.body))
			}
			if !strings.Contains(public.body, "Details changed, re-checking") || !strings.Contains(public.body, p.Memberships[0].Number) {
				t.Fatalf("public page lacks the re-checking note or the verified membership: %s", excerpt(public.body))
			}
			api := h.client().get("/api/v1/therapists/" + p.Slug)
			if !strings.Contains(api.body, `"name":"`+verifiedName+`"`) || !strings.Contains(api.body, `"rechecking":true`) {
				t.Fatalf("API after the rename: %s", api.body)
			}
			if n := h.apiTotal("q=" + family); n != 0 {
				t.Fatalf("the unchecked name is searchable (%d)", n)
			}
			results := h.client().get("/search?" + url.Values{"q": {verifiedName}}.Encode()).body
			at := strings.Index(results, `href="/therapists/`+p.Slug)
			if at < 0 {
				t.Fatalf("search for the verified name does not find it: %s", excerpt(results))
			}
			if card, _, _ := strings.Cut(results[at:], "</li>"); !strings.Contains(card, verifiedName) || !strings.Contains(card, "Details changed, re-checking") {
				t.Fatalf("search result card: %s", card)
			}
			if form := ann.get("/dashboard/profile"); !strings.Contains(form.body, `value="`+newName+`"`) {
				t.Fatalf("the form does not show the name the therapist asked for: %s", excerpt(form.body))
			}
			if dash := ann.get("/dashboard"); !strings.Contains(dash.body, "Re-verification needed") {
				t.Fatalf("dashboard does not say re-verification is needed: %s", excerpt(dash.body))
			}

			item := queueItem(t, verifier, verifiedName)
			if item == "" {
				t.Fatal("the rename is not in the verification queue")
			}
			detail := verifier.get(item)
			for _, want := range []string{"Changed: name", "Last verified", "<del>" + verifiedName + "</del>", "<strong>" + newName + "</strong>", "Name to look for"} {
				if !strings.Contains(detail.body, want) {
					t.Fatalf("queue item lacks %q: %s", want, excerpt(detail.body))
				}
			}

			// Saving the form again with the name already asked for is
			// an ordinary edit: the queue item stays where it was.
			edited := profileForm(newName)
			edited.Set("headline", "Counsellor who now works with couples as well as individuals")
			if res := ann.post("/dashboard/profile", edited); res.status != http.StatusSeeOther {
				t.Fatalf("edit: %d %s", res.status, excerpt(res.body))
			}
			if again := queueItem(t, verifier, verifiedName); again != item {
				t.Fatalf("an edit that kept the new name replaced the queue item (%s, was %s)", again, item)
			}

			var actions, objects []string
			for _, e := range h.auditEntries(p.ID) {
				actions, objects = append(actions, e.Action), append(objects, e.Object)
				if strings.Contains(e.Object, family) || strings.Contains(e.Object, "couples") {
					t.Fatalf("audit entry holds content: %+v", e)
				}
				if e.Action == "profile.edit" && (e.Actor != audit.User(u.ID) || e.At.IsZero()) {
					t.Fatalf("edit audited without who or when: %+v", e)
				}
			}
			all := strings.Join(objects, "\n")
			if !strings.Contains(strings.Join(actions, " "), "profile.edit") || !strings.Contains(all, "display_name") || !strings.Contains(all, "fields:headline") {
				t.Fatalf("edits not audited by field: %v %v", actions, objects)
			}

			tt.end(t, ann, item, verifiedName)
			want, gone := verifiedName, newName
			if tt.wantNew {
				want, gone = newName, verifiedName
			}
			public = h.client().get(page)
			if !strings.Contains(public.body, "<h1>"+want+"</h1>") || strings.Contains(public.body, gone) || strings.Contains(public.body, "re-checking") {
				t.Fatalf("public page afterwards: want %q only, no note: %s", want, excerpt(public.body))
			}
			if got := queueItem(t, verifier, verifiedName); got != "" {
				t.Fatalf("queue still has %s", got)
			}
			if form := ann.get("/dashboard/profile"); !strings.Contains(form.body, `value="`+want+`"`) {
				t.Fatalf("the form afterwards does not show %q", want)
			}
			if n := h.apiTotal("q=" + family); (n == 1) != tt.wantNew {
				t.Fatalf("search for the new name: %d results", n)
			}
		})
	}
}

// TestCredentials is issue 13's "complete credentials": a therapist in
// two bodies has each membership checked on its own, and the public
// record lists each register, number and date checked, and the insurance
// verified with its end date. The next check falls a year after the older
// check.
func TestCredentials(t *testing.T) {
	h := newHarness(t, 50, nil)
	verifier := h.client()
	h.user("verifier@example.org", testPassword, account.Verifier)
	verifier.signIn("verifier@example.org", testPassword)
	const email, name = "dee@example.org", "Dee Ashcombe-Varley"
	h.user(email, testPassword, account.Therapist)
	dee := h.client()
	dee.signIn(email, testPassword)
	if res := dee.post("/dashboard/profile", profileForm(name)); res.status != http.StatusSeeOther {
		t.Fatalf("profile: %d %s", res.status, excerpt(res.body))
	}
	dee.post("/dashboard/publish", nil)
	first := h.clock.Now()

	steps := []struct {
		body, number, insurance string
		after                   time.Duration // clock advance before sending
		what                    string        // the queue's summary
	}{
		{"bacp", "012345", first.AddDate(1, 6, 0).Format(time.DateOnly), 0, "First check"},
		{"ukcp", "7654321", first.AddDate(2, 0, 0).Format(time.DateOnly), 40 * 24 * time.Hour, "New membership"},
	}
	for _, s := range steps {
		h.clock.Advance(s.after)
		ev := url.Values{"body": {s.body}, "number": {s.number}, "insurer": {"Holloway Indemnity"},
			"insurance_expires": {s.insurance}, "qualification": {"MA Psychotherapy"}}
		if res := dee.post("/dashboard/verification", ev); res.status != http.StatusSeeOther {
			t.Fatalf("%s evidence: %d %s", s.body, res.status, excerpt(res.body))
		}
		item := queueItem(t, verifier, name)
		if item == "" {
			t.Fatalf("%s evidence not in the queue", s.body)
		}
		if detail := verifier.get(item); !strings.Contains(detail.body, s.what) {
			t.Fatalf("%s queue item does not say %q: %s", s.body, s.what, excerpt(detail.body))
		}
		if res := verifier.post(item, url.Values{"decision": {"approve"}}); res.status != http.StatusSeeOther {
			t.Fatalf("approve %s: %d %s", s.body, res.status, excerpt(res.body))
		}
	}

	bacpChecked, ukcpChecked := first, first.Add(steps[1].after)
	p := h.client().get("/therapists/" + slugOf(t, h, email))
	if p.status != http.StatusOK {
		t.Fatalf("public profile: %d", p.status)
	}
	record := p.body[strings.Index(p.body, "Verification record"):]
	for _, want := range []string{
		"BACP", "012345", `<time datetime="` + bacpChecked.Format(time.DateOnly) + `">`,
		"UKCP", "7654321", `<time datetime="` + ukcpChecked.Format(time.DateOnly) + `">`,
		"Professional insurance", "in force until <time datetime=\"" + steps[1].insurance + `">`,
		"Next check due</dt><dd><time datetime=\"" + bacpChecked.AddDate(1, 0, 0).Format(time.DateOnly) + `">`,
	} {
		if !strings.Contains(record, want) {
			t.Errorf("public record lacks %q", want)
		}
	}
	if strings.Index(record, "012345") > strings.Index(record, "7654321") {
		t.Error("approving a second membership reordered the record: the first one listed should stay first")
	}
	api := h.client().get("/api/v1/therapists/" + slugOf(t, h, email)).body
	for _, want := range []string{`"checked_at":"` + bacpChecked.Format(time.DateOnly) + `"`, `"checked_at":"` + ukcpChecked.Format(time.DateOnly) + `"`,
		`"insurance":{"verified":true,"until":"` + steps[1].insurance + `"`} {
		if !strings.Contains(api, want) {
			t.Errorf("API profile lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("record: %s\nAPI: %s", excerpt(record), api)
	}
}

// slugOf is the web address of the profile an account keeps.
func slugOf(t *testing.T, h *harness, email string) string {
	t.Helper()
	u, err := h.app.DB.UserByEmail(h.ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	return h.ownProfile(u).Slug
}
