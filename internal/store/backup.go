package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// Backup writes a consistent copy of the live database to path (SQLite
// VACUUM INTO: a snapshot that writers do not block) and checks it.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	}
	// A connection of its own: readers are query-only, and the writer
	// must stay free for enquiries while the copy is made.
	conn, err := sql.Open("sqlite", sqliteDSNMode(db.path, false, false))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return CheckFile(ctx, path)
}

// CheckFile runs SQLite's integrity check on a database file.
func CheckFile(ctx context.Context, path string) error {
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer d.Close()
	var result string
	if err := d.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return fmt.Errorf("integrity check of %s: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("integrity check of %s: %s", path, result)
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity check on the open database.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	var result string
	if err := db.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("integrity check: %s", result)
	}
	return nil
}
