package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
)

// syncSurnames make each test therapist findable alone by a text search.
var syncSurnames = []string{"Quillfeather", "Marrowdene", "Thistlecombe", "Brackenholt", "Wrenshaw", "Ashgrove",
	"Fernhollow", "Corriewell", "Larchmont", "Oakhurst", "Pellingford", "Rushmere"}

// syncMember is one verified UKCP member made for a register sync test.
type syncMember struct {
	email, surname, number string
	profile                *directory.Profile
}

// syncMembers gives the harness one verified, published UKCP member per
// surname, each owned by an account; those in alsoBACP hold a verified
// BACP membership as well.
func syncMembers(t *testing.T, h *harness, alsoBACP ...int) []syncMember {
	t.Helper()
	tax, gaz := taxonomy.MustLoad(), geo.MustLoad()
	dir := directory.NewService(h.app.DB, directory.Validator{Tax: tax, Gaz: gaz}, h.clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := h.clock.Now()
	var out []syncMember
	for i, surname := range syncSurnames {
		m := syncMember{email: fmt.Sprintf("member%d@example.org", i), surname: surname, number: fmt.Sprintf("70%05d", i)}
		u := h.user(m.email, testPassword, account.Therapist)
		p := &directory.Profile{DisplayName: "Robin " + surname, Headline: "UKCP registered psychotherapist seeing adults online",
			Approaches: []string{"psychodynamic"}, Issues: []string{"anxiety"}, ClientGroups: []string{"individuals"}, Formats: []string{"online"},
			Languages: []string{"en"}, FeeMinPence: 5000, FeeMaxPence: 6000, Availability: directory.Accepting, AvailabilityConfirmedAt: now,
			ContactEmail: fmt.Sprintf("practice%d@example.org", i), Published: true, OwnerID: u.ID,
			Memberships: []directory.Membership{{Body: "ukcp", Number: m.number, Level: "Registered", CheckedAt: now}},
			Insurance:   directory.Insurance{Insurer: "Holloway Indemnity", Until: now.AddDate(0, 10, 0), CheckedAt: now},
			Verification: directory.Verification{State: directory.Verified, VerifiedAt: now,
				NextCheckDue: verify.NextCheckDue(now, now.AddDate(0, 10, 0))}}
		if slices.Contains(alsoBACP, i) {
			p.Memberships = append(p.Memberships, directory.Membership{Body: "bacp", Number: fmt.Sprintf("55%05d", i), Level: "Accredited", CheckedAt: now})
		}
		if err := dir.Create(h.ctx, p); err != nil {
			t.Fatal(err)
		}
		m.profile = p
		out = append(out, m)
	}
	for _, m := range out {
		h.waitSearch(m.surname, 1)
	}
	return out
}

// waitSearch waits until a text search for word finds want profiles,
// failing the test after 20 seconds: the server's index follows the
// change feed, which the command's writes reach from another process.
func (h *harness) waitSearch(word string, want int) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := h.apiTotal("q=" + word)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("search for %s finds %d profiles, want %d", word, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// memberList writes a UKCP member list: current members by index, then
// rows with other statuses.
func memberList(t *testing.T, members []syncMember, current []int, others map[int]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("membership_number,name,status\n")
	for _, i := range current {
		fmt.Fprintf(&b, "%s,Robin %s,Current\n", members[i].number, members[i].surname)
	}
	for i, status := range others {
		fmt.Fprintf(&b, "%s,Robin %s,%s\n", members[i].number, members[i].surname, status)
	}
	fmt.Fprintf(&b, "7099999,Someone Elsewhere,current\n") // a member with no profile here
	path := filepath.Join(t.TempDir(), "ukcp-members.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncRun runs `confide import register --body UKCP FILE` with args.
func (h *harness) syncRun(file string, args ...string) (int, string) {
	var out bytes.Buffer
	code := run(context.Background(), append([]string{"import", "register", "--body", "UKCP", file, "--db", h.app.DSN, "--key-file", h.app.KeyPath,
		"--base-url", h.srv.URL}, args...), noEnvironment, strings.NewReader(""), &out, &out)
	return code, out.String()
}

// snapshot is what a sync could write: the rows of its tables, the
// change-feed position, every profile's state and memberships, and the
// audit head. Two equal snapshots mean the sync wrote nothing in between.
// (The server's own jobs and feed pruning write other tables meanwhile.)
func (h *harness) snapshot() string {
	h.t.Helper()
	counts, err := h.app.DB.Counts(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range counts {
		switch c.Table {
		case "profiles", "profile_memberships", "verification_requests", "register_lapses", "outbox", "audit_log":
			fmt.Fprintf(&b, "%s:%d ", c.Table, c.Rows)
		}
	}
	seq, err := h.app.DB.EachProfile(h.ctx, func(p *directory.Profile) error {
		fmt.Fprintf(&b, "%d:%s:%v ", p.ID, p.Verification.State, p.Memberships)
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	head, err := h.app.DB.AuditHead(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	fmt.Fprintf(&b, "feed:%d audit:%d", seq, head.Seq)
	return b.String()
}

// auditActions counts the audit log's entries by action.
func (h *harness) auditActions() map[string][]audit.Entry {
	h.t.Helper()
	out := map[string][]audit.Entry{}
	if err := h.app.DB.EachAudit(h.ctx, func(e audit.Entry) error {
		out[e.Action] = append(out[e.Action], e)
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// TestRegisterSync: a UKCP list missing 5 of 12 verified members lapses
// those 5 in one command run: they leave search (the server's index
// follows the change feed), their therapists are emailed through the
// outbox (the local SMTP catcher receives exactly 5), and the audit log
// has one entry per lapsed membership and one for the run. The same list
// again changes nothing; a lapsed member listed as current again goes to
// the verification queue and stays out of search; a member of two bodies
// lapsed by one stays in search.
func TestRegisterSync(t *testing.T) {
	h := newHarness(t, 0, nil)
	members := syncMembers(t, h, 11)
	missing := []int{2, 4, 5, 8, 10}
	var current []int
	for i := range members {
		if !slices.Contains(missing, i) {
			current = append(current, i)
		}
	}
	file := memberList(t, members, current, nil)

	before := h.snapshot()
	code, out := h.syncRun(file)
	if code != 0 || strings.Count(out, "would lapse UKCP") != 5 || !strings.Contains(out, "5 would lapse (5 profiles would leave search)") ||
		!strings.Contains(out, "1 current members hold no membership here") || h.snapshot() != before {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	for _, i := range missing {
		if !strings.Contains(out, "would lapse UKCP "+members[i].number) {
			t.Errorf("the dry run does not name %s", members[i].number)
		}
	}

	code, out = h.syncRun(file, "--apply")
	t.Logf("first apply:\n%s", out)
	if code != 0 || !strings.Contains(out, "5 lapsed (5 profiles left search)") || !strings.Contains(out, "emails queued: 5") {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	for i, m := range members {
		p, err := h.app.DB.ProfileByID(h.ctx, m.profile.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, ukcp := p.MembershipOf("ukcp")
		if lapsed := slices.Contains(missing, i); lapsed == ukcp || lapsed == (p.Verification.State == directory.Verified) {
			t.Errorf("%s: lapsed %v, holds UKCP %v, state %s", m.number, lapsed, ukcp, p.Verification.State)
		}
	}
	// Search follows the change feed: the five are gone, the rest stay.
	for i, m := range members {
		want := 1
		if slices.Contains(missing, i) {
			want = 0
		}
		h.waitSearch(m.surname, want)
	}
	// The command ran on the wall clock; the harness's runs behind it,
	// so its outbox worker would see the notices as not due yet.
	h.clock.Advance(time.Since(h.clock.Now()))
	for _, i := range missing {
		body := h.mail(members[i].email, "Your UKCP membership is no longer shown as verified")
		if !strings.Contains(body, "does not include your membership number "+members[i].number) || !strings.Contains(body, "left search") ||
			!strings.Contains(body, h.srv.URL+"/dashboard/verification") {
			t.Fatalf("notice to %s:\n%s", members[i].email, body)
		}
	}
	actions := h.auditActions()
	if len(actions["register.lapse"]) != 5 || len(actions["register.sync"]) != 1 {
		t.Fatalf("audit: %d lapse entries, %d run entries", len(actions["register.lapse"]), len(actions["register.sync"]))
	}
	for _, i := range missing {
		found := false
		for _, e := range actions["register.lapse"] {
			found = found || (strings.HasPrefix(e.Object, audit.Profile(members[i].profile.ID)+" ") && strings.Contains(e.Object, "status:absent delisted:true"))
		}
		if !found {
			t.Errorf("no lapse entry for profile %d", members[i].profile.ID)
		}
	}
	if run := actions["register.sync"][0]; run.Actor != "cli" || !strings.Contains(run.Object, "register:ukcp file:ukcp-members.csv") ||
		!strings.Contains(run.Object, "held:12 current:7 lapsed:5 delisted:5 requeued:0") || !strings.Contains(run.Object, "told:5") {
		t.Fatalf("run entry %+v", run)
	}
	if head, err := h.app.Audit.Verify(h.ctx, nil); err != nil || head.Seq == 0 {
		t.Fatalf("audit chain: %v", err)
	}

	// The same list again: nothing to do, and nothing written.
	before = h.snapshot()
	if code, out = h.syncRun(file, "--apply"); code != 0 || !strings.Contains(out, "nothing to change") || h.snapshot() != before {
		t.Fatalf("second apply: exit %d\n%s", code, out)
	}
	sent := 0
	for _, m := range h.app.Catcher.Messages() {
		if strings.Contains(m.Subject, "no longer shown as verified") {
			sent++
		}
	}
	if sent != 5 {
		t.Fatalf("%d notices sent, want 5", sent)
	}

	// Member 2 is current again: back to the queue, not to verified.
	// Member 11, also in BACP, is lapsed: loses UKCP, stays in search.
	current = append(current, 2)
	current = slices.DeleteFunc(current, func(i int) bool { return i == 11 })
	file = memberList(t, members, current, map[int]string{11: "lapsed"})
	code, out = h.syncRun(file, "--apply")
	t.Logf("second list:\n%s", out)
	if code != 0 || !strings.Contains(out, "1 sent back to the verification queue") ||
		!strings.Contains(out, fmt.Sprintf("lapsed UKCP %s (profile %d, %s): line", members[11].number, members[11].profile.ID, members[11].profile.Slug)) {
		t.Fatalf("re-appearing: exit %d\n%s", code, out)
	}
	p, err := h.app.DB.ProfileByID(h.ctx, members[2].profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ukcp := p.MembershipOf("ukcp"); ukcp || p.Verification.State != directory.Pending || p.IsPublic(h.clock.Now()) {
		t.Fatalf("re-appeared member: holds UKCP %v, state %s", ukcp, p.Verification.State)
	}
	r, err := h.app.DB.LatestRequest(h.ctx, p.ID)
	if err != nil || r.Status != verify.StatusPending || r.Body != "ukcp" || r.Number != members[2].number || r.Name != p.DisplayName {
		t.Fatalf("request %+v, %v", r, err)
	}
	verifier := h.client()
	h.user("verifier@example.org", testPassword, account.Verifier)
	verifier.signIn("verifier@example.org", testPassword)
	item := queueItem(t, verifier, p.DisplayName)
	if item == "" {
		t.Fatalf("the queue lacks %s", p.DisplayName)
	}
	if res := verifier.get(item); res.status != http.StatusOK || !strings.Contains(res.body, members[2].number) {
		t.Fatalf("queue item: %d %s", res.status, excerpt(res.body))
	}
	p11, err := h.app.DB.ProfileByID(h.ctx, members[11].profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ukcp := p11.MembershipOf("ukcp"); ukcp || p11.Verification.State != directory.Verified || len(p11.Memberships) != 1 {
		t.Fatalf("member of two bodies: %+v", p11.Memberships)
	}
	h.clock.Advance(time.Since(h.clock.Now()))
	if body := h.mail(members[11].email, "Your UKCP membership"); !strings.Contains(body, "as lapsed") || !strings.Contains(body, "stays in search") {
		t.Fatalf("notice to the member of two bodies:\n%s", body)
	}
	h.waitSearch(members[11].surname, 1)
	h.waitSearch(members[2].surname, 0)
	actions = h.auditActions()
	if len(actions["register.requeue"]) != 1 || len(actions["register.lapse"]) != 6 || len(actions["register.sync"]) != 2 {
		t.Fatalf("audit after the second list: %d requeue, %d lapse, %d run entries", len(actions["register.requeue"]), len(actions["register.lapse"]), len(actions["register.sync"]))
	}
	before = h.snapshot()
	if code, out = h.syncRun(file, "--apply"); code != 0 || !strings.Contains(out, "nothing to change") || h.snapshot() != before {
		t.Fatalf("second list again: exit %d\n%s", code, out)
	}
	// A verifier finds the membership on the register again and approves:
	// only then is the profile verified and back in search.
	if res := verifier.post(item, url.Values{"decision": {"approve"}}); res.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.status, excerpt(res.body))
	}
	if p, err = h.app.DB.ProfileByID(h.ctx, p.ID); err != nil || p.Verification.State != directory.Verified {
		t.Fatalf("after approval: %+v, %v", p.Verification, err)
	}
	h.waitSearch(members[2].surname, 1)
}

// TestRegisterSyncRefusals: a list that would lapse more than half of a
// body's verified members is refused unless --force; a list with a bad
// row is refused whatever the flags, naming the line; neither writes
// anything. Bad command lines are usage errors.
func TestRegisterSyncRefusals(t *testing.T) {
	h := newHarness(t, 0, nil)
	members := syncMembers(t, h)
	truncated := memberList(t, members, []int{0, 1, 2, 3, 4}, nil)
	before := h.snapshot()
	for _, args := range [][]string{nil, {"--apply"}} {
		code, out := h.syncRun(truncated, args...)
		if code != 1 || !strings.Contains(out, "7 of the directory's 12 verified UKCP memberships (58%)") || !strings.Contains(out, "--force") || h.snapshot() != before {
			t.Fatalf("truncated list %v: exit %d\n%s", args, code, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	rows := "membership_number,status\n"
	for _, m := range members {
		rows += m.number + ",current\n"
	}
	rows += "7000003,laspsed\nAB12,current\n"
	if err := os.WriteFile(bad, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"--apply"}, {"--apply", "--force"}} {
		code, out := h.syncRun(bad, args...)
		if code != 1 || !strings.Contains(out, `line 14, status: "laspsed" is not a status we know`) ||
			!strings.Contains(out, `line 15, membership_number: "AB12" does not look like a UKCP Register number`) || h.snapshot() != before {
			t.Fatalf("bad rows %v: exit %d\n%s", args, code, out)
		}
	}
	code, out := h.syncRun(truncated, "--apply", "--force")
	if code != 0 || !strings.Contains(out, "7 lapsed (7 profiles left search)") || !strings.Contains(out, "--force:") {
		t.Fatalf("forced: exit %d\n%s", code, out)
	}
	if run := h.auditActions()["register.sync"]; len(run) != 1 || !strings.Contains(run[0].Object, "forced:true") {
		t.Fatalf("run entries %+v", run)
	}

	semicolons := filepath.Join(t.TempDir(), "semi.csv")
	if err := os.WriteFile(semicolons, []byte("membership_number;status\n7000001;current\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no body", []string{"import", "register", truncated}, 1, `--body "" is not a professional body`},
		{"unknown body", []string{"import", "register", "--body", "XYZ", truncated}, 1, `--body "XYZ" is not a professional body we know (one of BACP, UKCP`},
		{"no file", []string{"import", "register", "--body", "UKCP"}, 2, "Usage: confide import register"},
		{"missing file", []string{"import", "register", "--body", "UKCP", filepath.Join(t.TempDir(), "nope.csv")}, 1, "no such file"},
		{"two files", []string{"import", "register", "--body", "UKCP", truncated, bad}, 2, "unexpected argument"},
		{"unknown subcommand", []string{"import", "members", truncated}, 2, "confide import register --body BODY FILE"},
		{"semicolons", []string{"import", "register", "--body", "UKCP", semicolons}, 1, "separated by semicolons; save the file as comma-separated values (CSV) (nothing was changed)"},
		{"file first", []string{"import", "register", semicolons, "--body", "ukcp"}, 1, "separated by semicolons"},
	}
	for _, tt := range cli {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append(tt.args, "--db", h.app.DSN, "--key-file", h.app.KeyPath)
			if code := run(context.Background(), args, noEnvironment, strings.NewReader(""), &out, &out); code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tt.code, tt.want, out.String())
			}
		})
	}
}
