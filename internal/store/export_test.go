package store

import (
	"context"
	"log/slog"
)

// OpenAtVersionForTest opens dsn with its schema brought only up to
// version, so a test can write rows of an older shape and then see what
// a later migration makes of them.
func OpenAtVersionForTest(ctx context.Context, dsn string, log *slog.Logger, version int64) (*DB, error) {
	db, err := openOnly(ctx, dsn, log)
	if err != nil {
		return nil, err
	}
	if err := db.migrateTo(ctx, version); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// SetBeforeCommitForTest makes every write transaction of db call fn
// after its deferred writes (change-feed rows, taken under the feed lock)
// and before COMMIT, so tests can hold a transaction open at the moment
// that matters for ordering.
func (db *DB) SetBeforeCommitForTest(fn func()) { db.beforeCommit = fn }

// DisableLocksForTest turns the advisory locks off, to show what goes
// wrong without them.
func (db *DB) DisableLocksForTest() { db.dialect.lockSQL = "" }
