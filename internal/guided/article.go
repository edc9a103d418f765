package guided

import (
	"fmt"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/taxonomy"
)

// ArticleSlug is the guide article that carries the rule set through the
// editorial workflow (/guides/suggestion-rules): an editor writes or
// changes the rules there, a different reviewer from the expert panel
// signs them off with a next review date, and every save is a revision
// with a diff. While that article is published, its live revision's rules
// replace the ones shipped in the binary.
const ArticleSlug = "suggestion-rules"

// articleFence opens the rule set in the article's Markdown body; the next
// line that is only "```" closes it.
const articleFence = "```rules"

// Provenance is what the editorial workflow recorded about one published
// revision: its number, who wrote it, who signed it off and when, and when
// it must be reviewed again.
type Provenance struct {
	Version              string
	Author, Reviewer     Person
	Reviewed, NextReview time.Time
}

// FromArticle reads the rule set in an article's body (the JSON inside a
// "```rules" fence) and gives it the workflow's provenance. What the
// workflow recorded wins over anything the JSON claims about its author,
// reviewer or dates: a rule set is as reviewed as its revision is.
func FromArticle(body string, p Provenance, tax *taxonomy.Taxonomy) (*RuleSet, error) {
	_, rest, ok := strings.Cut(body, articleFence+"\n")
	if !ok {
		return nil, fmt.Errorf("guided: the article has no %q block", articleFence)
	}
	block, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		return nil, fmt.Errorf("guided: the article's %q block is not closed", articleFence)
	}
	rs, err := Parse([]byte(block), tax)
	if err != nil {
		return nil, fmt.Errorf("guided: article rule set: %w", err)
	}
	rs.Version = p.Version
	rs.Author, rs.Reviewer = p.Author, p.Reviewer
	rs.Reviewed, rs.NextReview = Date{p.Reviewed}, Date{p.NextReview}
	return rs, nil
}

// ArticleBody is the shipped rule set as an article body, for an editor
// starting the article from what the binary uses.
func ArticleBody() string {
	return "These are the rules behind the suggestions of the guided questions at /find/guided. " +
		"Change the JSON below, then send the article for review as usual.\n\n" + articleFence + "\n" + strings.TrimSpace(string(rulesJSON)) + "\n```\n"
}
