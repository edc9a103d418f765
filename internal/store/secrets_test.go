package store_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/store"
)

// TestSessionStoreKeepsDigests: the sessions table holds a digest of each
// token, never the token, so nothing read from it finds a session; the
// token itself still finds, replaces and deletes its session.
func TestSessionStoreKeepsDigests(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	s := db.Sessions()
	const token = "k3hQ0n1lW7rZ8yB2vN5mX4cT6aP9sD0fG1hJ2kL3mN4"
	if err := s.CommitCtx(ctx, token, []byte("first"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitCtx(ctx, token, []byte("second"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryForTest(ctx, `SELECT * FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows after two commits of one token, want 1", len(rows))
	}
	for _, v := range rows[0] {
		if strings.Contains(v, token) {
			t.Errorf("sessions row %q holds the token", rows[0])
		}
		if _, found, err := s.FindCtx(ctx, v); err != nil || found {
			t.Errorf("stored value %q finds a session (%v)", v, err)
		}
	}
	b, found, err := s.FindCtx(ctx, token)
	if err != nil || !found || string(b) != "second" {
		t.Fatalf("find by token: %q %v %v", b, found, err)
	}
	if err := s.DeleteCtx(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.FindCtx(ctx, token); found {
		t.Fatal("session found after delete")
	}
}

// TestFileModes: under the usual umask of 022, which leaves new files
// readable by everyone, the database, its WAL and shared-memory files and
// a backup are created readable and writable by their owner only. A
// database file made earlier with a looser mode is left alone, with a
// warning. The umask belongs to the whole process, so this test is not
// parallel (parallel tests start only after every serial one is done).
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "confide.db")
	db, err := store.Open(ctx, path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A write, so that the WAL has frames in it.
	if err := db.Sessions().CommitCtx(ctx, "token", []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"database", path},
		{"WAL", path + "-wal"},
		{"shared memory", path + "-shm"},
		{"backup", backup},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s %s has mode %04o, want 0600", tc.name, tc.path, fi.Mode().Perm())
		}
	}
	if err := db.Backup(ctx, backup); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup over an existing file: %v", err)
	}

	loose := filepath.Join(dir, "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ldb, err := store.Open(ctx, loose, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ldb.Close()
	if !strings.Contains(logs.String(), "chmod 600") || !strings.Contains(logs.String(), "mode=0644") {
		t.Errorf("no warning about a database readable by others:\n%s", logs.String())
	}
	if fi, err := os.Stat(loose); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("an existing database's mode was changed: %v %v", fi.Mode().Perm(), err)
	}
}
