package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/store/storetest"
)

// therapist makes a signed-up therapist with a verified, published profile.
func (h *harness) therapist(email string) (*account.User, *directory.Profile) {
	h.t.Helper()
	u := h.user(email, testPassword, account.Therapist)
	var base *directory.Profile
	h.app.DB.EachProfile(h.ctx, func(p *directory.Profile) error {
		if base == nil && p.IsPublic(h.clock.Now()) && len(p.Locations) > 0 {
			base = p
		}
		return nil
	})
	p := *base
	p.ID, p.Slug, p.OwnerID, p.ContactEmail = 0, "t-"+strings.Split(email, "@")[0], u.ID, email
	p.DisplayName = "Therapist " + strings.Split(email, "@")[0]
	if err := h.app.DB.CreateProfile(h.ctx, &p); err != nil {
		h.t.Fatal(err)
	}
	h.app.Index.ProfileSaved(&p)
	return u, &p
}

var tokenRe = regexp.MustCompile(`name="token" value="([^"]+)"`)

// enquire fetches the form and sends it; it returns the response.
func (c *client) enquire(slug string, fields map[string]string) response {
	c.h.t.Helper()
	page := c.get("/therapists/" + slug)
	m := tokenRe.FindStringSubmatch(page.body)
	if m == nil {
		c.h.t.Fatalf("no enquiry form on %s: %s", slug, excerpt(page.body))
	}
	form := url.Values{"token": {m[1]}, "name": {"Sam Sender"}, "email": {"sam@example.org"}, "message": {"Hello, I would like to ask about sessions."},
		"consent": {enquiry.ConsentVersion}}
	for k, v := range fields {
		form.Set(k, v)
	}
	return c.post("/therapists/"+slug+"/enquiries", form)
}

