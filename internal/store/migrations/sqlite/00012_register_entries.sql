-- +goose Up
-- One row per register membership brought in by `confide import`: the key
-- a re-import finds its profile by, and a digest of what the row said, so
-- that running the same file again changes nothing.
CREATE TABLE register_entries (
    body        TEXT   NOT NULL,
    number      TEXT   NOT NULL,
    profile_id  INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    digest      TEXT   NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (body, number)
);
CREATE INDEX register_entries_profile ON register_entries (profile_id);

-- +goose Down
DROP TABLE register_entries;
