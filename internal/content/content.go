// Package content is the domain of Confide's information hub: articles on
// therapies, issues and practical questions, written by named authors,
// signed off by a different expert reviewer, published with their
// evidence sources and re-reviewed at least every three years. It keeps
// every save as a revision, so the history of a page can always be shown,
// and it never lets an edit take the live version of a page down.
package content

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Kind is what an article is about.
type Kind string

// The kinds of article.
const (
	KindTherapy Kind = "therapy" // an approach, e.g. psychodynamic therapy
	KindIssue   Kind = "issue"   // something people bring to therapy, e.g. anxiety
	KindGuide   Kind = "guide"   // a practical question, e.g. how to choose a therapist
)

// Kinds lists the kinds in display order.
var Kinds = []Kind{KindTherapy, KindIssue, KindGuide}

// Path is the site section of a kind: /therapies/…, /issues/…, /guides/….
func (k Kind) Path() string {
	switch k {
	case KindTherapy:
		return "/therapies/"
	case KindIssue:
		return "/issues/"
	}
	return "/guides/"
}

// State is where an article's working copy stands in the workflow.
type State string

// The workflow states.
const (
	Draft     State = "draft"
	InReview  State = "in_review"
	Approved  State = "approved"
	Published State = "published"
	Archived  State = "archived"
)

// MaxReviewInterval is the longest an article may go between reviews
// (NHS England's standard and the PIF TICK ask for at most three years).
const MaxReviewInterval = 3

// FAQ is one question and its answer (Markdown).
type FAQ struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Source is a piece of evidence an article relies on.
type Source struct {
	Title     string `json:"title"`
	Publisher string `json:"publisher"`
	Year      int    `json:"year"`
	URL       string `json:"url"`
}

// Contributor is an author or member of the expert panel. Contributors
// may be linked to an account (so they can sign in and review) or not
// (for example a guest author).
type Contributor struct {
	ID          int64
	Slug        string
	Name        string
	Credentials string // e.g. "MBACP (Accred), UKCP registered psychotherapist"
	Bio         string
	UserID      int64 // 0 when not linked to an account
	Panel       bool  // member of the expert panel
}

// Revision is one saved version of an article's content and its review.
type Revision struct {
	ID        int64
	ArticleID int64
	Number    int // 1, 2, … within the article
	Title     string
	Summary   string
	Body      string // Markdown
	FAQs      []FAQ
	Sources   []Source
	Terms     []string // taxonomy slugs the article is about
	Funding   string   // funding and conflict-of-interest statement
	AuthorID  int64
	// Review: who signed this revision off, when, with what comment, and
	// when it must be reviewed again.
	ReviewerID    int64
	ReviewComment string
	ReviewedAt    time.Time
	NextReviewDue time.Time // a calendar date
	SavedBy       int64     // account that saved this revision
	SavedAt       time.Time
}

// Article is a page of the information hub with its working copy (Head)
// and the version the public sees (Live, nil until first published).
type Article struct {
	ID          int64
	Kind        Kind
	Slug        string
	State       State
	HeadID      int64
	LiveID      int64
	PublishedAt time.Time // first publication
	UpdatedAt   time.Time // last publication of a new revision
	Head        *Revision
	Live        *Revision
}

// Term is the taxonomy term a therapy or issue article is linked to.
func (r *Revision) Term() string {
	if len(r.Terms) == 0 {
		return ""
	}
	return r.Terms[0]
}

// ReviewOverdue reports whether the live version's next review date has
// passed. The page stays online and says so.
func (a *Article) ReviewOverdue(now time.Time) bool {
	return a.Live != nil && !a.Live.NextReviewDue.IsZero() && !now.Before(a.Live.NextReviewDue.AddDate(0, 0, 1))
}

// IsPublic reports whether the article is online.
func (a *Article) IsPublic() bool { return a.LiveID != 0 && a.State != Archived }

// Errors the service returns. They are the shared kinds of package errs,
// under the names the store and callers already use.
const (
	// ErrNotFound is wrapped by every error that reports a missing
	// article, revision or contributor.
	ErrNotFound = errs.NotFound
	// ErrConflict is wrapped by errors that report a clash with the
	// article's state or with existing data, such as a slug taken.
	ErrConflict = errs.Conflict
)

// FieldErrors reports problems with what was typed, field by field: the
// one field-error shape, errs.Fields.
type FieldErrors = errs.Fields

