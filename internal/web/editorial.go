package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/taxonomy"
)

type articleRow struct {
	ID                int64
	Title, URL, State string
	NextDue           time.Time
	Overdue, DueSoon  bool
	Public            bool
}

type articlesPage struct {
	layout
	Rows []articleRow
}

func stateLabel(s content.State) string {
	switch s {
	case content.Draft:
		return "Draft"
	case content.InReview:
		return "In review"
	case content.Approved:
		return "Approved, not yet published"
	case content.Published:
		return "Published"
	case content.Archived:
		return "Archived"
	}
	return string(s)
}

// listArticles is the editors' dashboard: every article by its next
// review date, overdue first, then those never reviewed.
func (h *Handler) listArticles(w http.ResponseWriter, r *http.Request) error {
	as, err := h.Content.Articles(r.Context())
	if err != nil {
		return err
	}
	now := h.Now()
	page := articlesPage{layout: h.layout(r, "Articles", "staff")}
	for _, a := range as {
		row := articleRow{ID: a.ID, Title: a.Head.Title, URL: a.Kind.Path() + a.Slug, State: stateLabel(a.State), Public: a.IsPublic()}
		if a.Live != nil {
			row.NextDue = a.Live.NextReviewDue
			row.Overdue = a.ReviewOverdue(now)
			row.DueSoon = !row.Overdue && !now.Before(row.NextDue.AddDate(0, 0, -30))
			if a.State != content.Published {
				row.State = "Published; new version: " + stateLabel(a.State)
			}
		}
		page.Rows = append(page.Rows, row)
	}
	sort.SliceStable(page.Rows, func(i, j int) bool {
		a, b := page.Rows[i], page.Rows[j]
		if a.NextDue.IsZero() != b.NextDue.IsZero() {
			return !a.NextDue.IsZero()
		}
		return a.NextDue.Before(b.NextDue)
	})
	return h.render(w, r, http.StatusOK, "staff-articles", page)
}

type articleFormPage struct {
	layout
	Form       formState
	Article    *content.Article
	New        bool
	Kinds      []choice
	Approaches []choice
	Issues     []choice
	Authors    []content.Contributor
	Revisions  []content.Revision
	CanEdit    bool
	CanReview  bool
	ReviewForm formState
	State      string
	LiveNumber int
	HeadNumber int
	DefaultDue string
}

var articleFieldIDs = map[string]string{"author": "author_id"}

func (h *Handler) articleForm(r *http.Request, a *content.Article, f formState, rf formState) (articleFormPage, error) {
	u := currentUser(r.Context())
	page := articleFormPage{layout: h.layout(r, "New article", "staff"), Form: f, ReviewForm: rf, Article: a, New: a == nil,
		CanEdit: u.Has(account.Editor), DefaultDue: h.Now().UTC().AddDate(content.MaxReviewInterval, 0, 0).Format(time.DateOnly)}
	for _, k := range content.Kinds {
		page.Kinds = append(page.Kinds, choice{Value: string(k), Label: map[content.Kind]string{content.KindTherapy: "A therapy", content.KindIssue: "An issue", content.KindGuide: "A guide"}[k], Checked: f.Get("kind") == string(k)})
	}
	for _, t := range h.Tax.Terms(taxonomy.Approach) {
		page.Approaches = append(page.Approaches, choice{Value: t.Slug, Label: t.Label, Checked: f.Get("term") == t.Slug})
	}
	for _, t := range h.Tax.Terms(taxonomy.Issue) {
		page.Issues = append(page.Issues, choice{Value: t.Slug, Label: t.Label, Checked: f.Get("term") == t.Slug})
	}
	var err error
	if page.Authors, err = h.Content.Contributors(r.Context()); err != nil {
		return page, err
	}
	if a != nil {
		page.Title = a.Head.Title
		page.State = stateLabel(a.State)
		page.HeadNumber = a.Head.Number
		if a.Live != nil {
			page.LiveNumber = a.Live.Number
		}
		page.CanReview = u.Has(account.Reviewer) && a.State == content.InReview
		if page.Revisions, err = h.Content.Revisions(r.Context(), a.ID); err != nil {
			return page, err
		}
	}
	return page, nil
}

func articleValues(in content.Input) url.Values {
	return url.Values{"kind": {in.Kind}, "slug": {in.Slug}, "title": {in.Title}, "summary": {in.Summary}, "body": {in.Body},
		"faqs": {in.FAQs}, "sources": {in.Sources}, "term": {in.Term}, "funding": {in.Funding}, "author_id": {strconv.FormatInt(in.AuthorID, 10)}}
}

func (h *Handler) newArticle(w http.ResponseWriter, r *http.Request) error {
	page, err := h.articleForm(r, nil, formState{Values: url.Values{"kind": {"therapy"}}}, formState{})
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "article-form", page)
}

