package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/directory"
)

// TestTherapistJourney is the whole path a therapist takes to be listed,
// over real HTTP, with the confirmation link read from a real SMTP server:
// sign up, confirm, build a profile, publish, submit evidence; a verifier
// approves; the profile is searchable; time passes its next check (the
// clock is injected); reminders go out and it leaves search.
func TestTherapistJourney(t *testing.T) {
	h := newHarness(t, 200, nil)
	ann := h.client()
	const email, password = "ann.therapist@example.org", "velvet kettle orbit 42"

	res := ann.post("/signup", url.Values{"email": {email}, "password": {password}, "terms": {"yes"}})
	if res.status != http.StatusOK || !strings.Contains(res.body, "Check your email") {
		t.Fatalf("sign up: %d %s", res.status, excerpt(res.body))
	}
	// Signing in before confirming is refused, with a new link sent.
	if res := ann.post("/signin", url.Values{"email": {email}, "password": {password}}); res.status != http.StatusForbidden {
		t.Fatalf("unconfirmed sign-in: %d", res.status)
	}
	path, token := h.link(h.mail(email, "Confirm your email address"))
	if path != "/confirm" {
		t.Fatalf("confirmation link path %q", path)
	}
	if res := ann.get(path + "?token=" + token); res.status != http.StatusOK || !strings.Contains(res.body, `value="`+token+`"`) {
		t.Fatalf("confirm page: %d", res.status)
	}
	if res := ann.post("/confirm", url.Values{"token": {token}}); res.status != http.StatusOK || !strings.Contains(res.body, "Email address confirmed") {
		t.Fatalf("confirm: %d %s", res.status, excerpt(res.body))
	}
	if res := ann.post("/confirm", url.Values{"token": {token}}); res.status != http.StatusBadRequest {
		t.Fatalf("a used link must not work twice: %d", res.status)
	}

	if res := ann.signIn(email, password); res.header.Get("Location") != "/dashboard" {
		t.Fatalf("sign-in goes to %q", res.header.Get("Location"))
	}
	if res := ann.get("/dashboard"); res.status != http.StatusOK || !strings.Contains(res.body, "Create your profile") || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("dashboard: %d %q", res.status, res.header.Get("Cache-Control"))
	}
	const name = "Annabel Quist-Verity"
	if res := ann.post("/dashboard/profile", profileForm(name)); res.status != http.StatusSeeOther {
		t.Fatalf("save profile: %d %s", res.status, excerpt(res.body))
	}
	if res := ann.get("/dashboard/preview"); !strings.Contains(res.body, name) || !strings.Contains(res.body, "Not verified yet") {
		t.Fatalf("preview: %d %s", res.status, excerpt(res.body))
	}
	if res := ann.post("/dashboard/publish", nil); res.status != http.StatusSeeOther {
		t.Fatalf("publish: %d", res.status)
	}
	// Published but not verified: not searchable.
	if n := h.apiTotal("q=Quist-Verity"); n != 0 {
		t.Fatalf("unverified profile is searchable (%d)", n)
	}
	insurance := h.clock.Now().AddDate(0, 0, 200).Format(time.DateOnly)
	evidence := url.Values{"body": {"bacp"}, "number": {"0123 456"}, "level": {"Registered member MBACP"},
		"insurer": {"Holloway Indemnity"}, "insurance_expires": {insurance}, "qualification": {"MA Psychodynamic Counselling"}}
	if res := ann.post("/dashboard/verification", url.Values{"body": {"hcpc"}, "number": {"12345"}}); res.status != http.StatusBadRequest ||
		!strings.Contains(res.body, "does not look like a HCPC Register number") {
		t.Fatalf("bad evidence: %d %s", res.status, excerpt(res.body))
	}
	if res := ann.post("/dashboard/verification", evidence); res.status != http.StatusSeeOther {
		t.Fatalf("evidence: %d %s", res.status, excerpt(res.body))
	}
	annUser, err := h.app.DB.UserByEmail(h.ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	if p := h.ownProfile(annUser); p.Verification.State != directory.Pending {
		t.Fatalf("state after evidence %q", p.Verification.State)
	}

	// The first admin comes from the command line; they give themself the
	// verifier role through the admin pages.
	if _, err := h.app.Accounts.CreateAdmin(h.ctx, "admin@example.org", "copper lantern meadow 7"); err != nil {
		t.Fatal(err)
	}
	admin := h.client()
	admin.signIn("admin@example.org", "copper lantern meadow 7")
	adminUser, _ := h.app.DB.UserByEmail(h.ctx, "admin@example.org")
	if res := admin.get("/staff/verifications"); res.status != http.StatusForbidden {
		t.Fatalf("admin without verifier role sees the queue: %d", res.status)
	}
	if res := admin.post("/admin/users/"+itoa(adminUser.ID)+"/roles", url.Values{"role": {"admin", "verifier"}}); res.status != http.StatusSeeOther {
		t.Fatalf("grant verifier: %d %s", res.status, excerpt(res.body))
	}
	// The demo data has queue items of its own: find Ann's.
	item := queueItem(t, admin, name)
	if item == "" {
		t.Fatalf("queue lacks %s: %s", name, excerpt(admin.get("/staff/verifications").body))
	}
	detail := admin.get(item)
	if !strings.Contains(detail.body, "0123456") || !strings.Contains(detail.body, `href="https://www.bacp.co.uk/search/Register"`) || !strings.Contains(detail.body, "Holloway Indemnity") {
		t.Fatalf("verification page lacks the evidence or register link: %s", excerpt(detail.body))
	}
	if res := admin.post(item, url.Values{"decision": {"reject"}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "Tell the therapist why") {
		t.Fatalf("reject without reason: %d", res.status)
	}
	if res := admin.post(item, url.Values{"decision": {"approve"}}); res.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.status, excerpt(res.body))
	}
	if res := admin.post(item, url.Values{"decision": {"approve"}}); res.status != http.StatusConflict {
		t.Fatalf("deciding twice: %d", res.status)
	}
	h.mail(email, "Your credentials have been verified")

	p := h.ownProfile(annUser)
	due := p.Verification.NextCheckDue
	if p.Verification.State != directory.Verified || due.Format(time.DateOnly) != insurance || p.Memberships[0].Number != "0123456" {
		t.Fatalf("after approval: %+v %+v", p.Verification, p.Memberships)
	}
	if n := h.apiTotal("q=Quist-Verity"); n != 1 {
		t.Fatalf("verified, published profile not in search (total %d)", n)
	}
	if res := h.client().get("/therapists/" + p.Slug); res.status != http.StatusOK || !strings.Contains(res.body, "0123456") || !strings.Contains(res.body, "Next check due") {
		t.Fatalf("public profile: %d", res.status)
	}
	if res := ann.get("/dashboard"); !strings.Contains(res.body, "view your public profile") {
		t.Fatalf("dashboard after approval: %s", excerpt(res.body))
	}

	// Edits reach search at once.
	edited := profileForm(name)
	edited.Set("headline", "Psychodynamic counsellor with a zeppelinwatcher's patience")
	if res := ann.post("/dashboard/profile", edited); res.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", res.status, excerpt(res.body))
	}
	if n := h.apiTotal("q=zeppelinwatcher"); n != 1 {
		t.Fatalf("edited headline not searchable at once (total %d)", n)
	}
	// Unpublishing and suspension take it out of search at once.
	ann.post("/dashboard/unpublish", nil)
	if n := h.apiTotal("q=Quist-Verity"); n != 0 {
		t.Fatalf("unpublished profile in search (total %d)", n)
	}
	ann.post("/dashboard/publish", nil)
	if res := admin.post("/staff/profiles/"+itoa(p.ID)+"/suspend", nil); res.status != http.StatusSeeOther {
		t.Fatalf("suspend: %d", res.status)
	}
	if n := h.apiTotal("q=Quist-Verity"); n != 0 {
		t.Fatalf("suspended profile in search (total %d)", n)
	}
	if res := ann.post("/dashboard/verification", evidence); res.status != http.StatusBadRequest {
		t.Fatalf("a suspended therapist re-submitted evidence: %d", res.status)
	}
	admin.post("/staff/profiles/"+itoa(p.ID)+"/reinstate", nil)
	if n := h.apiTotal("q=Quist-Verity"); n != 1 {
		t.Fatalf("reinstated profile not back in search (total %d)", n)
	}
	// One click confirms availability and dates it.
	h.clock.Advance(24 * time.Hour)
	ann.post("/dashboard/availability", url.Values{"availability": {"accepting"}})
	if got := h.ownProfile(annUser).AvailabilityConfirmedAt; !got.Equal(h.clock.Now()) {
		t.Fatalf("availability confirmed at %v, want %v", got, h.clock.Now())
	}

	// Time passes: 30 days before, 7 days before, then the day after due.
	for _, step := range []struct {
		at      time.Time
		subject string
	}{
		{due.AddDate(0, 0, -29), "Your credentials check is due on"},
		{due.AddDate(0, 0, -6), "Your credentials check is due on"},
		{due.AddDate(0, 0, 1).Add(time.Hour), "Your profile has left the directory"},
	} {
		h.clock.Advance(step.at.Sub(h.clock.Now()))
		if _, _, err := h.app.Verify.RunChecks(h.ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.app.Verify.RunChecks(h.ctx); err != nil { // a second run sends nothing new
			t.Fatal(err)
		}
		h.mail(email, step.subject)
	}
	sent, err := h.app.DB.RemindersSent(h.ctx, p.ID)
	if err != nil || strings.Join(sent, ",") != "30d,7d,expired" {
		t.Fatalf("reminders %v (%v)", sent, err)
	}
	var reminders int
	for _, msg := range h.app.Catcher.Messages() {
		if msg.To == email && strings.Contains(msg.Subject, "is due on") {
			reminders++
		}
	}
	if reminders != 2 {
		t.Fatalf("%d reminder emails, want exactly 2", reminders)
	}
	if n := h.apiTotal("q=Quist-Verity"); n != 0 {
		t.Fatalf("overdue profile still in search (total %d)", n)
	}
	if res := h.client().get("/api/v1/therapists/" + p.Slug); res.status != http.StatusNotFound {
		t.Fatalf("overdue profile still served: %d", res.status)
	}
	if p := h.ownProfile(annUser); p.Verification.State != directory.Expired {
		t.Fatalf("state after expiry %q", p.Verification.State)
	}
	if res := ann.get("/dashboard"); !strings.Contains(res.body, "Submit up-to-date evidence") {
		t.Fatalf("dashboard after expiry does not say how to re-verify: %s", excerpt(res.body))
	}

	// Every step that matters is in the audit log, and the chain holds.
	var actions []string
	if err := h.app.DB.EachAudit(h.ctx, func(e audit.Entry) error {
		actions = append(actions, e.Action)
		if strings.Contains(e.Object+e.Actor, "@") || strings.Contains(e.Object, password) {
			t.Errorf("audit entry holds content: %+v", e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"account.create", "account.confirm", "signin.unconfirmed", "signin.success", "profile.publish", "profile.unpublish",
		"verification.submit", "role.grant", "verification.approved", "profile.suspend", "profile.reinstate", "verification.expire"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
	if head, err := h.app.Audit.Verify(h.ctx, nil); err != nil || head.Seq != int64(len(actions)) {
		t.Fatalf("audit chain: %d of %d, %v", head.Seq, len(actions), err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// apiTotal runs a search through the public JSON API.
func (h *harness) apiTotal(query string) int {
	h.t.Helper()
	res := h.client().get("/api/v1/therapists?" + query)
	if res.status != http.StatusOK {
		h.t.Fatalf("api: %d %s", res.status, res.body)
	}
	var out struct {
		Total int `json:"total"`
	}
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		h.t.Fatal(err)
	}
	return out.Total
}
