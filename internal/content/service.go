package content

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/commit"
)

// Store is what the information hub needs from persistence.
type Store interface {
	// SaveDraft stores r as the next revision of a (creating a when its
	// ID is 0) and makes it the head, with the article in state a.State.
	SaveDraft(ctx context.Context, a *Article, r *Revision) error
	// SetReview records the review fields of revision r and the
	// article's new state, in one transaction.
	SetReview(ctx context.Context, a *Article, r *Revision) error
	// SetArticleState writes a's state, live revision and dates.
	SetArticleState(ctx context.Context, a *Article) error
	ArticleByID(ctx context.Context, id int64) (*Article, error)
	ArticleBySlug(ctx context.Context, kind Kind, slug string) (*Article, error)
	Articles(ctx context.Context) ([]*Article, error)
	Revisions(ctx context.Context, articleID int64) ([]Revision, error)
	Contributors(ctx context.Context) ([]Contributor, error)
	ContributorByID(ctx context.Context, id int64) (*Contributor, error)
	ContributorByUser(ctx context.Context, userID int64) (*Contributor, error)
	SaveContributor(ctx context.Context, c *Contributor) error
	ClaimReviewReminder(ctx context.Context, articleID int64, due time.Time, kind string, now time.Time) (bool, error)
	// ReviewReminderSent reports whether that reminder was claimed (and
	// so its emails queued, in the same unit of work).
	ReviewReminderSent(ctx context.Context, articleID int64, due time.Time, kind string) (bool, error)
	EditorEmails(ctx context.Context) ([]string, error)
}

// Terms checks that a therapy or issue article names a real taxonomy term.
type Terms interface {
	Known(kind Kind, slug string) bool
}

// Mailer sends one plain-text email.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Auditor appends to the audit log.
type Auditor interface {
	Record(ctx context.Context, action, object string) error
}

// Service carries out the editorial workflow.
type Service struct {
	// Tx makes each change and its audit entry one unit of work (the
	// store); nil runs them one by one.
	Tx      commit.Runner
	Store   Store
	Terms   Terms
	Mail    Mailer
	Audit   Auditor
	Now     func() time.Time
	Log     *slog.Logger
	BaseURL string
}

// Input is what an editor types into the article form.
type Input struct {
	Kind, Slug, Title, Summary, Body, FAQs, Sources, Term, Funding string
	AuthorID                                                       int64
}

// InputOf fills the form from a revision.
func InputOf(a *Article, r *Revision) Input {
	return Input{Kind: string(a.Kind), Slug: a.Slug, Title: r.Title, Summary: r.Summary, Body: r.Body, FAQs: FormatFAQs(r.FAQs),
		Sources: FormatSources(r.Sources), Term: r.Term(), Funding: r.Funding, AuthorID: r.AuthorID}
}

func (s *Service) record(ctx context.Context, action string, id int64) {
	if err := s.Audit.Record(ctx, action, fmt.Sprintf("article:%d", id)); err != nil {
		s.Log.ErrorContext(ctx, "audit", "err", err)
	}
}

