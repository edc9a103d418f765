package bench

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunRefusesBadOptions: bad options are refused before any work,
// naming the flag they came from.
func TestRunRefusesBadOptions(t *testing.T) {
	ctx := context.Background()
	ok := Options{Therapists: 100, Queries: 7}
	for _, tt := range []struct {
		name string
		run  func() error
		want string
	}{
		{"search: too few therapists", func() error {
			return RunSearch(ctx, SearchOptions{Options: Options{Therapists: 5, Queries: 7}}, io.Discard, io.Discard)
		}, "--therapists must be at least 100"},
		{"search: too few queries", func() error {
			return RunSearch(ctx, SearchOptions{Options: Options{Therapists: 100, Queries: 6}}, io.Discard, io.Discard)
		}, "--queries at least 7"},
		{"search: unknown peer", func() error {
			return RunSearch(ctx, SearchOptions{Options: ok, Peers: []string{"mysql"}}, io.Discard, io.Discard)
		}, "peer must be sqlite, postgres or bleve"},
		{"search: postgres without a URL", func() error {
			return RunSearch(ctx, SearchOptions{Options: ok, Peers: []string{"sqlite", "postgres"}}, io.Discard, io.Discard)
		}, "--peer postgres needs --database-url"},
		{"http: too short", func() error {
			return RunHTTP(ctx, HTTPOptions{Options: ok, Duration: 10 * time.Millisecond, Connections: 1}, io.Discard, io.Discard)
		}, "--duration at least 1s"},
		{"http: no connections", func() error {
			return RunHTTP(ctx, HTTPOptions{Options: ok, Duration: time.Second}, io.Discard, io.Discard)
		}, "--connections at least 1"},
		{"http: no wrk", func() error {
			return RunHTTP(ctx, HTTPOptions{Options: ok, Duration: time.Second, Connections: 1, Wrk: "/nonexistent/wrk"}, io.Discard, io.Discard)
		}, "wrk is needed"},
		{"live: no edits", func() error {
			return RunLive(ctx, LiveOptions{Options: ok, Duration: time.Second, Workers: 1}, io.Discard, io.Discard)
		}, "--edits-per-second and --workers at least 1"},
		{"live: no workers", func() error {
			return RunLive(ctx, LiveOptions{Options: ok, Duration: time.Second, EditsPerSecond: 1}, io.Discard, io.Discard)
		}, "--edits-per-second and --workers at least 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestProfiled: a CPU profile is written when asked for, and the run's
// own error comes back either way.
func TestProfiled(t *testing.T) {
	failed := errors.New("run failed")
	for _, tt := range []struct {
		name    string
		profile bool
		err     error
	}{
		{name: "no profile", err: nil},
		{name: "profile", profile: true, err: nil},
		{name: "profile of a failed run", profile: true, err: failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			if tt.profile {
				o.CPUProfile = filepath.Join(t.TempDir(), "cpu.pprof")
			}
			if err := o.profiled(func() error { return tt.err }); !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if tt.profile {
				if fi, err := os.Stat(o.CPUProfile); err != nil || fi.Size() == 0 {
					t.Fatalf("profile: %v, %v", fi, err)
				}
			}
		})
	}
}

// TestEditToken: every edit's marker word is its own, so a search for it
// finds exactly the edited profile.
func TestEditToken(t *testing.T) {
	for _, tt := range []struct {
		k    int
		want string
	}{
		{0, "zqxaaaaaa"},
		{1, "zqxbaaaaa"},
		{26, "zqxabaaaa"},
		{26*26 + 2, "zqxcabaaa"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			if got := editToken(tt.k); got != tt.want {
				t.Fatalf("editToken(%d) = %q, want %q", tt.k, got, tt.want)
			}
		})
	}
	seen := map[string]int{}
	for k := range 10000 {
		tok := editToken(k)
		if prev, dup := seen[tok]; dup {
			t.Fatalf("edits %d and %d share %q", prev, k, tok)
		}
		seen[tok] = k
	}
}

// TestRunSearchBleve: `confide bench search --peer bleve` reports two
// peers from one index, each with its build time, its memory and disk per
// profile, and the top-10 overlap of the classes whose order Bleve cannot
// reproduce, and finds no disagreement in the rest.
func TestRunSearchBleve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	opts := SearchOptions{Options: Options{Therapists: 600, Queries: 28, Seed: 4, BenchDB: filepath.Join(dir, "b.db"), JSONPath: out},
		Peers: []string{"bleve"}}
	var stdout strings.Builder
	if err := RunSearch(context.Background(), opts, &stdout, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bleve", "bleve_lean"} {
		pr, ok := rep.Peers[name]
		if !ok {
			t.Fatalf("no %s in the report's peers: %v", name, rep.Peers)
		}
		if pr.LoadSeconds <= 0 || pr.HeapBytesPerProfile == 0 || pr.DiskBytesPerProfile <= 0 {
			t.Errorf("%s: load %gs, heap %g, disk %g bytes per profile", name, pr.LoadSeconds, pr.HeapBytesPerProfile, pr.DiskBytesPerProfile)
		}
		for _, class := range []string{ClassLocalFacets, ClassOnlineText, ClassNationalText, ClassRuralWide} {
			if rs, ok := pr.Ranked[class]; !ok || rs.N == 0 || rs.Top10 < 0 || rs.Top10 > 1 {
				t.Errorf("%s: ranked %s = %+v (present %v)", name, class, rs, ok)
			}
		}
		if _, ok := pr.Ranked[ClassLocalFiltered]; ok {
			t.Errorf("%s: %s is compared in full, not by overlap", name, ClassLocalFiltered)
		}
		if !strings.Contains(stdout.String(), name+": 0 disagreements") || !strings.Contains(stdout.String(), "top-10 overlap") {
			t.Errorf("table lacks %s's line:\n%s", name, stdout.String())
		}
	}
}
