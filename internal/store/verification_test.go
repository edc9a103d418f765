package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
	"github.com/confide-org/confide/internal/verify"
)

func TestVerificationRequests(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	p := sample()
	if err := db.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	request := func(name string, at time.Time) verify.Request {
		return verify.Request{ProfileID: p.ID, Name: name, Body: "ukcp", Number: "DEMO-1", Insurer: "Example Mutual",
			InsuranceExpires: time.Date(2027, 10, 1, 0, 0, 0, 0, time.UTC), Status: verify.StatusPending, SubmittedAt: at}
	}
	// Demo data goes in as it is: two pending requests stay pending.
	bulk := []verify.Request{request("Anna Example", now.Add(-2*time.Hour)), request("Anna Other", now.Add(-time.Hour))}
	if err := db.InsertRequests(ctx, bulk); err != nil {
		t.Fatal(err)
	}
	if bulk[0].ID == 0 || bulk[1].ID == bulk[0].ID {
		t.Fatalf("ids not set: %d %d", bulk[0].ID, bulk[1].ID)
	}
	pending, err := db.Requests(ctx, verify.StatusPending, 10)
	if err != nil || len(pending) != 2 || pending[1].Name != "Anna Other" {
		t.Fatalf("pending after bulk insert: %+v %v", pending, err)
	}
	// A submission replaces whatever was pending, and keeps its name.
	r := request("Anna Newname", now)
	if err := db.SubmitRequest(ctx, &r); err != nil {
		t.Fatal(err)
	}
	got, err := db.LatestRequest(ctx, p.ID)
	if err != nil || got.ID != r.ID || got.Name != "Anna Newname" || got.Status != verify.StatusPending {
		t.Fatalf("latest: %+v %v", got, err)
	}
	if old, _ := db.RequestByID(ctx, bulk[1].ID); old.Status != verify.StatusWithdrawn {
		t.Fatalf("earlier request is %s, want withdrawn", old.Status)
	}
	if err := db.WithdrawRequests(ctx, p.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.RequestByID(ctx, r.ID); got.Status != verify.StatusWithdrawn || !got.DecidedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("after withdrawing: %+v", got)
	}
	if pending, _ := db.Requests(ctx, verify.StatusPending, 10); len(pending) != 0 {
		t.Fatalf("%d requests still pending", len(pending))
	}
}

// TestCredentialsMigration writes a verified profile as the schema before
// migration 00010 held it (one check date for the whole profile, no
// insurance on the profile, requests without a name) and checks what the
// migration makes of it.
func TestCredentialsMigration(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	old, err := store.OpenAtVersionForTest(ctx, dsn, log, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO profiles (id, slug, display_name, headline, fee_min_pence, fee_max_pence, availability, verification_state, verified_at, next_check_due, contact_email, published, created_at, updated_at)
			VALUES (1, 'anna-example', 'Anna Example', 'Counsellor in Leeds', 4000, 5000, 'accepting', 'verified', '2026-03-02T10:00:00.000000Z', '2027-01-31', 'anna@example.org', TRUE, '2026-01-01T00:00:00.000000Z', '2026-03-02T10:00:00.000000Z')`,
		`INSERT INTO profiles (id, slug, display_name, headline, fee_min_pence, fee_max_pence, availability, verification_state, contact_email, created_at, updated_at)
			VALUES (2, 'bob-example', 'Bob Example', 'Counsellor in York', 4000, 5000, 'accepting', 'unverified', 'bob@example.org', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO profile_memberships (profile_id, position, body, membership_number) VALUES (1, 0, 'bacp', '123'), (1, 1, 'ukcp', '456'), (2, 0, 'bacp', '789')`,
		`INSERT INTO verification_requests (id, profile_id, body, membership_number, insurer, insurance_expires, qualification, status, submitted_at, decided_at)
			VALUES (1, 1, 'bacp', '123', 'Old Insurer', '2026-06-30', 'MA', 'approved', '2025-03-01T10:00:00.000000Z', '2025-03-02T10:00:00.000000Z'),
			       (2, 1, 'bacp', '123', 'New Insurer', '2027-01-31', 'MA', 'approved', '2026-03-01T10:00:00.000000Z', '2026-03-02T10:00:00.000000Z'),
			       (3, 1, 'bacp', '123', 'Newer Insurer', '2027-06-30', 'MA', 'pending', '2026-04-01T10:00:00.000000Z', NULL)`,
	} {
		if err := old.ExecForTest(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	old.Close()
	db := storetest.OpenDSN(t, dsn)
	checked := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	anna, err := db.ProfileByID(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range anna.Memberships {
		if !m.CheckedAt.Equal(checked) {
			t.Errorf("%s membership checked %v, want the profile's verification date %v", m.Body, m.CheckedAt, checked)
		}
	}
	if ins := anna.Insurance; ins.Insurer != "New Insurer" || ins.Until.Format(time.DateOnly) != "2027-01-31" || !ins.CheckedAt.Equal(checked) {
		t.Errorf("insurance %+v, want the latest approved request's", ins)
	}
	if anna.Verification.Rechecking() {
		t.Error("an old profile came out of the migration waiting for a re-check")
	}
	bob, err := db.ProfileByID(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if bob.Insurance.Checked() || !bob.Memberships[0].CheckedAt.IsZero() {
		t.Errorf("a never-verified profile came out checked: %+v %+v", bob.Insurance, bob.Memberships)
	}
	r, err := db.RequestByID(ctx, 3)
	if err != nil || r.Name != "Anna Example" {
		t.Fatalf("request name %q (%v), want the profile's name", r.Name, err)
	}
}
