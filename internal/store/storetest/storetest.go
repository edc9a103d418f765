// Package storetest gives tests a throwaway database on the engine the
// test run is for: a SQLite file in the test's temporary directory by
// default or, when CONFIDE_TEST_POSTGRES holds the URL of a PostgreSQL
// database, a fresh schema of its own in that database. Every test that
// opens a store through here therefore runs on both engines: once in
// `go test ./...`, once more with the variable set (as .ci/run does).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/store"
)

// EnvPostgres names the variable holding the PostgreSQL test database URL.
const EnvPostgres = "CONFIDE_TEST_POSTGRES"

// Postgres returns the PostgreSQL test URL, or "" when tests run on SQLite.
func Postgres() string { return os.Getenv(EnvPostgres) }

// Engine names the engine this test run uses: "sqlite" or "postgres".
func Engine() string {
	if Postgres() != "" {
		return "postgres"
	}
	return "sqlite"
}

// DSN returns where a new, empty database for t lives: a SQLite path or a
// PostgreSQL URL whose search_path is a schema created for t and dropped
// when t ends. Pass it wherever a --db value goes.
func DSN(t testing.TB) string {
	t.Helper()
	base := Postgres()
	if base == "" {
		return filepath.Join(t.TempDir(), "confide.db")
	}
	return Schema(t, base)
}

// Schema creates a schema in the database at base for t, drops it (with
// everything in it) when t ends, and returns base with that schema as the
// search_path.
func Schema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		admin.Close()
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Logf("storetest: drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// AuditKey returns a new random audit key, for tests that write to the
// audit log without a key file.
func AuditKey(t testing.TB) *audit.Key {
	t.Helper()
	k, err := audit.NewKey([]byte(rand.Text() + rand.Text())[:audit.KeySize])
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return k
}

// Open opens a new, empty, migrated database for t on this run's engine
// and closes it when t ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	return OpenDSN(t, DSN(t))
}

// OpenDSN opens (and migrates) the database at dsn and closes it when t
// ends.
func OpenDSN(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// DropAuditGuards removes the audit log's append-only triggers, as
// someone with write access to the database would before tampering.
func DropAuditGuards(t testing.TB, db *store.DB) {
	t.Helper()
	guards := []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
	if Engine() == "postgres" {
		guards = []string{`DROP TRIGGER audit_log_no_update ON audit_log`}
	}
	for _, q := range guards {
		if err := db.ExecForTest(context.Background(), q); err != nil {
			t.Fatalf("storetest: %v", err)
		}
	}
}

// RelinkAuditWithoutKey recomputes the link of every audit entry from
// seq from onwards the way someone without the key can, with plain
// SHA-256, marking each with version.
func RelinkAuditWithoutKey(t testing.TB, db *store.DB, from int64, version int) {
	t.Helper()
	ctx := context.Background()
	var entries []audit.Entry
	if err := db.EachAudit(ctx, func(e audit.Entry) error { entries = append(entries, e); return nil }); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	prev := audit.Genesis
	for _, e := range entries {
		if e.Seq >= from {
			e.PrevHash = prev
			e.Hash = e.Sum()
			q := fmt.Sprintf(`UPDATE audit_log SET prev_hash = '%s', hash = '%s', mac_version = %d WHERE seq = %d`, e.PrevHash, e.Hash, version, e.Seq)
			if err := db.ExecForTest(ctx, q); err != nil {
				t.Fatalf("storetest: %v", err)
			}
		}
		prev = e.Hash
	}
}
