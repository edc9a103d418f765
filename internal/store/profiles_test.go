package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
)

func openTemp(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "confide.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var now = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

func sample() *directory.Profile {
	return &directory.Profile{
		Slug: "anna-example", DisplayName: "Anna Example", Headline: "Psychodynamic psychotherapist in Leeds",
		Statement:    "I work with **anxiety**.",
		Memberships:  []directory.Membership{{Body: "ukcp", Number: "DEMO-1", Level: "Registered"}, {Body: "bacp", Number: "DEMO-2"}},
		Verification: directory.Verification{State: directory.Verified, VerifiedAt: now.AddDate(0, -1, 0), NextCheckDue: time.Date(2027, 10, 1, 0, 0, 0, 0, time.UTC)},
		Approaches:   []string{"psychodynamic", "dit"}, Issues: []string{"anxiety", "depression"},
		ClientGroups: []string{"individuals"}, Formats: []string{"in_person", "online"}, Languages: []string{"en", "pl"},
		Gender: "Woman", FeeMinPence: 5000, FeeMaxPence: 6500, Concessions: true,
		Availability: directory.Accepting, AvailabilityConfirmedAt: now.Add(-48 * time.Hour),
		Locations:    []directory.Location{{Postcode: "LS1 4AP", Outcode: "LS1", Area: "Leeds", Lat: 53.79, Lon: -1.54, Wheelchair: true, Evenings: true}},
		ContactEmail: "anna@example.org", Published: true, CreatedAt: now, UpdatedAt: now,
	}
}

func TestProfileRoundTrip(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	p := sample()
	if err := db.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 {
		t.Fatal("CreateProfile did not set the id")
	}
	for name, read := range map[string]func() (*directory.Profile, error){
		"by id":   func() (*directory.Profile, error) { return db.ProfileByID(ctx, p.ID) },
		"by slug": func() (*directory.Profile, error) { return db.ProfileBySlug(ctx, p.Slug) },
	} {
		t.Run(name, func(t *testing.T) {
			got, err := read()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, p) {
				t.Fatalf("read back differs:\n got %+v\nwant %+v", got, p)
			}
		})
	}
}

