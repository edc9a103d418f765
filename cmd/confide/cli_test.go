package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/store/storetest"
)

func noEnvironment(string) string { return "" }

// TestAdminCreate: there is no default admin; the command makes one and
// prints a one-time setup link built on --base-url, or takes a password on
// stdin. Without --base-url it prints the link's path and says how to
// get the whole link, never a link without a host. The first admin gets
// every staff role; later ones the admin role only.
func TestAdminCreate(t *testing.T) {
	dbPath, keyFile := storetest.DSN(t), filepath.Join(t.TempDir(), "confide.key")
	staff := []account.Role{account.Admin, account.Editor, account.Reviewer, account.Verifier} // as stored: by name
	for _, tt := range []struct {
		name, email string
		args        []string
		stdin       string
		want        []*regexp.Regexp
		roles       []account.Role
	}{
		{name: "first admin, with --base-url", email: "Boss@Example.org", args: []string{"--base-url", "https://confide.example.org/"},
			want:  []*regexp.Regexp{regexp.MustCompile(`(?m)^https://confide\.example\.org/setup\?token=[A-Za-z0-9_-]{40,}$`), regexp.MustCompile(`roles: admin, editor, reviewer, verifier`)},
			roles: staff},
		{name: "second admin, password on stdin", email: "second@example.org", args: []string{"--password-stdin"}, stdin: "plum orchard seventy kites\n",
			want: []*regexp.Regexp{regexp.MustCompile(`Sign in at /signin on your site`)}, roles: []account.Role{account.Admin}},
		{name: "no --base-url", email: "third@example.org",
			want:  []*regexp.Regexp{regexp.MustCompile(`(?m)^/setup\?token=[A-Za-z0-9_-]{40,}$`), regexp.MustCompile(`http://127\.0\.0\.1:8080/setup\?token=`), regexp.MustCompile(`--base-url https://`)},
			roles: []account.Role{account.Admin}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			args := append([]string{"admin", "create", "--email", tt.email, "--db", dbPath, "--key-file", keyFile}, tt.args...)
			code := run(context.Background(), args, noEnvironment, strings.NewReader(tt.stdin), &out, &errs)
			if code != 0 {
				t.Fatalf("exit %d, output %q %q", code, out.String(), errs.String())
			}
			for _, re := range tt.want {
				if !re.MatchString(out.String()) {
					t.Errorf("output %q does not match %s", out.String(), re)
				}
			}
			if strings.Contains(out.String(), "http:///") || (tt.stdin != "" && strings.Contains(out.String(), "token=")) {
				t.Errorf("output %q", out.String())
			}
			db := storetest.OpenDSN(t, dbPath)
			u, err := db.UserByEmail(context.Background(), strings.ToLower(tt.email))
			if err != nil || u.EmailConfirmedAt.IsZero() || !slices.Equal(u.Roles, tt.roles) {
				t.Fatalf("%+v %v, want roles %v", u, err, tt.roles)
			}
			if (u.PasswordHash == "") != (tt.stdin == "") {
				t.Fatalf("password hash %q after stdin %q", u.PasswordHash, tt.stdin)
			}
		})
	}
	for _, args := range [][]string{
		{"admin", "create", "--db", dbPath, "--key-file", keyFile},
		{"admin", "create", "--email", "x@example.org", "--db", dbPath, "--key-file", keyFile, "--password-stdin"},
		{"admin", "create", "--email", "y@example.org", "--db", dbPath, "--key-file", keyFile, "--base-url", "http://"},
		{"admin", "create", "--email", "z@example.org", "--db", dbPath, "--key-file", keyFile, "--base-url", "confide.example.org"},
		{"admin"},
	} {
		stdin := "password\n" // too common: refused
		if code := run(context.Background(), args, noEnvironment, strings.NewReader(stdin), io.Discard, io.Discard); code == 0 {
			t.Errorf("%v succeeded", args)
		}
	}
	db := storetest.OpenDSN(t, dbPath)
	for _, email := range []string{"x@example.org", "y@example.org", "z@example.org"} {
		if _, err := db.UserByEmail(context.Background(), email); err == nil {
			t.Errorf("%s: an admin was created by a refused command", email)
		}
	}
}

// cli runs the command with args, returning its exit code and output.
func cli(args ...string) (int, string) {
	var out bytes.Buffer
	code := run(context.Background(), args, noEnvironment, strings.NewReader(""), &out, &out)
	return code, out.String()
}

// auditWorld makes a database whose audit log holds entries from
// `confide admin create` (five for the first admin, who gets the four
// staff roles; two for each later one), under a key file of its own.
func auditWorld(t *testing.T, admins int) (dsn, keyFile string) {
	t.Helper()
	dsn, keyFile = storetest.DSN(t), filepath.Join(t.TempDir(), "confide.key")
	for i := range admins {
		if code, out := cli("admin", "create", "--email", fmt.Sprintf("admin%d@example.org", i), "--db", dsn, "--key-file", keyFile); code != 0 {
			t.Fatalf("admin create: exit %d %s", code, out)
		}
	}
	return dsn, keyFile
}

