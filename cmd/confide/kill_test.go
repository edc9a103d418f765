package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
	"github.com/confide-org/confide/internal/taxonomy"
)

// TestMain lets the test binary stand in for the confide command, so the
// kill test can run the real server in a child process and SIGKILL it.
func TestMain(m *testing.M) {
	if args := os.Getenv("CONFIDE_TEST_CHILD_ARGS"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		// Like main: SIGTERM shuts down cleanly (SIGKILL cannot be caught).
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, argv, func(string) string { return "" }, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// killWorld prepares a database with therapists who can take enquiries.
func killWorld(t *testing.T, dir string, therapists int) (dbPath, keyFile string, slugs []string) {
	t.Helper()
	ctx := context.Background()
	dbPath, keyFile = storetest.DSN(t), filepath.Join(dir, "confide.key")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, dbPath, log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tax, gaz := taxonomy.MustLoad(), geo.MustLoad()
	gen, err := demo.NewGenerator(tax, gaz)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := gen.Load(ctx, db, directory.Validator{Tax: tax, Gaz: gaz}, 2*therapists, 1, now, nil); err != nil {
		t.Fatal(err)
	}
	_, err = db.EachProfile(ctx, func(p *directory.Profile) error {
		if len(slugs) >= therapists || !p.IsPublic(now) {
			return nil
		}
		u := &account.User{Email: fmt.Sprintf("t%d@example.org", p.ID), Roles: []account.Role{account.Therapist}, EmailConfirmedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateUser(ctx, u, nil); err != nil {
			return err
		}
		q := *p
		q.ID, q.Slug, q.OwnerID = 0, fmt.Sprintf("kill-%d", p.ID), u.ID
		if err := db.CreateProfile(ctx, &q); err != nil {
			return err
		}
		slugs = append(slugs, q.Slug)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dbPath, keyFile, slugs
}

type acked struct {
	idem, ref, hash string
}

// TestKillAndRestart drives 8 concurrent senders at a server process and
// SIGKILLs it at random moments, restarting it each time. Every enquiry
// acknowledged as sent must be present exactly once, decrypt to what was
// sent, and have its two outbox rows; the database must pass its
// integrity check. Cycles: CONFIDE_KILL_CYCLES (default 5; the long run
// documented in the README uses 25).
func TestKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test skipped in -short mode")
	}
	cycles := 5
	if v, err := strconv.Atoi(os.Getenv("CONFIDE_KILL_CYCLES")); err == nil && v > 0 {
		cycles = v
	}
	dir := t.TempDir()
	dbPath, keyFile, slugs := killWorld(t, dir, 80)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	args, _ := json.Marshal([]string{"serve", "--db", dbPath, "--key-file", keyFile, "--addr", addr, "--mail-catcher", "--enquiry-min-fill", "0s",
		"--trust-proxy", "--sync-interval", "0", "--enquiries-per-therapist-day", "1000000", "--log-format", "json", "--jobs-interval", "1h"})
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CONFIDE_TEST_CHILD_ARGS="+string(args))
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	var mu sync.Mutex
	var acks []acked
	var attempts, failures int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tokenRe := regexp.MustCompile(`name="token" value="([^"]+)"`)
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), 99))
			var pending url.Values // an enquiry not yet acknowledged: resent as it was
			var slug string
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if pending == nil {
					slug = slugs[rng.IntN(len(slugs))]
					res, err := client.Get(base + "/therapists/" + slug)
					if err != nil {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					m := tokenRe.FindSubmatch(body)
					if m == nil {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					pending = url.Values{"token": {string(m[1])}, "name": {fmt.Sprintf("Sender %d", s)}, "email": {fmt.Sprintf("s%d-%d-%d@example.org", s, n, rng.IntN(1e9))},
						"message": {fmt.Sprintf("Enquiry %d from sender %d: %x", n, s, rng.Uint64())}, "consent": {enquiry.ConsentVersion}}
				}
				req, _ := http.NewRequest(http.MethodPost, base+"/therapists/"+slug+"/enquiries", strings.NewReader(pending.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", s, rng.IntN(250), rng.IntN(250)))
				mu.Lock()
				attempts++
				mu.Unlock()
				res, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failures++
					mu.Unlock()
					time.Sleep(30 * time.Millisecond)
					continue // the same enquiry again, after the restart
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusSeeOther {
					t.Errorf("enquiry answered %d", res.StatusCode)
					pending = nil
					continue
				}
				loc, _ := url.Parse(res.Header.Get("Location"))
				sum := sha256.Sum256([]byte(pending.Get("message")))
				parts := strings.Split(pending.Get("token"), ".")
				mu.Lock()
				acks = append(acks, acked{idem: parts[1], ref: loc.Query().Get("ref"), hash: hex.EncodeToString(sum[:])})
				mu.Unlock()
				pending = nil
			}
		}()
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for c := range cycles {
		cmd := start()
		up := time.Duration(400+rng.IntN(1200)) * time.Millisecond
		if raceDetector {
			up *= 4 // a -race server takes seconds to start on 2 busy cores
		}
		time.Sleep(up)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		mu.Lock()
		t.Logf("cycle %d: %d acknowledged so far", c+1, len(acks))
		mu.Unlock()
	}
	// Let the senders finish cleanly against a last server, then stop it.
	cmd := start()
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	kr, err := enquiry.LoadKeyring(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var ackedIDs []string
	seen := map[string]bool{}
	for _, a := range acks {
		if seen[a.idem] {
			t.Fatalf("idempotency key %s acknowledged twice", a.idem)
		}
		seen[a.idem] = true
		e, err := db.EnquiryByIdem(ctx, a.idem)
		if err != nil {
			t.Fatalf("acknowledged enquiry %s (ref %s) is missing: %v", a.idem, a.ref, err)
		}
		ackedIDs = append(ackedIDs, e.ID)
		if e.Reference() != a.ref {
			t.Fatalf("enquiry %s has reference %s, sender was told %s", a.idem, e.Reference(), a.ref)
		}
		b, err := kr.Open(e.ID, e.Sealed)
		if err != nil {
			t.Fatalf("enquiry %s does not decrypt: %v", e.ID, err)
		}
		var c enquiry.Content
		json.Unmarshal(b, &c)
		if sum := sha256.Sum256([]byte(c.Message)); hex.EncodeToString(sum[:]) != a.hash {
			t.Fatalf("enquiry %s decrypts to a different message", e.ID)
		}
		out, err := db.OutboxFor(ctx, e.ID)
		if err != nil || len(out) != 2 {
			t.Fatalf("enquiry %s has %d outbox rows (%v)", e.ID, len(out), err)
		}
	}
	// The server was last stopped with SIGTERM, so its anchor is the
	// chain's last entry.
	if head, anchor := checkAudit(t, db, keyFile, ackedIDs); anchor.Seq != head.Seq {
		t.Errorf("after a clean shutdown the anchor file records entry %d, but the chain ends at %d", anchor.Seq, head.Seq)
	}
	total := 0
	for _, s := range slugs {
		p, _ := db.ProfileBySlug(ctx, s)
		es, _ := db.EnquiriesFor(ctx, p.ID)
		total += len(es)
	}
	crashes := countLines(t, filepath.Join(dir, "server.log"), `"msg":"serving"`)
	t.Logf("%d kill cycles (%d server starts), %d POSTs, %d failed in flight, %d acknowledged, %d stored, all acknowledged present once, decrypted, with outbox rows; integrity_check ok",
		cycles, crashes, attempts, failures, len(acks), total)
	if len(acks) == 0 || total < len(acks) {
		t.Fatalf("%d stored for %d acknowledged", total, len(acks))
	}
}

// checkAudit verifies the audit chain under the key file's audit key and
// against the anchor beside it, and counts enquiry.create entries: each
// acknowledged enquiry has exactly one, since the entry commits with the
// enquiry. It returns the head it verified and the anchor.
func checkAudit(t *testing.T, db *store.DB, keyFile string, acked []string) (audit.Head, *audit.Head) {
	t.Helper()
	ctx := context.Background()
	key, err := auditKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	anchor, err := audit.ReadAnchor(audit.AnchorPath(keyFile))
	if err != nil {
		t.Fatal(err)
	}
	head, err := audit.Verify(ctx, db, key, anchor)
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]int{}
	if err := db.EachAudit(ctx, func(e audit.Entry) error {
		if e.Action == "enquiry.create" {
			_, id, _ := strings.Cut(e.Object, " enquiry:")
			created[id]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range acked {
		if created[id] != 1 {
			t.Errorf("acknowledged enquiry %s has %d enquiry.create audit entries, want 1", id, created[id])
		}
	}
	t.Logf("audit chain: %d entries verify (anchored at %d); %d acknowledged enquiries each have their one entry", head.Seq, anchor.Seq, len(acked))
	return head, anchor
}

func countLines(t *testing.T, path, substr string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}
