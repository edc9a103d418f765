package demo

import (
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/taxonomy"
)

// TestSampleArticles: every sample article parses, is linked to a real
// taxonomy term, has FAQs and sources, and names different demo author
// and reviewer; the psychodynamic article covers what the issue asks.
func TestSampleArticles(t *testing.T) {
	tax := taxonomy.MustLoad()
	arts, err := Articles()
	if err != nil {
		t.Fatal(err)
	}
	slugs := map[string]*DemoArticle{}
	for _, a := range arts {
		slugs[a.Slug] = a
		kind := taxonomy.Approach
		if a.Kind == content.KindIssue {
			kind = taxonomy.Issue
		}
		if _, ok := tax.Lookup(kind, a.Term); !ok {
			t.Errorf("%s: term %q is not a %s", a.Slug, a.Term, kind)
		}
		if len(a.Revision.FAQs) < 3 || len(a.Revision.Sources) < 1 || a.Author == a.Reviewer || a.Revision.Summary == "" {
			t.Errorf("%s: %d FAQs, %d sources, author %s, reviewer %s", a.Slug, len(a.Revision.FAQs), len(a.Revision.Sources), a.Author, a.Reviewer)
		}
	}
	for _, want := range []string{"psychodynamic-therapy", "psychoanalytic-psychotherapy", "intensive-short-term-dynamic-psychotherapy",
		"dynamic-interpersonal-therapy", "cognitive-behavioural-therapy", "person-centred-counselling", "integrative-therapy",
		"anxiety", "depression", "ptsd", "loneliness"} {
		if slugs[want] == nil {
			t.Errorf("no sample article %s", want)
		}
	}
	p := slugs["psychodynamic-therapy"]
	for _, must := range []string{"Freud", "Jung", "Adler", "Rank", "Winnicott", "Klein", "ransference", "nterpretation", "ISTDP", "DIT",
		"50 sessions", "6 to 12 sessions", "CBT", "What it can help with"} {
		if !strings.Contains(p.Revision.Body, must) {
			t.Errorf("psychodynamic article does not mention %q", must)
		}
	}
	if !strings.Contains(content.FormatSources(p.Revision.Sources), "Bateman") {
		t.Error("psychodynamic article does not cite Bateman, Brown and Pedder")
	}
	overdue, inReview := 0, 0
	for _, a := range arts {
		if a.ReviewedDaysAgo > 3*365 {
			overdue++
		}
		if a.State == content.InReview {
			inReview++
			if a.Reviewer != "" {
				t.Errorf("%s waits for review but names reviewer %s", a.Slug, a.Reviewer)
			}
		}
	}
	if overdue != 1 {
		t.Errorf("%d sample articles are overdue for review, want exactly 1", overdue)
	}
	if inReview != 1 {
		t.Errorf("%d sample articles wait for review, want exactly 1 (the demo reviewer's queue)", inReview)
	}
}
