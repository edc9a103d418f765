-- +goose Up
-- One row per scheduled job per tick (the tick is the wall-clock interval
-- number, the same on every replica): the replica whose INSERT lands runs
-- the job for that tick, the others skip it, so each job runs once per
-- tick however many replicas there are. Kept for a week, as a record.
CREATE TABLE job_runs (
    job         TEXT   NOT NULL,
    tick        BIGINT NOT NULL,
    owner       TEXT   NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    error       TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (job, tick)
);
CREATE INDEX job_runs_started ON job_runs (started_at);

-- +goose Down
DROP TABLE job_runs;
