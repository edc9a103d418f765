-- +goose Up
-- Token buckets for rate limits, shared by every process so that a limit
-- reached through one replica holds on the others. key is a SHA-256 of
-- the limit's name and what it counts (an address, an account), never
-- the address itself. Times are Unix seconds; full_at is when the bucket
-- will have refilled, after which the row holds no information and is
-- deleted.
CREATE TABLE rate_limits (
    key     TEXT PRIMARY KEY,
    tokens  REAL NOT NULL,
    updated REAL NOT NULL,
    full_at REAL NOT NULL
);
CREATE INDEX rate_limits_full_at ON rate_limits (full_at);

-- +goose Down
DROP TABLE rate_limits;
