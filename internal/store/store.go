// Package store is the only place Confide speaks SQL. It persists every
// domain's types in the embedded SQLite database (the default: one process,
// nothing to install) or in PostgreSQL (several replicas sharing one
// database), with numbered migrations for each engine embedded in the
// binary and every multi-statement write inside one Transact call. What
// must hold with several writers — the change feed's order, the audit
// chain, outbox claims — is built for PostgreSQL's concurrency; SQLite's
// single writer then satisfies it trivially.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/commit"
	"github.com/pressly/goose/v3"
)

// DB is an open Confide database.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	dialect dialect
	log     *slog.Logger
	// path is the SQLite file; url the PostgreSQL connection URL.
	path, url string
	// beforeCommit, set only by tests (export_test.go), runs after a
	// transaction's deferred writes and before its COMMIT.
	beforeCommit func()
}

// Open opens the database dsn names and brings its schema up to date: a
// postgres:// or postgresql:// URL opens PostgreSQL, anything else is the
// path of a SQLite file (created if needed).
func Open(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	db, err := openOnly(ctx, dsn, log)
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openOnly opens dsn without migrating it.
func openOnly(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	if IsPostgresURL(dsn) {
		pool, err := openPostgres(ctx, dsn, max(8, 4*runtime.GOMAXPROCS(0)))
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", redactURL(dsn), err)
		}
		return &DB{write: pool, read: pool, dialect: postgresDialect, log: log, url: dsn}, nil
	}
	write, read, err := openSQLite(dsn, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	// New files are made 0600; one made by an older version (or by hand)
	// may be readable by every local user, and the WAL follows its mode.
	if fi, err := os.Stat(dsn); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the database file can be read or written by other users of this machine; chmod 600 it and its -wal and -shm files",
			"path", dsn, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	return &DB{write: write, read: read, dialect: sqliteDialect, log: log, path: dsn}, nil
}

// redactURL hides a password in a connection URL before it is logged.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func (db *DB) migrate(ctx context.Context) error { return db.migrateTo(ctx, 0) }

// migrateTo applies the migrations up to version, or all of them for 0.
func (db *DB) migrateTo(ctx context.Context, version int64) error {
	fsys, err := db.dialect.migrationFS()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	var opts []goose.ProviderOption
	if db.dialect.migrationLocker != nil {
		// Replicas started together take turns: the first migrates, the
		// others find nothing left to do.
		locker, err := db.dialect.migrationLocker()
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(db.dialect.goose, db.write, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	var results []*goose.MigrationResult
	if version > 0 {
		results, err = p.UpTo(ctx, version)
	} else {
		results, err = p.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	for _, r := range results {
		db.log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path)
	}
	return nil
}

// Close releases the connection pools.
func (db *DB) Close() error {
	if db.read == db.write {
		return db.write.Close()
	}
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
	// locked records the advisory locks this transaction holds.
	locked map[int64]bool
	// changes are written to the change feed at commit (feed.go).
	changes []pendingChange
	// identities lists tables given explicit ids (PostgreSQL only).
	identities map[string]bool
	// audits are appended to the audit chain at commit (audit.go).
	audits []*audit.Entry
	// profiles holds the prepared profile statements (profiles.go).
	profiles *profileWriter
	// stmts are the statements exec and queryRow prepared in this
	// transaction, by query text (SQLite only: see dialect.cacheStmts).
	stmts map[string]*sql.Stmt
}

// lock takes a transaction-scoped advisory lock on key (PostgreSQL; a
// no-op on SQLite, whose one writer holds the whole database). It is held
// until commit or rollback, so everything written under it becomes visible
// before the next holder can write.
func (t *Tx) lock(ctx context.Context, key int64) error {
	if t.dialect.lockSQL == "" || t.locked[key] {
		return nil
	}
	if _, err := t.exec(ctx, t.dialect.lockSQL, key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	if t.locked == nil {
		t.locked = map[int64]bool{}
	}
	t.locked[key] = true
	return nil
}

// insertID runs an INSERT … RETURNING id and returns the new id (both
// engines support RETURNING; database/sql's LastInsertId does not exist
// for PostgreSQL).
func (t *Tx) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := t.queryRow(ctx, query+` RETURNING id`, args...).Scan(&id)
	return id, err
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if stmt := t.cached(ctx, query); stmt != nil {
		return stmt.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.dialect.rebind(query), args...)
}

// cached is query prepared once for this transaction, or nil where the
// dialect does not cache or the query does not prepare (the caller then
// runs it directly, which reports the error). A unit of work that repeats
// a statement per row — an import batch creating hundreds of accounts,
// tokens and emails — would otherwise have SQLite parse the same SQL each
// time, which was a fifth of an import's time. database/sql closes the
// statements when the transaction ends.
func (t *Tx) cached(ctx context.Context, query string) *sql.Stmt {
	if !t.dialect.cacheStmts {
		return nil
	}
	if stmt, ok := t.stmts[query]; ok {
		return stmt
	}
	stmt, err := t.tx.PrepareContext(ctx, t.dialect.rebind(query))
	if err != nil {
		return nil
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[query] = stmt
	return stmt
}

func (t *Tx) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.dialect.rebind(query))
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if stmt := t.cached(ctx, query); stmt != nil {
		return stmt.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.dialect.rebind(query), args...)
}

// ambientKey marks a context inside InTx; its value is the *unit.
type ambientKey struct{ db *DB }

// unit is one InTx unit of work. Its transaction begins at its first
// write, not at InTx: SQLite's writer lock (and a PostgreSQL connection)
// is then not held while the operation does slow work that needs no
// database, such as hashing a password.
type unit struct {
	tx   *Tx
	done bool
}

// InTx runs fn as one unit of work: every write this store makes with the
// context fn is given — profile saves, decisions, queued emails, audit
// entries — joins one transaction, committed when fn returns nil and
// rolled back otherwise (including when fn panics). Work registered with
// commit.After runs only after the commit. Domain services use it so that
// a change and the audit entry recording it can never be separated,
// whatever crashes in between. Reads made with that context still use the
// reader pool: they see what was committed before the unit's first write.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if u, ok := ctx.Value(ambientKey{db}).(*unit); ok && !u.done {
		return fn(ctx) // already inside one: join it
	}
	ctx, hooks := commit.With(ctx)
	u := &unit{}
	defer func() {
		u.done = true
		if p := recover(); p != nil {
			if u.tx != nil {
				_ = u.tx.tx.Rollback()
			}
			panic(p)
		}
	}()
	err = fn(context.WithValue(ctx, ambientKey{db}, u))
	if u.tx != nil {
		err = db.end(ctx, u.tx, err)
	}
	if err == nil {
		hooks.Run()
	}
	return err
}

