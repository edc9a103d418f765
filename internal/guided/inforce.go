package guided

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// ErrUnreadable marks a published rules article whose rules do not parse:
// the editors must correct it, and nothing is suggested meanwhile.
var ErrUnreadable = errors.New("guided: the published rules article cannot be read")

// ErrNotInstalled is returned when the site has neither a published rules
// article nor a shipped rule set.
var ErrNotInstalled = errors.New("guided: no rule set is installed")

// Articles reads the rules article and its contributors; the content
// store is one.
type Articles interface {
	ArticleBySlug(ctx context.Context, kind content.Kind, slug string) (*content.Article, error)
	ContributorByID(ctx context.Context, id int64) (*content.Contributor, error)
}

// Rules finds the rule set in force, for the web pages and the API alike,
// so that both suggest from the same rules and refuse for the same
// reasons.
type Rules struct {
	// Shipped is the rule set in the binary, used while no rules article
	// is published; nil when there is none.
	Shipped *RuleSet
	// Articles may be nil: then only Shipped is considered.
	Articles Articles
	Tax      *taxonomy.Taxonomy
	Now      func() time.Time
}

// Current returns the rule set in force. The published rules article
// (ArticleSlug), when there is one, is the rule set: it went through the
// editorial workflow, and its live revision's reviewer and dates decide
// whether it may be used. Otherwise the shipped rule set is used, under
// its own review dates.
//
// When the rules may not be used, Current returns them (if any) together
// with ErrUnreadable, ErrNotInstalled, ErrUnreviewed or ErrOverdue, which
// callers turn into words; any other error is the store's.
func (r *Rules) Current(ctx context.Context) (*RuleSet, error) {
	rs, err := r.published(ctx)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		rs = r.Shipped
	}
	if rs == nil {
		return nil, ErrNotInstalled
	}
	if err := rs.Check(r.Now()); err != nil {
		return rs, err
	}
	return rs, nil
}

// Refused says whether err from Current means "these rules may not be
// used" rather than a failure to find out.
func Refused(err error) bool {
	return errors.Is(err, ErrUnreadable) || errors.Is(err, ErrNotInstalled) || errors.Is(err, ErrUnreviewed) || errors.Is(err, ErrOverdue)
}

// published reads the rule set from the published rules article, or
// returns nil when there is none.
func (r *Rules) published(ctx context.Context) (*RuleSet, error) {
	if r.Articles == nil {
		return nil, nil
	}
	a, err := r.Articles.ArticleBySlug(ctx, content.KindGuide, ArticleSlug)
	if errors.Is(err, content.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("guided: read the rules article: %w", err)
	}
	if !a.IsPublic() || a.Live == nil {
		return nil, nil
	}
	rev := a.Live
	p := Provenance{Version: fmt.Sprintf("revision %d of the rules article", rev.Number), Reviewed: rev.ReviewedAt, NextReview: rev.NextReviewDue}
	person := func(id int64) (Person, error) {
		if id == 0 {
			return Person{}, nil
		}
		c, err := r.Articles.ContributorByID(ctx, id)
		if err != nil {
			return Person{}, fmt.Errorf("guided: rules article contributor %d: %w", id, err)
		}
		return Person{Name: c.Name, Credentials: c.Credentials}, nil
	}
	if p.Author, err = person(rev.AuthorID); err != nil {
		return nil, err
	}
	if p.Reviewer, err = person(rev.ReviewerID); err != nil {
		return nil, err
	}
	rs, err := FromArticle(rev.Body, p, r.Tax)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return rs, nil
}

// Searcher runs a directory search; *search.Index is one.
type Searcher interface {
	Search(q search.Query) search.Result
}

// Search is the directory search for any of approaches that the answers
// lead to (SearchValues), checked by the search's own parser, and how
// many therapists it finds today. A filter the parser refuses (a place
// it cannot find) is left out rather than failing the suggestions.
func Search(p *search.Parser, idx Searcher, now time.Time, a Answers, approaches []string, full bool) (url.Values, int) {
	v := SearchValues(a, approaches, full)
	q, err := p.Parse(v, now)
	if fe, ok := errs.FieldsOf(err); ok {
		for name := range fe {
			v.Del(name)
		}
		q, err = p.Parse(v, now)
	}
	if err != nil {
		return url.Values{"approach": approaches}, 0
	}
	q.PerPage = 1
	total := idx.Search(q).Total
	q.PerPage = search.DefaultPerPage
	return q.Values(), total
}

// SearchValues is the directory search for any of approaches that the
// answers lead to, as search parameters: with every answer that is a
// filter when full, or with only the approaches and the formats
// otherwise (the wider search offered when the full one finds nobody).
func SearchValues(a Answers, approaches []string, full bool) url.Values {
	v := url.Values{"approach": approaches}
	for _, f := range a.Formats {
		v.Add("format", f)
	}
	if !full {
		return v
	}
	for _, i := range a.Issues {
		v.Add("issue", i)
	}
	for _, c := range WhoClients(a.Who) {
		v.Add("client", c)
	}
	set := func(name, s string) {
		if s != "" {
			v.Set(name, s)
		}
	}
	set("near", a.Near)
	set("max_fee", a.MaxFee)
	if a.Concessions {
		v.Set("concessions", "true")
	}
	set("language", a.Language)
	return v
}

// RefusalText says in words for the public why rs may not be used, err
// being the refusal Current returned with it. The pages and the API give
// the same words.
func RefusalText(rs *RuleSet, err error) string {
	switch {
	case errors.Is(err, ErrUnreadable):
		return "The published rules that turn answers into suggestions cannot be read, so we do not use them. Our editors need to correct them."
	case errors.Is(err, ErrNotInstalled) || rs == nil:
		return "The rules that turn answers into suggestions are not installed on this site."
	case errors.Is(err, ErrOverdue):
		return fmt.Sprintf("The rules that turn answers into suggestions were due to be checked again by a clinician on %s, and that check has not happened yet. We would rather not suggest anything from rules that may be out of date.",
			rs.NextReview.UTC().Format("2 January 2006"))
	}
	return "The rules that turn answers into suggestions have not been checked by a clinician, so we do not use them."
}