// TestAuditVerifyCommand: the command passes an intact chain, names the
// first broken link of a tampered one, and needs the key file.
func TestAuditVerifyCommand(t *testing.T) {
	dsn, keyFile := auditWorld(t, 3)
	if code, out := cli("audit", "verify", "--db", dsn, "--key-file", keyFile); code != 0 || !strings.Contains(out, "intact: 9 entries") {
		t.Fatalf("intact: exit %d %q", code, out)
	}
	if code, out := cli("audit", "verify", "--db", dsn, "--key-file", filepath.Join(t.TempDir(), "none.key")); code != 1 || !strings.Contains(out, "no such file") {
		t.Fatalf("without the key file: exit %d %q", code, out)
	}
	if code, out := cli("audit", "verify", "--db", dsn, "--key-file", keyFile, "--anchor", filepath.Join(t.TempDir(), "none.anchor")); code != 1 || !strings.Contains(out, "no such file") {
		t.Fatalf("without the anchor file: exit %d %q", code, out)
	}
	db := storetest.OpenDSN(t, dsn)
	storetest.DropAuditGuards(t, db)
	if err := db.ExecForTest(context.Background(), `UPDATE audit_log SET object = 'user:1' WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	if code, out := cli("audit", "verify", "--db", dsn, "--key-file", keyFile); code != 1 || !strings.Contains(out, "audit chain broken at entry 4") {
		t.Fatalf("tampered: exit %d %q", code, out)
	}
}

// TestAuditVerifyAnchor: someone who can write to the database but does
// not hold the key file removes the newest entries, edits one and
// recomputes every later link, or swaps two and recomputes the links;
// `confide audit verify --anchor` fails on each and names the first bad
// entry. A log that grew past its anchor still passes.
func TestAuditVerifyAnchor(t *testing.T) {
	tests := []struct {
		name   string
		tamper []string
		relink int64 // recompute every link from here on with SHA-256
		grow   int   // admins created after the anchor
		// want is the first bad entry named (0: the log verifies);
		// wantPlain the same without --anchor.
		want, wantPlain int64
	}{
		{name: "intact", want: 0},
		{name: "grown past its anchor", grow: 2, want: 0},
		{name: "last 3 entries deleted", tamper: []string{`DELETE FROM audit_log WHERE seq >= 10`}, want: 10, wantPlain: 0},
		{name: "middle entry edited, later links recomputed", tamper: []string{`UPDATE audit_log SET object = 'user:1 role:admin' WHERE seq = 4`}, relink: 4, want: 4, wantPlain: 4},
		{name: "two entries swapped, links recomputed", tamper: []string{`UPDATE audit_log SET seq = -3 WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = 6`, `UPDATE audit_log SET seq = 6 WHERE seq = -3`},
			relink: 3, want: 3, wantPlain: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn, keyFile := auditWorld(t, 4) // entries 1-11
			anchorFile := keyFile + ".anchor"
			if code, out := cli("audit", "anchor", "--db", dsn, "--key-file", keyFile); code != 0 || !strings.Contains(out, "at entry 12 in "+anchorFile) {
				t.Fatalf("audit anchor: exit %d %s", code, out)
			}
			for i := range tt.grow {
				if code, out := cli("admin", "create", "--email", fmt.Sprintf("late%d@example.org", i), "--db", dsn, "--key-file", keyFile); code != 0 {
					t.Fatalf("admin create: exit %d %s", code, out)
				}
			}
			db := storetest.OpenDSN(t, dsn)
			if len(tt.tamper) > 0 {
				storetest.DropAuditGuards(t, db)
			}
			for _, q := range tt.tamper {
				if err := db.ExecForTest(context.Background(), q); err != nil {
					t.Fatal(err)
				}
			}
			if tt.relink > 0 {
				storetest.RelinkAuditWithoutKey(t, db, tt.relink, audit.HMACSHA256)
			}
			for _, c := range []struct {
				args []string
				want int64
			}{
				{[]string{"--anchor", anchorFile}, tt.want},
				{nil, tt.wantPlain},
			} {
				code, out := cli(append([]string{"audit", "verify", "--db", dsn, "--key-file", keyFile}, c.args...)...)
				if c.want == 0 && (code != 0 || !strings.Contains(out, "intact")) {
					t.Errorf("verify %v: exit %d %q, want it to pass", c.args, code, out)
				}
				if c.want > 0 && (code != 1 || !strings.Contains(out, fmt.Sprintf("audit chain broken at entry %d:", c.want))) {
					t.Errorf("verify %v: exit %d %q, want entry %d named", c.args, code, out, c.want)
				}
			}
		})
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
	if err := h.app.DB.SetPassword(h.ctx, u.ID, hash, false, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.client().signIn(u.Email, testPassword)
	after, _ := h.app.DB.UserByID(h.ctx, u.ID)
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
		{[]string{"bench", "search", "--peer", "mysql"}, 2, "peer must be sqlite, postgres or bleve"},
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