func TestProfileErrors(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	p := sample()
	if err := db.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate slug", db.CreateProfile(ctx, sample()), directory.ErrConflict},
		{"read missing id", second(db.ProfileByID(ctx, 9999)), directory.ErrNotFound},
		{"read missing slug", second(db.ProfileBySlug(ctx, "nobody")), directory.ErrNotFound},
		{"update missing", db.UpdateProfile(ctx, &directory.Profile{ID: 9999, Slug: "x-y-z", Availability: directory.Full, Verification: directory.Verification{State: directory.Pending}}), directory.ErrNotFound},
		{"delete missing", db.DeleteProfile(ctx, 9999), directory.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) {
				t.Fatalf("got %v, want an error wrapping %v", tt.err, tt.want)
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestUpdateReplacesChildrenAndDeleteCascades(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	p := sample()
	if err := db.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Approaches = []string{"cbt"}
	p.Locations = nil
	p.Memberships = p.Memberships[:1]
	p.Headline = "CBT therapist working online"
	if err := db.UpdateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.ProfileByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Approaches, []string{"cbt"}) || got.Locations != nil || len(got.Memberships) != 1 || got.Headline != p.Headline {
		t.Fatalf("update not applied: %+v", got)
	}
	if err := db.DeleteProfile(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, err := db.EachProfile(ctx, func(*directory.Profile) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d profiles left after delete", n)
	}
	changes, err := db.ChangesSince(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 {
		t.Fatalf("want 3 changes (create, update, delete), got %v", changes)
	}
	for _, c := range changes {
		if c.ProfileID != p.ID {
			t.Fatalf("change for wrong profile: %+v", c)
		}
	}
}

// TestBulkLoadMatchesEachProfile stores a demo directory in bulk and reads
// it back with the streaming merge, checking every field of every profile.
func TestBulkLoadMatchesEachProfile(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	tax, gaz := taxonomy.MustLoad(), geo.MustLoad()
	gen, err := demo.NewGenerator(tax, gaz)
	if err != nil {
		t.Fatal(err)
	}
	ps := gen.Generate(400, 42, now)
	v := directory.Validator{Tax: tax, Gaz: gaz}
	for _, p := range ps {
		v.Normalize(p)
		p.CreatedAt, p.UpdatedAt = now, now
	}
	if err := db.InsertProfiles(ctx, ps); err != nil {
		t.Fatal(err)
	}
	i := 0
	seq, err := db.EachProfile(ctx, func(got *directory.Profile) error {
		if !reflect.DeepEqual(got, ps[i]) {
			t.Fatalf("profile %d differs:\n got %+v\nwant %+v", i, got, ps[i])
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != len(ps) || seq != int64(len(ps)) {
		t.Fatalf("read %d profiles at seq %d, want %d", i, seq, len(ps))
	}
	if n, err := db.CountProfiles(ctx); err != nil || n != len(ps) {
		t.Fatalf("CountProfiles = %d, %v", n, err)
	}
}

// TestInsertIsAllOrNothing checks that a failing batch leaves nothing
// behind: Transact rolls back everything the batch wrote.
func TestInsertIsAllOrNothing(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	a, b := sample(), sample()
	b.Slug = a.Slug // the second insert fails on the unique slug
	err := db.InsertProfiles(ctx, []*directory.Profile{a, b})
	if !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("InsertProfiles returned %v, want a conflict", err)
	}
	if n, _ := db.CountProfiles(ctx); n != 0 {
		t.Fatalf("%d profiles after rollback", n)
	}
	if changes, _ := db.ChangesSince(ctx, 0, 10); len(changes) != 0 {
		t.Fatalf("change feed kept %v after rollback", changes)
	}
}

func TestTransactRollsBackOnPanic(t *testing.T) {
	db := openTemp(t)
	defer func() {
		if recover() == nil {
			t.Fatal("panic was swallowed")
		}
		// The writer connection must be free again.
		if err := db.CreateProfile(context.Background(), sample()); err != nil {
			t.Fatalf("write after panic: %v", err)
		}
	}()
	_ = db.Transact(context.Background(), func(*store.Tx) error { panic("boom") })
}

func TestPruneChangesKeepsTheLatest(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	for i := range 3 {
		p := sample()
		p.Slug = fmt.Sprintf("anna-example-%d", i)
		if err := db.CreateProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.PruneChanges(ctx, time.Now().Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2 (the newest entry stays so the sequence never goes back)", n, err)
	}
	changes, _ := db.ChangesSince(ctx, 0, 10)
	if len(changes) != 1 || changes[0].Seq != 3 {
		t.Fatalf("left %v", changes)
	}
}

func TestOpenRefusesUnusablePaths(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, path := range []string{filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), "bad?name.db"} {
		if db, err := store.Open(context.Background(), path, log); err == nil {
			db.Close()
			t.Fatalf("Open(%q) succeeded", path)
		}
	}
}

// TestReadWithCancelledContext: a read cut short (a request gone, a
// shutdown) is an error, never a panic.
func TestReadWithCancelledContext(t *testing.T) {
	db := openTemp(t)
	p := sample()
	if err := db.CreateProfile(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		go cancel()
		if _, err := db.ProfileByID(ctx, p.ID); err != nil && ctx.Err() == nil {
			t.Fatalf("error without cancellation: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.ProfileByID(ctx, p.ID); err == nil {
		t.Fatal("read with a cancelled context succeeded")
	}
}

// TestUpdateKeepsOrSetsOwner: the owner written by an update is the one
// on the profile (the web layer always starts from the stored profile).
func TestUpdateKeepsOrSetsOwner(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	p := sample()
	if err := db.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	u := &account.User{Email: "owner@example.org", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	p.OwnerID = u.ID
	if err := db.UpdateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.ProfileByOwner(ctx, u.ID)
	if err != nil || got.ID != p.ID {
		t.Fatalf("owner not stored: %v", err)
	}
}
