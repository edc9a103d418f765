-- +goose Up
-- Enquiries. Everything the sender wrote is in ciphertext (XChaCha20-
-- Poly1305 under a per-enquiry data key, itself wrapped by a master key
-- that lives in a key file, never here). sender_hash is a keyed hash of the
-- sender's address, for daily limits and erasure.
CREATE TABLE enquiries (
    id               TEXT    PRIMARY KEY,
    profile_id       INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    idem_key         TEXT    NOT NULL UNIQUE,
    sender_hash      TEXT    NOT NULL,
    key_id           TEXT    NOT NULL,
    wrapped_key      BLOB    NOT NULL,
    ciphertext       BLOB    NOT NULL,
    consent_version  TEXT    NOT NULL,
    consent_at       TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('new', 'read', 'replied', 'archived')),
    created_at       TEXT    NOT NULL,
    read_at          TEXT,
    replied_at       TEXT,
    archived_at      TEXT,
    last_activity_at TEXT    NOT NULL,
    reminder_sent_at TEXT
);
CREATE INDEX enquiries_profile ON enquiries (profile_id, created_at);
CREATE INDEX enquiries_sender ON enquiries (sender_hash, created_at);
CREATE INDEX enquiries_activity ON enquiries (last_activity_at);

-- Emails to send, written in the same transaction as the enquiry. The id
-- is the Message-ID. lease_* implement claims that expire if a worker dies.
CREATE TABLE outbox (
    id           TEXT    PRIMARY KEY,
    enquiry_id   TEXT    NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('therapist_notice', 'sender_receipt', 'reminder')),
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT    NOT NULL,
    lease_owner  TEXT,
    lease_until  TEXT,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    sent_at      TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);

-- +goose Down
DROP TABLE outbox;
DROP TABLE enquiries;
