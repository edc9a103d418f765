// Package store is the only place Confide speaks SQL. It persists the domain
// types of internal/directory (and, as they arrive, the other domains) in
// the embedded SQLite database, with numbered migrations embedded in the
// binary and every multi-statement write inside one Transact call.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/pressly/goose/v3"
)

// DB is an open Confide database.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	dialect dialect
	log     *slog.Logger
	path    string
}

// Open opens (creating if needed) the SQLite database at path and brings
// its schema up to date.
func Open(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	write, read, err := openSQLite(path, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{write: write, read: read, dialect: sqliteDialect, log: log, path: path}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) migrate(ctx context.Context) error {
	fsys, err := db.dialect.migrationFS()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(db.dialect.goose, db.write, fsys)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	for _, r := range results {
		db.log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path)
	}
	return nil
}

// Close releases both connection pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// Ping checks that the database answers, for health checks.
func (db *DB) Ping(ctx context.Context) error {
	return db.read.PingContext(ctx)
}

// Tx is a write transaction.
type Tx struct {
	tx      *sql.Tx
	dialect dialect
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.dialect.rebind(query), args...)
}

func (t *Tx) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.dialect.rebind(query))
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.dialect.rebind(query), args...)
}

// Transact runs fn in a write transaction, committing if fn returns nil and
// rolling back otherwise (including when fn panics). It is the only way
// store code writes more than one statement.
func (db *DB) Transact(ctx context.Context, fn func(*Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(&Tx{tx: sqlTx, dialect: db.dialect}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readTx runs fn in a read-only transaction on the reader pool, so that
// several queries see one consistent snapshot.
func (db *DB) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose
	return fn(tx)
}