// TestEnquiryJourney: a person sends an enquiry with a canary phrase; the
// therapist is notified without content, the sender gets a receipt with an
// erasure link; the therapist reads it (audited), marks it replied, exports
// their data; another therapist cannot see it; the sender erases it. The
// canary appears in no log line, email or other page.
func TestEnquiryJourney(t *testing.T) {
	logs := &syncBuffer{buf: &bytes.Buffer{}}
	h := newHarnessLogs(t, 100, nil, logs)
	ua, pa := h.therapist("alice@example.org")
	ub, _ := h.therapist("bob@example.org")
	const canary = "CANARY-7f3a-panic-attacks-at-work"
	sender := h.client()
	res := sender.enquire(pa.Slug, map[string]string{"message": "I have had " + canary + " for months.", "email": "sender@example.org", "phone": "07700 900123"})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/enquiries/sent?ref=") {
		t.Fatalf("send: %d %s", res.status, excerpt(res.body))
	}
	sent := sender.get(res.header.Get("Location"))
	ref := regexp.MustCompile(`reference is <strong>([A-Z0-9-]+)</strong>`).FindStringSubmatch(sent.body)
	if ref == nil || !strings.Contains(sent.body, pa.DisplayName) {
		t.Fatalf("sent page: %s", excerpt(sent.body))
	}
	notice := h.mail(ua.Email, "You have a new enquiry")
	receipt := h.mail("sender@example.org", "Your enquiry has been sent")
	if !strings.Contains(receipt, ref[1]) || !strings.Contains(receipt, "/enquiries/erase?id=") || !strings.Contains(notice, "/dashboard/enquiries") {
		t.Fatalf("emails:\n%s\n---\n%s", notice, receipt)
	}
	// Message-IDs are the outbox ids.
	es, _ := h.app.DB.EnquiriesFor(h.ctx, pa.ID)
	if len(es) != 1 {
		t.Fatalf("%d enquiries stored", len(es))
	}
	out, _ := h.app.DB.OutboxFor(h.ctx, es[0].ID)
	ids := map[string]bool{}
	for _, m := range h.app.Catcher.Messages() {
		ids[strings.SplitN(m.MessageID, "@", 2)[0]] = true
	}
	for _, o := range out {
		if !ids[o.ID] {
			t.Errorf("outbox message %s was not delivered with its id as Message-ID", o.ID)
		}
	}

	alice, bob := h.client(), h.client()
	alice.signIn(ua.Email, testPassword)
	bob.signIn(ub.Email, testPassword)
	inbox := alice.get("/dashboard/enquiries")
	link := regexp.MustCompile(`/dashboard/enquiries/([a-z0-9]{26})`).FindStringSubmatch(inbox.body)
	if link == nil || !strings.Contains(inbox.body, "Sam Sender") {
		t.Fatalf("inbox: %s", excerpt(inbox.body))
	}
	read := alice.get(link[0])
	if read.status != http.StatusOK || !strings.Contains(read.body, canary) || !strings.Contains(read.body, "mailto:sender@example.org") || read.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("read: %d %s", read.status, excerpt(read.body))
	}
	if res := bob.get(link[0]); res.status != http.StatusNotFound || strings.Contains(res.body, canary) {
		t.Fatalf("another therapist reading it: %d", res.status)
	}
	if res := bob.post(link[0]+"/replied", nil); res.status != http.StatusNotFound {
		t.Fatalf("another therapist marking it: %d", res.status)
	}
	if res := alice.post(link[0]+"/replied", nil); res.status != http.StatusSeeOther {
		t.Fatalf("mark replied: %d", res.status)
	}
	export := alice.get("/dashboard/export")
	var data struct {
		Enquiries []struct {
			Status  string
			Content *enquiry.Content
		}
		Audit []struct{ Action string }
	}
	if err := json.Unmarshal([]byte(export.body), &data); err != nil || len(data.Enquiries) != 1 || data.Enquiries[0].Content == nil ||
		!strings.Contains(data.Enquiries[0].Content.Message, canary) || data.Enquiries[0].Status != "replied" {
		t.Fatalf("export: %v %s", err, export.body[:min(400, len(export.body))])
	}
	var actions []string
	for _, a := range data.Audit {
		actions = append(actions, a.Action)
	}
	if !strings.Contains(strings.Join(actions, ","), "enquiry.read") || !strings.Contains(strings.Join(actions, ","), "enquiry.replied") {
		t.Fatalf("export audit lacks the read: %v", actions)
	}
	// The canary is nowhere but the therapist's own views.
	for _, m := range h.app.Catcher.Messages() {
		if strings.Contains(m.Body+m.Subject, canary) {
			t.Errorf("email %q contains the message", m.Subject)
		}
	}
	// Erasure through the link in the receipt.
	u, _ := url.Parse(linkRe2.FindString(receipt))
	if res := sender.get(u.RequestURI()); res.status != http.StatusOK {
		t.Fatalf("erase page: %d", res.status)
	}
	if res := sender.post("/enquiries/erase", url.Values{"id": {u.Query().Get("id")}, "sig": {"forged"}}); res.status != http.StatusNotFound {
		t.Fatalf("forged erasure: %d", res.status)
	}
	if res := sender.post("/enquiries/erase", url.Values{"id": {u.Query().Get("id")}, "sig": {u.Query().Get("sig")}}); res.status != http.StatusOK {
		t.Fatalf("erase: %d", res.status)
	}
	if es, _ := h.app.DB.EnquiriesFor(h.ctx, pa.ID); len(es) != 0 {
		t.Fatal("erased enquiry still stored")
	}
	if out, _ := h.app.DB.OutboxFor(h.ctx, es[0].ID); len(out) != 0 {
		t.Fatal("erased enquiry's outbox rows remain")
	}
	h.app.Accounts.Wait()
	if strings.Contains(logs.String(), canary) || strings.Contains(logs.String(), "sender@example.org") {
		t.Fatal("the logs contain the message or the sender's address")
	}
}

var linkRe2 = regexp.MustCompile(`https?://\S+/enquiries/erase\?id=[a-z0-9]+&sig=[A-Za-z0-9_-]+`)