func (h *Handler) loadArticle(r *http.Request) (*content.Article, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return h.Content.ArticleByID(r.Context(), id)
}

func (h *Handler) editArticle(w http.ResponseWriter, r *http.Request) error {
	a, err := h.loadArticle(r)
	if err != nil {
		return err
	}
	page, err := h.articleForm(r, a, formState{Values: articleValues(content.InputOf(a, a.Head))}, formState{})
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "article-form", page)
}

func inputFrom(form url.Values) content.Input {
	author, _ := strconv.ParseInt(form.Get("author_id"), 10, 64)
	return content.Input{Kind: form.Get("kind"), Slug: form.Get("slug"), Title: form.Get("title"), Summary: form.Get("summary"),
		Body: form.Get("body"), FAQs: form.Get("faqs"), Sources: form.Get("sources"), Term: form.Get("term"), Funding: form.Get("funding"), AuthorID: author}
}

// saveArticle stores every save as a new revision; a published article
// stays live while the new draft goes through review.
func (h *Handler) saveArticle(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	var a *content.Article
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if a, err = h.loadArticle(r); err != nil {
			return err
		}
		id = a.ID
	}
	saved, err := h.Editorial.Save(r.Context(), currentUser(r.Context()).ID, id, inputFrom(r.PostForm))
	f := formState{Values: r.PostForm}
	if err := fromErr(&f, err, articleFieldIDs); err != nil {
		return err
	}
	if len(f.Errors) > 0 {
		page, perr := h.articleForm(r, a, f, formState{})
		if perr != nil {
			return perr
		}
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "article-form", page)
	}
	h.flash(r.Context(), "Saved as version "+strconv.Itoa(saved.Head.Number)+".")
	http.Redirect(w, r, "/staff/articles/"+strconv.FormatInt(saved.ID, 10), http.StatusSeeOther)
	return nil
}

// articleAction runs one workflow step and reports problems on the form.
func (h *Handler) articleAction(w http.ResponseWriter, r *http.Request, done string, fn func(a *content.Article) error) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	a, err := h.loadArticle(r)
	if err != nil {
		return err
	}
	err = fn(a)
	var fe content.FieldErrors
	switch {
	case errors.As(err, &fe):
		rf := formState{Values: r.PostForm}
		_ = fromErr(&rf, err, nil)
		a, _ = h.loadArticle(r)
		page, perr := h.articleForm(r, a, formState{Values: articleValues(content.InputOf(a, a.Head))}, rf)
		if perr != nil {
			return perr
		}
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "article-form", page)
	case err != nil:
		return err
	}
	h.flash(r.Context(), done)
	http.Redirect(w, r, "/staff/articles/"+strconv.FormatInt(a.ID, 10), http.StatusSeeOther)
	return nil
}

func (h *Handler) submitArticle(w http.ResponseWriter, r *http.Request) error {
	return h.articleAction(w, r, "Sent to the expert panel for review.", func(a *content.Article) error {
		return h.Editorial.SubmitForReview(r.Context(), a.ID)
	})
}

func (h *Handler) reviewArticle(w http.ResponseWriter, r *http.Request) error {
	approve := r.FormValue("decision") == "approve"
	msg := "Sent back to the editors with your comments."
	if approve {
		msg = "Approved. An editor can now publish it."
	}
	return h.articleAction(w, r, msg, func(a *content.Article) error {
		return h.Editorial.Review(r.Context(), currentUser(r.Context()).ID, a.ID, approve, r.PostForm.Get("comment"), r.PostForm.Get("next_review_due"))
	})
}

func (h *Handler) publishArticle(w http.ResponseWriter, r *http.Request) error {
	return h.articleAction(w, r, "Published: this version is now live.", func(a *content.Article) error {
		return h.Editorial.Publish(r.Context(), a.ID)
	})
}

func (h *Handler) archiveArticle(w http.ResponseWriter, r *http.Request) error {
	return h.articleAction(w, r, "Archived: the page is offline.", func(a *content.Article) error {
		return h.Editorial.Archive(r.Context(), a.ID)
	})
}

func (h *Handler) previewArticle(w http.ResponseWriter, r *http.Request) error {
	a, err := h.loadArticle(r)
	if err != nil {
		return err
	}
	rev := a.Head
	if n, err := strconv.Atoi(r.URL.Query().Get("version")); err == nil {
		revs, err := h.Content.Revisions(r.Context(), a.ID)
		if err != nil {
			return err
		}
		for i := range revs {
			if revs[i].Number == n {
				rev = &revs[i]
			}
		}
	}
	page, err := h.articleView(r, a, rev, h.Now())
	if err != nil {
		return err
	}
	page.Preview = true
	page.JSONLD = nil
	return h.render(w, r, http.StatusOK, "article", page)
}

