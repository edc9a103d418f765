package store

// This file holds everything that differs between SQL databases, so that
// the PostgreSQL store planned for scale-out adds a second dialect here
// rather than a second copy of every query. Queries elsewhere are written
// with "?" placeholders and portable SQL; the dialect rewrites what it must.

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
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
}

var sqliteDialect = dialect{
	name:       "sqlite",
	goose:      goose.DialectSQLite3,
	migrations: "migrations/sqlite",
	rebind:     func(q string) string { return q },
	isUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if errors.As(err, &e) {
			return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
		return false
	},
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

// openSQLite opens the writer pool (one connection, as SQLite allows only
// one writer at a time) and a reader pool.
func openSQLite(path string, readers int) (write, read *sql.DB, err error) {
	if strings.ContainsAny(path, "?#") {
		return nil, nil, fmt.Errorf("database path %q must not contain ? or #", path)
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
// SQLite; PostgreSQL will use timestamptz and scan into time.Time.
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