// TestEnquiryAbuse: honeypot, minimum fill time, each rate limit (429
// pages, never a fake success) and idempotent resubmission.
func TestEnquiryAbuse(t *testing.T) {
	h := newHarness(t, 100, func(c *config) { c.TrustProxy = true; c.EnquiryMinFill = 3 * time.Second })
	_, p := h.therapist("limits@example.org")
	c := h.client()
	ip := 0
	nextIP := func() { ip++; c.header.Set("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", ip)) }
	count := func() int { es, _ := h.app.DB.EnquiriesFor(h.ctx, p.ID); return len(es) }

	nextIP()
	fast := c.enquire(p.Slug, map[string]string{"message": "Typed quickly, kept safe."})
	if fast.status != http.StatusBadRequest || !strings.Contains(fast.body, "spam check") || count() != 0 {
		t.Fatalf("too fast: %d, %d stored", fast.status, count())
	}
	// Not a dead end: the form comes back filled in, with a fresh token,
	// and the problem is summed up at the top of the page, focused.
	if !strings.Contains(fast.body, ">Typed quickly, kept safe.</textarea>") || tokenRe.FindStringSubmatch(fast.body) == nil ||
		!strings.Contains(fast.body, "send it again") {
		t.Fatalf("too fast: the form is not offered again, filled in:\n%s", excerpt(fast.body))
	}
	if sum, h1 := strings.Index(fast.body, `class="error-summary"`), strings.Index(fast.body, "<h1"); sum < 0 || sum > h1 || !strings.Contains(fast.body, `tabindex="-1" autofocus`) {
		t.Fatalf("too fast: the error summary is not at the top of the page, focused (summary at %d, h1 at %d)", sum, h1)
	}
	h.clock.Advance(4 * time.Second) // the token from that form is now old enough
	nextIP()
	page := c.get("/therapists/" + p.Slug)
	tok := tokenRe.FindStringSubmatch(page.body)[1]
	h.clock.Advance(4 * time.Second)
	form := url.Values{"token": {tok}, "name": {"A"}, "email": {"a@example.org"}, "message": {"Hi"}, "consent": {enquiry.ConsentVersion}, "website": {"http://spam.example"}}
	if res := c.post("/therapists/"+p.Slug+"/enquiries", form); res.status != http.StatusBadRequest || count() != 0 {
		t.Fatalf("honeypot: %d, %d stored", res.status, count())
	}
	form.Del("website")
	first := c.post("/therapists/"+p.Slug+"/enquiries", form)
	again := c.post("/therapists/"+p.Slug+"/enquiries", form) // double click
	if first.status != http.StatusSeeOther || again.header.Get("Location") != first.header.Get("Location") || count() != 1 {
		t.Fatalf("resubmission: %d %q vs %q, %d stored", first.status, first.header.Get("Location"), again.header.Get("Location"), count())
	}
	// Sender limit: 3 a day per address (one sent above).
	send := func(email string) response {
		pg := c.get("/therapists/" + p.Slug)
		h.clock.Advance(4 * time.Second)
		return c.post("/therapists/"+p.Slug+"/enquiries", url.Values{"token": {tokenRe.FindStringSubmatch(pg.body)[1]}, "name": {"A"},
			"email": {email}, "message": {"Hi"}, "consent": {enquiry.ConsentVersion}})
	}
	for i := 0; i < 2; i++ {
		nextIP()
		if res := send("A@example.org"); res.status != http.StatusSeeOther {
			t.Fatalf("sender enquiry %d: %d", i+2, res.status)
		}
	}
	nextIP()
	if res := send("a@example.org"); res.status != http.StatusTooManyRequests || !strings.Contains(res.body, "has not been sent") || res.header.Get("Retry-After") == "" {
		t.Fatalf("4th from one address: %d", res.status)
	}
	// Therapist limit: 20 a day.
	for count() < 20 {
		nextIP()
		if res := send(fmt.Sprintf("s%d@example.org", count())); res.status != http.StatusSeeOther {
			t.Fatalf("enquiry %d: %d %s", count()+1, res.status, excerpt(res.body))
		}
	}
	nextIP()
	if res := send("late@example.org"); res.status != http.StatusTooManyRequests || count() != 20 {
		t.Fatalf("21st to one therapist: %d, %d stored", res.status, count())
	}
	// Address limit: 5 an hour per IPv4 address, per /64 for IPv6.
	_, q := h.therapist("other@example.org")
	for i, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3", "2001:db8:1:2::4", "2001:db8:1:2::5", "2001:db8:1:2::6"} {
		c.header.Set("X-Forwarded-For", addr)
		pg := c.get("/therapists/" + q.Slug)
		h.clock.Advance(4 * time.Second)
		res := c.post("/therapists/"+q.Slug+"/enquiries", url.Values{"token": {tokenRe.FindStringSubmatch(pg.body)[1]}, "name": {"A"},
			"email": {fmt.Sprintf("v6-%d@example.org", i)}, "message": {"Hi"}, "consent": {enquiry.ConsentVersion}})
		if want := i < 5; (res.status == http.StatusSeeOther) != want || (!want && res.status != http.StatusTooManyRequests) {
			t.Fatalf("IPv6 enquiry %d from the same /64: %d", i+1, res.status)
		}
		// The address limit speaks of the network, not an account, and
		// keeps what was typed (issue 13 item 6).
		if i == 5 && (!strings.Contains(res.body, "from this network") || strings.Contains(res.body, "your account") ||
			!strings.Contains(res.body, fmt.Sprintf("v6-%d@example.org", i)) || !strings.Contains(res.body, ">Hi</textarea>") || res.header.Get("Retry-After") == "") {
			t.Fatalf("the address limit page:\n%s", excerpt(res.body))
		}
	}
}

