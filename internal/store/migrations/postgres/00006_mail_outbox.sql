-- +goose Up
-- Every email goes through the outbox (see the SQLite twin): 'mail' rows
-- have no enquiry and carry their sealed recipient, subject and body.
ALTER TABLE outbox ALTER COLUMN enquiry_id DROP NOT NULL;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('therapist_notice', 'sender_receipt', 'reminder', 'mail'));
ALTER TABLE outbox ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN wrapped_key BYTEA;
ALTER TABLE outbox ADD COLUMN ciphertext BYTEA;
ALTER TABLE outbox ADD CONSTRAINT outbox_mail_has_no_enquiry CHECK ((kind = 'mail') = (enquiry_id IS NULL));

-- +goose Down
DELETE FROM outbox WHERE kind = 'mail';
ALTER TABLE outbox DROP CONSTRAINT outbox_mail_has_no_enquiry;
ALTER TABLE outbox DROP COLUMN ciphertext;
ALTER TABLE outbox DROP COLUMN wrapped_key;
ALTER TABLE outbox DROP COLUMN key_id;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('therapist_notice', 'sender_receipt', 'reminder'));
ALTER TABLE outbox ALTER COLUMN enquiry_id SET NOT NULL;