// Transact runs fn in a write transaction, committing if fn returns nil and
// rolling back otherwise (including when fn panics). It is the only way
// store code writes more than one statement. Inside InTx it joins the
// unit of work's transaction (beginning it, if this is its first write)
// instead of starting its own.
func (db *DB) Transact(ctx context.Context, fn func(*Tx) error) (err error) {
	if u, ok := ctx.Value(ambientKey{db}).(*unit); ok && !u.done {
		if u.tx == nil {
			if u.tx, err = db.begin(ctx); err != nil {
				return err
			}
		}
		return fn(u.tx)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.tx.Rollback()
			panic(p)
		}
	}()
	return db.end(ctx, tx, fn(tx))
}

func (db *DB) begin(ctx context.Context) (*Tx, error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &Tx{tx: sqlTx, dialect: db.dialect}, nil
}

// end commits tx when err is nil — after writing what it defers to its
// end (feed.go) — and rolls it back otherwise.
func (db *DB) end(ctx context.Context, tx *Tx, err error) error {
	if err == nil {
		err = tx.finish(ctx)
	}
	if err != nil {
		_ = tx.tx.Rollback()
		return err
	}
	if db.beforeCommit != nil {
		db.beforeCommit()
	}
	if err := tx.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readTx runs fn in a read-only transaction on the reader pool, so that
// several queries see one consistent snapshot.
func (db *DB) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose
	return fn(tx)
}