// TestEnquiryFormBoundToContent: a form token is bound to the therapist
// and the words it was first sent with. Sending the same words again is
// the same enquiry; different words with the same token (on a9e286d
// answered with the first enquiry's reference, the new message dropped)
// are refused with the message kept, and send once the form is resent.
func TestEnquiryFormBoundToContent(t *testing.T) {
	h := newHarness(t, 100, func(c *config) { c.TrustProxy = true })
	_, p := h.therapist("bound@example.org")
	_, q := h.therapist("other-bound@example.org")
	c := h.client()
	ip := 0
	c.http.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ip++ // a new address for each request keeps the address limit out of the way
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", ip))
		return http.DefaultTransport.RoundTrip(r)
	})
	count := func(id int64) int { es, _ := h.app.DB.EnquiriesFor(h.ctx, id); return len(es) }
	page := c.get("/therapists/" + p.Slug)
	tok := tokenRe.FindStringSubmatch(page.body)[1]
	h.clock.Advance(4 * time.Second)
	form := func(msg string) url.Values {
		return url.Values{"token": {tok}, "name": {"Robin"}, "email": {"robin@example.org"}, "message": {msg}, "consent": {enquiry.ConsentVersion}}
	}
	first := c.post("/therapists/"+p.Slug+"/enquiries", form("I would like to talk about sleep."))
	same := c.post("/therapists/"+p.Slug+"/enquiries", form("  I would like to talk about sleep.\r\n"))
	if first.status != http.StatusSeeOther || same.header.Get("Location") != first.header.Get("Location") || count(p.ID) != 1 {
		t.Fatalf("the same words again: %d %q vs %q, %d stored", first.status, first.header.Get("Location"), same.header.Get("Location"), count(p.ID))
	}
	tests := []struct {
		name, slug, msg string
	}{
		{"different words, same therapist", p.Slug, "Actually, it is about my work."},
		{"same words, another therapist", q.Slug, "I would like to talk about sleep."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np, nq := count(p.ID), count(q.ID)
			res := c.post("/therapists/"+tt.slug+"/enquiries", form(tt.msg))
			if res.status != http.StatusConflict || !strings.Contains(res.body, "already used") || !strings.Contains(res.body, "has not been sent") ||
				!strings.Contains(res.body, tt.msg+"</textarea>") || res.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("status %d:\n%s", res.status, excerpt(res.body))
			}
			if count(p.ID) != np || count(q.ID) != nq {
				t.Fatalf("the refused message was stored: %d and %d", count(p.ID), count(q.ID))
			}
			// The page carries a fresh token: sending the kept form works.
			m := tokenRe.FindStringSubmatch(res.body)
			if m == nil || m[1] == tok {
				t.Fatalf("no fresh token on the refusal page")
			}
			h.clock.Advance(4 * time.Second)
			again := form(tt.msg)
			again.Set("token", m[1])
			if res := c.post("/therapists/"+tt.slug+"/enquiries", again); res.status != http.StatusSeeOther {
				t.Fatalf("sending the kept message: %d %s", res.status, excerpt(res.body))
			}
		})
	}
}

