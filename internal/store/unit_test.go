package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/store/storetest"
)

// TestUnitOfWork: a change, its audit entry, its change-feed row and its
// after-commit work happen together or not at all.
func TestUnitOfWork(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail error
	}{
		{"committed", nil},
		{"rolled back", errors.New("something after the writes failed")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := openTemp(t)
			p := sample()
			if err := db.CreateProfile(ctx, p); err != nil {
				t.Fatal(err)
			}
			before, _ := db.ChangesSince(ctx, 0, 100)
			announced := false
			log := audit.NewLog(db, storetest.AuditKey(t), func() time.Time { return now })
			err := db.InTx(ctx, func(ctx context.Context) error {
				p.Headline = "Changed inside a unit of work"
				if err := db.UpdateProfile(ctx, p); err != nil {
					return err
				}
				if err := log.Record(ctx, "profile.edit", audit.Profile(p.ID)); err != nil {
					return err
				}
				commit.After(ctx, func() { announced = true })
				if announced {
					t.Error("after-commit work ran before the commit")
				}
				return tt.fail
			})
			if !errors.Is(err, tt.fail) {
				t.Fatalf("InTx = %v, want %v", err, tt.fail)
			}
			got, _ := db.ProfileByID(ctx, p.ID)
			changes, _ := db.ChangesSince(ctx, 0, 100)
			head, _ := log.Verify(ctx, nil)
			entries := head.Seq
			committed := tt.fail == nil
			if (got.Headline == p.Headline) != committed || (len(changes) > len(before)) != committed || (entries == 1) != committed || announced != committed {
				t.Fatalf("committed=%v: headline %q, feed %d→%d, audit entries %d, announced %v", committed, got.Headline, len(before), len(changes), entries, announced)
			}
		})
	}
}
