-- +goose Up
-- One row per register membership that `confide import register` took
-- off a profile because the body's member list no longer showed it as
-- current. It is how a later list that shows the member again is told
-- apart from a new member: that membership goes back to the verification
-- queue (request_id, requeued_at), never straight back to verified.
CREATE TABLE register_lapses (
    body        TEXT   NOT NULL,
    number      TEXT   NOT NULL,
    profile_id  BIGINT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    level       TEXT   NOT NULL DEFAULT '',
    status      TEXT   NOT NULL CHECK (status IN ('absent', 'lapsed', 'suspended')),
    lapsed_at   timestamptz NOT NULL,
    requeued_at timestamptz,
    request_id  BIGINT,
    PRIMARY KEY (body, number)
);
CREATE INDEX register_lapses_profile ON register_lapses (profile_id);

-- +goose Down
DROP TABLE register_lapses;
