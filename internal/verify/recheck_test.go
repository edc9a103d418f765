package verify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// memory is an in-memory Store, Profiles and Auditor, enough to run the
// service's units of work without a database (commit.Do runs them
// directly when Tx is nil).
type memory struct {
	profiles map[int64]*directory.Profile
	requests []Request
	audit    []string
}

func (m *memory) SubmitRequest(_ context.Context, r *Request) error {
	_ = m.WithdrawRequests(context.Background(), r.ProfileID, r.SubmittedAt)
	r.ID = int64(len(m.requests) + 1)
	m.requests = append(m.requests, *r)
	return nil
}

func (m *memory) WithdrawRequests(_ context.Context, profileID int64, now time.Time) error {
	for i := range m.requests {
		if r := &m.requests[i]; r.ProfileID == profileID && r.Status == StatusPending {
			r.Status, r.DecidedAt = StatusWithdrawn, now
		}
	}
	return nil
}

func (m *memory) RequestByID(_ context.Context, id int64) (*Request, error) {
	if id < 1 || int(id) > len(m.requests) {
		return nil, fmt.Errorf("request %d: %w", id, directory.ErrNotFound)
	}
	r := m.requests[id-1]
	return &r, nil
}

func (m *memory) LatestRequest(_ context.Context, profileID int64) (*Request, error) {
	for i := len(m.requests) - 1; i >= 0; i-- {
		if m.requests[i].ProfileID == profileID {
			r := m.requests[i]
			return &r, nil
		}
	}
	return nil, fmt.Errorf("requests of %d: %w", profileID, directory.ErrNotFound)
}

