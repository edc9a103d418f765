-- +goose Up
-- Sealed enquiries and the outbox: the PostgreSQL twin of
-- migrations/sqlite/00004.
CREATE TABLE enquiries (
    id               TEXT        PRIMARY KEY,
    profile_id       BIGINT      NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    idem_key         TEXT        NOT NULL UNIQUE,
    sender_hash      TEXT        NOT NULL,
    key_id           TEXT        NOT NULL,
    wrapped_key      BYTEA       NOT NULL,
    ciphertext       BYTEA       NOT NULL,
    consent_version  TEXT        NOT NULL,
    consent_at       TIMESTAMPTZ NOT NULL,
    status           TEXT        NOT NULL CHECK (status IN ('new', 'read', 'replied', 'archived')),
    created_at       TIMESTAMPTZ NOT NULL,
    read_at          TIMESTAMPTZ,
    replied_at       TIMESTAMPTZ,
    archived_at      TIMESTAMPTZ,
    last_activity_at TIMESTAMPTZ NOT NULL,
    reminder_sent_at TIMESTAMPTZ
);
CREATE INDEX enquiries_profile ON enquiries (profile_id, created_at);
CREATE INDEX enquiries_sender ON enquiries (sender_hash, created_at);
CREATE INDEX enquiries_activity ON enquiries (last_activity_at);

CREATE TABLE outbox (
    id           TEXT        PRIMARY KEY,
    enquiry_id   TEXT        NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
    kind         TEXT        NOT NULL CHECK (kind IN ('therapist_notice', 'sender_receipt', 'reminder')),
    status       TEXT        NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts     INTEGER     NOT NULL DEFAULT 0,
    next_attempt TIMESTAMPTZ NOT NULL,
    lease_owner  TEXT,
    lease_until  TIMESTAMPTZ,
    last_error   TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    sent_at      TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (status, next_attempt);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);

-- +goose Down
DROP TABLE outbox;
DROP TABLE enquiries;
