package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/confide-org/confide/internal/content"
)

const revisionColumns = `id, article_id, number, title, summary, body, faqs, sources, terms, funding, COALESCE(author_id, 0),
	COALESCE(reviewer_id, 0), review_comment, reviewed_at, next_review_due, COALESCE(saved_by, 0), saved_at`

// SaveDraft appends r as the next revision of a, creating a if needed,
// and makes it the head.
func (db *DB) SaveDraft(ctx context.Context, a *content.Article, r *content.Revision) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		if a.ID == 0 {
			id, err := tx.insertID(ctx, `INSERT INTO articles (kind, slug, state) VALUES (?, ?, ?)`, string(a.Kind), a.Slug, string(a.State))
			if err != nil {
				if tx.dialect.isUniqueViolation(err) {
					return fmt.Errorf("article %s%s: %w", a.Kind.Path(), a.Slug, content.ErrConflict)
				}
				return err
			}
			a.ID = id
		}
		if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM article_revisions WHERE article_id = ?`, a.ID).Scan(&r.Number); err != nil {
			return err
		}
		faqs, _ := json.Marshal(nonNil(r.FAQs))
		sources, _ := json.Marshal(nonNil(r.Sources))
		terms, _ := json.Marshal(nonNil(r.Terms))
		r.ArticleID = a.ID
		id, err := tx.insertID(ctx, `INSERT INTO article_revisions (article_id, number, title, summary, body, faqs, sources, terms, funding,
			author_id, reviewer_id, review_comment, reviewed_at, next_review_due, saved_by, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, r.Number, r.Title, r.Summary, r.Body, string(faqs), string(sources), string(terms), r.Funding, nullID(r.AuthorID),
			nullID(r.ReviewerID), r.ReviewComment, timeArg(r.ReviewedAt), dateArg(r.NextReviewDue), nullID(r.SavedBy), timeArg(r.SavedAt))
		if err != nil {
			if tx.dialect.isUniqueViolation(err) {
				return fmt.Errorf("article %d revision %d saved twice at once: %w", a.ID, r.Number, content.ErrConflict)
			}
			return err
		}
		r.ID = id
		a.HeadID = r.ID
		_, err = tx.exec(ctx, `UPDATE articles SET head_id = ?, state = ? WHERE id = ?`, r.ID, string(a.State), a.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save article: %w", err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// SetReview records a revision's review and the article's state.
func (db *DB) SetReview(ctx context.Context, a *content.Article, r *content.Revision) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE article_revisions SET reviewer_id = ?, review_comment = ?, reviewed_at = ?, next_review_due = ? WHERE id = ?`,
			nullID(r.ReviewerID), r.ReviewComment, timeArg(r.ReviewedAt), dateArg(r.NextReviewDue), r.ID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE articles SET state = ? WHERE id = ?`, string(a.State), a.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: review article: %w", err)
	}
	return nil
}

// SetArticleState writes an article's state, live revision and dates.
func (db *DB) SetArticleState(ctx context.Context, a *content.Article) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE articles SET state = ?, live_id = ?, published_at = ?, updated_at = ? WHERE id = ?`,
			string(a.State), nullID(a.LiveID), timeArg(a.PublishedAt), timeArg(a.UpdatedAt), a.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: article state: %w", err)
	}
	return nil
}

func scanRevision(row interface{ Scan(...any) error }) (*content.Revision, error) {
	var r content.Revision
	var faqs, sources, terms string
	if err := row.Scan(&r.ID, &r.ArticleID, &r.Number, &r.Title, &r.Summary, &r.Body, &faqs, &sources, &terms, &r.Funding, &r.AuthorID,
		&r.ReviewerID, &r.ReviewComment, nullTime{&r.ReviewedAt}, nullTime{&r.NextReviewDue}, &r.SavedBy, nullTime{&r.SavedAt}); err != nil {
		return nil, err
	}
	if err := errors.Join(json.Unmarshal([]byte(faqs), &r.FAQs), json.Unmarshal([]byte(sources), &r.Sources), json.Unmarshal([]byte(terms), &r.Terms)); err != nil {
		return nil, fmt.Errorf("revision %d: %w", r.ID, err)
	}
	return &r, nil
}

func (db *DB) revision(ctx context.Context, tx *sql.Tx, id int64) (*content.Revision, error) {
	r, err := scanRevision(tx.QueryRowContext(ctx, db.dialect.rebind(`SELECT `+revisionColumns+` FROM article_revisions WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("revision %d: %w", id, content.ErrNotFound)
	}
	return r, err
}

