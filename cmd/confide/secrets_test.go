package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/store/storetest"
)

// cookieSafe reports whether s could be sent as a cookie value as it is.
func cookieSafe(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`";\,`, r) })
}

// TestStoredSessionsSignNobodyIn: someone holding a copy of the database
// reads the sessions table and sends every value in it as the session
// cookie; none signs them in, and the live cookie appears nowhere in the
// table (nor, on SQLite, anywhere in the database and WAL files).
func TestStoredSessionsSignNobodyIn(t *testing.T) {
	h := newHarness(t, 0, nil)
	u := h.user("stored@example.org", testPassword, account.Therapist)
	c := h.client()
	c.signIn(u.Email, testPassword)
	if res := c.get("/dashboard"); res.status != http.StatusOK {
		t.Fatalf("the real cookie does not work: %d", res.status)
	}
	cookie := c.cookie()
	rows, err := h.app.DB.QueryForTest(h.ctx, `SELECT * FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no sessions stored: nothing to test")
	}
	tried := 0
	for _, row := range rows {
		for _, v := range row {
			if strings.Contains(v, cookie) {
				t.Errorf("the sessions table holds the cookie: %q", row)
			}
			if !cookieSafe(v) {
				continue
			}
			tried++
			thief := h.client()
			thief.setCookie(v)
			if res := thief.get("/dashboard"); res.status != http.StatusSeeOther {
				t.Errorf("stored value %q used as the cookie: %d, want a redirect to sign in", v, res.status)
			}
		}
	}
	if tried == 0 {
		t.Fatal("no stored value could be tried as a cookie")
	}
	if storetest.Engine() == "sqlite" {
		for _, path := range []string{h.app.DSN, h.app.DSN + "-wal"} {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte(cookie)) {
				t.Errorf("%s holds the session cookie", filepath.Base(path))
			}
		}
	}
}

// TestFilesArePrivate: under the usual umask of 022, a server's database,
// WAL and shared-memory files, `confide backup` copies (plain and
// encrypted) and a `confide restore`d database are 0600, and the key file
// 0400. The umask is the whole process's, and no test in this package is
// parallel, so nothing else runs meanwhile.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	db, key := filepath.Join(dir, "confide.db"), filepath.Join(dir, "confide.key")
	h := newHarness(t, 0, func(c *config) { c.DB, c.DatabaseURL, c.KeyFile = db, "", key })
	u := h.user("files@example.org", testPassword, account.Therapist)
	h.client().signIn(u.Email, testPassword)

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	plain, sealed, restored := filepath.Join(dir, "backup.db"), filepath.Join(dir, "backup.age"), filepath.Join(dir, "restored.db")
	for _, args := range [][]string{
		{"backup", "--db", db, "--out", plain},
		{"backup", "--db", db, "--out", sealed, "--age-recipient", id.Recipient().String()},
		{"restore", "--from", plain, "--db", restored},
	} {
		var out bytes.Buffer
		if code := run(h.ctx, args, noEnvironment, strings.NewReader(""), &out, &out); code != 0 {
			t.Fatalf("%s: %s", args[0], out.String())
		}
	}
	for _, tc := range []struct {
		name, path string
		mode       os.FileMode
	}{
		{"database", db, 0o600},
		{"WAL", db + "-wal", 0o600},
		{"shared memory", db + "-shm", 0o600},
		{"key file", key, 0o400},
		{"backup", plain, 0o600},
		{"encrypted backup", sealed, 0o600},
		{"restored database", restored, 0o600},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if fi.Mode().Perm() != tc.mode {
			t.Errorf("%s has mode %04o, want %04o", tc.name, fi.Mode().Perm(), tc.mode)
		}
	}
}