// TestEnquirySentPage: the "sent" page shows only in the browser that
// sent the enquiry; on a9e286d any reference, made up or another
// person's, was shown as sent.
func TestEnquirySentPage(t *testing.T) {
	h := newHarness(t, 100, nil)
	_, p := h.therapist("sentpage@example.org")
	sender, other := h.client(), h.client()
	res := sender.enquire(p.Slug, nil)
	loc := res.header.Get("Location")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/enquiries/sent?ref=") {
		t.Fatalf("send: %d %q", res.status, loc)
	}
	own := sender.get(loc)
	if own.status != http.StatusOK || !strings.Contains(own.body, "Your enquiry has been sent") {
		t.Fatalf("the sender's own page: %d", own.status)
	}
	if own.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the sender's page (their reference) may be cached: %q", own.header.Get("Cache-Control"))
	}
	ref := strings.TrimPrefix(strings.SplitN(loc, "&", 2)[0], "/enquiries/sent?ref=")
	for _, tc := range []struct {
		name string
		c    *client
		path string
	}{
		{"someone else's reference", other, loc},
		{"a made-up reference", other, "/enquiries/sent?ref=ANY"},
		{"a made-up reference in the sender's browser", sender, "/enquiries/sent?ref=zzzzzzzzzz"},
		{"no reference", sender, "/enquiries/sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.get(tc.path); got.status != http.StatusNotFound || strings.Contains(got.body, "has been sent") || strings.Contains(got.body, ref) {
				t.Fatalf("%s: %d", tc.path, got.status)
			}
		})
	}
	// A forged cookie naming the reference is not believed.
	other.http.Jar.SetCookies(mustURL(h.srv.URL+"/enquiries/sent"), []*http.Cookie{{Name: "confide_sent", Value: ref + ".forged", Path: "/enquiries/sent"}})
	if got := other.get(loc); got.status != http.StatusNotFound {
		t.Fatalf("forged cookie: %d", got.status)
	}
}

// TestNoStoreOnForms: every page with a form that posts (a token, or what
// someone typed) is Cache-Control: no-store; a plain article is not.
func TestNoStoreOnForms(t *testing.T) {
	h := newHarness(t, 100, nil)
	_, p := h.therapist("nostore@example.org")
	c := h.client()
	for _, tc := range []struct {
		path    string
		noStore bool
	}{
		{"/therapists/" + p.Slug, true},
		{"/signin", true},
		{"/signup", true},
		{"/reset", true},
		{"/about", false},
	} {
		res := c.get(tc.path)
		if res.status != http.StatusOK || (res.header.Get("Cache-Control") == "no-store") != tc.noStore {
			t.Errorf("%s: %d, Cache-Control %q", tc.path, res.status, res.header.Get("Cache-Control"))
		}
	}
}

// TestEnquiryPrivacy: a flipped ciphertext byte fails loudly; the key file
// is in neither the database nor a backup.
func TestEnquiryPrivacy(t *testing.T) {
	h := newHarness(t, 50, nil)
	u, p := h.therapist("priv@example.org")
	const canary = "CANARY-private-9d2e"
	if res := h.client().enquire(p.Slug, map[string]string{"message": canary}); res.status != http.StatusSeeOther {
		t.Fatal(res.status)
	}
	es, _ := h.app.DB.EnquiriesFor(h.ctx, p.ID)
	id := es[0].ID
	flipped := bytes.Clone(es[0].Sealed.Ciphertext)
	flipped[40] ^= 1
	blob := fmt.Sprintf(`X'%x'`, flipped)
	if storetest.Engine() == "postgres" {
		blob = fmt.Sprintf(`'\x%x'::bytea`, flipped)
	}
	if err := h.app.DB.ExecForTest(h.ctx, fmt.Sprintf(`UPDATE enquiries SET ciphertext = %s WHERE id = '%s'`, blob, id)); err != nil {
		t.Fatal(err)
	}
	tampered, _ := h.app.DB.EnquiryByID(h.ctx, id)
	if bytes.Equal(tampered.Sealed.Ciphertext, es[0].Sealed.Ciphertext) {
		t.Fatal("the tamper did not change the ciphertext")
	}
	c := h.client()
	c.signIn(u.Email, testPassword)
	res := c.get("/dashboard/enquiries/" + id)
	if res.status != http.StatusInternalServerError || !strings.Contains(res.body, "cannot be opened") || strings.Contains(res.body, canary) {
		t.Fatalf("tampered read: %d %s", res.status, excerpt(res.body))
	}
	if res := c.get("/dashboard/enquiries"); !strings.Contains(res.body, "cannot be decrypted") {
		t.Fatal("inbox does not flag the damaged enquiry")
	}
	if storetest.Engine() == "postgres" {
		return // the file checks below are of the SQLite file and its backup
	}
	// The key is in the key file only.
	h.app.DB.Close()
	dbBytes, _ := os.ReadFile(h.app.DSN)
	wal, _ := os.ReadFile(h.app.DSN + "-wal")
	if h.app.Keys.Contains(dbBytes) || h.app.Keys.Contains(wal) {
		t.Fatal("the master key is inside the database")
	}
	out := filepath.Join(t.TempDir(), "b.db")
	var stdout bytes.Buffer
	if code := run(h.ctx, []string{"backup", "--db", h.app.DSN, "--out", out}, noEnvironment, strings.NewReader(""), &stdout, &stdout); code != 0 {
		t.Fatalf("backup: %s", stdout.String())
	}
	b, _ := os.ReadFile(out)
	if len(b) == 0 || h.app.Keys.Contains(b) || bytes.Contains(b, []byte(canary)) {
		t.Fatal("the backup holds the key or the plaintext")
	}
}

