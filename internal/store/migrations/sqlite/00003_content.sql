-- +goose Up
-- Authors and the expert panel. user_id links a contributor to an account
-- so they can sign in to review; guest authors have none.
CREATE TABLE contributors (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    credentials TEXT    NOT NULL DEFAULT '',
    bio         TEXT    NOT NULL DEFAULT '',
    user_id     INTEGER UNIQUE REFERENCES users (id) ON DELETE SET NULL,
    panel       INTEGER NOT NULL DEFAULT 0 CHECK (panel IN (0, 1))
);

-- An article's identity and workflow state. head_id is the working copy,
-- live_id the revision the public sees (NULL until first published).
CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('therapy', 'issue', 'guide')),
    slug         TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('draft', 'in_review', 'approved', 'published', 'archived')),
    head_id      INTEGER,
    live_id      INTEGER,
    published_at TEXT,
    updated_at   TEXT,
    UNIQUE (kind, slug)
);

-- Every save is a revision; none is ever changed except to record its
-- review. faqs, sources and terms are JSON arrays.
CREATE TABLE article_revisions (
    id              INTEGER PRIMARY KEY,
    article_id      INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    title           TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    faqs            TEXT    NOT NULL DEFAULT '[]',
    sources         TEXT    NOT NULL DEFAULT '[]',
    terms           TEXT    NOT NULL DEFAULT '[]',
    funding         TEXT    NOT NULL DEFAULT '',
    author_id       INTEGER REFERENCES contributors (id),
    reviewer_id     INTEGER REFERENCES contributors (id),
    review_comment  TEXT    NOT NULL DEFAULT '',
    reviewed_at     TEXT,
    next_review_due TEXT,
    saved_by        INTEGER,
    saved_at        TEXT    NOT NULL,
    UNIQUE (article_id, number)
);

CREATE TABLE article_review_reminders (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    due        TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('30d', 'due')),
    sent_at    TEXT    NOT NULL,
    PRIMARY KEY (article_id, due, kind)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE article_review_reminders;
DROP TABLE article_revisions;
DROP TABLE articles;
DROP TABLE contributors;
