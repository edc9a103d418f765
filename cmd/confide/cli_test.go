package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/store"
)

func noEnvironment(string) string { return "" }

// TestAdminCreate: there is no default admin; the command makes one and
// prints a one-time setup link, or takes a password on stdin.
func TestAdminCreate(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "confide.db")
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"admin", "create", "--email", "Boss@Example.org", "--db", dbPath, "--base-url", "https://confide.example.org"},
		noEnvironment, strings.NewReader(""), &out, &errs)
	link := regexp.MustCompile(`https://confide\.example\.org/setup\?token=[A-Za-z0-9_-]{40,}`).FindString(out.String())
	if code != 0 || link == "" {
		t.Fatalf("exit %d, output %q %q", code, out.String(), errs.String())
	}
	out.Reset()
	code = run(context.Background(), []string{"admin", "create", "--email", "second@example.org", "--db", dbPath, "--password-stdin"},
		noEnvironment, strings.NewReader("plum orchard seventy kites\n"), &out, &errs)
	if code != 0 || strings.Contains(out.String(), "token=") {
		t.Fatalf("password-stdin: exit %d, %q", code, out.String())
	}
	for _, args := range [][]string{
		{"admin", "create", "--db", dbPath},
		{"admin", "create", "--email", "x@example.org", "--db", dbPath, "--password-stdin"},
		{"admin"},
	} {
		stdin := "password\n" // too common: refused
		if code := run(context.Background(), args, noEnvironment, strings.NewReader(stdin), io.Discard, io.Discard); code == 0 {
			t.Errorf("%v succeeded", args)
		}
	}

	db, err := store.Open(context.Background(), dbPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, email := range []string{"boss@example.org", "second@example.org"} {
		u, err := db.UserByEmail(context.Background(), email)
		if err != nil || !u.Has(account.Admin) || u.EmailConfirmedAt.IsZero() {
			t.Fatalf("%s: %+v %v", email, u, err)
		}
	}
	if u, _ := db.UserByEmail(context.Background(), "boss@example.org"); u.PasswordHash != "" {
		t.Fatal("a password was set without the setup link")
	}
	if _, err := db.UserByEmail(context.Background(), "x@example.org"); err == nil {
		t.Fatal("an admin was created with a refused password")
	}
}

// TestAuditVerifyCommand: the command passes an intact chain and names the
// first broken link of a tampered one.
func TestAuditVerifyCommand(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "confide.db")
	for _, email := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		if code := run(context.Background(), []string{"admin", "create", "--email", email, "--db", dbPath}, noEnvironment, strings.NewReader(""), io.Discard, io.Discard); code != 0 {
			t.Fatal("admin create failed")
		}
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"audit", "verify", "--db", dbPath}, noEnvironment, strings.NewReader(""), &out, &errs); code != 0 ||
		!strings.Contains(out.String(), "intact: 6 entries") {
		t.Fatalf("intact: exit %d %q %q", code, out.String(), errs.String())
	}
	db, err := store.Open(context.Background(), dbPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET object = 'user:1' WHERE seq = 4`} {
		if err := db.ExecForTest(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out.Reset()
	errs.Reset()
	if code := run(context.Background(), []string{"audit", "verify", "--db", dbPath}, noEnvironment, strings.NewReader(""), &out, &errs); code != 1 ||
		!strings.Contains(errs.String(), "audit chain broken at entry 4") {
		t.Fatalf("tampered: exit %d %q", code, errs.String())
	}
}

// TestRehashOnSignIn: raising the argon2id cost re-hashes a stored
// password the next time its owner signs in.
func TestRehashOnSignIn(t *testing.T) {
	h := newHarness(t, 0, func(c *config) { c.Argon2MemoryKiB = 2 * 19456; c.Argon2Time = 3 })
	old := account.NewHasher(account.DefaultParams, 1)
	hash, err := old.Hash(h.ctx, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	u := h.user("rehash@example.org", "placeholder words here")
	if err := h.app.db.SetPassword(h.ctx, u.ID, hash, false, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.client().signIn(u.Email, testPassword)
	after, _ := h.app.db.UserByID(h.ctx, u.ID)
	p, _, _, err := account.ParseHash(after.PasswordHash)
	if err != nil || p.MemoryKiB != 2*19456 || p.Time != 3 {
		t.Fatalf("stored parameters after sign-in: %+v (%v)", p, err)
	}
	h.client().signIn(u.Email, testPassword) // the new hash works
}

// TestBenchCommandErrors: bad benchmark options are refused before any
// work, with the option named.
func TestBenchCommandErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench"}, 2, "confide bench search"},
		{[]string{"bench", "walk"}, 2, "confide bench live"},
		{[]string{"bench", "http", "--peer", "sqlite"}, 2, "flag provided but not defined: -peer"},
		{[]string{"bench", "http", "--duration", "10ms"}, 1, "--duration at least 1s"},
		{[]string{"bench", "http", "--wrk", "/nonexistent/wrk"}, 1, "wrk is needed"},
		{[]string{"bench", "live", "--edits-per-second", "0"}, 1, "--edits-per-second and --workers at least 1"},
		{[]string{"bench", "search", "--peer", "mysql"}, 2, "peer must be sqlite or postgres"},
		{[]string{"bench", "search", "--peer", "postgres"}, 1, "--peer postgres needs --database-url"},
		{[]string{"bench", "search", "--therapists", "5"}, 1, "--therapists must be at least 100"},
	} {
		var out bytes.Buffer
		if code := run(context.Background(), tt.args, noEnvironment, strings.NewReader(""), &out, &out); code != tt.code || !strings.Contains(out.String(), tt.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, out.String(), tt.code, tt.want)
		}
	}
}

// TestServeKeyFileErrors: an unusable key file stops the server with the
// file named, rather than serving enquiries it could not read.
func TestServeKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("k1 not-base64\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	for _, keyFile := range []string{bad, filepath.Join(dir, "missing-dir-is-a-file", "x.key")} {
		if keyFile != bad {
			os.WriteFile(filepath.Join(dir, "missing-dir-is-a-file"), []byte("x"), 0o600)
		}
		var out bytes.Buffer
		code := run(context.Background(), []string{"serve", "--demo", "--demo-therapists", "0", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "c.db"), "--key-file", keyFile},
			noEnvironment, strings.NewReader(""), &out, &out)
		if code != 1 || !strings.Contains(out.String(), "key file") {
			t.Errorf("key file %s: exit %d, %q", keyFile, code, out.String())
		}
	}
}
