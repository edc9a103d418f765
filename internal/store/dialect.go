package store

// This file holds everything that differs between SQLite and PostgreSQL.
// Queries elsewhere are written with "?" placeholders and portable SQL
// (INSERT … RETURNING, ON CONFLICT, COALESCE); the dialect rewrites the
// placeholders, recognises unique violations, and supplies the few
// statements that only one engine needs: the advisory locks and NOTIFY of
// the change feed and audit chain, and SKIP LOCKED outbox claims.

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrationFiles embed.FS

// dialect captures one database's differences.
type dialect struct {
	name string
	// goose names the dialect for migrations.
	goose goose.Dialect
	// migrations is the directory under migrations/ for this dialect.
	migrations string
	// rebind turns "?" placeholders into the dialect's own.
	rebind func(query string) string
	// isUniqueViolation recognises a unique-constraint error.
	isUniqueViolation func(err error) bool
	// readTx are the options of a read transaction: every query in it
	// must see one snapshot (PostgreSQL's default, READ COMMITTED, takes
	// a new snapshot per statement).
	readTx *sql.TxOptions
	// lock, when not empty, takes a transaction-scoped lock on one of the
	// keys below; SQLite needs none, as its writer is already alone.
	lockSQL string
	// notify, when not empty, wakes the other replicas after commit.
	notify string
	// skipLocked is appended to a SELECT that claims rows for one worker,
	// forUpdate to one that reads a row it is about to change.
	skipLocked, forUpdate string
	// migrationLocker serialises migrations of replicas that start
	// together; nil where the engine has one writer anyway.
	migrationLocker func() (lock.SessionLocker, error)
	// cacheStmts makes a write transaction prepare each statement once
	// (store.go, Tx.cached). pgx already caches prepared statements per
	// connection, so PostgreSQL needs no second cache.
	cacheStmts bool
}

// Keys of the transaction-scoped advisory locks (PostgreSQL). Each guards
// one sequence that must be gap-free in commit order.
const (
	lockFeed  int64 = 0x636f6e666964_01 // "confid" + 1: the change feed
	lockAudit int64 = 0x636f6e666964_02 // the audit chain
	// lockRegisterSync is held by a register sync's unit of work, so that
	// two syncs run at once apply one after the other (not a sequence,
	// but the same kind of guard).
	lockRegisterSync int64 = 0x636f6e666964_03
)

// feedChannel is the LISTEN/NOTIFY channel of the change feed.
const feedChannel = "confide_changes"

var sqliteDialect = dialect{
	name:       "sqlite",
	goose:      goose.DialectSQLite3,
	migrations: "migrations/sqlite",
	rebind:     func(q string) string { return q },
	readTx:     &sql.TxOptions{ReadOnly: true},
	cacheStmts: true,
	isUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if errors.As(err, &e) {
			return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
		return false
	},
}

var postgresDialect = dialect{
	name:       "postgres",
	goose:      goose.DialectPostgres,
	migrations: "migrations/postgres",
	rebind:     rebindDollar,
	isUniqueViolation: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505"
	},
	readTx:     &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
	lockSQL:    `SELECT pg_advisory_xact_lock(?)`,
	notify:     `SELECT pg_notify('` + feedChannel + `', '')`,
	skipLocked: ` FOR UPDATE SKIP LOCKED`,
	forUpdate:  ` FOR UPDATE`,
	migrationLocker: func() (lock.SessionLocker, error) {
		return lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	},
}

// rebindDollar turns "?" into $1, $2, … outside quoted strings and
// identifiers.
func rebindDollar(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsPostgresURL tells a PostgreSQL connection URL from a SQLite file path.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openPostgres opens one pool that serves reads and writes: PostgreSQL
// has no single-writer rule to work around.
func openPostgres(ctx context.Context, url string, conns int) (*sql.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (d dialect) migrationFS() (fs.FS, error) {
	return fs.Sub(migrationFiles, d.migrations)
}

// sqliteDSN builds the connection string for one pool. The writer pool takes
// its write lock at BEGIN (so two writers never deadlock upgrading a read
// lock) and fsyncs every commit (synchronous=FULL): a therapist told
// "saved" must not lose the save to a power cut. Readers are query-only.
func sqliteDSN(path string, writer bool) string {
	return sqliteDSNMode(path, writer, !writer)
}

// sqliteDSNMode is sqliteDSN with query-only chosen separately: backups
// read like a reader but VACUUM INTO must be allowed to write its copy.
func sqliteDSNMode(path string, writer, queryOnly bool) string {
	v := url.Values{}
	for _, p := range []string{
		"foreign_keys(1)",
		"journal_mode(WAL)",
		"busy_timeout(10000)",
		"synchronous(FULL)",
	} {
		v.Add("_pragma", p)
	}
	if writer {
		v.Set("_txlock", "immediate")
	}
	if queryOnly {
		v.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
}

// createPrivate creates path as an empty file that only its owner may
// read and write, failing with fs.ErrExist if it is already there. SQLite
// would create a database 0644 less the umask (readable by every local
// user under the usual 022), and an empty file is a valid new database;
// the -wal and -shm files SQLite makes later take the database file's
// mode, and VACUUM INTO writes into an empty file it is given.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// The umask can only take bits away; Chmod makes it exactly 0600.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// openSQLite opens the writer pool (one connection, as SQLite allows only
// one writer at a time) and a reader pool.
func openSQLite(path string, readers int) (write, read *sql.DB, err error) {
	if strings.ContainsAny(path, "?#") {
		return nil, nil, fmt.Errorf("database path %q must not contain ? or #", path)
	}
	if err := createPrivate(path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, nil, err
	}
	write, err = sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	// Create the file and switch it to WAL before readers open it.
	if err := write.Ping(); err != nil {
		write.Close()
		return nil, nil, err
	}
	read, err = sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		write.Close()
		return nil, nil, err
	}
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	return write, read, nil
}

// Times are stored as fixed-width UTC text so that they sort as strings in
// SQLite; PostgreSQL parses the same text into timestamptz and date
// columns, and hands back time.Time, which nullTime accepts.
const (
	timeLayout = "2006-01-02T15:04:05.000000Z"
	dateLayout = "2006-01-02"
)

// timeArg encodes a time for a query argument; the zero time is NULL.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// dateArg encodes a calendar date; the zero time is NULL.
func dateArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(dateLayout)
}

// nullTime scans a time column that may be NULL, whether the driver hands
// back text (SQLite) or a time.Time (PostgreSQL).
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.t = time.Time{}
		return nil
	case time.Time:
		*n.t = v.UTC()
		return nil
	case string:
		return n.parse(v)
	case []byte:
		return n.parse(string(v))
	}
	return fmt.Errorf("cannot scan %T into a time", src)
}

func (n nullTime) parse(s string) error {
	for _, layout := range []string{timeLayout, dateLayout, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			*n.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("cannot parse time %q", s)
}

// nullID encodes an optional row id; zero is NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
