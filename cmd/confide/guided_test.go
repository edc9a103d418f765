package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/store/storetest"
)

// TestGuidedPrivacy walks the guided path through the whole app, over
// real HTTP, with canary answers, then looks for them where answers must
// never be: any log line (the server logs at debug level here), any row of
// any database table, and any email the site sent.
func TestGuidedPrivacy(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{buf: &bytes.Buffer{}}
	h := newHarnessLogs(t, 60, nil, logs)
	c := h.client()
	const canary = "CANARY-g17-Wolverhampton-ish"

	if res := c.get("/find/guided"); res.status != http.StatusOK || !strings.Contains(res.body, "Are you in danger") {
		t.Fatalf("start: %d", res.status)
	}
	// Every step, going forwards, back, for help and to the results, with
	// the canary carried as the place and every other answer given.
	answers := url.Values{"safety": {"no"}, "issue": {"ocd", "sexual-issues"}, "issue_other": {"true"}, "who": {"couple"}, "want": {"past", "tools"},
		"length": {"short"}, "format": {"online"}, "near": {canary}, "max_fee": {"45"}, "concessions": {"true"}, "language": {"cy"}}
	actions := []string{"next", "back", "help", "skip", "resume"}
	for _, step := range []string{"safety", "issues", "who", "want", "length", "format", "budget", "language", "check"} {
		for _, action := range actions {
			form := url.Values{"step": {step}, "go": {action}}
			for k, v := range answers {
				form[k] = v
			}
			if res := c.post("/find/guided", form); res.status != http.StatusOK {
				t.Fatalf("%s %s: status %d", step, action, res.status)
			}
		}
	}
	form := url.Values{"step": {"check"}, "go": {"results"}}
	for k, v := range answers {
		form[k] = v
	}
	res := c.post("/find/guided", form)
	if res.status != http.StatusOK || !strings.Contains(res.body, "Therapies that might suit you") || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("results: status %d, Cache-Control %q", res.status, res.header.Get("Cache-Control"))
	}
	if strings.Contains(res.body, "near="+url.QueryEscape(canary)) {
		t.Error("a place the search cannot read went into the search links")
	}
	// A person then follows a suggestion's search: only its filters travel.
	if res := c.get("/search?approach=cbt&issue=ocd&format=online"); res.status != http.StatusOK {
		t.Fatalf("search: %d", res.status)
	}
	// The same answers through the API: refused for the place, then
	// answered without it.
	for body, want := range map[string]int{
		`{"issues":["ocd"],"who":"couple","wants":["past"],"near":"` + canary + `"}`:                                                                                                              http.StatusBadRequest,
		`{"issues":["ocd","sexual-issues"],"issue_other":true,"who":"couple","wants":["past","tools"],"length":"short","formats":["online"],"max_fee_gbp":45,"concessions":true,"language":"cy"}`: http.StatusOK,
	} {
		res, err := http.Post(h.srv.URL+"/api/v1/guided", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || strings.Contains(string(b), canary) {
			t.Fatalf("POST /api/v1/guided: %d (want %d) %s", res.StatusCode, want, b)
		}
	}
	h.app.Accounts.Wait()

	if strings.Contains(logs.String(), canary) {
		t.Error("a log line contains an answer")
	}
	for _, encoded := range []string{"issue_other", "want=past", "who=couple"} {
		if strings.Contains(logs.String(), encoded) {
			t.Errorf("the logs contain %q: a form body or address with answers was logged", encoded)
		}
	}
	for _, m := range h.app.Catcher.Messages() {
		if strings.Contains(m.Subject+m.Body, canary) {
			t.Errorf("email %q contains an answer", m.Subject)
		}
	}
	tablesQuery := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if storetest.Postgres() != "" {
		tablesQuery = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	tables, err := h.app.DB.QueryForTest(h.ctx, tablesQuery)
	if err != nil || len(tables) < 5 {
		t.Fatalf("list tables: %d, %v", len(tables), err)
	}
	for _, tbl := range tables {
		rows, err := h.app.DB.QueryForTest(h.ctx, `SELECT * FROM "`+tbl[0]+`"`)
		if err != nil {
			t.Fatalf("read %s: %v", tbl[0], err)
		}
		for _, row := range rows {
			if strings.Contains(strings.Join(row, "\x00"), canary) {
				t.Errorf("table %s holds an answer", tbl[0])
				break
			}
		}
	}
}

// TestGuidedLinkedFromArticles: a therapy article offers the path.
func TestGuidedLinkedFromArticles(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 20, nil)
	res := h.client().get("/therapies/psychodynamic-therapy")
	if res.status != http.StatusOK {
		t.Fatalf("the model article: status %d", res.status)
	}
	if !strings.Contains(res.body, `href="/find/guided"`) {
		t.Error("the therapy article does not link to the guided path")
	}
}

