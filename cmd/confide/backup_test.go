package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/store/storetest"
)

// TestBackupUnderLoad: a backup taken while enquiries keep arriving holds
// every enquiry acknowledged before it started, encrypts with age, and
// restores into a working server that can read them.
func TestBackupUnderLoad(t *testing.T) {
	if storetest.Engine() == "postgres" {
		t.Skip("confide backup copies SQLite; on PostgreSQL it explains pg_dump (TestBackupOnPostgresExplainsPgDump)")
	}
	h := newHarness(t, 100, func(c *config) { c.TrustProxy = true; c.PerTherapistDay = 100000 })
	var slugs []string
	for i := range 5 {
		_, p := h.therapist(fmt.Sprintf("b%d@example.org", i))
		slugs = append(slugs, p.Slug)
	}
	var mu sync.Mutex
	var acked []string // references
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for s := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := h.client()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				c.header.Set("X-Forwarded-For", fmt.Sprintf("10.9.%d.%d", s, n%250))
				res := c.enquire(slugs[n%len(slugs)], map[string]string{"email": fmt.Sprintf("load-%d-%d@example.org", s, n)})
				if res.status == http.StatusSeeOther {
					mu.Lock()
					acked = append(acked, strings.TrimPrefix(strings.SplitN(res.header.Get("Location"), "&", 2)[0], "/enquiries/sent?ref="))
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.age")
	var logs bytes.Buffer
	start := time.Now()
	if code := run(h.ctx, []string{"backup", "--db", h.app.DSN, "--out", out, "--age-recipient", id.Recipient().String()}, noEnvironment, strings.NewReader(""), &logs, &logs); code != 0 {
		t.Fatalf("backup: %s", logs.String())
	}
	took := time.Since(start)
	close(stop)
	wg.Wait()
	raw, _ := os.ReadFile(out)
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1")) || h.app.Keys.Contains(raw) {
		t.Fatal("backup is not age-encrypted, or holds the key")
	}
	idFile := filepath.Join(t.TempDir(), "id.txt")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	restored := filepath.Join(t.TempDir(), "restored.db")
	logs.Reset()
	if code := run(h.ctx, []string{"restore", "--from", out, "--db", restored}, noEnvironment, strings.NewReader(""), &logs, &logs); code == 0 {
		t.Fatal("restore of an encrypted backup without an identity succeeded")
	}
	if code := run(h.ctx, []string{"restore", "--from", out, "--db", restored, "--age-identity", idFile}, noEnvironment, strings.NewReader(""), &logs, &logs); code != 0 {
		t.Fatalf("restore: %s", logs.String())
	}
	if code := run(h.ctx, []string{"restore", "--from", out, "--db", restored, "--age-identity", idFile}, noEnvironment, strings.NewReader(""), &logs, &logs); code == 0 {
		t.Fatal("restore replaced an existing database without --force")
	}
	// A server on the restored database, with the same key file, reads them.
	cfg := config{DB: restored, KeyFile: h.app.KeyPath, SiteName: "Confide", CrisisLines: defaultCrisisLines, BaseURL: "http://127.0.0.1:1",
		MailCatcher: true, MailFrom: "x@example.org", SessionIdle: time.Hour, SessionLifetime: time.Hour, JobsInterval: time.Hour, OutboxPoll: time.Second}
	a, err := newApp(context.Background(), cfg, h.app.Log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rec := httptestGet(a.Handler, "/healthz")
	if !strings.Contains(rec, `"status":"ok"`) {
		t.Fatalf("restored server health: %s", rec)
	}
	refs := map[string]bool{}
	for _, slug := range slugs {
		p, err := a.DB.ProfileBySlug(h.ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		es, _ := a.DB.EnquiriesFor(h.ctx, p.ID)
		for _, e := range es {
			if err := a.Enquiry.Open(&e); err != nil {
				t.Fatalf("restored enquiry does not decrypt: %v", err)
			}
			refs[e.Reference()] = true
		}
	}
	for _, ref := range before {
		if !refs[ref] {
			t.Fatalf("enquiry %s, acknowledged before the backup started, is not in it", ref)
		}
	}
	t.Logf("backup under load took %v; %d enquiries acknowledged before it started, %d in the backup, %d acknowledged by the end", took, len(before), len(refs), len(acked))
	_ = enquiry.ConsentVersion
}

// TestBackupOnPostgresExplainsPgDump: backup and restore are SQLite's;
// pointed at PostgreSQL they say what to use instead rather than failing
// obscurely.
func TestBackupOnPostgresExplainsPgDump(t *testing.T) {
	for _, args := range [][]string{
		{"backup", "--database-url", "postgres://confide@127.0.0.1:1/confide", "--out", filepath.Join(t.TempDir(), "b.db")},
		{"restore", "--database-url", "postgres://confide@127.0.0.1:1/confide", "--from", filepath.Join(t.TempDir(), "b.db")},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out bytes.Buffer
			if code := run(context.Background(), args, noEnvironment, strings.NewReader(""), &out, &out); code != 1 || !strings.Contains(out.String(), "pg_") {
				t.Fatalf("exit %d: %s", code, out.String())
			}
		})
	}
}