type diffPage struct {
	layout
	Article  *content.Article
	From, To int
	Lines    []content.DiffLine
	Numbers  []int
}

// diffArticle compares any two revisions (by default the live version, or
// the previous one, against the newest).
func (h *Handler) diffArticle(w http.ResponseWriter, r *http.Request) error {
	a, err := h.loadArticle(r)
	if err != nil {
		return err
	}
	revs, err := h.Content.Revisions(r.Context(), a.ID)
	if err != nil {
		return err
	}
	byNumber := map[int]*content.Revision{}
	page := diffPage{layout: h.layout(r, "Changes to "+a.Head.Title, "staff"), Article: a}
	for i := range revs {
		byNumber[revs[i].Number] = &revs[i]
		page.Numbers = append(page.Numbers, revs[i].Number)
	}
	to := a.Head.Number
	from := to - 1
	if a.Live != nil && a.Live.Number != to {
		from = a.Live.Number
	}
	q := r.URL.Query()
	if q.Has("from") || q.Has("to") {
		var e1, e2 error
		from, e1 = strconv.Atoi(q.Get("from"))
		to, e2 = strconv.Atoi(q.Get("to"))
		if e1 != nil || e2 != nil || byNumber[from] == nil || byNumber[to] == nil {
			return h.notice(w, r, http.StatusBadRequest, "No such versions", tagLink{"Back to the article", "/staff/articles/" + strconv.FormatInt(a.ID, 10)},
				"Choose two versions from the list: this article has versions 1 to "+strconv.Itoa(a.Head.Number)+".")
		}
	}
	page.From, page.To = from, to
	var before []string
	if byNumber[from] != nil {
		before = byNumber[from].Text()
	}
	page.Lines = content.Diff(before, byNumber[to].Text())
	return h.render(w, r, http.StatusOK, "diff", page)
}

type contributorsPage struct {
	layout
	Contributors []content.Contributor
	Form         formState
	Editing      *content.Contributor
}

func (h *Handler) contributorsPage(r *http.Request, f formState, editing *content.Contributor) (contributorsPage, error) {
	cs, err := h.Content.Contributors(r.Context())
	return contributorsPage{layout: h.layout(r, "Authors and expert panel", "staff"), Contributors: cs, Form: f, Editing: editing}, err
}

func (h *Handler) listContributors(w http.ResponseWriter, r *http.Request) error {
	page, err := h.contributorsPage(r, formState{}, nil)
	if err != nil {
		return err
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("edit"), 10, 64); err == nil {
		c, err := h.Content.ContributorByID(r.Context(), id)
		if err != nil {
			return err
		}
		page.Editing = c
		page.Form.Values = url.Values{"name": {c.Name}, "credentials": {c.Credentials}, "bio": {c.Bio}}
		if c.Panel {
			page.Form.Values.Set("panel", "yes")
		}
		if c.UserID != 0 {
			if u, err := h.Accounts.User(r.Context(), c.UserID); err == nil {
				page.Form.Values.Set("email", u.Email)
			}
		}
	}
	return h.render(w, r, http.StatusOK, "contributors", page)
}

// saveContributor adds or updates an author or panel member; linking an
// account (by its email) lets that person sign in and review.
func (h *Handler) saveContributor(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	c := &content.Contributor{}
	if id, err := strconv.ParseInt(r.PostForm.Get("id"), 10, 64); err == nil && id > 0 {
		existing, err := h.Content.ContributorByID(r.Context(), id)
		if err != nil {
			return err
		}
		c = existing
	}
	c.Name, c.Credentials, c.Bio, c.Panel = r.PostForm.Get("name"), r.PostForm.Get("credentials"), r.PostForm.Get("bio"), r.PostForm.Get("panel") == "yes"
	f := formState{Values: r.PostForm}
	c.UserID = 0
	if email := r.PostForm.Get("email"); email != "" {
		norm, _ := account.NormalizeEmail(email)
		users, err := h.Accounts.Users(r.Context(), norm, 2)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Email == norm {
				c.UserID = u.ID
			}
		}
		if c.UserID == 0 {
			f.add("email", "No account has this email address")
		}
	}
	if len(f.Errors) == 0 {
		if err := fromErr(&f, h.Editorial.SaveContributor(r.Context(), c), nil); err != nil {
			return err
		}
	}
	if len(f.Errors) > 0 {
		page, err := h.contributorsPage(r, f, c)
		if err != nil {
			return err
		}
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "contributors", page)
	}
	h.flash(r.Context(), c.Name+" saved.")
	http.Redirect(w, r, "/staff/contributors", http.StatusSeeOther)
	return nil
}
