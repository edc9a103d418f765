package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
)

var auditTime = time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC)

// recordFive writes five entries through a keyed log.
func recordFive(t *testing.T, db *store.DB, key *audit.Key) *audit.Log {
	t.Helper()
	log := audit.NewLog(db, key, func() time.Time { return auditTime })
	for i, action := range []string{"signin.success", "role.grant", "verification.approved", "profile.suspend", "signin.failure"} {
		ctx := audit.WithActor(context.Background(), audit.Actor{Who: audit.User(int64(i + 1)), IP: "127.0.0.1", RequestID: "r1"})
		if err := log.Record(ctx, action, audit.Profile(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	return log
}

func TestAuditChainDetectsTampering(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		tamper  []string
		relink  int64 // recompute links from here on without the key (0: no)
		version int
		wantSeq int64
	}{
		{name: "edited actor", tamper: []string{`UPDATE audit_log SET actor = 'user:999' WHERE seq = 3`}, wantSeq: 3},
		{name: "edited time", tamper: []string{`UPDATE audit_log SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 2`}, wantSeq: 2},
		{name: "deleted row", tamper: []string{`DELETE FROM audit_log WHERE seq = 4`}, wantSeq: 5},
		{name: "rehashed row", tamper: []string{`UPDATE audit_log SET action = 'nothing', hash = 'ab' WHERE seq = 1`}, wantSeq: 1},
		{name: "edited and relinked with SHA-256", tamper: []string{`UPDATE audit_log SET object = 'profile:77' WHERE seq = 2`}, relink: 2, version: audit.HMACSHA256, wantSeq: 2},
		{name: "edited and relinked as unkeyed", tamper: []string{`UPDATE audit_log SET object = 'profile:77' WHERE seq = 2`}, relink: 1, version: audit.Unkeyed, wantSeq: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTemp(t)
			key := storetest.AuditKey(t)
			log := recordFive(t, db, key)
			if head, err := log.Verify(ctx, nil); head.Seq != 5 || err != nil {
				t.Fatalf("intact chain: %d entries, %v", head.Seq, err)
			}
			if _, err := audit.Verify(ctx, db, storetest.AuditKey(t), nil); err == nil {
				t.Fatal("the chain verified under another key")
			}
			// The table refuses edits outright…
			if err := db.ExecForTest(ctx, `UPDATE audit_log SET actor = 'x' WHERE seq = 1`); err == nil {
				t.Fatal("audit_log accepted an UPDATE")
			}
			if err := db.ExecForTest(ctx, `UPDATE audit_log SET hash = 'x' WHERE seq = 1`); err == nil {
				t.Fatal("audit_log accepted an UPDATE of a keyed link")
			}
			// …so an attacker with the file drops the guard first.
			storetest.DropAuditGuards(t, db)
			for _, q := range tt.tamper {
				if err := db.ExecForTest(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if tt.relink > 0 {
				storetest.RelinkAuditWithoutKey(t, db, tt.relink, tt.version)
			}
			_, err := log.Verify(ctx, nil)
			var broken *audit.BrokenLinkError
			if !errors.As(err, &broken) || broken.Seq != tt.wantSeq {
				t.Fatalf("Verify = %v, want a broken link at entry %d", err, tt.wantSeq)
			}
		})
	}
}

// insertLegacy writes n entries linked as before links were MACs: plain
// SHA-256, mac_version 0 (what migration 00009 leaves of an old chain).
func insertLegacy(t *testing.T, db *store.DB, n int) string {
	t.Helper()
	prev := audit.Genesis
	for i := 1; i <= n; i++ {
		e := audit.Entry{Seq: int64(i), At: auditTime.Add(time.Duration(i) * time.Minute).Truncate(time.Microsecond), Actor: audit.User(int64(i)),
			Action: "signin.success", Object: audit.User(int64(i)), IP: "192.0.2.1", RequestID: fmt.Sprintf("r%d", i), PrevHash: prev}
		e.Hash = e.Sum()
		q := fmt.Sprintf(`INSERT INTO audit_log (seq, at, actor, action, object, ip, request_id, prev_hash, hash) VALUES (%d, '%s', '%s', '%s', '%s', '%s', '%s', '%s', '%s')`,
			e.Seq, e.At.Format("2006-01-02T15:04:05.000000Z"), e.Actor, e.Action, e.Object, e.IP, e.RequestID, e.PrevHash, e.Hash)
		if err := db.ExecForTest(context.Background(), q); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
	}
	return prev
}

// TestAuditRekey: a chain written before links were MACs is re-keyed from
// its first entry, once, with an entry saying so; a broken old chain, or
// an unkeyed chain where an anchor exists, is left alone.
func TestAuditRekey(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		tamper    string
		anchor    bool
		wantN     int
		brokenSeq int64
	}{
		{name: "old chain", wantN: 4},
		{name: "old chain edited before the upgrade", tamper: `UPDATE audit_log SET object = 'user:9' WHERE seq = 3`, brokenSeq: 3},
		{name: "unkeyed but anchored", anchor: true, brokenSeq: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTemp(t)
			oldHead := insertLegacy(t, db, 4)
			if tt.tamper != "" {
				storetest.DropAuditGuards(t, db)
				if err := db.ExecForTest(ctx, tt.tamper); err != nil {
					t.Fatal(err)
				}
			}
			anchorPath := filepath.Join(t.TempDir(), "confide.key.anchor")
			if tt.anchor {
				if err := audit.WriteAnchor(anchorPath, audit.Head{Seq: 4, MAC: oldHead, At: auditTime}); err != nil {
					t.Fatal(err)
				}
			}
			log := audit.NewLog(db, storetest.AuditKey(t), func() time.Time { return auditTime.Add(time.Hour) })
			n, err := log.Rekey(ctx, anchorPath)
			var broken *audit.BrokenLinkError
			if tt.brokenSeq > 0 {
				if !errors.As(err, &broken) || broken.Seq != tt.brokenSeq || n != 0 {
					t.Fatalf("Rekey = %d, %v; want a refusal naming entry %d", n, err, tt.brokenSeq)
				}
				head, _ := db.AuditHead(ctx)
				if head.Seq != 4 || head.MACVersion != audit.Unkeyed {
					t.Fatalf("a refused re-key changed the chain: head %+v", head)
				}
				return
			}
			if err != nil || n != tt.wantN {
				t.Fatalf("Rekey = %d, %v", n, err)
			}
			head, err := log.Verify(ctx, nil)
			if err != nil || head.Seq != 5 {
				t.Fatalf("after re-keying: head %d, %v", head.Seq, err)
			}
			note, _ := db.AuditHead(ctx)
			if note.Action != audit.ActionRekeyed || note.Object != "entries:1-4 unkeyed-head:"+oldHead {
				t.Fatalf("no record of the re-keying: %+v", note)
			}
			first, _ := db.AuditEntry(ctx, 1)
			if first.Actor != "user:1" || first.RequestID != "r1" || first.PrevHash != audit.Genesis || first.MACVersion != audit.HMACSHA256 {
				t.Fatalf("entry 1 after re-keying: %+v", first)
			}
			if n, err := log.Rekey(ctx, anchorPath); n != 0 || err != nil {
				t.Fatalf("second Rekey = %d, %v", n, err)
			}
		})
	}
}

// TestAuditAnchor: anchoring writes the head to the log and to a 0600
// file; an idle log is not anchored twice; a chain that lost its anchored
// entries keeps the old anchor file, the evidence.
func TestAuditAnchor(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	log := recordFive(t, db, storetest.AuditKey(t))
	path := filepath.Join(t.TempDir(), "confide.key.anchor")
	h, err := log.Anchor(ctx, path)
	if err != nil || h.Seq != 6 {
		t.Fatalf("Anchor = %+v, %v", h, err)
	}
	e, _ := db.AuditEntry(ctx, 6)
	fifth, _ := db.AuditEntry(ctx, 5)
	if e.Action != audit.ActionAnchor || e.Object != "seq:5 mac:"+fifth.Hash || e.Hash != h.MAC {
		t.Fatalf("anchor entry %+v for head %+v", e, h)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("anchor file: %v %v", fi, err)
	}
	if read, err := audit.ReadAnchor(path); err != nil || *read != h {
		t.Fatalf("ReadAnchor = %+v, %v; wrote %+v", read, err, h)
	}
	if again, err := log.Anchor(ctx, path); err != nil || again != h {
		t.Fatalf("anchoring an idle log: %+v, %v", again, err)
	}
	if _, err := log.Verify(ctx, &h); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AuditEntry(ctx, 99); !strings.Contains(fmt.Sprint(err), "not found") {
		t.Fatalf("AuditEntry(99) = %v", err)
	}

	storetest.DropAuditGuards(t, db)
	for _, q := range []string{`DELETE FROM audit_log WHERE seq >= 5`} {
		if err := db.ExecForTest(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_, err = log.Anchor(ctx, path)
	var broken *audit.BrokenLinkError
	if !errors.As(err, &broken) || broken.Seq != 6 {
		t.Fatalf("Anchor after the tail was removed = %v", err)
	}
	if kept, _ := audit.ReadAnchor(path); kept == nil || *kept != h {
		t.Fatalf("the old anchor was replaced: %+v", kept)
	}
	if _, err := log.Verify(ctx, &h); !errors.As(err, &broken) || broken.Seq != 5 {
		t.Fatalf("Verify against the anchor = %v, want entry 5 missing", err)
	}
}
