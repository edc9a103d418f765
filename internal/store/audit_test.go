package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/audit"
)

func TestAuditChainDetectsTampering(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		tamper  string
		wantSeq int64
	}{
		{"edited actor", `UPDATE audit_log SET actor = 'user:999' WHERE seq = 3`, 3},
		{"edited time", `UPDATE audit_log SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 2`, 2},
		{"deleted row", `DELETE FROM audit_log WHERE seq = 4`, 5},
		{"rehashed row", `UPDATE audit_log SET action = 'nothing', hash = 'ab' WHERE seq = 1`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTemp(t)
			log := audit.NewLog(db, func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC) })
			for i, action := range []string{"signin.success", "role.grant", "verification.approved", "profile.suspend", "signin.failure"} {
				ctx := audit.WithActor(ctx, audit.Actor{Who: audit.User(int64(i + 1)), IP: "127.0.0.1", RequestID: "r1"})
				if err := log.Record(ctx, action, audit.Profile(int64(i))); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := audit.Verify(ctx, db); n != 5 || err != nil {
				t.Fatalf("intact chain: %d entries, %v", n, err)
			}
			// The table refuses edits outright…
			if err := db.ExecForTest(ctx, `UPDATE audit_log SET actor = 'x' WHERE seq = 1`); err == nil {
				t.Fatal("audit_log accepted an UPDATE")
			}
			// …so an attacker with the file drops the guard first.
			for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`, tt.tamper} {
				if err := db.ExecForTest(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			_, err := audit.Verify(ctx, db)
			var broken *audit.BrokenLinkError
			if !errors.As(err, &broken) || broken.Seq != tt.wantSeq {
				t.Fatalf("Verify = %v, want a broken link at entry %d", err, tt.wantSeq)
			}
		})
	}
}