// TestGuidedRulesThroughWorkflow: the rule set is content. An editor
// publishes changed rules as the rules article; until a different reviewer
// signs them off and they are published, the path keeps the rules it had;
// once published, the path uses them with the reviewer and dates the
// workflow recorded; past that review date, the path refuses them.
func TestGuidedRulesThroughWorkflow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 30, nil)
	editorU := h.user("rules-editor@example.org", testPassword, account.Editor)
	reviewerU := h.user("rules-reviewer@example.org", testPassword, account.Reviewer)
	ed, rv, seeker := h.client(), h.client(), h.client()
	ed.signIn(editorU.Email, testPassword)
	rv.signIn(reviewerU.Email, testPassword)
	if res := ed.post("/staff/contributors", url.Values{"name": {"Rosa Rules-Reviewer"}, "credentials": {"Clinical psychologist, HCPC registered"}, "email": {reviewerU.Email}, "panel": {"yes"}}); res.status != http.StatusSeeOther {
		t.Fatalf("add the reviewer: %d %s", res.status, excerpt(res.body))
	}
	cs, err := h.app.DB.Contributors(h.ctx)
	if err != nil || len(cs) == 0 {
		t.Fatalf("contributors: %v", err)
	}
	const revised = "REVISED-g17: psychodynamic therapy, as our reviewer now puts it, looks at old patterns."
	body := strings.Replace(guided.ArticleBody(), "You said you would like to understand patterns from your past: psychodynamic therapy focuses on how earlier experiences and relationships shape how you feel and act now.", revised, 1)
	if body == guided.ArticleBody() {
		t.Fatal("the reason to revise is not in the rules")
	}
	res := ed.post("/staff/articles", url.Values{"kind": {"guide"}, "slug": {guided.ArticleSlug}, "title": {"Rules for the guided suggestions"},
		"summary": {"The rules that turn the guided questions' answers into suggestions."}, "body": {body},
		"sources": {"Depression in adults: treatment and management (NG222) | National Institute for Health and Care Excellence | 2022 | https://www.nice.org.uk/guidance/ng222"},
		"funding": {"None."}, "author_id": {itoa(cs[0].ID)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("save the rules article: %d %s", res.status, excerpt(res.body))
	}
	id := strings.TrimPrefix(res.header.Get("Location"), "/staff/articles/")
	results := func() string {
		return seeker.post("/find/guided", url.Values{"step": {"check"}, "want": {"past"}, "go": {"results"}}).body
	}
	if page := results(); strings.Contains(page, "REVISED-g17") || !strings.Contains(page, "Psychodynamic therapy") {
		t.Fatal("unreviewed rules are in use, or the shipped ones are not")
	}
	if res := ed.post("/staff/articles/"+id+"/submit", nil); res.status != http.StatusSeeOther {
		t.Fatalf("submit: %d", res.status)
	}
	due := h.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	if res := rv.post("/staff/articles/"+id+"/review", url.Values{"decision": {"approve"}, "comment": {"Checked against NG222."}, "next_review_due": {due}}); res.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.status, excerpt(res.body))
	}
	if strings.Contains(results(), "REVISED-g17") {
		t.Fatal("approved but unpublished rules are in use")
	}
	if res := ed.post("/staff/articles/"+id+"/publish", nil); res.status != http.StatusSeeOther {
		t.Fatalf("publish: %d", res.status)
	}
	if page := results(); !strings.Contains(page, "REVISED-g17") {
		t.Fatal("the published rules are not used")
	}
	how := seeker.get("/find/guided/how").body
	for _, want := range []string{"Rosa Rules-Reviewer", "Clinical psychologist, HCPC registered", "revision 1 of the rules article", cs[0].Name, "REVISED-g17"} {
		if !strings.Contains(how, want) {
			t.Errorf("the how page lacks %q", want)
		}
	}
	// A year on, the review is due: the path refuses the rules.
	h.clock.Advance(366 * 24 * time.Hour)
	if page := results(); strings.Contains(page, "REVISED-g17") || !strings.Contains(page, "were due to be checked again") {
		t.Error("overdue rules are still used")
	}
}
