package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Backup writes a consistent copy of the live database to path (SQLite
// VACUUM INTO: a snapshot that writers do not block) and checks it.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect.name == postgresDialect.name {
		return ErrUsePgDump
	}
	// The copy holds everything the database does: it is created for
	// its owner only before SQLite writes into it.
	if err := createPrivate(path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("backup: %s already exists", path)
	} else if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := db.vacuumInto(ctx, path); err != nil {
		os.Remove(path)
		return err
	}
	return CheckFile(ctx, path)
}

// vacuumInto writes a snapshot of the database into path.
func (db *DB) vacuumInto(ctx context.Context, path string) error {
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
	return nil
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

// ErrUsePgDump is Backup's answer on PostgreSQL, whose own tools do it
// better than Confide could.
var ErrUsePgDump = errors.New("confide backup copies a SQLite database; on PostgreSQL use its own tools: " +
	"pg_dump --format=custom --file=confide.dump \"$CONFIDE_DATABASE_URL\" for a consistent logical backup " +
	"(pg_restore to restore it), or pg_basebackup with WAL archiving for point-in-time recovery; " +
	"back up the key file separately either way")

// IntegrityCheck runs SQLite's integrity check on the open database; on
// PostgreSQL, which checks its own pages, it checks that the database
// answers.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	if db.dialect.name == postgresDialect.name {
		return db.Ping(ctx)
	}
	var result string
	if err := db.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("integrity check: %s", result)
	}
	return nil
}
