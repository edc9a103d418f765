package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/search"
)

var tagRe = regexp.MustCompile(`<[^>]*>`)

var ldRe = regexp.MustCompile(`(?s)<script type="application/ld\+json" nonce="[0-9a-f]+">(.*?)</script>`)

// jsonLD returns the JSON-LD documents of a page.
func jsonLD(t *testing.T, body string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range ldRe.FindAllStringSubmatch(body, -1) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(m[1]), &doc); err != nil {
			t.Fatalf("JSON-LD does not parse: %v\n%s", err, m[1])
		}
		out = append(out, doc)
	}
	return out
}

func str(v any, path ...string) string {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// TestDemoArticles renders every sample article as served by --demo and
// checks what the model page must show, the "find a therapist" count
// against the index, and the JSON-LD.
func TestDemoArticles(t *testing.T) {
	// No scheduled jobs: a review reminder sent, or a verification check
	// applied, between fetching a page and reading the store would make
	// the page and the store disagree about what had happened (a loaded
	// -race run hit exactly that).
	h := newHarness(t, 400, func(c *config) { c.JobsInterval = 0 })
	if _, err := h.app.Syncer.Step(h.ctx); err != nil {
		t.Fatal(err)
	}
	arts, err := demo.Articles()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]demo.DemoArticle{}
	for _, a := range arts {
		names[a.Slug] = *a
	}
	c := h.client()
	for _, d := range arts {
		t.Run(d.Slug, func(t *testing.T) {
			a, err := h.app.DB.ArticleBySlug(h.ctx, d.Kind, d.Slug)
			if err != nil {
				t.Fatal(err)
			}
			if d.State == content.InReview {
				// Waiting for the panel: stored, in review, not online.
				if res := c.get(d.Kind.Path() + d.Slug); a.State != content.InReview || res.status != http.StatusNotFound {
					t.Fatalf("article waiting for review: state %s, page %d", a.State, res.status)
				}
				return
			}
			res := c.get(d.Kind.Path() + d.Slug)
			if res.status != http.StatusOK {
				t.Fatalf("status %d", res.status)
			}
			text := html.UnescapeString(tagRe.ReplaceAllString(res.body, ""))
			author, _ := h.app.DB.ContributorByID(h.ctx, a.Live.AuthorID)
			reviewer, _ := h.app.DB.ContributorByID(h.ctx, a.Live.ReviewerID)
			want := []string{d.Revision.Title, "Written by", author.Name, author.Credentials, "Reviewed by", reviewer.Name, reviewer.Credentials,
				"Last updated " + a.UpdatedAt.Format("2 January 2006"), "Next update due " + a.Live.NextReviewDue.Format("2 January 2006"),
				"Questions people ask", "Sources", "Our expert panel", "Search for a counsellor"}
			for _, f := range d.Revision.FAQs {
				want = append(want, f.Question)
			}
			for _, s := range d.Revision.Sources {
				want = append(want, s.Title)
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Count(res.body, `<details class="faq">`) != len(d.Revision.FAQs) {
				t.Errorf("FAQs are not all expandable questions")
			}
			// The count is the index's own, for the article's term.
			q := search.NewQuery(h.clock.Now())
			if d.Kind == content.KindIssue {
				q.Issues = []string{d.Term}
			} else {
				q.Approaches = []string{d.Term}
			}
			n := h.app.Index.Search(q).Total
			if !strings.Contains(text, fmt.Sprintf("%s verified", fmtCount(n))) || !strings.Contains(text, "Find a therapist dealing with") {
				t.Errorf("find-a-therapist block lacks the count %d", n)
			}
			if overdue := a.ReviewOverdue(h.clock.Now()); overdue != strings.Contains(text, "This page is due for review") {
				t.Errorf("overdue %v but notice shown %v", overdue, !overdue)
			}
			if told, err := h.app.Content.EditorsTold(h.ctx, a, a.Live); err != nil || told != strings.Contains(text, "our editors have been told") {
				t.Errorf("editors told %v (%v), but the page says so: %v", told, err, !told)
			}
			docs := jsonLD(t, res.body)
			if len(docs) != 2 {
				t.Fatalf("%d JSON-LD documents, want MedicalWebPage and FAQPage", len(docs))
			}
			page, faq := docs[0], docs[1]
			if page["@type"] != "MedicalWebPage" || str(page, "author", "name") != author.Name || str(page, "reviewedBy", "name") != reviewer.Name ||
				str(page, "lastReviewed") != a.Live.ReviewedAt.Format(time.DateOnly) || str(page, "datePublished") == "" || str(page, "dateModified") == "" {
				t.Errorf("MedicalWebPage %v", page)
			}
			if cites, _ := page["citation"].([]any); len(cites) != len(d.Revision.Sources) {
				t.Errorf("%d citations, want %d", len(cites), len(d.Revision.Sources))
			}
			wantAbout := "PsychologicalTreatment"
			if d.Kind == content.KindIssue {
				wantAbout = "MedicalCondition"
			}
			if str(page, "about", "@type") != wantAbout {
				t.Errorf("about %v", page["about"])
			}
			if d.Slug == "psychodynamic-therapy" && str(page, "about", "code", "codeValue") != "314034001" {
				t.Errorf("psychodynamic therapy lacks its SNOMED CT code: %v", page["about"])
			}
			if qs, _ := faq["mainEntity"].([]any); faq["@type"] != "FAQPage" || len(qs) != len(d.Revision.FAQs) || str(qs[0], "acceptedAnswer", "@type") != "Answer" {
				t.Errorf("FAQPage %v", faq)
			}
		})
	}
	// The index pages link terms to their articles; the panel lists reviews.
	// The heading is the article; the search is a link of its own.
	for _, tc := range []struct{ path, heading, find string }{
		{"/therapies", `<h2><a href="/therapies/psychodynamic-therapy">Psychodynamic therapy</a></h2>`, `<a href="/search?approach=psychodynamic">Find a therapist who offers Psychodynamic therapy</a>`},
		{"/issues", `<h2><a href="/issues/loneliness">Persistent loneliness</a></h2>`, `<a href="/search?issue=loneliness">Find a therapist who works with Persistent loneliness</a>`},
		{"/issues", `<h2>Bereavement</h2>`, `<a href="/search?issue=bereavement">`}, // its article is still in review
	} {
		if res := c.get(tc.path); !strings.Contains(res.body, tc.heading) || !strings.Contains(res.body, tc.find) {
			t.Errorf("%s lacks %s or %s", tc.path, tc.heading, tc.find)
		}
	}
	if res := c.get("/panel"); !strings.Contains(res.body, "Dr Helen Marsh") || !strings.Contains(res.body, `href="/therapies/psychodynamic-therapy"`) {
		t.Error("panel page lacks a member or the articles they reviewed")
	}
}

func fmtCount(n int) string {
	s := fmt.Sprint(n)
	if n >= 1000 {
		s = s[:len(s)-3] + "," + s[len(s)-3:]
	}
	return s
}

// TestProfileJSONLD: a public profile describes its therapist for search
// engines, with the verified membership as a credential.
func TestProfileJSONLD(t *testing.T) {
	h := newHarness(t, 100, nil)
	var p *directory.Profile
	h.app.DB.EachProfile(h.ctx, func(x *directory.Profile) error {
		if p == nil && x.IsPublic(h.clock.Now()) && len(x.Approaches) > 0 {
			p = x
		}
		return nil
	})
	docs := jsonLD(t, h.client().get("/therapists/"+p.Slug).body)
	if len(docs) != 1 || docs[0]["@type"] != "ProfilePage" {
		t.Fatalf("docs %v", docs)
	}
	person, _ := docs[0]["mainEntity"].(map[string]any)
	creds, _ := person["hasCredential"].([]any)
	members, _ := person["memberOf"].([]any)
	knows, _ := person["knowsAbout"].([]any)
	if person["@type"] != "Person" || person["name"] != p.DisplayName || len(creds) != len(p.Memberships) ||
		str(creds[0], "identifier") != p.Memberships[0].Number || len(members) != len(p.Memberships) || len(knows) != len(p.Approaches)+len(p.Issues) {
		t.Fatalf("Person %v", person)
	}
}

// TestSitemapFeedRobots: the sitemap lists every public article and
// profile, the feed is Atom, robots.txt points at the sitemap.
func TestSitemapFeedRobots(t *testing.T) {
	h := newHarness(t, 300, nil)
	c := h.client()
	res := c.get("/sitemap.xml")
	var set struct {
		XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(res.body), &set); err != nil {
		t.Fatalf("sitemap: %v", err)
	}
	locs := map[string]bool{}
	for _, u := range set.URLs {
		locs[u.Loc] = true
	}
	arts, _ := h.app.DB.Articles(h.ctx)
	public := 0
	for _, a := range arts {
		if a.IsPublic() {
			public++
			if !locs[h.srv.URL+a.Kind.Path()+a.Slug] {
				t.Errorf("sitemap lacks %s", a.Slug)
			}
		}
	}
	profiles := 0
	h.app.DB.EachProfile(h.ctx, func(p *directory.Profile) error {
		if p.IsPublic(h.clock.Now()) {
			profiles++
			if !locs[h.srv.URL+"/therapists/"+p.Slug] {
				t.Errorf("sitemap lacks profile %s", p.Slug)
			}
		} else if locs[h.srv.URL+"/therapists/"+p.Slug] {
			t.Errorf("sitemap lists hidden profile %s", p.Slug)
		}
		return nil
	})
	if public < 11 || profiles != h.app.Index.Len() {
		t.Fatalf("%d public articles, %d profiles (index has %d)", public, profiles, h.app.Index.Len())
	}

	res = c.get("/feed.atom")
	var feed struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		Title   string   `xml:"title"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Entries []struct {
			Title   string `xml:"title"`
			ID      string `xml:"id"`
			Updated string `xml:"updated"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Author struct {
				Name string `xml:"name"`
			} `xml:"author"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(res.body), &feed); err != nil || !strings.HasPrefix(res.header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed: %v (%s)", err, res.header.Get("Content-Type"))
	}
	if len(feed.Entries) != public || feed.Title == "" || feed.ID == "" {
		t.Fatalf("feed has %d entries, want %d", len(feed.Entries), public)
	}
	for i, e := range feed.Entries {
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.ID == "" || e.Author.Name == "" || !strings.HasPrefix(e.Link.Href, h.srv.URL) {
			t.Errorf("entry %+v", e)
		}
		if i > 0 && e.Updated > feed.Entries[i-1].Updated {
			t.Error("feed is not newest first")
		}
	}
	if res := c.get("/robots.txt"); !strings.Contains(res.body, "Sitemap: "+h.srv.URL+"/sitemap.xml") || !strings.Contains(res.body, "Disallow: /staff") {
		t.Fatalf("robots.txt: %s", res.body)
	}
}

// TestEditorialWorkflowOverHTTP: an editor's change to a published page
// leaves the live page alone until a panel member approves it and an
// editor publishes it; the history and diff show the change.
func TestEditorialWorkflowOverHTTP(t *testing.T) {
	h := newHarness(t, 50, nil)
	editorU := h.user("editor@example.org", testPassword, account.Editor)
	reviewerU := h.user("reviewer@example.org", testPassword, account.Reviewer)
	ed, rv := h.client(), h.client()
	ed.signIn(editorU.Email, testPassword)
	rv.signIn(reviewerU.Email, testPassword)
	// The reviewer joins the panel through the editors' page.
	if res := ed.post("/staff/contributors", url.Values{"name": {"Rosa Reviewer"}, "credentials": {"UKCP registered"}, "email": {reviewerU.Email}, "panel": {"yes"}}); res.status != http.StatusSeeOther {
		t.Fatalf("add panel member: %d %s", res.status, excerpt(res.body))
	}
	a, _ := h.app.DB.ArticleBySlug(h.ctx, content.KindTherapy, "psychodynamic-therapy")
	id := itoa(a.ID)
	form := url.Values{}
	for k, v := range map[string]string{"title": a.Live.Title, "summary": a.Live.Summary, "body": a.Live.Body + "\n\n## A new section\n\nFreshly written.",
		"faqs": content.FormatFAQs(a.Live.FAQs), "sources": content.FormatSources(a.Live.Sources), "term": "psychodynamic",
		"funding": a.Live.Funding, "author_id": itoa(a.Live.AuthorID)} {
		form.Set(k, v)
	}
	if res := ed.post("/staff/articles/"+id, form); res.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.status, excerpt(res.body))
	}
	live := func() string { return h.client().get("/therapies/psychodynamic-therapy").body }
	if strings.Contains(live(), "Freshly written") {
		t.Fatal("the draft is live before review")
	}
	if res := ed.get("/staff/articles/" + id + "/diff"); !strings.Contains(res.body, "<ins>+ ## A new section</ins>") || !strings.Contains(res.body, "version 1 to version 2") {
		t.Fatalf("diff: %s", excerpt(res.body))
	}
	if res := ed.post("/staff/articles/"+id+"/publish", nil); res.status != http.StatusBadRequest || !strings.Contains(res.body, "must sign this version off") {
		t.Fatalf("publishing a draft: %d", res.status)
	}
	ed.post("/staff/articles/"+id+"/submit", nil)
	if res := rv.post("/staff/articles/"+id+"/review", url.Values{"decision": {"approve"}, "comment": {"Checked."}, "next_review_due": {"2031-01-01"}}); res.status != http.StatusBadRequest ||
		!strings.Contains(res.body, "at most three years") {
		t.Fatalf("review too far ahead: %d", res.status)
	}
	if strings.Contains(live(), "Freshly written") {
		t.Fatal("the draft went live during review")
	}
	if res := rv.post("/staff/articles/"+id+"/review", url.Values{"decision": {"approve"}, "comment": {"Checked the new section."}}); res.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.status, excerpt(res.body))
	}
	if res := ed.post("/staff/articles/"+id+"/publish", nil); res.status != http.StatusSeeOther {
		t.Fatalf("publish: %d", res.status)
	}
	page := live()
	if !strings.Contains(page, "Freshly written") || !strings.Contains(page, "Rosa Reviewer") || !strings.Contains(page, `href="#a-new-section"`) {
		t.Fatal("the approved version is not live with its reviewer and contents entry")
	}
	if res := ed.get("/staff/articles/" + id); !strings.Contains(res.body, "Live version</dt><dd>2") {
		t.Fatalf("history: %s", excerpt(res.body))
	}
}

// TestArticleXSS sends the payload list through every article and
// contributor field and checks every page that shows them.
func TestArticleXSS(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 20, nil)
	editorU := h.user("editor@example.org", testPassword, account.Editor)
	reviewerU := h.user("reviewer@example.org", testPassword, account.Reviewer)
	ed, rv := h.client(), h.client()
	ed.signIn(editorU.Email, testPassword)
	rv.signIn(reviewerU.Email, testPassword)
	if res := ed.post("/staff/contributors", url.Values{"name": {"Safe Reviewer"}, "credentials": {"UKCP"}, "email": {reviewerU.Email}, "panel": {"yes"}}); res.status != http.StatusSeeOther {
		t.Fatal(res.status)
	}
	shown := 0
	for i, p := range xssPayloads {
		marker := fmt.Sprintf("XSSMARK%02d", i)
		// A contributor with the payload in every field.
		if res := ed.post("/staff/contributors", url.Values{"name": {"Author " + marker + " " + p}, "credentials": {"Cred " + marker + " " + p},
			"bio": {"Bio " + marker + " " + p}, "panel": {"yes"}}); res.status != http.StatusSeeOther {
			assertSafe(t, fmt.Sprintf("payload %d contributor form", i), res)
			continue
		}
		cs, _ := h.app.DB.Contributors(h.ctx)
		var author int64
		for _, c := range cs {
			if strings.Contains(c.Name, marker) {
				author = c.ID
			}
		}
		form := url.Values{"kind": {"guide"}, "slug": {fmt.Sprintf("xss-%d", i)}, "title": {"Title " + marker + " " + p},
			"summary": {"Summary " + marker + " " + p + " long enough"}, "body": {"## Section " + marker + "\n\n" + p + "\n\n" + p},
			"faqs": {"Q: Question " + marker + " " + p + "\nA: Answer " + p}, "sources": {"Source " + marker + " " + strings.ReplaceAll(p, "|", "/") + " | Publisher " + p + " | 2020"},
			"funding": {"Funding " + marker + " " + p}, "author_id": {itoa(author)}}
		res := ed.post("/staff/articles", form)
		assertSafe(t, fmt.Sprintf("payload %d save", i), res)
		a, err := h.app.DB.ArticleBySlug(h.ctx, content.KindGuide, fmt.Sprintf("xss-%d", i))
		if err != nil {
			// Refused input is redisplayed (checked above); try the
			// same payload without the fields that refused it.
			form.Set("sources", "Source "+marker+" | Publisher | 2020")
			form.Set("faqs", "Q: Question "+marker+"\nA: Answer")
			if res := ed.post("/staff/articles", form); res.status != http.StatusSeeOther {
				assertSafe(t, fmt.Sprintf("payload %d retry", i), res)
				continue
			}
			if a, err = h.app.DB.ArticleBySlug(h.ctx, content.KindGuide, fmt.Sprintf("xss-%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		id := itoa(a.ID)
		ed.post("/staff/articles/"+id+"/submit", nil)
		if res := rv.post("/staff/articles/"+id+"/review", url.Values{"decision": {"approve"}, "comment": {"Comment " + marker + " " + p}}); res.status != http.StatusSeeOther {
			t.Fatalf("payload %d: review %d %s", i, res.status, excerpt(res.body))
		}
		if res := ed.post("/staff/articles/"+id+"/publish", nil); res.status != http.StatusSeeOther {
			t.Fatalf("payload %d: publish %d", i, res.status)
		}
		for path, cl := range map[string]*client{
			"/guides/xss-" + fmt.Sprint(i): h.client(), "/guides": h.client(), "/panel": h.client(),
			"/staff/articles": ed, "/staff/articles/" + id: ed, "/staff/articles/" + id + "/preview": rv,
			"/staff/articles/" + id + "/diff?from=1&to=1": ed, "/staff/contributors": ed,
		} {
			res := cl.get(path)
			assertSafe(t, fmt.Sprintf("payload %d on %s", i, path), res)
			if strings.Contains(html.UnescapeString(res.body), marker) {
				shown++
			}
		}
		for _, path := range []string{"/feed.atom", "/sitemap.xml"} {
			res := h.client().get(path)
			if err := xml.Unmarshal([]byte(res.body), new(struct{})); err != nil || strings.Contains(res.body, "<script") {
				t.Errorf("payload %d breaks %s: %v", i, path, err)
			}
		}
	}
	if shown < len(xssPayloads)*6 {
		t.Fatalf("markers shown only %d times", shown)
	}
	t.Logf("%d payloads, markers found on %d page views", len(xssPayloads), shown)
}

// TestOverdueNoticeIsHonest: an overdue article says "our editors have
// been told" only once an editor exists and the reminder was queued; on
// a9e286d it said so with no editor at all.
func TestOverdueNoticeIsHonest(t *testing.T) {
	// No scheduled jobs: the test runs the reminders itself. With the
	// runner on, its first tick could read the editors before the demo
	// staff account is disabled and claim the reminder after the table
	// is cleared, so editor-honest was never told (seen under -race).
	h := newHarness(t, 0, func(c *config) { c.JobsInterval = 0 })
	articles, err := h.app.DB.Articles(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var path string
	for _, a := range articles {
		if a.IsPublic() && a.ReviewOverdue(h.clock.Now()) {
			path = a.Kind.Path() + a.Slug
		}
	}
	if path == "" {
		t.Fatal("the demo content has no overdue article")
	}
	// The demo's staff account is an editor and may have been told
	// already: take it out, and forget what it was told.
	staff, err := h.app.DB.UserByEmail(h.ctx, "demo.staff@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.app.DB.SetDisabled(h.ctx, staff.ID, true, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.app.DB.ExecForTest(h.ctx, `DELETE FROM article_review_reminders`); err != nil {
		t.Fatal(err)
	}
	page := h.client().get(path)
	if !strings.Contains(page.body, "This page is due for review") || strings.Contains(page.body, "editors have been told") {
		t.Fatalf("no editor yet: %d %s", page.status, excerpt(page.body))
	}
	h.user("editor-honest@example.org", testPassword, account.Editor)
	if _, err := h.app.Content.RunReviewReminders(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.mail("editor-honest@example.org", "Overdue for review")
	if page := h.client().get(path); !strings.Contains(page.body, "our editors have been told") {
		t.Fatalf("after the reminder was queued: %s", excerpt(page.body))
	}
}
