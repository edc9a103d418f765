-- +goose Up
-- People who sign in. email is stored lower-cased; password_hash is a PHC
-- string ($argon2id$v=19$m=…,t=…,p=…$salt$hash), empty until a password is
-- set. session_epoch is raised to revoke every session of the account at
-- once (sign-out everywhere, disabling, password change).
CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    email              TEXT    NOT NULL UNIQUE,
    password_hash      TEXT    NOT NULL DEFAULT '',
    email_confirmed_at TEXT,
    disabled_at        TEXT,
    session_epoch      INTEGER NOT NULL DEFAULT 1,
    notice_sent_at     TEXT,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);

CREATE TABLE user_roles (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('therapist', 'verifier', 'editor', 'reviewer', 'admin')),
    granted_at TEXT    NOT NULL,
    granted_by INTEGER,
    PRIMARY KEY (user_id, role)
) WITHOUT ROWID;

-- One-time tokens sent by email. Only a SHA-256 of the token is kept, so a
-- copy of the database cannot be used to take over accounts.
CREATE TABLE account_tokens (
    hash       TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('confirm', 'reset', 'setup', 'email')),
    new_email  TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    used_at    TEXT
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Server-side sessions (alexedwards/scs). expiry is Unix seconds.
CREATE TABLE sessions (
    token  TEXT    PRIMARY KEY,
    data   BLOB    NOT NULL,
    expiry REAL    NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

-- The account that keeps a profile. Demo and imported profiles have none.
ALTER TABLE profiles ADD COLUMN owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX profiles_owner ON profiles (owner_id) WHERE owner_id IS NOT NULL;

-- Evidence a therapist submits and the verifier's decision on it.
CREATE TABLE verification_requests (
    id                INTEGER PRIMARY KEY,
    profile_id        INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    body              TEXT    NOT NULL,
    membership_number TEXT    NOT NULL,
    level             TEXT    NOT NULL DEFAULT '',
    insurer           TEXT    NOT NULL,
    insurance_expires TEXT    NOT NULL,
    qualification     TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'changes_requested', 'withdrawn')),
    submitted_at      TEXT    NOT NULL,
    decided_at        TEXT,
    decided_by        INTEGER,
    reason            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX verification_requests_status ON verification_requests (status, submitted_at);
CREATE INDEX verification_requests_profile ON verification_requests (profile_id, id);

-- Reminders already sent, one per profile, due date and kind, so that every
-- replica can run the job and each email still goes out once.
CREATE TABLE verification_reminders (
    profile_id INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    due        TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('30d', '7d', 'expired')),
    sent_at    TEXT    NOT NULL,
    PRIMARY KEY (profile_id, due, kind)
) WITHOUT ROWID;

-- Append-only, hash-chained record of security-relevant actions. Each hash
-- covers the previous hash and this row's fields, so editing or deleting a
-- row breaks every link after it. Never holds content.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    object     TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_log;
DROP TABLE verification_reminders;
DROP TABLE verification_requests;
DROP INDEX profiles_owner;
ALTER TABLE profiles DROP COLUMN owner_id;
DROP TABLE sessions;
DROP TABLE account_tokens;
DROP TABLE user_roles;
DROP TABLE users;
