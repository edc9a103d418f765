-- +goose Up
-- A random name for this database, made once when it is created. An index
-- snapshot records it, so that a snapshot is never applied to another
-- database (one regenerated at the same path, or a copy made by
-- migrate-store, which does not copy this table) whose change-feed
-- positions happen to look compatible.
CREATE TABLE store_identity (
    id          TEXT NOT NULL PRIMARY KEY
);
INSERT INTO store_identity (id) VALUES (lower(hex(randomblob(16))));

-- +goose Down
DROP TABLE store_identity;
