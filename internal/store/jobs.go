package store

import (
	"context"
	"fmt"
	"time"
)

// ClaimJobRun records that owner runs job for tick; false if another
// process claimed that tick first (the primary key decides, on either
// engine, so exactly one claim lands).
func (db *DB) ClaimJobRun(ctx context.Context, job string, tick int64, owner string, now time.Time) (bool, error) {
	return db.claim(ctx, "claim job run", `INSERT INTO job_runs (job, tick, owner, started_at) VALUES (?, ?, ?, ?) ON CONFLICT (job, tick) DO NOTHING`,
		job, tick, owner, timeArg(now))
}

// FinishJobRun records how a claimed run ended (errText empty: success)
// and forgets runs older than a week.
func (db *DB) FinishJobRun(ctx context.Context, job string, tick int64, errText string, now time.Time) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE job_runs SET finished_at = ?, error = ? WHERE job = ? AND tick = ?`, timeArg(now), errText, job, tick); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM job_runs WHERE job = ? AND started_at < ?`, job, timeArg(now.Add(-7*24*time.Hour)))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: finish job run: %w", err)
	}
	return nil
}

// JobRun is one recorded run of a scheduled job.
type JobRun struct {
	Job, Owner, Error string
	Tick              int64
	Started, Finished time.Time
}

// JobRuns lists the recorded runs of job, oldest tick first.
func (db *DB) JobRuns(ctx context.Context, job string) ([]JobRun, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT job, tick, owner, started_at, finished_at, error FROM job_runs WHERE job = ? ORDER BY tick`), job)
	if err != nil {
		return nil, fmt.Errorf("store: job runs: %w", err)
	}
	defer rows.Close()
	var out []JobRun
	for rows.Next() {
		var r JobRun
		if err := rows.Scan(&r.Job, &r.Tick, &r.Owner, nullTime{&r.Started}, nullTime{&r.Finished}, &r.Error); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
