package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
)

func TestMonitoringReads(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	exec := func(q string) {
		t.Helper()
		if err := db.ExecForTest(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Run("empty", func(t *testing.T) {
		seq, err := db.LatestChangeSeq(ctx)
		if err != nil || seq != 0 {
			t.Fatalf("latest change %d, %v", seq, err)
		}
		if lo, hi, err := db.FeedSpan(ctx); err != nil || lo != 0 || hi != 0 {
			t.Fatalf("feed span %d–%d, %v", lo, hi, err)
		}
		id, err := db.Identity(ctx)
		again, err2 := db.Identity(ctx)
		other, err3 := openTemp(t).Identity(ctx)
		if err != nil || err2 != nil || err3 != nil || len(id) != 32 || id != again || id == other {
			t.Fatalf("identities %q, %q, another database %q: %v %v %v", id, again, other, err, err2, err3)
		}
		ob, err := db.OutboxStats(ctx)
		if err != nil || ob != (store.OutboxStats{}) {
			t.Fatalf("outbox %+v, %v", ob, err)
		}
		pending, err := db.MigrationsPending(ctx)
		if err != nil || pending {
			t.Fatalf("migrations pending %v, %v, right after Open", pending, err)
		}
	})
	t.Run("with rows", func(t *testing.T) {
		exec(`INSERT INTO profile_changes (profile_id, changed_at) VALUES (1, '2026-11-25T09:00:00.000000Z'), (2, '2026-11-25T09:00:01.000000Z')`)
		// Account mail stands alone: no enquiry needs to exist for a count.
		exec(`INSERT INTO outbox (id, kind, status, next_attempt, created_at) VALUES
			('a', 'mail', 'pending', '2026-11-25T09:10:00.000000Z', '2026-11-25T09:05:00.000000Z'),
			('b', 'mail', 'pending', '2026-11-25T09:10:00.000000Z', '2026-11-25T09:01:30.250000Z'),
			('c', 'mail', 'sent',    '2026-11-25T08:00:00.000000Z', '2026-11-25T08:00:00.000000Z'),
			('d', 'mail', 'dead',    '2026-11-25T08:00:00.000000Z', '2026-11-24T08:00:00.000000Z')`)
		seq, err := db.LatestChangeSeq(ctx)
		if err != nil || seq != 2 {
			t.Fatalf("latest change %d, %v; want 2", seq, err)
		}
		if lo, hi, err := db.FeedSpan(ctx); err != nil || lo != 1 || hi != 2 {
			t.Fatalf("feed span %d–%d, %v; want 1–2", lo, hi, err)
		}
		ob, err := db.OutboxStats(ctx)
		want := store.OutboxStats{Pending: 2, Dead: 1, OldestPending: time.Date(2026, 11, 25, 9, 1, 30, 250_000_000, time.UTC)}
		if err != nil || ob != want {
			t.Fatalf("outbox %+v, %v; want %+v", ob, err, want)
		}
	})
	t.Run("pools", func(t *testing.T) {
		pools := db.PoolStats()
		if storetest.Engine() == "postgres" {
			if len(pools) != 1 || pools[0].Name != "pool" || pools[0].Stats.MaxOpenConnections < 8 {
				t.Fatalf("pools %+v", pools)
			}
			return
		}
		if len(pools) != 2 || pools[0].Name != "write" || pools[0].Stats.MaxOpenConnections != 1 || pools[1].Name != "read" {
			t.Fatalf("pools %+v", pools)
		}
	})
	t.Run("migration missing", func(t *testing.T) {
		exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)`)
		pending, err := db.MigrationsPending(ctx)
		if err != nil || !pending {
			t.Fatalf("migrations pending %v, %v, after the last was removed", pending, err)
		}
	})
}
