package bench

import (
	"context"
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
