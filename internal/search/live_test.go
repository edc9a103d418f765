package search_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/testworld"
)

// TestSavedChangesReachSearch edits profiles through the directory service
// and checks that search sees each change at once, without a restart.
func TestSavedChangesReachSearch(t *testing.T) {
	w := testworld.New(t, 300)
	ctx := context.Background()
	find := func(text string) search.Result {
		q, err := w.Parser.Parse(map[string][]string{"q": {text}}, testworld.Now)
		if err != nil {
			t.Fatal(err)
		}
		return w.Index.Search(q)
	}
	p := w.PublicProfile(t)
	p.Headline = "Specialist in zygomorphic wellbeing and calm"
	if err := w.Directory.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if res := find("zygomorphic"); res.Total != 1 || res.Hits[0].Card.ID != p.ID {
		t.Fatalf("edited headline not searchable: %+v", res.Total)
	}
	p.Published = false
	if err := w.Directory.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if res := find("zygomorphic"); res.Total != 0 {
		t.Fatal("unpublished profile still in search")
	}
	before := w.Index.Len()
	np := &directory.Profile{
		DisplayName: "Quentin Newcomer", Headline: "Existential psychotherapist in Leeds",
		Memberships:  []directory.Membership{{Body: "ukcp", Number: "DEMO-000001"}},
		Verification: directory.Verification{State: directory.Verified, VerifiedAt: testworld.Now.AddDate(0, 0, -1), NextCheckDue: testworld.Now.AddDate(1, 0, 0)},
		Approaches:   []string{"existential"}, ClientGroups: []string{"individuals"}, Languages: []string{"en"},
		Formats: []string{"online"}, FeeMinPence: 4000, FeeMaxPence: 4000, Availability: directory.Accepting,
		AvailabilityConfirmedAt: testworld.Now, Locations: []directory.Location{{Postcode: "LS1 4AP"}},
		ContactEmail: "q@example.org", Published: true,
	}
	if err := w.Directory.Create(ctx, np); err != nil {
		t.Fatal(err)
	}
	if np.Slug != "quentin-newcomer" || w.Index.Len() != before+1 {
		t.Fatalf("created profile: slug %q, index %d → %d", np.Slug, before, w.Index.Len())
	}
	if res := find("quentin"); res.Total != 1 {
		t.Fatalf("new profile not searchable (%d)", res.Total)
	}
	twin := *np
	twin.ID, twin.Slug = 0, ""
	if err := w.Directory.Create(ctx, &twin); err != nil || twin.Slug != "quentin-newcomer-2" {
		t.Fatalf("second profile with the same name: slug %q, %v", twin.Slug, err)
	}
	if err := w.Directory.Delete(ctx, np.ID); err != nil {
		t.Fatal(err)
	}
	if res := find("quentin"); res.Total != 1 || res.Hits[0].Card.ID != twin.ID {
		t.Fatalf("deleted profile still searchable")
	}
}

// TestSyncerPicksUpOtherWriters changes the database behind the index's
// back, as another process would, and checks the syncer applies it.
func TestSyncerPicksUpOtherWriters(t *testing.T) {
	w := testworld.New(t, 200)
	ctx := context.Background()
	syncer := &search.Syncer{Index: w.Index, Feed: w.DB, Interval: time.Hour, Log: w.Log, Now: w.Clock}
	p := w.PublicProfile(t)
	p.Verification.State = directory.Suspended
	if err := w.DB.UpdateProfile(ctx, p); err != nil { // straight to the store: no listener
		t.Fatal(err)
	}
	q := search.NewQuery(testworld.Now)
	q.PerPage = 100
	total := w.Index.Search(q).Total
	n, err := syncer.Step(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Step applied %d changes, %v", n, err)
	}
	if got := w.Index.Search(q).Total; got != total-1 {
		t.Fatalf("suspended profile still searchable: %d → %d", total, got)
	}
	if n, _ := syncer.Step(ctx); n != 0 {
		t.Fatalf("second Step re-applied %d changes", n)
	}
}

// TestOverdueLeavesSearch checks that a profile whose next check passes
// leaves search at midnight without any write.
func TestOverdueLeavesSearch(t *testing.T) {
	w := testworld.New(t, 50)
	ctx := context.Background()
	p := w.PublicProfile(t)
	p.Verification.NextCheckDue = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	if err := w.Directory.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	has := func(now time.Time) bool {
		q := search.NewQuery(now)
		q.PerPage = 100
		for _, h := range w.Index.Search(q).Hits {
			if h.Card.ID == p.ID {
				return true
			}
		}
		return false
	}
	if !has(time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC)) {
		t.Fatal("profile gone before its due date ended")
	}
	if has(time.Date(2026, 11, 26, 0, 0, 1, 0, time.UTC)) {
		t.Fatal("overdue profile still searchable")
	}
	if n := w.Index.Sweep(time.Date(2026, 11, 26, 0, 0, 1, 0, time.UTC)); n < 1 {
		t.Fatalf("Sweep removed %d", n)
	}
}

