package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
	"github.com/confide-org/confide/internal/taxonomy"
)

func openTemp(t *testing.T) *store.DB {
	t.Helper()
	return storetest.Open(t)
}

var now = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

func sample() *directory.Profile {
	return &directory.Profile{
		Slug: "anna-example", DisplayName: "Anna Example", Headline: "Psychodynamic psychotherapist in Leeds",
		Statement: "I work with **anxiety**.",
		Memberships: []directory.Membership{{Body: "ukcp", Number: "DEMO-1", Level: "Registered", CheckedAt: now.AddDate(0, -1, 0)},
			{Body: "bacp", Number: "DEMO-2", CheckedAt: now.AddDate(0, -3, 0)}},
		Insurance: directory.Insurance{Insurer: "Example Mutual", Until: time.Date(2027, 10, 1, 0, 0, 0, 0, time.UTC), CheckedAt: now.AddDate(0, -1, 0)},
		Verification: directory.Verification{State: directory.Verified, VerifiedAt: now.AddDate(0, -1, 0), NextCheckDue: time.Date(2027, 10, 1, 0, 0, 0, 0, time.UTC),
			DetailsChangedAt: now.Add(-time.Hour)},
		Approaches: []string{"psychodynamic", "dit"}, Issues: []string{"anxiety", "depression"},
		ClientGroups: []string{"individuals"}, Formats: []string{"in_person", "online"}, Languages: []string{"en", "pl"},
		Gender: "Woman", FeeMinPence: 5000, FeeMaxPence: 6500, Concessions: true,
		Availability: directory.Accepting, AvailabilityConfirmedAt: now.Add(-48 * time.Hour),
		Locations:    []directory.Location{{Postcode: "LS1 4AP", Outcode: "LS1", Area: "Leeds", Lat: 53.79, Lon: -1.54, Wheelchair: true}},
		SessionTimes: []string{directory.TimeEvenings, directory.TimeSaturdays},
		ContactEmail: "anna@example.org", Published: true, CreatedAt: now, UpdatedAt: now,
		PublicContact: directory.PublicContact{Website: "https://anna.example.org", Phone: "0113 496 0000", Email: "hello@anna.example.org"},
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
	written := p.Version
	if written == 0 {
		t.Fatal("CreateProfile did not set the version")
	}
	for _, tt := range []struct {
		name    string
		read    func() (*directory.Profile, error)
		version int64 // only the feed's read carries one
	}{
		{"by id", func() (*directory.Profile, error) { return db.ProfileByID(ctx, p.ID) }, 0},
		{"by slug", func() (*directory.Profile, error) { return db.ProfileBySlug(ctx, p.Slug) }, 0},
		{"for the feed", func() (*directory.Profile, error) { return db.FeedProfile(ctx, p.ID) }, written},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.read()
			if err != nil {
				t.Fatal(err)
			}
			want := p.Clone()
			want.Version = tt.version
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("read back differs:\n got %+v\nwant %+v", got, want)
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
		// A read copy's version is its snapshot's feed position, at least
		// that of the profile's own last write.
		if got.Version < ps[i].Version || ps[i].Version == 0 {
			t.Fatalf("profile %d: read version %d, written %d", i, got.Version, ps[i].Version)
		}
		got.Version = ps[i].Version
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

// TestTakeToken: a bucket of 10 a minute allows 10 at once, then one every
// 6 seconds; a refused attempt is not counted as taken; keys are separate.
func TestTakeToken(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	allow := func(key string, at time.Time) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := db.TakeToken(ctx, key, 10, time.Minute, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	for i := range 10 {
		if ok, _ := allow("k", now); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := allow("k", now)
	if ok || wait <= 0 || wait > 6*time.Second+time.Millisecond {
		t.Fatalf("11th attempt: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := allow("other", now); !ok {
		t.Fatal("one key's limit affected another")
	}
	if ok, _ := allow("k", now.Add(wait)); !ok {
		t.Fatal("not allowed again after the advertised wait")
	}
	if ok, _ := allow("k", now.Add(wait)); ok {
		t.Fatal("a refused attempt must not be counted as a free token")
	}
	peek := func(key string, at time.Time) float64 {
		t.Helper()
		n, err := db.Tokens(ctx, key, 10, time.Minute, at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := peek("never used", now); n != 10 {
		t.Fatalf("an unused bucket holds %v tokens, want 10", n)
	}
	if n := peek("other", now); n != 9 {
		t.Fatalf("after one take: %v tokens, want 9", n)
	}
	if a, b := peek("other", now.Add(3*time.Second)), peek("other", now.Add(3*time.Second)); a != 9.5 || b != 9.5 {
		t.Fatalf("looking took a token or did not refill: %v then %v, want 9.5", a, b)
	}
	if n := peek("other", now.Add(time.Hour)); n != 10 {
		t.Fatalf("refill is capped at the burst: %v", n)
	}
	if n, err := db.PruneRateLimits(ctx, now.Add(2*time.Minute)); err != nil || n != 2 {
		t.Fatalf("pruned %d refilled buckets, %v; want 2", n, err)
	}
	if ok, _ := allow("k", now.Add(2*time.Minute)); !ok {
		t.Fatal("a pruned bucket must start full")
	}
}

// TestTakeTokenConcurrently: writers racing for the last tokens of one
// bucket (replicas, on PostgreSQL) take exactly the bucket's size.
func TestTakeTokenConcurrently(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var mu sync.Mutex
	taken := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				ok, _, err := db.TakeToken(ctx, "shared", 12, time.Hour, now)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					taken++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if taken != 12 {
		t.Fatalf("%d tokens taken from a bucket of 12", taken)
	}
}

// TestCopyToWhileSourceIsWritten: migrate-store compared the copy with
// counts taken after it, so a source still being written (a job that
// kept running) failed the check though the copy was right (CI: 37
// reminders in the source, 25 copied). CopyTo now reports the counts of
// the snapshot it copied, and the target must match those exactly.
func TestCopyToWhileSourceIsWritten(t *testing.T) {
	ctx := context.Background()
	src := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "source.db"))
	dst := storetest.Open(t)
	for i := range 50 {
		if _, _, err := src.TakeToken(ctx, fmt.Sprint("before ", i), 5, time.Minute, now); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := src.TakeToken(ctx, fmt.Sprint("during ", i), 5, time.Minute, now); err != nil {
				t.Error(err)
				return
			}
		}
	})
	time.Sleep(20 * time.Millisecond)
	copied, err := src.CopyTo(ctx, dst, false)
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	got, err := dst.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, err := src.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range copied {
		if got[i] != c {
			t.Errorf("%s: snapshot had %d rows, the target %d", c.Table, c.Rows, got[i].Rows)
		}
		if c.Table == "rate_limits" && after[i].Rows <= c.Rows {
			t.Errorf("rate_limits: %d after the copy, %d copied: the writer did not run during the copy, so this test proves nothing", after[i].Rows, c.Rows)
		}
	}
}