func (m *memory) Requests(_ context.Context, status Status, limit int) ([]Request, error) {
	var out []Request
	for _, r := range m.requests {
		if r.Status == status && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memory) DecideRequest(_ context.Context, id int64, status Status, by int64, reason string, now time.Time) error {
	r := &m.requests[id-1]
	if r.Status != StatusPending {
		return directory.ErrConflict
	}
	r.Status, r.DecidedBy, r.Reason, r.DecidedAt = status, by, reason, now
	return nil
}

func (m *memory) VerifiedDueBy(context.Context, time.Time) ([]Due, error) { return nil, nil }
func (m *memory) ClaimReminder(context.Context, int64, time.Time, string, time.Time) (bool, error) {
	return true, nil
}
func (m *memory) ReleaseReminder(context.Context, int64, time.Time, string) error { return nil }

func (m *memory) ProfileByID(_ context.Context, id int64) (*directory.Profile, error) {
	p, ok := m.profiles[id]
	if !ok {
		return nil, directory.ErrNotFound
	}
	return p.Clone(), nil
}

func (m *memory) Create(_ context.Context, p *directory.Profile) error {
	p.ID = int64(len(m.profiles) + 1)
	m.profiles[p.ID] = p.Clone()
	return nil
}

func (m *memory) Update(_ context.Context, p *directory.Profile) error {
	m.profiles[p.ID] = p.Clone()
	return nil
}

func (m *memory) Prepare(p *directory.Profile) error {
	p.DisplayName = strings.Join(strings.Fields(p.DisplayName), " ")
	return nil
}

func (m *memory) Record(_ context.Context, action, object string) error {
	m.audit = append(m.audit, action+" "+object)
	return nil
}

func (m *memory) OwnerEmail(context.Context, *directory.Profile) string { return "" }

func (m *memory) pending() []Request {
	out, _ := m.Requests(context.Background(), StatusPending, 100)
	return out
}

var (
	testNow    = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	verifiedAt = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	insurance  = time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
)

// world is a service with one profile, verified (BACP, checked 1 May
// 2026, insured to 31 March 2027) unless state says otherwise.
func world(t *testing.T, state directory.VerificationState) (*Service, *memory) {
	t.Helper()
	p := &directory.Profile{ID: 1, DisplayName: "Anna Smith",
		Memberships:  []directory.Membership{{Body: "bacp", Number: "012345", Level: "Registered member", CheckedAt: verifiedAt}},
		Insurance:    directory.Insurance{Insurer: "Example Mutual", Until: insurance, CheckedAt: verifiedAt},
		Verification: directory.Verification{State: state, VerifiedAt: verifiedAt, NextCheckDue: insurance}}
	if state == directory.Unverified || state == directory.Pending {
		p.Memberships, p.Insurance, p.Verification = nil, directory.Insurance{}, directory.Verification{State: state}
	}
	m := &memory{profiles: map[int64]*directory.Profile{1: p}}
	s := &Service{Registers: registers(t), Store: m, Profiles: m, Mail: nil, Audit: m, Owners: m,
		Now: func() time.Time { return testNow }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return s, m
}

// edit saves the profile form with name, as the dashboard does.
func edit(t *testing.T, s *Service, m *memory, name string) Edited {
	t.Helper()
	before, _ := m.ProfileByID(context.Background(), 1)
	after := before.Clone()
	after.DisplayName = name
	ed, err := s.Edit(context.Background(), before, after)
	if err != nil {
		t.Fatal(err)
	}
	return ed
}

func TestRename(t *testing.T) {
	tests := []struct {
		name  string
		state directory.VerificationState
		// names are typed into the form one after the other.
		names []string
		// want: the profile's name, whether it is marked for a re-check,
		// and the name of the pending request ("" for none).
		wantName    string
		wantMarked  bool
		wantPending string
		wantHeld    bool // the last edit's NameHeld
		// wantRequests is how many requests were ever queued.
		wantRequests int
	}{
		{"verified: the new name waits", directory.Verified, []string{"Anna Jones"}, "Anna Smith", true, "Anna Jones", true, 1},
		{"verified: typed twice, one queue item", directory.Verified, []string{"Anna Jones", "Anna Jones"}, "Anna Smith", true, "Anna Jones", true, 1},
		{"verified: changed again", directory.Verified, []string{"Anna Jones", "Anna Jones-Smith"}, "Anna Smith", true, "Anna Jones-Smith", true, 2},
		{"verified: back to the verified name", directory.Verified, []string{"Anna Jones", "Anna Smith"}, "Anna Smith", false, "", false, 1},
		{"verified: spaces only", directory.Verified, []string{"  Anna   Smith "}, "Anna Smith", false, "", false, 0},
		{"suspended: the new name waits too", directory.Suspended, []string{"Anna Jones"}, "Anna Smith", true, "Anna Jones", true, 1},
		{"never verified: renamed at once", directory.Unverified, []string{"Anna Jones"}, "Anna Jones", false, "", false, 0},
		{"expired: renamed at once", directory.Expired, []string{"Anna Jones"}, "Anna Jones", false, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m := world(t, tt.state)
			var ed Edited
			for _, n := range tt.names {
				ed = edit(t, s, m, n)
			}
			p := m.profiles[1]
			if p.DisplayName != tt.wantName || p.Verification.Rechecking() != tt.wantMarked || ed.NameHeld != tt.wantHeld {
				t.Fatalf("name %q marked %v held %v; want %q %v %v", p.DisplayName, p.Verification.Rechecking(), ed.NameHeld, tt.wantName, tt.wantMarked, tt.wantHeld)
			}
			pending := m.pending()
			switch {
			case tt.wantPending == "" && len(pending) != 0:
				t.Fatalf("pending %+v, want none", pending)
			case tt.wantPending != "" && (len(pending) != 1 || pending[0].Name != tt.wantPending):
				t.Fatalf("pending %+v, want one for %q", pending, tt.wantPending)
			case tt.wantPending != "":
				r := pending[0]
				if r.Body != "bacp" || r.Number != "012345" || !r.InsuranceExpires.Equal(insurance) || r.Insurer != "Example Mutual" {
					t.Fatalf("re-check request does not carry the checked evidence: %+v", r)
				}
			}
			if len(m.requests) != tt.wantRequests {
				t.Fatalf("%d requests queued, want %d", len(m.requests), tt.wantRequests)
			}
		})
	}
}

func TestEditAudit(t *testing.T) {
	s, m := world(t, directory.Verified)
	before, _ := m.ProfileByID(context.Background(), 1)
	after := before.Clone()
	after.DisplayName, after.Headline = "Anna Jones", "A new headline"
	if _, err := s.Edit(context.Background(), before, after); err != nil {
		t.Fatal(err)
	}
	unchanged, _ := m.ProfileByID(context.Background(), 1)
	if err := s.Change(context.Background(), unchanged, unchanged.Clone(), "profile.publish"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(m.audit, "\n")
	want := "verification.recheck profile:1 request:1\nprofile.edit profile:1 fields:display_name,headline,verification"
	if got != want {
		t.Fatalf("audit:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "Jones") || strings.Contains(got, "headline\n") {
		t.Fatal("audit holds content")
	}
}

func TestSubmitMarksChangedDetails(t *testing.T) {
	base := Evidence{Body: "bacp", Number: "012345", Level: "Registered member", Insurer: "Example Mutual", InsuranceExpires: "2027-11-30", Qualification: "MA"}
	tests := []struct {
		name   string
		edit   func(*Evidence)
		marked bool
		what   string
	}{
		{"renewal with a later insurance date", func(*Evidence) {}, false, ""},
		{"new membership number", func(e *Evidence) { e.Number = "999999" }, true, "membership number"},
		{"new level", func(e *Evidence) { e.Level = "Accredited member" }, true, "membership level"},
		{"new insurer", func(e *Evidence) { e.Insurer = "Other Cover" }, true, "insurer"},
		{"insurance ending sooner", func(e *Evidence) { e.InsuranceExpires = "2027-01-31" }, true, "insurance end date"},
		{"a second body", func(e *Evidence) { e.Body, e.Number = "ukcp", "7654321" }, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m := world(t, directory.Verified)
			ev := base
			tt.edit(&ev)
			p, _ := m.ProfileByID(context.Background(), 1)
			r, err := s.Submit(context.Background(), p, ev)
			if err != nil {
				t.Fatal(err)
			}
			stored := m.profiles[1]
			if stored.Verification.Rechecking() != tt.marked || stored.Verification.State != directory.Verified {
				t.Fatalf("after submitting: %+v, want marked %v and still verified", stored.Verification, tt.marked)
			}
			if got := strings.Join(HeldChanges(stored, r), ","); got != tt.what {
				t.Fatalf("HeldChanges = %q, want %q", got, tt.what)
			}
		})
	}
}

func TestDecideKeepsEachMembershipsDate(t *testing.T) {
	tests := []struct {
		name      string
		evidence  Evidence
		decision  Decision
		wantName  string
		wantBody  []string // memberships in order
		wantDue   string
		wantMarks bool
	}{
		{"second body approved: listed after the first, due a year after the older check",
			Evidence{Body: "ukcp", Number: "7654321", Insurer: "Example Mutual", InsuranceExpires: "2028-01-31", Qualification: "MA"},
			Approve, "Anna Smith", []string{"bacp", "ukcp"}, "2027-05-01", false},
		{"same body renewed: its date moves on",
			Evidence{Body: "bacp", Number: "012345", Level: "Registered member", Insurer: "Example Mutual", InsuranceExpires: "2028-01-31", Qualification: "MA"},
			Approve, "Anna Smith", []string{"bacp"}, "2027-11-25", false},
		{"changed number refused: the checked one stands, unmarked",
			Evidence{Body: "bacp", Number: "999999", Insurer: "Example Mutual", InsuranceExpires: "2028-01-31", Qualification: "MA"},
			RequestChanges, "Anna Smith", []string{"bacp"}, "2027-03-31", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m := world(t, directory.Verified)
			p, _ := m.ProfileByID(context.Background(), 1)
			r, err := s.Submit(context.Background(), p, tt.evidence)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Decide(context.Background(), 9, r.ID, tt.decision, "Please check the number"); err != nil {
				t.Fatal(err)
			}
			got := m.profiles[1]
			var bodies []string
			for _, ms := range got.Memberships {
				bodies = append(bodies, ms.Body)
				if want := verifiedAt; ms.Body != tt.evidence.Body && !ms.CheckedAt.Equal(want) {
					t.Fatalf("%s re-dated to %v though only %s was checked", ms.Body, ms.CheckedAt, tt.evidence.Body)
				}
			}
			if got.DisplayName != tt.wantName || !slices.Equal(bodies, tt.wantBody) ||
				got.Verification.NextCheckDue.Format(time.DateOnly) != tt.wantDue || got.Verification.Rechecking() != tt.wantMarks {
				t.Fatalf("after %s: %q %v due %s marked %v", tt.decision, got.DisplayName, bodies, got.Verification.NextCheckDue.Format(time.DateOnly), got.Verification.Rechecking())
			}
			if tt.decision == Approve && (!got.Insurance.CheckedAt.Equal(testNow) || got.Insurance.Until.Format(time.DateOnly) != tt.evidence.InsuranceExpires) {
				t.Fatalf("insurance after approval: %+v", got.Insurance)
			}
		})
	}
}

func TestApproveRename(t *testing.T) {
	s, m := world(t, directory.Verified)
	edit(t, s, m, "Anna Jones")
	r := m.pending()[0]
	if err := s.Decide(context.Background(), 9, r.ID, Approve, ""); err != nil {
		t.Fatal(err)
	}
	p := m.profiles[1]
	if p.DisplayName != "Anna Jones" || p.Verification.Rechecking() || !p.Memberships[0].CheckedAt.Equal(testNow) {
		t.Fatalf("after approving the rename: %q %+v %+v", p.DisplayName, p.Verification, p.Memberships)
	}
	// The form now shows the verified name, and saving it changes nothing.
	if name, _ := s.WantedName(context.Background(), p); name != "Anna Jones" {
		t.Fatalf("wanted name %q", name)
	}
	if ed := edit(t, s, m, "Anna Jones"); len(ed.Fields) != 0 || len(m.pending()) != 0 {
		t.Fatalf("saving the approved name: %+v, %d pending", ed, len(m.pending()))
	}
}

func TestRenameWhileFirstCheckWaits(t *testing.T) {
	s, m := world(t, directory.Unverified)
	p, _ := m.ProfileByID(context.Background(), 1)
	ev := Evidence{Body: "bacp", Number: "012345", Insurer: "Example Mutual", InsuranceExpires: "2027-11-30", Qualification: "MA"}
	if _, err := s.Submit(context.Background(), p, ev); err != nil {
		t.Fatal(err)
	}
	edit(t, s, m, "Anna Jones")
	pending := m.pending()
	if len(pending) != 1 || pending[0].Name != "Anna Jones" || pending[0].Number != "012345" || m.profiles[1].DisplayName != "Anna Jones" {
		t.Fatalf("a verifier would check the old name: %+v, profile %q", pending, m.profiles[1].DisplayName)
	}
	if old, _ := m.RequestByID(context.Background(), 1); old.Status != StatusWithdrawn {
		t.Fatalf("the request naming the old name is %s, want withdrawn", old.Status)
	}
}
