package store

// This file holds what monitoring reads from the store: the change feed's
// newest sequence number, the outbox's backlog, the connection pools'
// statistics and whether the schema is current. Each is one cheap query,
// run when metrics are scraped or readiness is probed.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pressly/goose/v3"
)

// LatestChangeSeq is the newest committed change-feed sequence number (0
// when the feed is empty), so that monitoring can tell how far a
// process's search index lags behind the database. Pruning always keeps
// the newest entry, so the answer never goes backwards.
func (db *DB) LatestChangeSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.read.QueryRowContext(ctx, feedPosition).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("latest change: %w", err)
	}
	return seq, nil
}

// OutboxStats is the email outbox's backlog at one moment.
type OutboxStats struct {
	// Pending counts messages not yet sent (including those waiting to
	// retry).
	Pending int64
	// Dead counts messages given up on, which an admin must look at.
	Dead int64
	// OldestPending is when the oldest pending message was queued; zero
	// when nothing is pending.
	OldestPending time.Time
}

// OutboxStats reads the outbox's backlog, so that monitoring can alert
// when email stops flowing (a growing, ageing backlog) or is being given up
// on (dead letters).
func (db *DB) OutboxStats(ctx context.Context) (OutboxStats, error) {
	var out OutboxStats
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(
		`SELECT status, COUNT(*), MIN(created_at) FROM outbox WHERE status IN (?, ?) GROUP BY status`), "pending", "dead")
	if err != nil {
		return out, fmt.Errorf("outbox stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int64
		var oldest time.Time
		if err := rows.Scan(&status, &n, nullTime{&oldest}); err != nil {
			return out, fmt.Errorf("outbox stats: %w", err)
		}
		switch status {
		case "pending":
			out.Pending, out.OldestPending = n, oldest
		case "dead":
			out.Dead = n
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("outbox stats: %w", err)
	}
	return out, nil
}

// PoolStats is one connection pool's database/sql statistics.
type PoolStats struct {
	// Name is "write" (the single writer connection) or "read".
	Name  string
	Stats sql.DBStats
}

// PoolStats reports the connection pools' statistics for monitoring
// (waits on the single writer connection show write contention), while
// the pools themselves stay inside this package with the SQL.
func (db *DB) PoolStats() []PoolStats {
	if db.read == db.write { // PostgreSQL: one pool serves both
		return []PoolStats{{"pool", db.write.Stats()}}
	}
	return []PoolStats{{"write", db.write.Stats()}, {"read", db.read.Stats()}}
}

// MigrationsPending reports whether the database lacks any migration this
// binary embeds, so that a readiness probe keeps traffic from a process
// whose schema is behind its code. It only reads: it runs on the reader
// pool against the version table Open created.
func (db *DB) MigrationsPending(ctx context.Context) (bool, error) {
	fsys, err := db.dialect.migrationFS()
	if err != nil {
		return false, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(db.dialect.goose, db.read, fsys)
	if err != nil {
		return false, fmt.Errorf("migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", err)
	}
	return pending, nil
}
