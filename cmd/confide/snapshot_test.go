package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/directory"

	"github.com/confide-org/confide/internal/store/storetest"
)

// TestIndexSnapshotRestarts: a restart loads the index snapshot the last
// run wrote and serves exactly what a build from the store serves; an
// older snapshot is brought up to date from the change feed; a snapshot
// with one byte changed is detected, logged, discarded and replaced by a
// build from the store, with identical answers.
func TestIndexSnapshotRestarts(t *testing.T) {
	t.Parallel()
	dsn := storetest.DSN(t)
	dir := t.TempDir()
	key, snap := filepath.Join(dir, "confide.key"), filepath.Join(dir, "index.snapshot")
	start := func() (*harness, *syncBuffer) {
		logs := &syncBuffer{buf: &bytes.Buffer{}}
		h := newHarnessLogs(t, 150, func(c *config) {
			c.DB, c.KeyFile, c.IndexSnapshot, c.JobsInterval = dsn, key, snap, 0
		}, logs)
		return h, logs
	}
	stop := func(h *harness) { h.srv.Close(); h.app.Close() }
	queries := []string{"", "q=anxiety", "q=couples+therapy", "near=LS1&radius_km=40", "near=M1&radius_km=25&sort=distance",
		"format=online&page=2", "accepting=true&concessions=true", "approach=cbt&language=en", "q=zanzibarish"}
	answers := func(h *harness) []string {
		out := make([]string, len(queries))
		for i, q := range queries {
			res := h.client().get("/api/v1/therapists?" + q)
			if res.status != 200 {
				t.Fatalf("%s: %d %s", q, res.status, res.body)
			}
			out[i] = strings.ReplaceAll(res.body, h.srv.URL, "")
		}
		return out
	}
	same := func(stage string, got, want []string) {
		t.Helper()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: /api/v1/therapists?%s differs:\n got %.400s\nwant %.400s", stage, queries[i], got[i], want[i])
			}
		}
	}
	expectLog := func(logs *syncBuffer, want string) {
		t.Helper()
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, logs.String())
		}
	}

	h1, logs := start()
	expectLog(logs, "no index snapshot yet")
	built := answers(h1)
	stop(h1)
	first, err := os.ReadFile(snap)
	if err != nil {
		t.Fatalf("no snapshot written on shutdown: %v", err)
	}

	h2, logs := start()
	expectLog(logs, "search index loaded from snapshot")
	same("loaded from the snapshot", answers(h2), built)
	// Two changes the snapshot does not hold: one profile gains a word,
	// another leaves the directory.
	ctx := context.Background()
	var changed []*directory.Profile
	if _, err := h2.app.DB.EachProfile(ctx, func(p *directory.Profile) error {
		if len(changed) < 2 && p.IsPublic(h2.clock.Now()) {
			changed = append(changed, p)
		}
		return nil
	}); err != nil || len(changed) < 2 {
		t.Fatalf("%d public profiles, %v", len(changed), err)
	}
	// The feed applies changes in commit order, so the word goes in last:
	// once a search finds it, the departure before it has been applied too.
	changed[1].Published = false
	changed[0].Headline = "Counselling in a zanzibarish way"
	for _, p := range []*directory.Profile{changed[1], changed[0]} {
		if err := h2.app.DB.UpdateProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	h2.waitSearch("zanzibarish", 1)
	edited := answers(h2)
	stop(h2)

	// The first run's snapshot again: the restart applies both changes.
	if err := os.WriteFile(snap, first, 0o600); err != nil {
		t.Fatal(err)
	}
	h3, logs := start()
	expectLog(logs, "search index ready from snapshot")
	expectLog(logs, "changes_applied=2")
	same("an older snapshot brought up to date", answers(h3), edited)
	stop(h3)

	data, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x20
	if err := os.WriteFile(snap, data, 0o600); err != nil {
		t.Fatal(err)
	}
	h4, logs := start()
	expectLog(logs, "index snapshot is corrupt: discarded")
	expectLog(logs, "search index built")
	same("rebuilt after a corrupt snapshot", answers(h4), edited)
	stop(h4)
	if again, err := os.ReadFile(snap); err != nil || bytes.Equal(again, data) {
		t.Fatalf("the corrupt snapshot was not replaced: %v", err)
	}

	// Another database with the same demo data and change-feed positions
	// must not take this one's snapshot.
	logs = &syncBuffer{buf: &bytes.Buffer{}}
	other := newHarnessLogs(t, 150, func(c *config) { c.IndexSnapshot, c.JobsInterval = snap, 0 }, logs)
	expectLog(logs, "it was taken from another database")
	expectLog(logs, "search index built")
	stop(other)
}

// TestIndexSnapshotPath: the snapshot sits beside a SQLite file unless
// told otherwise, and PostgreSQL replicas keep one only when asked.
func TestIndexSnapshotPath(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		db, url, flag, want string
	}{
		{db: "/srv/confide.db", want: "/srv/confide.db.index"},
		{db: "/srv/confide.db", flag: "/var/cache/confide.index", want: "/var/cache/confide.index"},
		{db: "/srv/confide.db", flag: "off", want: ""},
		{db: "/srv/confide.db", url: "postgres://db/confide", want: ""},
		{db: "/srv/confide.db", url: "postgres://db/confide", flag: "/var/cache/confide.index", want: "/var/cache/confide.index"},
		{db: "file:confide.db?mode=memory", want: ""},
	} {
		c := config{DB: tt.db, DatabaseURL: tt.url, IndexSnapshot: tt.flag}
		if got := c.appConfig().Search.SnapshotPath; got != tt.want {
			t.Errorf("--db %s --database-url %q --index-snapshot %q: %q, want %q", tt.db, tt.url, tt.flag, got, tt.want)
		}
	}
}
