package store

import "context"

// ExecForTest runs one statement on the writer. It exists for tests that
// play an attacker with access to the database file (tampering with the
// audit log) and for operators' break-glass scripts; application code
// never calls it.
func (db *DB) ExecForTest(ctx context.Context, query string) error {
	_, err := db.write.ExecContext(ctx, query)
	return err
}
