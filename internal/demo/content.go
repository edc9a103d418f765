package demo

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/content"
)

//go:embed articles/*.md
var articleFiles embed.FS

// Contributors are the demo site's fictional author and expert panel.
var Contributors = []content.Contributor{
	{Slug: "maya-lindqvist", Name: "Maya Lindqvist", Credentials: "MA, UKCP registered psychotherapist (fictional demo author)",
		Bio: "Maya writes Confide's sample articles. She is a fictional person invented for the demonstration site."},
	{Slug: "dr-tomas-adeyemi", Name: "Dr Tomás Adeyemi", Credentials: "DClinPsy, HCPC registered clinical psychologist (fictional)", Panel: true,
		Bio: "Fictional panel member for the demonstration site. Reviews articles on CBT, anxiety and trauma."},
	{Slug: "dr-helen-marsh", Name: "Dr Helen Marsh", Credentials: "MBBS, MRCPsych, BPC registered psychoanalytic psychotherapist (fictional)", Panel: true,
		Bio: "Fictional panel member for the demonstration site. Reviews articles on psychodynamic and psychoanalytic therapy."},
	{Slug: "priya-raman", Name: "Priya Raman", Credentials: "MBACP (Accred), person-centred counsellor (fictional)", Panel: true,
		Bio: "Fictional panel member for the demonstration site. Reviews articles on counselling, loneliness and depression."},
}

// DemoArticle is a parsed sample article.
type DemoArticle struct {
	Kind            content.Kind
	Slug, Term      string
	Author          string // contributor slug
	Reviewer        string // contributor slug
	ReviewedDaysAgo int
	// State is published, unless the file says "state: in_review": an
	// article written and sent for review, with no reviewer yet, so that
	// a demo reviewer finds work waiting.
	State    content.State
	Revision content.Revision
}

// ParseArticle reads the sample-article format: "key: value" header lines,
// a line "---", the Markdown body, then optionally a line "+++ FAQ"
// followed by Q:/A: pairs.
func ParseArticle(name, text string) (*DemoArticle, error) {
	head, rest, ok := strings.Cut(text, "\n---\n")
	if !ok {
		return nil, fmt.Errorf("%s: no --- after the header", name)
	}
	body, faqs, _ := strings.Cut(rest, "\n+++ FAQ\n")
	a := &DemoArticle{State: content.Published}
	var sources []string
	for _, line := range strings.Split(head, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s: header line %q has no colon", name, line)
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "kind":
			a.Kind = content.Kind(v)
		case "slug":
			a.Slug = v
		case "term":
			a.Term = v
		case "title":
			a.Revision.Title = v
		case "summary":
			a.Revision.Summary = v
		case "author":
			a.Author = v
		case "reviewer":
			a.Reviewer = v
		case "reviewed_days_ago":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%s: reviewed_days_ago: %w", name, err)
			}
			a.ReviewedDaysAgo = n
		case "state":
			if a.State = content.State(v); a.State != content.Published && a.State != content.InReview {
				return nil, fmt.Errorf("%s: state %q: only published or in_review", name, v)
			}
		case "funding":
			a.Revision.Funding = v
		case "source":
			sources = append(sources, v)
		default:
			return nil, fmt.Errorf("%s: unknown header %q", name, k)
		}
	}
	var err error
	if a.Revision.Sources, err = content.ParseSources(strings.Join(sources, "\n")); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if a.Revision.FAQs, err = content.ParseFAQs(faqs); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	a.Revision.Body = strings.TrimSpace(body)
	if a.Term != "" {
		a.Revision.Terms = []string{a.Term}
	}
	return a, nil
}

// Articles returns every sample article, sorted by address.
func Articles() ([]*DemoArticle, error) {
	names, err := fs.Glob(articleFiles, "articles/*.md")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*DemoArticle
	for _, n := range names {
		b, err := articleFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		a, err := ParseArticle(n, string(b))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ContentStore is what loading sample content needs.
type ContentStore interface {
	SaveContributor(ctx context.Context, c *content.Contributor) error
	SaveDraft(ctx context.Context, a *content.Article, r *content.Revision) error
	SetArticleState(ctx context.Context, a *content.Article) error
}

// LoadContent stores the demo contributors and publishes every sample
// article as reviewed by a panel member, reviewed_days_ago days before
// now, with the next review three years after that (so an article
// reviewed more than three years ago shows as overdue). An article marked
// in_review is stored as its author sent it for review two days ago,
// waiting for the panel.
func LoadContent(ctx context.Context, s ContentStore, now time.Time) error {
	ids := map[string]int64{}
	for _, c := range Contributors {
		c := c
		if err := s.SaveContributor(ctx, &c); err != nil {
			return fmt.Errorf("demo contributor %s: %w", c.Name, err)
		}
		ids[c.Slug] = c.ID
	}
	arts, err := Articles()
	if err != nil {
		return err
	}
	for _, d := range arts {
		if d.State == content.InReview {
			r := d.Revision
			r.AuthorID, r.SavedAt = ids[d.Author], now.UTC().Add(-48*time.Hour)
			if r.AuthorID == 0 {
				return fmt.Errorf("demo article %s: author %q is not a demo contributor", d.Slug, d.Author)
			}
			a := &content.Article{Kind: d.Kind, Slug: d.Slug, State: content.InReview}
			if err := s.SaveDraft(ctx, a, &r); err != nil {
				return fmt.Errorf("demo article %s: %w", d.Slug, err)
			}
			continue
		}
		reviewed := now.UTC().AddDate(0, 0, -d.ReviewedDaysAgo)
		y, m, day := reviewed.AddDate(content.MaxReviewInterval, 0, 0).Date()
		r := d.Revision
		r.AuthorID, r.ReviewerID = ids[d.Author], ids[d.Reviewer]
		if r.AuthorID == 0 || r.ReviewerID == 0 || r.AuthorID == r.ReviewerID {
			return fmt.Errorf("demo article %s: author %q and reviewer %q must be different demo contributors", d.Slug, d.Author, d.Reviewer)
		}
		r.ReviewComment = "Checked against the sources listed; accurate and balanced for a general reader."
		r.ReviewedAt, r.NextReviewDue, r.SavedAt = reviewed, time.Date(y, m, day, 0, 0, 0, 0, time.UTC), reviewed.Add(-24*time.Hour)
		a := &content.Article{Kind: d.Kind, Slug: d.Slug, State: content.Published}
		if err := s.SaveDraft(ctx, a, &r); err != nil {
			return fmt.Errorf("demo article %s: %w", d.Slug, err)
		}
		a.LiveID, a.PublishedAt, a.UpdatedAt = a.HeadID, reviewed, reviewed
		if err := s.SetArticleState(ctx, a); err != nil {
			return err
		}
	}
	return nil
}