// check validates an input and returns the revision it describes.
func (s *Service) check(ctx context.Context, in Input) (Kind, string, *Revision, error) {
	fe := FieldErrors{}
	kind := Kind(strings.TrimSpace(in.Kind))
	if !slicesContains(Kinds, kind) {
		fe["kind"] = "Choose what the article is about: a therapy, an issue or a guide"
	}
	r := &Revision{
		Title: strings.Join(strings.Fields(in.Title), " "), Summary: strings.Join(strings.Fields(in.Summary), " "),
		Body: strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n")), Funding: strings.TrimSpace(in.Funding), AuthorID: in.AuthorID,
	}
	slug := strings.TrimSpace(strings.ToLower(in.Slug))
	if slug == "" {
		slug = Slugify(r.Title)
	}
	if !plain(r.Title, 3, MaxTitleLen) {
		fe["title"] = fmt.Sprintf("Enter a title of 3 to %d characters", MaxTitleLen)
	}
	if !slugRe.MatchString(slug) || len(slug) > 80 {
		fe["slug"] = "Web address must be lower-case letters, digits and single hyphens"
	}
	if !plain(r.Summary, 20, MaxSummaryLen) {
		fe["summary"] = fmt.Sprintf("Enter a summary of 20 to %d characters: it is shown in lists and to search engines", MaxSummaryLen)
	}
	if !plain(r.Body, 1, MaxBodyLen) {
		fe["body"] = fmt.Sprintf("Enter the article (up to %d characters)", MaxBodyLen)
	}
	if !plain(r.Funding, 0, MaxFundingLen) {
		fe["funding"] = fmt.Sprintf("Funding statement must be %d characters or fewer", MaxFundingLen)
	}
	var err error
	if r.FAQs, err = ParseFAQs(in.FAQs); err != nil {
		fe["faqs"] = err.Error()
	} else if len(r.FAQs) > MaxFAQs {
		fe["faqs"] = fmt.Sprintf("At most %d questions", MaxFAQs)
	} else {
		for _, f := range r.FAQs {
			if !plain(f.Question, 3, 300) || !plain(f.Answer, 1, 4000) {
				fe["faqs"] = "Each question must be up to 300 characters and each answer up to 4,000"
			}
		}
	}
	if r.Sources, err = ParseSources(in.Sources); err != nil {
		fe["sources"] = err.Error()
	} else if len(r.Sources) > MaxSources {
		fe["sources"] = fmt.Sprintf("At most %d sources", MaxSources)
	}
	term := strings.TrimSpace(in.Term)
	switch {
	case kind == KindGuide:
		if term != "" {
			r.Terms = []string{term}
		}
	case term == "":
		fe["term"] = "Choose the therapy or issue this article is about"
	default:
		r.Terms = []string{term}
	}
	for _, t := range r.Terms {
		k := kind
		if k == KindGuide {
			k = KindTherapy
			if !s.Terms.Known(KindTherapy, t) && s.Terms.Known(KindIssue, t) {
				k = KindIssue
			}
		}
		if !s.Terms.Known(k, t) {
			fe["term"] = fmt.Sprintf("%q is not a known %s", t, kind)
		}
	}
	if r.AuthorID != 0 {
		if _, err := s.Store.ContributorByID(ctx, r.AuthorID); errors.Is(err, ErrNotFound) {
			fe["author"] = "Choose the author from the list"
		} else if err != nil {
			return "", "", nil, err
		}
	}
	if len(fe) > 0 {
		return "", "", nil, fe
	}
	return kind, slug, r, nil
}

func slicesContains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// change runs write and records action for the article as one unit of
// work: the audit log never lacks, or invents, a change.
func (s *Service) change(ctx context.Context, action string, a *Article, write func(ctx context.Context) error) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		if err := write(ctx); err != nil {
			return err
		}
		s.record(ctx, action, a.ID)
		return nil
	})
}

// Save stores an edit as a new revision in the draft state. For a
// published article the live version stays online until the new draft is
// reviewed and published. The kind and address of an existing article
// cannot change (links to it must keep working).
func (s *Service) Save(ctx context.Context, editorID, articleID int64, in Input) (*Article, error) {
	a := &Article{}
	if articleID != 0 {
		var err error
		if a, err = s.Store.ArticleByID(ctx, articleID); err != nil {
			return nil, err
		}
		in.Kind, in.Slug = string(a.Kind), a.Slug
	}
	kind, slug, r, err := s.check(ctx, in)
	if err != nil {
		return nil, err
	}
	a.Kind, a.Slug, a.State = kind, slug, Draft
	r.SavedBy, r.SavedAt = editorID, s.Now().UTC()
	err = s.change(ctx, "article.save", a, func(ctx context.Context) error { return s.Store.SaveDraft(ctx, a, r) })
	if errors.Is(err, ErrConflict) {
		return nil, FieldErrors{"slug": "Another article already uses this web address"}
	} else if err != nil {
		return nil, err
	}
	return s.Store.ArticleByID(ctx, a.ID)
}

