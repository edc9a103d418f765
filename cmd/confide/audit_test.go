package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
)

// TestAuditCommitsWithChange: an action whose audit entry cannot be
// written does not happen, because the change and its entry commit in
// one transaction. With every insert into audit_log refused, each action
// fails and leaves what it would have changed as it was.
func TestAuditCommitsWithChange(t *testing.T) {
	h := newHarness(t, 30, nil)
	u, p := h.therapist("unit@example.org")
	admin := h.user("boss@example.org", testPassword, account.Admin)
	c := h.client()
	c.signIn(u.Email, testPassword)
	refuse := []string{`CREATE TRIGGER audit_log_refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END`}
	if storetest.Engine() == "postgres" {
		refuse = []string{`CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$`,
			`CREATE TRIGGER audit_log_refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse()`}
	}
	for _, q := range refuse {
		if err := h.app.DB.ExecForTest(h.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// state is everything the actions below would change.
	state := func() string {
		got, err := h.app.DB.UserByID(h.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		prof, err := h.app.DB.ProfileByID(h.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		counts, err := h.app.DB.Counts(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		kept := slices.DeleteFunc(counts, func(c store.TableCount) bool {
			return c.Table != "account_tokens" && c.Table != "outbox" && c.Table != "audit_log"
		})
		return fmt.Sprint("epoch ", got.SessionEpoch, " roles ", got.Roles, " published ", prof.Published, " ", kept)
	}
	for _, tt := range []struct {
		name string
		act  func() bool // reports whether the action said it failed
	}{
		{"unpublish a profile", func() bool { return c.post("/dashboard/unpublish", nil).status != http.StatusSeeOther }},
		{"request an email change", func() bool {
			return h.app.Accounts.RequestEmailChange(h.ctx, u.ID, testPassword, "moved@example.org") != nil
		}},
		{"grant a role", func() bool {
			return h.app.Accounts.SetRoles(h.ctx, admin.ID, u.ID, append(slices.Clone(u.Roles), account.Verifier)) != nil
		}},
		// Last: where it succeeds it signs the client out.
		{"sign out everywhere", func() bool { return h.app.Accounts.SignOutEverywhere(h.ctx, u.ID) != nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := state()
			failed := tt.act()
			if after := state(); after != before || !failed {
				t.Errorf("with its audit entry refused: failed=%v, state %s → %s", failed, before, after)
			}
		})
	}
}

// TestAuditAdminPage: /admin/audit checks the links and this server's
// anchor, and names the first missing entry once the anchored end of the
// log is removed.
func TestAuditAdminPage(t *testing.T) {
	h := newHarness(t, 0, nil)
	h.user("boss@example.org", testPassword, account.Admin)
	c := h.client()
	c.signIn("boss@example.org", testPassword)
	head, err := h.app.Audit.Anchor(h.ctx, h.app.AnchorPath)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("every link is a MAC under the key file's audit key, and the log holds entry %d as this server last anchored it", head.Seq)
	if res := c.get("/admin/audit"); res.status != http.StatusOK || !strings.Contains(res.body, want) {
		t.Fatalf("intact: %d %s", res.status, excerpt(res.body))
	}
	storetest.DropAuditGuards(t, h.app.DB)
	if err := h.app.DB.ExecForTest(h.ctx, fmt.Sprintf(`DELETE FROM audit_log WHERE seq >= %d`, head.Seq)); err != nil {
		t.Fatal(err)
	}
	if res := c.get("/admin/audit"); !strings.Contains(res.body, fmt.Sprintf("audit chain broken at entry %d: missing", head.Seq)) {
		t.Fatalf("tail removed: %d %s", res.status, excerpt(res.body))
	}
}
