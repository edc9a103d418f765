package importer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/importer"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
	"github.com/confide-org/confide/internal/verify"
)

// syncWorld is a store on this run's engine holding verified profiles,
// and a Sync wired to it as the command wires it.
type syncWorld struct {
	t    *testing.T
	ctx  context.Context
	db   *store.DB
	dir  *directory.Service
	sync *importer.Sync
	now  time.Time
	ids  []int64
}

// member describes one profile of a syncWorld.
type member struct {
	ukcp  string // the UKCP number, "" for none
	bacp  bool   // also a BACP member
	state directory.VerificationState
}

func newSyncWorld(t *testing.T, members ...member) *syncWorld {
	t.Helper()
	db := storetest.Open(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	keys, _, err := enquiry.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "confide.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir := directory.NewService(db, directory.Validator{Tax: tax, Gaz: gaz}, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := &syncWorld{t: t, ctx: context.Background(), db: db, dir: dir, now: now}
	w.sync = &importer.Sync{Store: db, Profiles: dir, Audit: audit.NewLog(db, storetest.AuditKey(t), clock),
		Mail: &enquiry.Mailer{Store: db, Keys: keys, Now: clock}, Tx: db, Now: clock, SiteName: "Confide", BaseURL: "https://confide.example.org"}
	for i, m := range members {
		p := &directory.Profile{DisplayName: fmt.Sprintf("Member %c", 'A'+i), Headline: "Psychotherapist seeing adults online",
			Approaches: []string{"psychodynamic"}, ClientGroups: []string{"individuals"}, Formats: []string{"online"}, Languages: []string{"en"},
			Availability: directory.Accepting, ContactEmail: fmt.Sprintf("m%d@example.org", i), Published: true,
			Insurance:    directory.Insurance{Insurer: "Holloway Indemnity", Until: now.AddDate(0, 6, 0), CheckedAt: now},
			Verification: directory.Verification{State: m.state, VerifiedAt: now, NextCheckDue: verify.NextCheckDue(now, now.AddDate(0, 6, 0))}}
		if m.ukcp != "" {
			p.Memberships = append(p.Memberships, directory.Membership{Body: "ukcp", Number: m.ukcp, Level: "Registered", CheckedAt: now})
		}
		if m.bacp {
			p.Memberships = append(p.Memberships, directory.Membership{Body: "bacp", Number: fmt.Sprintf("55%05d", i), CheckedAt: now})
		}
		if err := dir.Create(w.ctx, p); err != nil {
			t.Fatal(err)
		}
		w.ids = append(w.ids, p.ID)
	}
	return w
}

// list reads a UKCP member list from CSV rows "NUMBER[,STATUS]".
func (w *syncWorld) list(rows ...string) *importer.List {
	w.t.Helper()
	var b strings.Builder
	b.WriteString("membership_number,status\n")
	for _, r := range rows {
		if !strings.Contains(r, ",") {
			r += ","
		}
		b.WriteString(r + "\n")
	}
	l, err := listReader(w.t, "ukcp").Read(strings.NewReader(b.String()), "csv")
	if err != nil {
		w.t.Fatal(err)
	}
	return l
}

func (w *syncWorld) plan(l *importer.List, force bool) *importer.SyncPlan {
	w.t.Helper()
	p, err := w.sync.Plan(w.ctx, l, "members.csv", force)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// state is every table's row count, the audit head and every profile:
// equal states mean nothing was written in between.
func (w *syncWorld) state() string {
	w.t.Helper()
	counts, err := w.db.Counts(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprint(&b, counts)
	for _, id := range w.ids {
		p, err := w.db.ProfileByID(w.ctx, id)
		if err != nil {
			w.t.Fatal(err)
		}
		fmt.Fprintf(&b, " %d:%s:%v", id, p.Verification.State, p.Memberships)
	}
	return b.String()
}

// TestSyncPlan: what a list makes of each kind of membership, and where
// the share guard starts refusing.
func TestSyncPlan(t *testing.T) {
	t.Parallel()
	w := newSyncWorld(t,
		member{ukcp: "7000001", state: directory.Verified},               // 0: current
		member{ukcp: "7000002", state: directory.Verified},               // 1: absent
		member{ukcp: "7000003", state: directory.Verified},               // 2: listed lapsed
		member{ukcp: "7000004", bacp: true, state: directory.Verified},   // 3: suspended on the list, still BACP
		member{ukcp: "7000005", state: directory.Suspended},              // 4: absent, suspended here
		member{ukcp: "7000006", state: directory.Expired},                // 5: absent, expired here
		member{bacp: true, state: directory.Verified},                    // 6: not a UKCP member
		member{ukcp: "7000008", state: directory.Verified},               // 7: current
		member{ukcp: "7000009", bacp: true, state: directory.Verified},   // 8: current
		member{ukcp: "7000010", bacp: true, state: directory.Verified},   // 9: current
		member{ukcp: "7000011", bacp: true, state: directory.Verified},   // 10: current
		member{ukcp: "70 000 12", bacp: true, state: directory.Verified}, // 11: current, stored with spaces
	)
	current := []string{"7000001,current", "7000008,", "7000009,active", "7000010,Current", "7000011,registered", "7000012,current"}
	p := w.plan(w.list(append(current, "7000003,lapsed", "7000004,suspended", "7000099,current")...), false)
	got := map[string]string{}
	for _, l := range p.Lapses {
		got[l.Number] = fmt.Sprintf("%s line:%d delists:%v", l.Standing, l.Line, l.Delists)
	}
	want := map[string]string{
		"7000002": "absent line:0 delists:true", "7000003": "lapsed line:8 delists:true", "7000004": "suspended line:9 delists:false",
		"7000005": "absent line:0 delists:false", "7000006": "absent line:0 delists:false",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || p.Held != 11 || p.Current != 6 || p.Unknown != 1 || p.Delists() != 2 || p.Refusal != "" {
		t.Fatalf("lapses %v (held %d, current %d, unknown %d, refusal %q), want %v", got, p.Held, p.Current, p.Unknown, p.Refusal, want)
	}

	// 5 of 11 lapse: allowed. 6 of 11 lapse: refused, unless forced.
	guard := []struct {
		name     string
		rows     []string
		force    bool
		refused  bool
		refusal  bool
		lapsing  int
		fraction string
	}{
		{"five of eleven", append(current, "7000003,lapsed"), false, false, false, 5, ""},
		{"six of eleven", current[1:], false, true, true, 6, "6 of the directory's 11 verified UKCP memberships (55%)"},
		{"six of eleven, forced", current[1:], true, false, true, 6, ""},
		{"header only", nil, false, true, true, 11, "11 of the directory's 11"},
	}
	for _, tt := range guard {
		t.Run(tt.name, func(t *testing.T) {
			p := w.plan(w.list(tt.rows...), tt.force)
			if len(p.Lapses) != tt.lapsing || p.Refused() != tt.refused || (p.Refusal != "") != tt.refusal || !strings.Contains(p.Refusal, tt.fraction) {
				t.Fatalf("%d lapsing, refused %v, refusal %q", len(p.Lapses), p.Refused(), p.Refusal)
			}
		})
	}
}

// failingAudit refuses the entry with one action, as a full disk or a
// broken audit chain would.
type failingAudit struct {
	importer.Auditor
	action string
}

func (f failingAudit) Record(ctx context.Context, action, object string) error {
	if action == f.action {
		return errors.New("audit refused")
	}
	return f.Auditor.Record(ctx, action, object)
}

// failingMail refuses the nth email.
type failingMail struct {
	importer.Mailer
	n, sent *int
}

func (f failingMail) Send(ctx context.Context, to, subject, body string) error {
	if *f.sent++; *f.sent == *f.n {
		return errors.New("outbox refused")
	}
	return f.Mailer.Send(ctx, to, subject, body)
}

// failingProfiles refuses the nth profile update.
type failingProfiles struct {
	importer.Profiles
	n, done *int
}

func (f failingProfiles) Update(ctx context.Context, p *directory.Profile) error {
	if *f.done++; *f.done == *f.n {
		return errors.New("profile write refused")
	}
	return f.Profiles.Update(ctx, p)
}

// TestSyncAllOrNothing: a sync that fails anywhere (the third email, the
// second profile write, a lapse's audit entry, the run's audit entry, a
// requeue) changes nothing: no profile loses its membership, no email is
// queued, no audit entry or lapse record is written. Then it runs again
// and does all of it.
func TestSyncAllOrNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(s *importer.Sync)
	}{
		{"third email", func(s *importer.Sync) { s.Mail = failingMail{s.Mail, new(3), new(0)} }},
		{"second profile write", func(s *importer.Sync) { s.Profiles = failingProfiles{s.Profiles, new(2), new(0)} }},
		{"lapse audit entry", func(s *importer.Sync) { s.Audit = failingAudit{s.Audit, "register.lapse"} }},
		{"run audit entry", func(s *importer.Sync) { s.Audit = failingAudit{s.Audit, "register.sync"} }},
		{"requeue audit entry", func(s *importer.Sync) { s.Audit = failingAudit{s.Audit, "register.requeue"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newSyncWorld(t, member{ukcp: "7000001", state: directory.Verified}, member{ukcp: "7000002", state: directory.Verified},
				member{ukcp: "7000003", state: directory.Verified}, member{ukcp: "7000004", state: directory.Verified},
				member{ukcp: "7000005", state: directory.Verified}, member{ukcp: "7000006", state: directory.Verified},
				member{ukcp: "7000007", state: directory.Verified}, member{ukcp: "7000008", state: directory.Verified})
			// A first sync lapses member 8, so that the next list can bring
			// it back to the queue.
			if err := w.sync.Apply(w.ctx, w.plan(w.list("7000001", "7000002", "7000003", "7000004", "7000005", "7000006", "7000007"), false)); err != nil {
				t.Fatal(err)
			}
			before := w.state()
			good := *w.sync
			tt.break_(w.sync)
			l := w.list("7000004", "7000005", "7000006", "7000007", "7000008")
			p := w.plan(l, false)
			if len(p.Lapses) != 3 || len(p.Requeues) != 1 {
				t.Fatalf("plan: %d lapses, %d requeues", len(p.Lapses), len(p.Requeues))
			}
			err := w.sync.Apply(w.ctx, p)
			if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("err %v", err)
			}
			if after := w.state(); after != before {
				t.Fatalf("a failed sync changed the database:\nbefore %s\nafter  %s", before, after)
			}
			*w.sync = good
			if err := w.sync.Apply(w.ctx, w.plan(l, false)); err != nil {
				t.Fatal(err)
			}
			stats, err := w.db.OutboxStats(w.ctx)
			if err != nil || stats.Pending != 4 {
				t.Fatalf("outbox %+v, %v: want the first sync's email and the second's three", stats, err)
			}
		})
	}
}

// TestSyncRequeue: a lapsed membership listed as current again goes to the
// verification queue once; one whose therapist has sent evidence for it
// meanwhile is left to that request; one a verifier has approved again
// needs nothing; one whose profile waits on evidence for another body is
// deferred without a write (a new request would withdraw that one) and
// queued by a later run once it is decided.
func TestSyncRequeue(t *testing.T) {
	t.Parallel()
	w := newSyncWorld(t, member{ukcp: "7000001", state: directory.Verified}, member{ukcp: "7000002", state: directory.Verified},
		member{ukcp: "7000003", state: directory.Verified}, member{ukcp: "7000004", state: directory.Verified},
		member{ukcp: "7000005", state: directory.Verified}, member{ukcp: "7000006", state: directory.Verified},
		member{ukcp: "7000007", state: directory.Verified}, member{ukcp: "7000008", state: directory.Verified},
		member{ukcp: "7000009", state: directory.Verified})
	all := []string{"7000001", "7000002", "7000003", "7000004", "7000005", "7000006", "7000007", "7000008", "7000009"}
	if err := w.sync.Apply(w.ctx, w.plan(w.list(append(all[4:], "7000001,lapsed", "7000002,suspended")...), false)); err != nil {
		t.Fatal(err)
	}
	// After the lapse: member 2 sends new UKCP evidence, member 3 is
	// approved again by a verifier, member 4 sends BACP evidence.
	submit := func(i int, body, number string) *verify.Request {
		r := &verify.Request{ProfileID: w.ids[i], Name: "Member", Body: body, Number: number, Insurer: "Holloway Indemnity",
			InsuranceExpires: w.now.AddDate(0, 6, 0), Status: verify.StatusPending, SubmittedAt: w.now}
		if err := w.db.SubmitRequest(w.ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	own := submit(1, "ukcp", "7000002")
	p3, _ := w.db.ProfileByID(w.ctx, w.ids[2])
	p3.Memberships = []directory.Membership{{Body: "ukcp", Number: "7000003", CheckedAt: w.now}}
	p3.Verification.State = directory.Verified
	if err := w.dir.Update(w.ctx, p3); err != nil {
		t.Fatal(err)
	}
	other := submit(3, "bacp", "5512345")

	p := w.plan(w.list(all...), false)
	kinds := map[string]importer.RequeueKind{}
	for _, r := range p.Requeues {
		kinds[r.Number] = r.Kind
	}
	want := map[string]importer.RequeueKind{"7000001": importer.Queue, "7000002": importer.Waiting, "7000003": importer.Reverified, "7000004": importer.Deferred}
	if fmt.Sprint(kinds) != fmt.Sprint(want) || len(p.Lapses) != 0 {
		t.Fatalf("requeues %v, want %v (%d lapses)", kinds, want, len(p.Lapses))
	}
	if err := w.sync.Apply(w.ctx, p); err != nil {
		t.Fatal(err)
	}
	r, err := w.db.LatestRequest(w.ctx, w.ids[0])
	if err != nil || r.Status != verify.StatusPending || r.Body != "ukcp" || r.Number != "7000001" || r.Level != "Registered" || r.Insurer != "Holloway Indemnity" {
		t.Fatalf("queued request %+v, %v", r, err)
	}
	if p1, _ := w.db.ProfileByID(w.ctx, w.ids[0]); p1.Verification.State != directory.Pending || len(p1.Memberships) != 0 {
		t.Fatalf("requeued profile: %s %v", p1.Verification.State, p1.Memberships)
	}
	for i, want := range map[int]int64{1: own.ID, 3: other.ID} {
		if r, err := w.db.LatestRequest(w.ctx, w.ids[i]); err != nil || r.ID != want || r.Status != verify.StatusPending {
			t.Fatalf("member %d: latest request %+v, %v; want its own %d still pending", i+1, r, err, want)
		}
	}
	// Again: only the deferred one is left, and it writes nothing.
	before := w.state()
	p = w.plan(w.list(all...), false)
	if len(p.Requeues) != 1 || p.Requeues[0].Kind != importer.Deferred || p.Changes() {
		t.Fatalf("second run: %+v", p.Requeues)
	}
	if err := w.sync.Apply(w.ctx, p); err != nil || w.state() != before {
		t.Fatalf("second run wrote: %v", err)
	}
	// The BACP evidence is decided: the next run queues UKCP.
	if err := w.db.DecideRequest(w.ctx, other.ID, verify.StatusRejected, 0, "not found on the register", w.now); err != nil {
		t.Fatal(err)
	}
	p = w.plan(w.list(all...), false)
	if err := w.sync.Apply(w.ctx, p); err != nil || len(p.Requeues) != 1 || p.Requeues[0].Kind != importer.Queue {
		t.Fatalf("after the decision: %+v, %v", p.Requeues, err)
	}
	if r, err := w.db.LatestRequest(w.ctx, w.ids[3]); err != nil || r.Body != "ukcp" || r.Status != verify.StatusPending {
		t.Fatalf("member 4: %+v, %v", r, err)
	}
	// A membership that lapses again after being requeued starts over.
	again := w.plan(w.list(slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == "7000003" })...), false)
	if err := w.sync.Apply(w.ctx, again); err != nil || len(again.Lapses) != 1 {
		t.Fatalf("lapsing again: %d lapses, %v", len(again.Lapses), err)
	}
	lapses, err := w.db.RegisterLapses(w.ctx, "ukcp")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lapses {
		if l.Number == "7000003" && (l.Requeued || l.Standing != importer.StandingAbsent || l.ProfileID != w.ids[2]) {
			t.Fatalf("lapsed again: %+v", l)
		}
	}
}

// TestSyncStalePlan: two runs planned from the same state (two operators,
// or a retry while the first is still running) apply once: the second
// finds a membership it meant to lapse already gone, fails as a conflict
// and changes nothing, so no therapist is told twice.
func TestSyncStalePlan(t *testing.T) {
	t.Parallel()
	w := newSyncWorld(t, member{ukcp: "7000001", state: directory.Verified}, member{ukcp: "7000002", state: directory.Verified},
		member{ukcp: "7000003", state: directory.Verified})
	l := w.list("7000001", "7000002")
	first, second := w.plan(l, false), w.plan(l, false)
	if err := w.sync.Apply(w.ctx, first); err != nil {
		t.Fatal(err)
	}
	before := w.state()
	if err := w.sync.Apply(w.ctx, second); !errors.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "run it again") {
		t.Fatalf("stale plan: %v", err)
	}
	if w.state() != before {
		t.Fatal("the stale plan changed something")
	}
	if p := w.plan(l, false); p.Changes() {
		t.Fatalf("after both: %+v", p.Lapses)
	}
}

// TestSyncConcurrentRuns: two runs of the same list applied at the same
// moment lapse each membership once: one succeeds, the other waits for it
// and then fails as a conflict; one notice per lapsed membership.
func TestSyncConcurrentRuns(t *testing.T) {
	t.Parallel()
	w := newSyncWorld(t, member{ukcp: "7000001", state: directory.Verified}, member{ukcp: "7000002", state: directory.Verified},
		member{ukcp: "7000003", state: directory.Verified}, member{ukcp: "7000004", state: directory.Verified})
	l := w.list("7000001", "7000002", "7000003")
	plans := []*importer.SyncPlan{w.plan(l, false), w.plan(l, false)}
	errc := make(chan error, len(plans))
	for _, p := range plans {
		go func() { errc <- w.sync.Apply(w.ctx, p) }()
	}
	var failed []error
	for range plans {
		if err := <-errc; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 || !errors.Is(failed[0], errs.Conflict) {
		t.Fatalf("errors %v: want exactly one conflict", failed)
	}
	stats, err := w.db.OutboxStats(w.ctx)
	if err != nil || stats.Pending != 1 {
		t.Fatalf("outbox %+v, %v: want one notice", stats, err)
	}
	n := 0
	if err := w.db.EachAudit(w.ctx, func(e audit.Entry) error {
		if e.Action == "register.lapse" || e.Action == "register.sync" {
			n++
		}
		return nil
	}); err != nil || n != 2 {
		t.Fatalf("%d audit entries, %v: want one lapse and one run", n, err)
	}
}
