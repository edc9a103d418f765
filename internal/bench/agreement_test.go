package bench_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/bench"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
)

// TestPeersAgree: on a few thousand demo profiles, each peer gives exactly
// Confide's answers (total, ids in order, sort keys, every facet count) for
// every class of the mix. The PostgreSQL peer runs when
// CONFIDE_TEST_POSTGRES holds a URL of a throwaway database with PostGIS.
func TestPeersAgree(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tax, gaz := taxonomy.MustLoad(), geo.MustLoad()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	db := demoStore(t, 3000, 7, now)
	an := search.NewAnalyzer()
	ix := search.NewIndex(tax, an, func() time.Time { return now })
	if err := ix.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	parser := &search.Parser{Tax: tax, Gaz: gaz, Analyzer: an}
	cases := bench.Mix(gaz, tax, 280, 3)
	// Beyond the mix: the session-times facet filtered (any of), with other
	// facets and in range of a place.
	cases = append(cases, extraCases(t,
		"times=evenings",
		"times=saturdays&times=sundays&issue=anxiety&sort=fee",
		"near=M1&radius_km=40&times=evenings&format=online&gender=woman",
		"times=sundays&approach=cbt&approach=psychodynamic&q=anxiety",
	)...)
	engine := &bench.Confide{Parser: parser, Index: ix, Now: now}
	_, want, err := bench.Measure(ctx, engine, cases, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Every class has its allocations measured, and a search allocates
	// something (its page of results) but not a copy of the index.
	allocs, err := bench.MeasureAllocs(engine, cases)
	if err != nil {
		t.Fatal(err)
	}
	for _, class := range bench.Classes {
		a, ok := allocs[class]
		if !ok || a.P50 == 0 || a.Max < a.P50 || a.Max > 64<<20 {
			t.Errorf("allocations of %s: %+v (present %v)", class, a, ok)
		}
	}
	type peer interface {
		bench.System
		Close() error
	}
	peers := map[string]func() (peer, error){
		"sqlite": func() (peer, error) {
			return bench.NewSQLite(ctx, filepath.Join(dir, "peer.db"), db, tax, an, parser, now)
		},
	}
	if url := os.Getenv("CONFIDE_TEST_POSTGRES"); url != "" {
		peers["postgres"] = func() (peer, error) { return bench.NewPostgres(ctx, url, db, tax, an, parser, now) }
	} else {
		t.Log("CONFIDE_TEST_POSTGRES not set: PostgreSQL peer not checked")
	}
	for name, open := range peers {
		t.Run(name, func(t *testing.T) {
			p, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			_, got, err := bench.Measure(ctx, p, cases, 0)
			if err != nil {
				t.Fatal(err)
			}
			agree(t, cases, want, got)
		})
	}
}

// extraCases are queries beyond the mix, of class "extra".
func extraCases(t *testing.T, queries ...string) []bench.Case {
	t.Helper()
	var out []bench.Case
	for _, qs := range queries {
		v, err := url.ParseQuery(qs)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bench.Case{Class: "extra", Values: v})
	}
	return out
}

func agree(t *testing.T, cases []bench.Case, want, got []bench.Answer) {
	t.Helper()
	bad := 0
	nonEmpty := map[string]int{}
	for i, c := range cases {
		if want[i].Total > 0 {
			nonEmpty[c.Class]++
		}
		if d := bench.Compare(want[i], got[i]); len(d) > 0 {
			bad++
			if bad <= 5 {
				t.Errorf("%s\n  %s", c.Describe(), strings.Join(d, "\n  "))
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d cases disagree", bad, len(cases))
	}
	for _, class := range bench.Classes {
		if nonEmpty[class] == 0 {
			t.Errorf("class %s never had results: the comparison says little", class)
		}
	}
	t.Logf("%d cases agree; non-empty per class %v", len(cases), nonEmpty)
}

// demoStore is a new store in a test directory holding n generated
// profiles (seed, as of now), or none when n is 0.
func demoStore(t *testing.T, n int, seed uint64, now time.Time) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if n > 0 {
		tax, gaz := taxonomy.MustLoad(), geo.MustLoad()
		gen, err := demo.NewGenerator(tax, gaz)
		if err != nil {
			t.Fatal(err)
		}
		if err := gen.Load(ctx, db, directory.Validator{Tax: tax, Gaz: gaz}, n, seed, now, nil); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