// TestResponsivenessAndReminders: response figures appear once there are
// 5 enquiries in 90 days; unanswered enquiries get one reminder.
func TestResponsivenessAndReminders(t *testing.T) {
	h := newHarness(t, 50, nil)
	u, p := h.therapist("fast@example.org")
	c := h.client()
	c.signIn(u.Email, testPassword)
	for i := range 5 {
		if res := h.client().enquire(p.Slug, map[string]string{"email": fmt.Sprintf("p%d@example.org", i)}); res.status != http.StatusSeeOther {
			t.Fatalf("enquiry %d: %d", i, res.status)
		}
		if i == 3 {
			if res := h.client().get("/therapists/" + p.Slug); strings.Contains(res.body, "Usually replies") {
				t.Fatal("figures shown with only 4 enquiries")
			}
		}
	}
	es, _ := h.app.DB.EnquiriesFor(h.ctx, p.ID)
	// Reply to four: after 1, 2, 2 and 5 days (median 2 days, 80%).
	for i, d := range []int{1, 2, 2, 5} {
		at := es[i].CreatedAt.Add(time.Duration(d) * 24 * time.Hour)
		if err := h.app.DB.SetEnquiryStatus(h.ctx, es[i].ID, enquiry.Replied, at); err != nil {
			t.Fatal(err)
		}
	}
	if res := h.client().get("/therapists/" + p.Slug); !strings.Contains(res.body, "Usually replies within 2 days; replied to 80% of enquiries in the last 90 days.") {
		t.Fatalf("profile lacks response figures: %s", excerpt(res.body))
	}
	h.clock.Advance(4 * 24 * time.Hour)
	// One reminder for each enquiry unanswered for 3 days (this one, and
	// those waiting in the demo therapist's inbox), and never a second.
	demoInbox := h.demoInbox()
	for i, want := range []int{1 + demoInbox, 0} {
		n, err := h.app.Enquiry.RunReminders(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("run %d: %d reminders, want %d (one unanswered enquiry here, %d in the demo inbox)", i+1, n, want, demoInbox)
		}
	}
	if _, err := h.app.Outbox.RunOnce(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.mail(u.Email, "An enquiry is waiting for your reply")
	// Retention deletes enquiries idle for longer than the period.
	h.clock.Advance(370 * 24 * time.Hour)
	if n, err := h.app.Enquiry.RunRetention(h.ctx); err != nil || n != 5+demoInbox {
		t.Fatalf("retention deleted %d (%v), want %d", n, err, 5+demoInbox)
	}
}

// TestEnquiryXSS: what senders write is shown escaped in the therapist's
// inbox and on the enquiry page.
func TestEnquiryXSS(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 30, func(c *config) { c.PerTherapistDay = 1000; c.PerSenderDay = 1000; c.TrustProxy = true })
	u, p := h.therapist("xss-inbox@example.org")
	th := h.client()
	th.signIn(u.Email, testPassword)
	sender := h.client()
	// A refused form comes back with its messages and what was typed.
	res := sender.enquire(p.Slug, map[string]string{"consent": "", "message": "Please keep this text"})
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, "Tick the box") || !strings.Contains(res.body, "Please keep this text") || !strings.Contains(res.body, `href="#enquiry-consent"`) {
		t.Fatalf("refused form: %d %s", res.status, excerpt(res.body))
	}
	for i, payload := range xssPayloads {
		sender.header.Set("X-Forwarded-For", fmt.Sprintf("10.8.%d.1", i))
		name := payload
		if r := []rune(name); len(r) > 90 {
			name = string(r[:90])
		}
		res := sender.enquire(p.Slug, map[string]string{"name": name, "message": fmt.Sprintf("XSSMARK%02d %s", i, payload), "phone": payload})
		assertSafe(t, fmt.Sprintf("payload %d form", i), res)
		if res.status != http.StatusSeeOther {
			// The phone number is refused: the form comes back (checked
			// above), and the rest is sent without it.
			res = sender.enquire(p.Slug, map[string]string{"name": name, "message": fmt.Sprintf("XSSMARK%02d %s", i, payload)})
			if res.status != http.StatusSeeOther {
				t.Fatalf("payload %d: %d %s", i, res.status, excerpt(res.body))
			}
		}
	}
	inbox := th.get("/dashboard/enquiries")
	assertSafe(t, "inbox", inbox)
	ids := regexp.MustCompile(`/dashboard/enquiries/([a-z0-9]{26})`).FindAllStringSubmatch(inbox.body, -1)
	if len(ids) < len(xssPayloads) {
		t.Fatalf("%d enquiries in the inbox", len(ids))
	}
	for _, m := range ids {
		res := th.get(m[0])
		assertSafe(t, m[0], res)
		if !strings.Contains(html.UnescapeString(res.body), "XSSMARK") {
			t.Errorf("%s does not show the message", m[0])
		}
	}
}