// TestEditsDuringSearches saves, deletes and merges while other goroutines
// search (run with -race), then checks the index answers exactly as one
// built afresh from the final profiles.
func TestEditsDuringSearches(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(3, 5))
	ps := f.profiles(r, 600, 42)
	ix := search.NewIndex(f.tax, f.an, func() time.Time { return indexTime })
	if err := ix.Load(context.Background(), sliceSource(ps[:400])); err != nil {
		t.Fatal(err)
	}
	words := vocabulary(f.tax, ps)
	queries := make([]search.Query, 40)
	for i := range queries {
		q, err := f.parser.Parse(f.randomQuery(r, ps, words), indexTime)
		if err != nil {
			t.Fatal(err)
		}
		queries[i] = q
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	searches := make([]int, 3)
	for g := range searches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if res := ix.Search(queries[i%len(queries)]); res.Total < 0 || len(res.Hits) > res.PerPage {
					t.Errorf("impossible answer: total %d, %d hits", res.Total, len(res.Hits))
				}
				_ = ix.Len()
				searches[g]++
			}
		}()
	}
	// The writer: the last 200 profiles arrive, a quarter of all change or
	// go, with merges now and then.
	final := map[int64]*directory.Profile{}
	for _, p := range ps[:400] {
		final[p.ID] = p
	}
	for i, p := range ps[400:] {
		ix.ProfileSaved(p)
		final[p.ID] = p
		old := ps[r.IntN(400+i)]
		if _, ok := final[old.ID]; !ok {
			continue
		}
		if r.IntN(5) == 0 {
			ix.ProfileDeleted(old.ID)
			delete(final, old.ID)
		} else {
			cp := old.Clone()
			cp.Headline = "Now seeing clients in the evenings for anxiety"
			cp.FeeMinPence += 500
			cp.FeeMaxPence = max(cp.FeeMaxPence, cp.FeeMinPence)
			ix.ProfileSaved(cp)
			final[cp.ID] = cp
		}
		if i%50 == 49 {
			ix.Merge()
		}
	}
	close(stop)
	wg.Wait()
	if searches[0] == 0 {
		t.Fatal("no search ran during the edits")
	}
	var rest []*directory.Profile
	for _, p := range ps {
		if q, ok := final[p.ID]; ok {
			rest = append(rest, q)
		}
	}
	fresh := search.NewIndex(f.tax, f.an, func() time.Time { return indexTime })
	if err := fresh.Load(context.Background(), sliceSource(rest)); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if ix.Len() != fresh.Len() {
			t.Fatalf("%s: %d profiles indexed, fresh index %d", when, ix.Len(), fresh.Len())
		}
		for i, q := range queries {
			got, want := ix.Search(q), fresh.Search(q)
			if !reflect.DeepEqual(ids(got), ids(want)) || got.Total != want.Total || !reflect.DeepEqual(got.Facets, want.Facets) {
				t.Fatalf("%s, query %d (%s): total %d vs %d, ids %v vs %v", when, i, q.Values().Encode(), got.Total, want.Total, ids(got), ids(want))
			}
		}
	}
	check("before the last merge")
	ix.Merge()
	check("after it")
}

func ids(res search.Result) []int64 {
	out := []int64{}
	for _, h := range res.Hits {
		out = append(out, h.Card.ID)
	}
	return out
}

// TestStaleCopiesAreRefused is the regression test for a race the
// end-to-end tests found once the syncer ran beside the server's own
// writes: the syncer reads a profile, the server unpublishes it and
// announces that at once, then the syncer applies its older read and the
// unpublished profile is back in search until the next tick. Nor may a
// read taken before a deletion bring the profile back.
func TestStaleCopiesAreRefused(t *testing.T) {
	w := testworld.New(t, 200)
	ctx := context.Background()
	find := func(text string) int {
		q, err := w.Parser.Parse(map[string][]string{"q": {text}}, testworld.Now)
		if err != nil {
			t.Fatal(err)
		}
		return w.Index.Search(q).Total
	}
	p := w.PublicProfile(t)
	p.Headline = "Counsellor with a quokkaphile's patience"
	if err := w.Directory.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	syncerRead, err := w.DB.FeedProfile(ctx, p.ID) // the syncer's read, before the unpublish
	if err != nil {
		t.Fatal(err)
	}
	p.Published = false
	if err := w.Directory.Update(ctx, p); err != nil { // announced at once
		t.Fatal(err)
	}
	w.Index.ProfileSaved(syncerRead) // the syncer applies its older read
	if n := find("quokkaphile"); n != 0 {
		t.Fatalf("an older copy put the unpublished profile back in search (%d)", n)
	}
	fresh, err := w.DB.FeedProfile(ctx, p.ID) // the syncer's next read
	if err != nil {
		t.Fatal(err)
	}
	fresh.Published = true // as if published again by another replica, read later
	fresh.Version++
	w.Index.ProfileSaved(fresh)
	if n := find("quokkaphile"); n != 1 {
		t.Fatalf("a newer copy was refused (%d)", n)
	}
	if err := w.Directory.Delete(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	w.Index.ProfileSaved(fresh) // read before the deletion
	if n := find("quokkaphile"); n != 0 {
		t.Fatalf("a read taken before the deletion brought the profile back (%d)", n)
	}
}