// Limits on article fields.
const (
	MaxTitleLen   = 120
	MaxSummaryLen = 400
	MaxBodyLen    = 60_000
	MaxFAQs       = 30
	MaxSources    = 40
	MaxFundingLen = 1000
)

// blankRuns is two or more blank lines, which FAQ answers fold to one.
var blankRuns = regexp.MustCompile(`\n{3,}`)

var slugRe = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

func plain(s string, minN, maxN int) bool {
	n := utf8.RuneCountInString(s)
	return n >= minN && n <= maxN && utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) < 0
}

// ParseFAQs reads the FAQ box of the editor's form: blocks separated by a
// blank line, each starting "Q:" with the question and "A:" with the
// answer, which may run over several lines.
func ParseFAQs(s string) ([]FAQ, error) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out []FAQ
	var cur *FAQ
	inAnswer := false
	for n, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "Q:"):
			out = append(out, FAQ{Question: strings.TrimSpace(t[2:])})
			cur, inAnswer = &out[len(out)-1], false
		case strings.HasPrefix(t, "A:"):
			if cur == nil || inAnswer {
				return nil, fmt.Errorf("line %d: an answer (A:) must follow a question (Q:)", n+1)
			}
			cur.Answer, inAnswer = strings.TrimSpace(t[2:]), true
		case t == "":
			if inAnswer {
				cur.Answer += "\n"
			}
		default:
			switch {
			case cur == nil:
				return nil, fmt.Errorf("line %d: start each question with Q:", n+1)
			case inAnswer:
				cur.Answer += "\n" + t
			default:
				cur.Question += " " + t
			}
		}
	}
	for i := range out {
		out[i].Question = strings.TrimSpace(out[i].Question)
		out[i].Answer = blankRuns.ReplaceAllString(strings.TrimSpace(out[i].Answer), "\n\n")
		if out[i].Question == "" || out[i].Answer == "" {
			return nil, fmt.Errorf("question %d needs both a question (Q:) and an answer (A:)", i+1)
		}
	}
	return out, nil
}

// FormatFAQs is the inverse of ParseFAQs, for filling the form.
func FormatFAQs(faqs []FAQ) string {
	parts := make([]string, len(faqs))
	for i, f := range faqs {
		parts[i] = "Q: " + f.Question + "\nA: " + f.Answer
	}
	return strings.Join(parts, "\n\n")
}

// ParseSources reads the sources box: one source a line, as
// "Title | Publisher | Year | https://address" (the address may be left
// out for a printed book).
func ParseSources(s string) ([]Source, error) {
	var out []Source
	for n, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) < 3 || len(f) > 4 {
			return nil, fmt.Errorf("line %d: write a source as Title | Publisher | Year | https://address", n+1)
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		year, err := strconv.Atoi(f[2])
		if err != nil || year < 1800 || year > 2100 {
			return nil, fmt.Errorf("line %d: the year must be four digits, like 2019", n+1)
		}
		src := Source{Title: f[0], Publisher: f[1], Year: year}
		if len(f) == 4 && f[3] != "" {
			u, err := url.Parse(f[3])
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("line %d: the address must start with https://", n+1)
			}
			src.URL = f[3]
		}
		if !plain(src.Title, 2, 300) || !plain(src.Publisher, 2, 200) {
			return nil, fmt.Errorf("line %d: give the source's title and publisher", n+1)
		}
		out = append(out, src)
	}
	return out, nil
}

// FormatSources is the inverse of ParseSources.
func FormatSources(srcs []Source) string {
	lines := make([]string, len(srcs))
	for i, s := range srcs {
		lines[i] = fmt.Sprintf("%s | %s | %d", s.Title, s.Publisher, s.Year)
		if s.URL != "" {
			lines[i] += " | " + s.URL
		}
	}
	return strings.Join(lines, "\n")
}

// Slugify makes an article address from a title.
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// date is the calendar day of t (UTC midnight).
func date(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// TaxonomyTerms answers Terms from the taxonomy: therapy articles name an
// approach, issue articles an issue.
type TaxonomyTerms struct{ Tax *taxonomy.Taxonomy }

// Known reports whether slug is an approach (for therapy and guide
// articles) or an issue (for issue articles).
func (t TaxonomyTerms) Known(kind Kind, slug string) bool {
	k := taxonomy.Approach
	if kind == KindIssue {
		k = taxonomy.Issue
	}
	_, ok := t.Tax.Lookup(k, slug)
	return ok
}