// TestKeyRotation: `confide keys rotate` adds a key and re-wraps every
// enquiry's data key; everything still opens.
func TestKeyRotation(t *testing.T) {
	h := newHarness(t, 30, nil)
	_, p := h.therapist("rotate@example.org")
	for i := range 3 {
		if res := h.client().enquire(p.Slug, map[string]string{"email": fmt.Sprintf("r%d@example.org", i)}); res.status != http.StatusSeeOther {
			t.Fatal(res.status)
		}
	}
	var out bytes.Buffer
	want := fmt.Sprintf("new key k2 is current; re-wrapped %d enquiries", 3+h.demoInbox())
	if code := run(h.ctx, []string{"keys", "rotate", "--db", h.app.DSN, "--key-file", h.app.KeyPath}, noEnvironment, strings.NewReader(""), &out, &out); code != 0 ||
		!strings.Contains(out.String(), want) {
		t.Fatalf("rotate: %d %s", code, out.String())
	}
	kr, err := enquiry.LoadKeyring(h.app.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	es, _ := h.app.DB.EnquiriesFor(h.ctx, p.ID)
	for _, e := range es {
		if e.Sealed.KeyID != "k2" {
			t.Fatalf("enquiry %s still wrapped by %s", e.ID, e.Sealed.KeyID)
		}
		if _, err := kr.Open(e.ID, e.Sealed); err != nil {
			t.Fatal(err)
		}
	}
	if fi, _ := os.Stat(h.app.KeyPath); fi.Mode().Perm() != 0o400 {
		t.Fatalf("key file mode %v after rotation", fi.Mode().Perm())
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestEnquiryKeepsTheSearch: a profile reached from results keeps its
// "Back to results" link after a refused enquiry: the form carries the
// results page's query.
func TestEnquiryKeepsTheSearch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 30, nil)
	_, p := h.therapist("keeps-search@example.org")
	c := h.client()
	from := url.Values{"from": {"near=Gosport&issue=anxiety&page=2"}}.Encode()
	page := c.get("/therapists/" + p.Slug + "?" + from)
	// html/template writes percent escapes in lower case.
	action := `action="/therapists/` + p.Slug + `/enquiries?` + strings.ToLower(from[:5]) + from[5:] + `"`
	if !strings.Contains(page.body, "Back to results") || !strings.Contains(strings.ToLower(page.body), strings.ToLower(action)) {
		t.Fatalf("the profile from results: no back link or the form does not carry the search (want %s)", action)
	}
	tok := tokenRe.FindStringSubmatch(page.body)[1]
	res := c.post("/therapists/"+p.Slug+"/enquiries?"+from, url.Values{"token": {tok}, "name": {"Sam"}, "email": {"sam@example.org"}, "message": {"Hello"}})
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, "Back to results") || !strings.Contains(res.body, `href="/search?`) {
		t.Fatalf("after a refused enquiry: %d, back link kept: %v", res.status, strings.Contains(res.body, "Back to results"))
	}
}
