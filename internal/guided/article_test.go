package guided_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/taxonomy"
)

// TestFromArticle: the rules in an article body are read with the
// workflow's people and dates, which win over what the JSON says.
func TestFromArticle(t *testing.T) {
	t.Parallel()
	tax := taxonomy.MustLoad()
	reviewed := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := guided.Provenance{Version: "article revision 3", Author: guided.Person{Name: "Ann Author"}, Reviewer: guided.Person{Name: "Rosa Reviewer", Credentials: "UKCP registered"},
		Reviewed: reviewed, NextReview: reviewed.AddDate(1, 0, 0)}
	rs, err := guided.FromArticle(guided.ArticleBody(), p, tax)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Version != p.Version || rs.Reviewer.Name != "Rosa Reviewer" || rs.Author.Name != "Ann Author" || !rs.NextReview.Equal(p.NextReview) || len(rs.Rules) == 0 {
		t.Errorf("rule set from the article: version %q, author %q, reviewer %q, next review %s, %d rules", rs.Version, rs.Author.Name, rs.Reviewer.Name, rs.NextReview.Format(time.DateOnly), len(rs.Rules))
	}
	if err := rs.Check(reviewed.AddDate(0, 1, 0)); err != nil {
		t.Errorf("Check a month after review: %v", err)
	}
	// An article nobody signed off is not used, whatever the JSON claims.
	unsigned := p
	unsigned.Reviewer = guided.Person{}
	rs, err = guided.FromArticle(guided.ArticleBody(), unsigned, tax)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Check(reviewed.AddDate(0, 1, 0)); !errors.Is(err, guided.ErrUnreviewed) {
		t.Errorf("Check without a reviewer: %v, want ErrUnreviewed", err)
	}
	for name, body := range map[string]string{
		"no block":     "Just words.",
		"open block":   "```rules\n{\"version\": \"x\"}",
		"broken rules": "```rules\n{\"version\": \"x\", \"rules\": [{\"when\": \"want=magic\"}]}\n```",
	} {
		if _, err := guided.FromArticle(body, p, tax); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
	if !strings.Contains(guided.ArticleBody(), "```rules\n{") {
		t.Error("the article body does not open the rules block")
	}
}
