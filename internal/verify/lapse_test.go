package verify_test

import (
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/verify"
)

// TestLapse: taking a body's membership off a profile delists it exactly
// when that was the only membership of a verified profile, and leaves
// suspended, pending and other profiles in their state.
func TestLapse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ukcp := directory.Membership{Body: "ukcp", Number: "7000001", CheckedAt: now}
	bacp := directory.Membership{Body: "bacp", Number: "012345", CheckedAt: now}
	tests := []struct {
		name        string
		state       directory.VerificationState
		memberships []directory.Membership
		held, delit bool
		after       directory.VerificationState
		left        int
	}{
		{"only membership of a verified profile", directory.Verified, []directory.Membership{ukcp}, true, true, directory.Expired, 0},
		{"one of two", directory.Verified, []directory.Membership{bacp, ukcp}, true, false, directory.Verified, 1},
		{"first of two", directory.Verified, []directory.Membership{ukcp, bacp}, true, false, directory.Verified, 1},
		{"suspended", directory.Suspended, []directory.Membership{ukcp}, true, false, directory.Suspended, 0},
		{"expired already", directory.Expired, []directory.Membership{ukcp}, true, false, directory.Expired, 0},
		{"pending new evidence", directory.Pending, []directory.Membership{ukcp}, true, false, directory.Pending, 0},
		{"not a member of the body", directory.Verified, []directory.Membership{bacp}, false, false, directory.Verified, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			orig := append([]directory.Membership(nil), tt.memberships...)
			p := &directory.Profile{Memberships: tt.memberships, Verification: directory.Verification{State: tt.state, VerifiedAt: now,
				NextCheckDue: now.AddDate(1, 0, 0), DetailsChangedAt: now}}
			held, delisted := verify.Lapse(p, "ukcp")
			if held != tt.held || delisted != tt.delit || p.Verification.State != tt.after || len(p.Memberships) != tt.left {
				t.Fatalf("held %v delisted %v state %s memberships %v", held, delisted, p.Verification.State, p.Memberships)
			}
			for _, m := range p.Memberships {
				if m.Body == "ukcp" {
					t.Fatalf("UKCP still held: %v", p.Memberships)
				}
			}
			if len(orig) > 0 && tt.memberships[0] != orig[0] {
				t.Fatal("Lapse changed the caller's slice")
			}
			if !p.Verification.NextCheckDue.Equal(now.AddDate(1, 0, 0)) || p.Verification.VerifiedAt != now {
				t.Fatalf("the check dates changed: %+v", p.Verification)
			}
			if delisted == !p.Verification.DetailsChangedAt.IsZero() {
				t.Fatalf("details-changed mark %v after delisted %v", p.Verification.DetailsChangedAt, delisted)
			}
		})
	}
}

// TestRequeue: the request a re-appearing membership makes carries the
// membership as last checked and the insurance and qualification last
// seen, and moves only an unverified or expired profile to pending.
func TestRequeue(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	latest := &verify.Request{Name: "Old Name", Qualification: "MA Psychotherapy", Insurer: "Old Insurer", InsuranceExpires: now.AddDate(0, 3, 0), Status: verify.StatusApproved}
	tests := []struct {
		state, after directory.VerificationState
		insurance    directory.Insurance
		insurer      string
	}{
		{directory.Expired, directory.Pending, directory.Insurance{Insurer: "Holloway", Until: now.AddDate(0, 6, 0), CheckedAt: now}, "Holloway"},
		{directory.Unverified, directory.Pending, directory.Insurance{}, "Old Insurer"},
		{directory.Verified, directory.Verified, directory.Insurance{Insurer: "Holloway", Until: now.AddDate(0, 6, 0), CheckedAt: now}, "Holloway"},
		{directory.Suspended, directory.Suspended, directory.Insurance{Insurer: "Holloway", Until: now.AddDate(0, 6, 0), CheckedAt: now}, "Holloway"},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			t.Parallel()
			p := &directory.Profile{ID: 7, DisplayName: "Ann Example", Insurance: tt.insurance, Verification: directory.Verification{State: tt.state}}
			r := verify.Requeue(p, latest, "ukcp", "7000001", "Registered", now)
			if r.ProfileID != 7 || r.Body != "ukcp" || r.Number != "7000001" || r.Level != "Registered" || r.Status != verify.StatusPending ||
				r.Name != "Ann Example" || r.Qualification != "MA Psychotherapy" || r.Insurer != tt.insurer || r.InsuranceExpires.IsZero() || !r.SubmittedAt.Equal(now) {
				t.Fatalf("request %+v", r)
			}
			if p.Verification.State != tt.after {
				t.Fatalf("state %s, want %s", p.Verification.State, tt.after)
			}
		})
	}
}