// readiness lists what a revision lacks before it can be published.
func (s *Service) readiness(ctx context.Context, r *Revision, needReview bool) FieldErrors {
	fe := FieldErrors{}
	if r.AuthorID == 0 {
		fe["author"] = "Name the author before this can go further"
	}
	if len(r.Sources) == 0 {
		fe["sources"] = "List at least one evidence source"
	}
	if needReview {
		switch {
		case r.ReviewerID == 0 || r.ReviewedAt.IsZero():
			fe["reviewer"] = "An expert reviewer must sign this version off first"
		case r.ReviewerID == r.AuthorID:
			fe["reviewer"] = "The reviewer must be someone other than the author"
		}
		if !r.ReviewedAt.IsZero() && (r.NextReviewDue.IsZero() || r.NextReviewDue.After(date(r.ReviewedAt).AddDate(MaxReviewInterval, 0, 0))) {
			fe["next_review_due"] = "Next review must be within three years of the review"
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// SubmitForReview sends the draft to the expert panel.
func (s *Service) SubmitForReview(ctx context.Context, articleID int64) error {
	a, err := s.Store.ArticleByID(ctx, articleID)
	if err != nil {
		return err
	}
	if a.State != Draft {
		return fmt.Errorf("article %d is %s, not a draft: %w", a.ID, a.State, ErrConflict)
	}
	if fe := s.readiness(ctx, a.Head, false); fe != nil {
		return fe
	}
	a.State = InReview
	return s.change(ctx, "article.submit", a, func(ctx context.Context) error { return s.Store.SetArticleState(ctx, a) })
}

// Review is a panel member's decision on the version in review. Approval
// needs a comment and sets the next review date (three years by default,
// never later); sending back needs a comment saying what to change.
func (s *Service) Review(ctx context.Context, reviewerUserID, articleID int64, approve bool, comment, nextDue string) error {
	comment = strings.TrimSpace(strings.ReplaceAll(comment, "\r\n", "\n"))
	a, err := s.Store.ArticleByID(ctx, articleID)
	if err != nil {
		return err
	}
	if a.State != InReview {
		return fmt.Errorf("article %d is %s, not in review: %w", a.ID, a.State, ErrConflict)
	}
	reviewer, err := s.Store.ContributorByUser(ctx, reviewerUserID)
	if errors.Is(err, ErrNotFound) || (err == nil && !reviewer.Panel) {
		return FieldErrors{"reviewer": "Only members of the expert panel can review; ask an editor to add you to the panel"}
	} else if err != nil {
		return err
	}
	if reviewer.ID == a.Head.AuthorID {
		return FieldErrors{"reviewer": "You wrote this article, so another member of the panel must review it"}
	}
	fe := FieldErrors{}
	if !plain(comment, 2, 4000) {
		fe["comment"] = "Write a comment (up to 4,000 characters): what you checked, or what must change"
	}
	now := s.Now().UTC()
	due := date(now).AddDate(MaxReviewInterval, 0, 0)
	if nd := strings.TrimSpace(nextDue); nd != "" && approve {
		t, err := time.Parse(time.DateOnly, nd)
		switch {
		case err != nil:
			fe["next_review_due"] = "Enter the next review date like 2029-05-31"
		case !t.After(date(now)):
			fe["next_review_due"] = "The next review must be after today"
		case t.After(due):
			fe["next_review_due"] = "The next review can be at most three years away (" + due.Format("2 January 2006") + ")"
		default:
			due = t
		}
	}
	if len(fe) > 0 {
		return fe
	}
	r := a.Head
	r.ReviewerID, r.ReviewComment = reviewer.ID, comment
	if approve {
		r.ReviewedAt, r.NextReviewDue, a.State = now, due, Approved
	} else {
		r.ReviewedAt, r.NextReviewDue, a.State = time.Time{}, time.Time{}, Draft
	}
	action := "article.send_back"
	if approve {
		action = "article.approve"
	}
	return s.change(ctx, action, a, func(ctx context.Context) error { return s.Store.SetReview(ctx, a, r) })
}

// Publish makes the approved version live. It is refused without a named
// author, a reviewer other than the author, at least one source and a next
// review date within three years of the review.
func (s *Service) Publish(ctx context.Context, articleID int64) error {
	a, err := s.Store.ArticleByID(ctx, articleID)
	if err != nil {
		return err
	}
	if fe := s.readiness(ctx, a.Head, true); fe != nil {
		return fe
	}
	if a.State != Approved {
		return fmt.Errorf("article %d is %s, not approved: %w", a.ID, a.State, ErrConflict)
	}
	now := s.Now().UTC()
	a.State, a.LiveID, a.UpdatedAt = Published, a.HeadID, now
	if a.PublishedAt.IsZero() {
		a.PublishedAt = now
	}
	return s.change(ctx, "article.publish", a, func(ctx context.Context) error { return s.Store.SetArticleState(ctx, a) })
}

// Archive takes an article offline; its history is kept.
func (s *Service) Archive(ctx context.Context, articleID int64) error {
	a, err := s.Store.ArticleByID(ctx, articleID)
	if err != nil {
		return err
	}
	a.State = Archived
	return s.change(ctx, "article.archive", a, func(ctx context.Context) error { return s.Store.SetArticleState(ctx, a) })
}

// SaveContributor validates and stores an author or panel member.
func (s *Service) SaveContributor(ctx context.Context, c *Contributor) error {
	c.Name = strings.Join(strings.Fields(c.Name), " ")
	c.Credentials = strings.Join(strings.Fields(c.Credentials), " ")
	c.Bio = strings.TrimSpace(strings.ReplaceAll(c.Bio, "\r\n", "\n"))
	fe := FieldErrors{}
	if !plain(c.Name, 2, 100) {
		fe["name"] = "Enter a name of 2 to 100 characters"
	}
	if !plain(c.Credentials, 0, 200) {
		fe["credentials"] = "Credentials must be 200 characters or fewer"
	}
	if !plain(c.Bio, 0, 2000) {
		fe["bio"] = "Biography must be 2,000 characters or fewer"
	}
	if c.Panel && c.Credentials == "" {
		fe["credentials"] = "Panel members need their credentials shown"
	}
	if c.Slug == "" {
		c.Slug = Slugify(c.Name)
	}
	if len(fe) > 0 {
		return fe
	}
	if err := s.Store.SaveContributor(ctx, c); err != nil {
		if errors.Is(err, ErrConflict) {
			return FieldErrors{"name": "Someone with this name is already listed, or that account is already linked"}
		}
		return err
	}
	return nil
}

// RunReviewReminders emails the editors when a published article's review
// is 30 days away and again when it falls due. Each email is claimed in
// the database first, so replicas do not repeat it.
func (s *Service) RunReviewReminders(ctx context.Context) (int, error) {
	emails, err := s.Store.EditorEmails(ctx)
	if err != nil || len(emails) == 0 {
		// With no editor to tell, nothing is claimed: the first editor
		// appointed hears about every article that is due.
		return 0, err
	}
	articles, err := s.Store.Articles(ctx)
	if err != nil {
		return 0, err
	}
	now := s.Now().UTC()
	var sent int
	for _, a := range articles {
		if !a.IsPublic() || a.Live.NextReviewDue.IsZero() {
			continue
		}
		due := a.Live.NextReviewDue
		kind := ""
		switch {
		case a.ReviewOverdue(now):
			kind = "due"
		case !now.Before(due.AddDate(0, 0, -30)):
			kind = "30d"
		default:
			continue
		}
		// The claim and the emails are one unit: the article page says
		// "our editors have been told" from the claim, so a claim must
		// never stand without its emails queued.
		claimed := false
		err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
			ok, err := s.Store.ClaimReviewReminder(ctx, a.ID, due, kind, now)
			if err != nil || !ok {
				return err
			}
			subject := fmt.Sprintf("Review due on %s: %s", due.Format("2 January 2006"), a.Live.Title)
			if kind == "due" {
				subject = "Overdue for review: " + a.Live.Title
			}
			body := fmt.Sprintf("The article %q (%s%s%s) is due for review on %s. Until it is re-reviewed the page says it is due for review.\n\nEditors' dashboard: %s/staff/articles",
				a.Live.Title, s.BaseURL, a.Kind.Path(), a.Slug, due.Format("2 January 2006"), s.BaseURL)
			for _, to := range emails {
				if err := s.Mail.Send(ctx, to, subject, body); err != nil {
					return fmt.Errorf("queue review reminder: %w", err)
				}
			}
			claimed = true
			return nil
		})
		if err != nil {
			s.Log.ErrorContext(ctx, "review reminder", "article", a.ID, "err", err)
			continue
		}
		if claimed {
			sent++
		}
	}
	return sent, nil
}

// EditorsTold reports whether the editors have been emailed that the
// review of the article's revision rev is overdue: the page may say so
// only then.
func (s *Service) EditorsTold(ctx context.Context, a *Article, rev *Revision) (bool, error) {
	if rev == nil || rev.NextReviewDue.IsZero() || s.Now().Before(rev.NextReviewDue.AddDate(0, 0, 1)) {
		return false, nil // not overdue: nobody needs telling
	}
	return s.Store.ReviewReminderSent(ctx, a.ID, rev.NextReviewDue, "due")
}
