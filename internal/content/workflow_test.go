package content_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/mail"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
	"github.com/confide-org/confide/internal/taxonomy"
)

type world struct {
	svc                                *content.Service
	db                                 *store.DB
	catcher                            *mail.Catcher
	now                                time.Time
	author                             content.Contributor // linked to the editor's account
	reviewer                           content.Contributor // panel member linked to the reviewer's account
	editorID, reviewerID, authorUserID int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := storetest.Open(t)
	c, err := mail.StartCatcher("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sender, err := mail.NewSMTP(mail.Config{Host: c.Host(), Port: c.Port(), TLS: mail.TLSNone, From: "no-reply@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, catcher: c, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.svc = &content.Service{Tx: db, Store: db, Terms: content.TaxonomyTerms{Tax: taxonomy.MustLoad()}, Mail: sender, Audit: audit.NewLog(db, storetest.AuditKey(t), clock), Now: clock, Log: log, BaseURL: "http://127.0.0.1"}
	users := map[string]*int64{"editor@example.org": &w.editorID, "reviewer@example.org": &w.reviewerID, "author@example.org": &w.authorUserID}
	for email, id := range users {
		roles := []account.Role{account.Editor}
		if strings.HasPrefix(email, "reviewer") || strings.HasPrefix(email, "author") {
			roles = []account.Role{account.Reviewer}
		}
		u := &account.User{Email: email, Roles: roles, CreatedAt: w.now, UpdatedAt: w.now}
		if err := db.CreateUser(ctx, u, nil); err != nil {
			t.Fatal(err)
		}
		*id = u.ID
	}
	// The author is also on the panel (and may review others' work).
	w.author = content.Contributor{Name: "Ada Author", Credentials: "UKCP", UserID: w.authorUserID, Panel: true}
	w.reviewer = content.Contributor{Name: "Rex Reviewer", Credentials: "BPC", UserID: w.reviewerID, Panel: true}
	for _, c := range []*content.Contributor{&w.author, &w.reviewer} {
		if err := w.svc.SaveContributor(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *world) input(title string) content.Input {
	return content.Input{Kind: "therapy", Title: title, Summary: "A summary long enough to be useful to readers.",
		Body: "## What it is\n\nLine one.\nLine two.\n", FAQs: "Q: Does it help?\nA: Often.", Sources: "A Book | A Publisher | 2000",
		Term: "psychodynamic", AuthorID: w.author.ID, Funding: "None."}
}

// published takes a new article through the whole workflow.
func (w *world) published(t *testing.T, title string) *content.Article {
	t.Helper()
	ctx := context.Background()
	a, err := w.svc.Save(ctx, w.editorID, 0, w.input(title))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return w.svc.SubmitForReview(ctx, a.ID) },
		func() error { return w.svc.Review(ctx, w.reviewerID, a.ID, true, "Checked.", "") },
		func() error { return w.svc.Publish(ctx, a.ID) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	a, _ = w.db.ArticleByID(ctx, a.ID)
	return a
}

func fieldErr(t *testing.T, err error, field, contains string) {
	t.Helper()
	var fe content.FieldErrors
	if !errors.As(err, &fe) || !strings.Contains(fe[field], contains) {
		t.Fatalf("error %v, want a %q message containing %q", err, field, contains)
	}
}

func TestHappyPathAndDefaults(t *testing.T) {
	w := newWorld(t)
	a := w.published(t, "Psychodynamic therapy")
	if a.State != content.Published || a.LiveID != a.HeadID || a.Live.ReviewerID != w.reviewer.ID || a.Slug != "psychodynamic-therapy" {
		t.Fatalf("published article %+v", a)
	}
	if got := a.Live.NextReviewDue.Format(time.DateOnly); got != "2029-11-25" {
		t.Fatalf("default next review %s, want three years on", got)
	}
	if !a.PublishedAt.Equal(w.now) || a.ReviewOverdue(w.now) || !a.ReviewOverdue(time.Date(2029, 11, 26, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("dates: %+v", a)
	}
}

func TestPublishingRefusals(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	// An approved head revision as a store could hold it, bypassing the
	// earlier steps, so that Publish's own checks are what is tested.
	approved := func(t *testing.T, edit func(r *content.Revision)) int64 {
		r := &content.Revision{Title: "T", Summary: "S", Body: "B", Terms: []string{"cbt"}, Sources: []content.Source{{Title: "Book", Publisher: "P", Year: 2001}},
			AuthorID: w.author.ID, ReviewerID: w.reviewer.ID, ReviewedAt: w.now, NextReviewDue: w.now.AddDate(1, 0, 0), SavedAt: w.now}
		edit(r)
		a := &content.Article{Kind: content.KindTherapy, Slug: "t-" + strings.ToLower(t.Name()[len("TestPublishingRefusals/"):]), State: content.Approved}
		if err := w.db.SaveDraft(ctx, a, r); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	tests := []struct {
		name, field, msg string
		edit             func(r *content.Revision)
	}{
		{"no-reviewer", "reviewer", "must sign this version off", func(r *content.Revision) { r.ReviewerID, r.ReviewedAt = 0, time.Time{} }},
		{"reviewer-is-author", "reviewer", "someone other than the author", func(r *content.Revision) { r.ReviewerID = r.AuthorID }},
		{"no-source", "sources", "at least one evidence source", func(r *content.Revision) { r.Sources = nil }},
		{"no-author", "author", "Name the author", func(r *content.Revision) { r.AuthorID = 0 }},
		{"review-too-far", "next_review_due", "within three years", func(r *content.Revision) { r.NextReviewDue = w.now.AddDate(3, 0, 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := approved(t, tt.edit)
			fieldErr(t, w.svc.Publish(ctx, id), tt.field, tt.msg)
			if a, _ := w.db.ArticleByID(ctx, id); a.LiveID != 0 || a.State != content.Approved {
				t.Fatalf("refused publication changed the article: %+v", a)
			}
		})
	}
	// The workflow refuses the same things earlier.
	in := w.input("No sources")
	in.Sources = ""
	a, err := w.svc.Save(ctx, w.editorID, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	fieldErr(t, w.svc.SubmitForReview(ctx, a.ID), "sources", "at least one")
	b, _ := w.svc.Save(ctx, w.editorID, 0, w.input("Own work"))
	if err := w.svc.SubmitForReview(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	fieldErr(t, w.svc.Review(ctx, w.authorUserID, b.ID, true, "Looks fine to me.", ""), "reviewer", "You wrote this article")
	fieldErr(t, w.svc.Review(ctx, w.editorID, b.ID, true, "I am not on the panel.", ""), "reviewer", "Only members of the expert panel")
	fieldErr(t, w.svc.Review(ctx, w.reviewerID, b.ID, true, "", ""), "comment", "Write a comment")
	if err := w.svc.Publish(ctx, b.ID); err == nil {
		t.Fatal("published an article still in review")
	}
}

func TestNextReviewDueLimit(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		due  string
		ok   bool
		want string
	}{
		{"2029-11-26", false, ""},
		{"2031-01-01", false, ""},
		{"2026-11-25", false, ""}, // today
		{"not a date", false, ""},
		{"2029-11-25", true, "2029-11-25"},
		{"2027-06-01", true, "2027-06-01"},
		{"", true, "2029-11-25"},
	} {
		name := strings.ReplaceAll(tt.due, " ", "-")
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			a, _ := w.svc.Save(ctx, w.editorID, 0, w.input("Dated"))
			if err := w.svc.SubmitForReview(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			err := w.svc.Review(ctx, w.reviewerID, a.ID, true, "Checked.", tt.due)
			if (err == nil) != tt.ok {
				t.Fatalf("Review(next due %q) = %v", tt.due, err)
			}
			if tt.ok {
				a, _ = w.db.ArticleByID(ctx, a.ID)
				if got := a.Head.NextReviewDue.Format(time.DateOnly); got != tt.want {
					t.Fatalf("next review %s, want %s", got, tt.want)
				}
			} else {
				fieldErr(t, err, "next_review_due", "")
			}
		})
	}
}

// TestEditKeepsLiveVersion: editing a published article makes a new
// draft; the live version is unchanged until the draft is approved and
// published.
func TestEditKeepsLiveVersion(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.published(t, "Version one")
	in := content.InputOf(a, a.Head)
	in.Title, in.Body = "Version two", a.Head.Body+"\nA new paragraph.\n"
	in.Kind, in.Slug = "issue", "hijacked" // cannot change on an existing article
	if _, err := w.svc.Save(ctx, w.editorID, a.ID, in); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"saved", "submitted", "approved"} {
		got, _ := w.db.ArticleBySlug(ctx, content.KindTherapy, "version-one")
		if got == nil || got.Live.Title != "Version one" || !got.IsPublic() {
			t.Fatalf("after %s the live version changed: %+v", step, got)
		}
		switch step {
		case "saved":
			if got.Head.Title != "Version two" || got.State != content.Draft || got.Head.Number != 2 {
				t.Fatalf("new draft %+v", got)
			}
			if err := w.svc.SubmitForReview(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
		case "submitted":
			if err := w.svc.Review(ctx, w.reviewerID, a.ID, true, "Fine.", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.now = w.now.Add(48 * time.Hour)
	if err := w.svc.Publish(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := w.db.ArticleBySlug(ctx, content.KindTherapy, "version-one")
	if got.Live.Title != "Version two" || got.Live.Number != 2 || !got.PublishedAt.Equal(a.PublishedAt) || !got.UpdatedAt.Equal(w.now) {
		t.Fatalf("after publishing v2: %+v", got)
	}
}

func TestRevisionsAndDiff(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a, err := w.svc.Save(ctx, w.editorID, 0, w.input("History"))
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"## A\n\nkeep\nold line\nkeep too\n", "## A\n\nkeep\nnew line\nkeep too\nadded\n"}
	for _, b := range bodies {
		in := w.input("History")
		in.Body = b
		if _, err := w.svc.Save(ctx, w.editorID, a.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	revs, err := w.db.Revisions(ctx, a.ID)
	if err != nil || len(revs) != 3 || revs[0].Number != 3 || revs[2].Number != 1 || revs[0].Body != strings.TrimSpace(bodies[1]) {
		t.Fatalf("revisions %+v %v", revs, err)
	}
	d := content.Diff(revs[1].Text(), revs[0].Text())
	var del, ins []string
	for _, l := range d {
		switch l.Op {
		case content.Delete:
			del = append(del, l.Text)
		case content.Insert:
			ins = append(ins, l.Text)
		}
	}
	if !slices.Equal(del, []string{"old line"}) || !slices.Equal(ins, []string{"new line", "added"}) {
		t.Fatalf("diff removed %q added %q", del, ins)
	}
}

// lcs is a plain recursive longest common subsequence, the reference for
// Diff's table.
func lcs(a, b []string, memo map[[2]int]int) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	k := [2]int{len(a), len(b)}
	if v, ok := memo[k]; ok {
		return v
	}
	v := max(lcs(a[1:], b, memo), lcs(a, b[1:], memo))
	if a[0] == b[0] {
		v = max(v, 1+lcs(a[1:], b[1:], memo))
	}
	memo[k] = v
	return v
}

func TestDiffAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d"}
	gen := func() []string {
		s := make([]string, r.IntN(9))
		for i := range s {
			s[i] = words[r.IntN(len(words))]
		}
		return s
	}
	for i := range 2000 {
		a, b := gen(), gen()
		d := content.Diff(a, b)
		ga, gb := content.Apply(d)
		same := 0
		for _, l := range d {
			if l.Op == content.Same {
				same++
			}
		}
		if !slices.Equal(ga, a) || !slices.Equal(gb, b) || same != lcs(a, b, map[[2]int]int{}) {
			t.Fatalf("case %d: Diff(%q, %q) = %v", i, a, b, d)
		}
	}
}

func TestReviewReminders(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a, _ := w.svc.Save(ctx, w.editorID, 0, w.input("Due soon"))
	w.svc.SubmitForReview(ctx, a.ID)
	if err := w.svc.Review(ctx, w.reviewerID, a.ID, true, "Checked.", "2026-12-15"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Publish(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	// With no editor appointed nothing is sent or claimed…
	w.db.SetRole(ctx, w.editorID, account.Editor, false, 0, w.now)
	if n, err := w.svc.RunReviewReminders(ctx); n != 0 || err != nil {
		t.Fatalf("no editors: sent %d (%v)", n, err)
	}
	told := func() bool {
		t.Helper()
		a, err := w.db.ArticleByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := w.svc.EditorsTold(ctx, a, a.Live)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// Overdue with nobody to tell: the page must not claim anyone was.
	start := w.now
	w.now = time.Date(2026, 12, 16, 9, 0, 0, 0, time.UTC)
	if n, err := w.svc.RunReviewReminders(ctx); n != 0 || err != nil || told() {
		t.Fatalf("overdue, no editors: sent %d (%v), told %v", n, err, told())
	}
	w.now = start
	// …so the first editor appointed hears about it.
	w.db.SetRole(ctx, w.editorID, account.Editor, true, 0, w.now)
	for i, step := range []struct {
		at      time.Time
		subject string
		sent    int
	}{
		{w.now, "Review due on 15 December 2026: Due soon", 1},
		{w.now.Add(time.Hour), "", 0},
		{time.Date(2026, 12, 16, 9, 0, 0, 0, time.UTC), "Overdue for review: Due soon", 1},
		{time.Date(2026, 12, 17, 9, 0, 0, 0, time.UTC), "", 0},
	} {
		w.now = step.at
		n, err := w.svc.RunReviewReminders(ctx)
		if err != nil || n != step.sent {
			t.Fatalf("step %d: sent %d (%v), want %d", i, n, err, step.sent)
		}
		if step.subject != "" {
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			m, err := w.catcher.WaitFor(c, "editor@example.org", step.subject)
			cancel()
			if err != nil || !strings.Contains(m.Body, "/staff/articles") {
				t.Fatalf("step %d: %v", i, err)
			}
		}
	}
	if !told() {
		t.Fatal("the overdue reminder was emailed but EditorsTold says not")
	}
	if a, _ := w.db.ArticleByID(ctx, a.ID); !a.ReviewOverdue(w.now) || !a.IsPublic() {
		t.Fatal("an overdue article must stay online, marked overdue")
	}
}

func TestParseFAQsAndSources(t *testing.T) {
	faqs, err := content.ParseFAQs("Q: One?\nA: First line\ncontinues.\n\nSecond paragraph.\n\nQ: Two\nparts?\nA: Yes.")
	if err != nil || len(faqs) != 2 || faqs[0].Answer != "First line\ncontinues.\n\nSecond paragraph." || faqs[1].Question != "Two parts?" {
		t.Fatalf("%+v %v", faqs, err)
	}
	for _, bad := range []string{"A: no question", "Q: no answer", "stray text", "Q: a\nA: b\nA: c"} {
		if _, err := content.ParseFAQs(bad); err == nil {
			t.Errorf("ParseFAQs(%q) accepted", bad)
		}
	}
	srcs, err := content.ParseSources("Book | Pub | 2000\n\nPaper | Journal | 2010 | https://doi.org/10.1/x")
	if err != nil || len(srcs) != 2 || srcs[1].URL == "" || srcs[0].Year != 2000 {
		t.Fatalf("%+v %v", srcs, err)
	}
	for _, bad := range []string{"Only title", "T | P | year", "T | P | 2000 | javascript:alert(1)", "T | P | 2000 | ftp://x", "T | P | 1200", "x | y | 2000 | https://a | extra"} {
		if _, err := content.ParseSources(bad); err == nil {
			t.Errorf("ParseSources(%q) accepted", bad)
		}
	}
}

// FuzzParseSources: parsing never panics, and formatting what was parsed
// parses back to the same sources.
func FuzzParseSources(f *testing.F) {
	f.Add("Book | Pub | 2000\nPaper | Journal | 2010 | https://doi.org/10.1/x")
	f.Add("|||")
	f.Fuzz(func(t *testing.T, s string) {
		srcs, err := content.ParseSources(s)
		if err != nil {
			return
		}
		again, err := content.ParseSources(content.FormatSources(srcs))
		if err != nil || !slices.Equal(again, srcs) {
			t.Fatalf("%q: %+v then %+v (%v)", s, srcs, again, err)
		}
	})
}

// FuzzParseFAQs: parsing never panics, and every accepted FAQ survives a
// format-and-parse round trip.
func FuzzParseFAQs(f *testing.F) {
	f.Add("Q: One?\nA: Yes.\n\nQ: Two?\nA: No.")
	f.Add("Q:\nA:")
	f.Fuzz(func(t *testing.T, s string) {
		faqs, err := content.ParseFAQs(s)
		if err != nil {
			return
		}
		again, err := content.ParseFAQs(content.FormatFAQs(faqs))
		if err != nil || !slices.Equal(again, faqs) {
			t.Fatalf("%q: %+v then %+v (%v)", s, faqs, again, err)
		}
	})
}
