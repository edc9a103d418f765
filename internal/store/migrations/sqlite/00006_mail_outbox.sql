-- +goose Up
-- Every email goes through the outbox, not only enquiry mail: account,
-- verification and editorial messages are 'mail' rows, with no enquiry,
-- whose recipient, subject and body are sealed (they can hold one-time
-- links) under the key file's keys and wiped once sent. SQLite cannot
-- relax a NOT NULL or a CHECK in place, so the table is rebuilt.
CREATE TABLE outbox_new (
    id           TEXT    PRIMARY KEY,
    enquiry_id   TEXT    REFERENCES enquiries (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('therapist_notice', 'sender_receipt', 'reminder', 'mail')),
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT    NOT NULL,
    lease_owner  TEXT,
    lease_until  TEXT,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    sent_at      TEXT,
    key_id       TEXT    NOT NULL DEFAULT '',
    wrapped_key  BLOB,
    ciphertext   BLOB,
    CHECK ((kind = 'mail') = (enquiry_id IS NULL))
);
INSERT INTO outbox_new (id, enquiry_id, kind, status, attempts, next_attempt, lease_owner, lease_until, last_error, created_at, sent_at)
    SELECT id, enquiry_id, kind, status, attempts, next_attempt, lease_owner, lease_until, last_error, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);

-- +goose Down
DELETE FROM outbox WHERE kind = 'mail';
CREATE TABLE outbox_old (
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
INSERT INTO outbox_old SELECT id, enquiry_id, kind, status, attempts, next_attempt, lease_owner, lease_until, last_error, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);