func (db *DB) articlesWhere(ctx context.Context, where string, args ...any) ([]*content.Article, error) {
	var out []*content.Article
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.dialect.rebind(`SELECT id, kind, slug, state, COALESCE(head_id, 0), COALESCE(live_id, 0), published_at, updated_at
			FROM articles `+where+` ORDER BY kind, slug`), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var a content.Article
			var kind, state string
			if err := rows.Scan(&a.ID, &kind, &a.Slug, &state, &a.HeadID, &a.LiveID, nullTime{&a.PublishedAt}, nullTime{&a.UpdatedAt}); err != nil {
				rows.Close()
				return err
			}
			a.Kind, a.State = content.Kind(kind), content.State(state)
			out = append(out, &a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, a := range out {
			if a.HeadID != 0 {
				if a.Head, err = db.revision(ctx, tx, a.HeadID); err != nil {
					return err
				}
			}
			if a.LiveID != 0 {
				if a.Live, err = db.revision(ctx, tx, a.LiveID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: read articles: %w", err)
	}
	return out, nil
}

// ArticleByID reads an article with its head and live revisions.
func (db *DB) ArticleByID(ctx context.Context, id int64) (*content.Article, error) {
	as, err := db.articlesWhere(ctx, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("article %d: %w", id, content.ErrNotFound)
	}
	return as[0], nil
}

// ArticleBySlug reads an article by its address.
func (db *DB) ArticleBySlug(ctx context.Context, kind content.Kind, slug string) (*content.Article, error) {
	as, err := db.articlesWhere(ctx, "WHERE kind = ? AND slug = ?", string(kind), slug)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("article %s%s: %w", kind.Path(), slug, content.ErrNotFound)
	}
	return as[0], nil
}

// Articles reads every article.
func (db *DB) Articles(ctx context.Context) ([]*content.Article, error) {
	return db.articlesWhere(ctx, "")
}

// Revisions lists an article's revisions, newest first.
func (db *DB) Revisions(ctx context.Context, articleID int64) ([]content.Revision, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT `+revisionColumns+` FROM article_revisions WHERE article_id = ? ORDER BY number DESC`), articleID)
	if err != nil {
		return nil, fmt.Errorf("store: revisions: %w", err)
	}
	defer rows.Close()
	var out []content.Revision
	for rows.Next() {
		r, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

const contributorColumns = `id, slug, name, credentials, bio, COALESCE(user_id, 0), panel`

func (db *DB) contributorsWhere(ctx context.Context, where string, args ...any) ([]content.Contributor, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT `+contributorColumns+` FROM contributors `+where+` ORDER BY name`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: contributors: %w", err)
	}
	defer rows.Close()
	var out []content.Contributor
	for rows.Next() {
		var c content.Contributor
		if err := rows.Scan(&c.ID, &c.Slug, &c.Name, &c.Credentials, &c.Bio, &c.UserID, &c.Panel); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contributors lists authors and panel members by name.
func (db *DB) Contributors(ctx context.Context) ([]content.Contributor, error) {
	return db.contributorsWhere(ctx, "")
}

func one(cs []content.Contributor, err error, what string) (*content.Contributor, error) {
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("contributor %s: %w", what, content.ErrNotFound)
	}
	return &cs[0], nil
}

// ContributorByID reads one contributor.
func (db *DB) ContributorByID(ctx context.Context, id int64) (*content.Contributor, error) {
	cs, err := db.contributorsWhere(ctx, "WHERE id = ?", id)
	return one(cs, err, fmt.Sprint(id))
}

// ContributorByUser reads the contributor linked to an account.
func (db *DB) ContributorByUser(ctx context.Context, userID int64) (*content.Contributor, error) {
	cs, err := db.contributorsWhere(ctx, "WHERE user_id = ?", userID)
	return one(cs, err, fmt.Sprintf("of user %d", userID))
}

// SaveContributor inserts or updates a contributor.
func (db *DB) SaveContributor(ctx context.Context, c *content.Contributor) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		if c.ID == 0 {
			id, err := tx.insertID(ctx, `INSERT INTO contributors (slug, name, credentials, bio, user_id, panel) VALUES (?, ?, ?, ?, ?, ?)`,
				c.Slug, c.Name, c.Credentials, c.Bio, nullID(c.UserID), c.Panel)
			c.ID = id
			return err
		}
		_, err := tx.exec(ctx, `UPDATE contributors SET slug = ?, name = ?, credentials = ?, bio = ?, user_id = ?, panel = ? WHERE id = ?`,
			c.Slug, c.Name, c.Credentials, c.Bio, nullID(c.UserID), c.Panel, c.ID)
		return err
	})
	if err != nil {
		if db.dialect.isUniqueViolation(errors.Unwrap(err)) || db.dialect.isUniqueViolation(err) {
			return fmt.Errorf("store: save contributor: %w", content.ErrConflict)
		}
		return fmt.Errorf("store: save contributor: %w", err)
	}
	return nil
}

// ClaimReviewReminder records a review reminder; false if already sent.
func (db *DB) ClaimReviewReminder(ctx context.Context, articleID int64, due time.Time, kind string, now time.Time) (bool, error) {
	return db.claim(ctx, "claim review reminder", `INSERT INTO article_review_reminders (article_id, due, kind, sent_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (article_id, due, kind) DO NOTHING`, articleID, dateArg(due), kind, timeArg(now))
}

// ReviewReminderSent reports whether a review reminder was claimed.
func (db *DB) ReviewReminderSent(ctx context.Context, articleID int64, due time.Time, kind string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, db.dialect.rebind(`SELECT COUNT(*) FROM article_review_reminders WHERE article_id = ? AND due = ? AND kind = ?`),
		articleID, dateArg(due), kind).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: review reminder: %w", err)
	}
	return n > 0, nil
}

// EditorEmails lists the addresses of enabled accounts with the editor role.
func (db *DB) EditorEmails(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT u.email FROM users u JOIN user_roles r ON r.user_id = u.id
		WHERE r.role = 'editor' AND u.disabled_at IS NULL ORDER BY u.email`)
	if err != nil {
		return nil, fmt.Errorf("store: editor emails: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountArticles counts the articles in a workflow state (in_review: the
// reviewers' queue).
func (db *DB) CountArticles(ctx context.Context, state content.State) (int, error) {
	return db.count(ctx, `SELECT COUNT(*) FROM articles WHERE state = ?`, string(state))
}
