-- +goose Up
-- Sessions are found by the SHA-256 (hex) of their cookie value, so the
-- table never holds a value that could be sent back as a cookie: a copy of
-- the database or of a backup signs nobody in. Existing rows are keyed by
-- the cookie itself; they are removed, and everyone signs in again.
DELETE FROM sessions;
ALTER TABLE sessions RENAME COLUMN token TO hash;

-- +goose Down
DELETE FROM sessions;
ALTER TABLE sessions RENAME COLUMN hash TO token;
