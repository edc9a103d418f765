package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
)

// feedReader follows the change feed the way a replica's syncer does:
// "entries after the last one I applied".
type feedReader struct {
	db   *store.DB
	last int64
	seen []int64
}

func (r *feedReader) poll(t *testing.T) {
	t.Helper()
	cs, err := r.db.ChangesSince(context.Background(), r.last, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		r.seen = append(r.seen, c.Seq)
		r.last = c.Seq
	}
}

// TestFeedOutOfOrderCommit: transaction A takes its change-feed number and
// is held just before COMMIT; transaction B, started later, tries to
// commit first while a replica polls the feed. With the feed lock B waits
// for A, so the replica sees A's change and then B's. The control run
// (PostgreSQL only: SQLite's single writer cannot even start B) drops the
// lock and shows the replica skipping A's change for good.
func TestFeedOutOfOrderCommit(t *testing.T) {
	for _, tt := range []struct {
		name      string
		locked    bool
		wantSkips bool
	}{
		{"with the feed lock", true, false},
		{"control: without the lock", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.locked && storetest.Engine() != "postgres" {
				t.Skip("SQLite has one writer: the out-of-order commit cannot be set up")
			}
			ctx := context.Background()
			db := storetest.Open(t)
			a, b := sample(), sample()
			b.Slug = "bob-example"
			if err := db.InsertProfiles(ctx, []*directory.Profile{a, b}); err != nil {
				t.Fatal(err)
			}
			if !tt.locked {
				db.DisableLocksForTest()
			}
			r := &feedReader{db: db}
			r.poll(t)
			start := len(r.seen)

			holding, release := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			db.SetBeforeCommitForTest(func() {
				if first.CompareAndSwap(false, true) { // only A is held
					close(holding)
					<-release
				}
			})
			errA := make(chan error, 1)
			go func() { a.Headline = "A's edit"; errA <- db.UpdateProfile(ctx, a) }()
			<-holding
			errB := make(chan error, 1)
			go func() { b.Headline = "B's edit"; errB <- db.UpdateProfile(ctx, b) }()
			// Give B every chance to commit ahead of A, polling as a
			// replica would.
			bFirst := false
			for range 20 {
				time.Sleep(10 * time.Millisecond)
				r.poll(t)
				select {
				case err := <-errB:
					if err != nil {
						t.Fatal(err)
					}
					bFirst = true
				default:
				}
				if bFirst {
					break
				}
			}
			r.poll(t)
			close(release)
			if err := <-errA; err != nil {
				t.Fatal(err)
			}
			if !bFirst {
				if err := <-errB; err != nil {
					t.Fatal(err)
				}
			}
			r.poll(t)
			all, err := db.ChangesSince(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, c := range all {
				want = append(want, c.Seq)
			}
			got := r.seen
			skipped := !slices.Equal(got, want)
			if skipped != tt.wantSkips {
				t.Fatalf("B committed first: %v; replica saw %v of %v (after %d at start); skipped: %v, want %v",
					bFirst, got, want, start, skipped, tt.wantSkips)
			}
			if tt.locked && bFirst {
				t.Fatal("B committed while A held the feed lock")
			}
		})
	}
}

// TestFeedConcurrentWriters: several writers commit profile edits at once,
// with random pauses between taking their feed numbers and committing,
// while a replica polls; it must see every entry exactly once, in order.
func TestFeedConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	const writers, edits = 4, 15
	ps := make([]*directory.Profile, writers)
	for i := range ps {
		ps[i] = sample()
		ps[i].Slug = fmt.Sprintf("writer-%d", i)
	}
	if err := db.InsertProfiles(ctx, ps); err != nil {
		t.Fatal(err)
	}
	var n sync.Mutex
	k := 0
	db.SetBeforeCommitForTest(func() {
		n.Lock()
		k++
		d := time.Duration(k%4) * time.Millisecond
		n.Unlock()
		time.Sleep(d)
	})
	r := &feedReader{db: db}
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			default:
				r.poll(t)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			p := ps[i].Clone()
			for j := range edits {
				p.Headline = fmt.Sprintf("edit %d of writer %d", j, i)
				if err := db.UpdateProfile(ctx, p); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-polled
	r.poll(t)
	all, err := db.ChangesSince(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers+writers*edits || len(r.seen) != len(all) {
		t.Fatalf("replica saw %d entries, feed holds %d, want %d", len(r.seen), len(all), writers+writers*edits)
	}
	for i, c := range all {
		if r.seen[i] != c.Seq {
			t.Fatalf("entry %d: replica saw seq %d, feed has %d", i, r.seen[i], c.Seq)
		}
	}
}
