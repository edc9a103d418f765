package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/search"
)

// SearchOptions are what `confide bench search` is told, beyond the
// common Options: which peers to compare Confide's answers with.
type SearchOptions struct {
	Options
	// Peers are "sqlite", "postgres" and/or "bleve", measured in this
	// order (--peer, repeatable). "bleve" reports two peers from one
	// index: "bleve", asking for facet counts on every query as a results
	// page shows them, and "bleve_lean", only in the facet classes.
	Peers []string
	// PeerURL is the throwaway PostgreSQL database the postgres peer
	// replaces its tables in (--database-url); the Confide directory
	// itself always stays in the SQLite file.
	PeerURL string
}

// peer is a system Confide's answers are compared with.
type peer interface {
	System
	Close() error
	Version() string
	Explain(ctx context.Context, c Case) (string, error)
}

// RunSearch is `confide bench search`: generate a directory, build the
// index, run the query mix on Confide and each peer, compare every answer
// and report latencies, ratios and disagreements. Any disagreement makes
// it return an error after the report is written.
func RunSearch(ctx context.Context, opts SearchOptions, stdout, stderr io.Writer) error {
	return opts.profiled(func() error { return runSearch(ctx, opts, stdout, stderr) })
}

func runSearch(ctx context.Context, opts SearchOptions, stdout, stderr io.Writer) error {
	if opts.Therapists < 100 || opts.Queries < len(Classes) {
		return errors.New("--therapists must be at least 100 and --queries at least 7")
	}
	for _, name := range opts.Peers {
		if name != "sqlite" && name != "postgres" && name != "bleve" {
			return fmt.Errorf("peer must be sqlite, postgres or bleve, not %q", name)
		}
	}
	if slices.Contains(opts.Peers, "postgres") && opts.PeerURL == "" {
		return errors.New("--peer postgres needs --database-url (a throwaway database: bench/peers/postgres.sh makes one)")
	}
	g, err := opts.generate(ctx, "", stderr)
	if err != nil {
		return err
	}
	defer g.cleanup()
	db, err := g.open(ctx, opts.logger())
	if err != nil {
		return err
	}
	defer db.Close()
	tax, gaz, now := g.tax, g.gaz, fixedNow()
	rep := &Report{Therapists: opts.Therapists, Queries: opts.Queries, Seed: opts.Seed, Peers: map[string]PeerReport{},
		Machine: machine()}

	// Reading the rows alone, then building the index from them.
	start := time.Now()
	rows := 0
	if _, err := db.EachProfile(ctx, func(*directory.Profile) error { rows++; return nil }); err != nil {
		return err
	}
	rep.ReadRowsSeconds = time.Since(start).Seconds()
	an := search.NewAnalyzer()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ix := search.NewIndex(tax, an, func() time.Time { return now })
	start = time.Now()
	if err := ix.Load(ctx, db); err != nil {
		return err
	}
	rep.BuildSeconds = time.Since(start).Seconds()
	runtime.GC()
	runtime.ReadMemStats(&after)
	rep.Public = ix.Len()
	rep.HeapBytesPerProfile = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(max(rows, 1))
	fmt.Fprintf(stderr, "read %d rows in %.2fs, built the index in %.2fs\n", rows, rep.ReadRowsSeconds, rep.BuildSeconds)

	parser := &search.Parser{Tax: tax, Gaz: gaz, Analyzer: an}
	cases := Mix(gaz, tax, opts.Queries, opts.Seed)
	warm := min(len(cases), 3*len(Classes))
	var want []Answer
	engine := &Confide{Parser: parser, Index: ix, Now: now}
	if rep.Classes, want, err = Measure(ctx, engine, cases, warm); err != nil {
		return err
	}
	if rep.Allocs, err = MeasureAllocs(engine, cases); err != nil {
		return err
	}
	disagreements := 0
	for _, name := range opts.Peers {
		if name == "bleve" {
			n, err := compareBleve(ctx, g.file+".bleve-peer", db, parser, now, rows, rep, cases, want, warm, stderr)
			if err != nil {
				return err
			}
			disagreements += n
			continue
		}
		start := time.Now()
		var p peer
		switch name {
		case "sqlite":
			p, err = NewSQLite(ctx, g.file+".sqlite-peer", db, tax, an, parser, now)
		case "postgres":
			p, err = NewPostgres(ctx, opts.PeerURL, db, tax, an, parser, now)
		}
		if err != nil {
			return err
		}
		pr, err := comparePeer(ctx, p, rep.Classes, cases, want, warm, time.Since(start).Seconds(), name, stderr)
		p.Close()
		if err != nil {
			return err
		}
		disagreements += pr.Disagreements
		rep.Peers[name] = pr
	}
	fmt.Fprint(stdout, rep.Table())
	for name, pr := range rep.Peers {
		for _, d := range pr.Examples {
			fmt.Fprintf(stdout, "DISAGREEMENT %s %s ?%s\n  %s\n", name, d.Class, d.Query, strings.Join(d.Diffs, "\n  "))
		}
	}
	if err := opts.writeJSON(rep); err != nil {
		return err
	}
	if disagreements > 0 {
		return fmt.Errorf("%d answers differ from Confide's", disagreements)
	}
	return nil
}

// comparePeer measures a loaded peer on the mix, compares its answers
// with Confide's (want) and explains one query of each class.
func comparePeer(ctx context.Context, p peer, confide map[string]Stats, cases []Case, want []Answer, warm int, loadSeconds float64,
	name string, stderr io.Writer) (PeerReport, error) {
	pr := PeerReport{LoadSeconds: loadSeconds, Version: p.Version(), Explain: map[string]string{}, Ratios: map[string]Ratio{}}
	fmt.Fprintf(stderr, "%s peer loaded in %.1fs\n", name, pr.LoadSeconds)
	stats, got, err := Measure(ctx, p, cases, warm)
	if err != nil {
		return pr, err
	}
	pr.Classes = stats
	partial, _ := p.(interface{ Comparable(Case) Comparable })
	ranked := map[string][]RankedStats{}
	for i, c := range cases {
		cmp := Exact
		if partial != nil {
			cmp = partial.Comparable(c)
		}
		if !cmp.Order {
			ranked[c.Class] = append(ranked[c.Class], RankedStats{N: 1, Top10: OverlapTop(want[i], got[i], 10),
				SameTotal: boolInt(want[i].Total == got[i].Total)})
		}
		if d := CompareAs(want[i], got[i], cmp); len(d) > 0 {
			pr.Disagreements++
			if len(pr.Examples) < 10 {
				pr.Examples = append(pr.Examples, Disagreement{Class: c.Class, Query: c.Values.Encode(), Diffs: d})
			}
		}
	}
	for class, list := range ranked {
		var rs RankedStats
		for _, r := range list {
			rs.N++
			rs.Top10 += r.Top10
			rs.SameTotal += r.SameTotal
		}
		rs.Top10 /= float64(rs.N)
		if pr.Ranked == nil {
			pr.Ranked = map[string]RankedStats{}
		}
		pr.Ranked[class] = rs
	}
	for _, class := range Classes {
		for _, c := range cases {
			if c.Class == class {
				if plan, err := p.Explain(ctx, c); err == nil {
					pr.Explain[class] = plan
				}
				break
			}
		}
		if s, ok := confide[class]; ok {
			ps := stats[class]
			pr.Ratios[class] = Ratio{P50: ps.P50 / max(s.P50, 1e-9), P99: ps.P99 / max(s.P99, 1e-9)}
		}
	}
	return pr, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compareBleve builds the Bleve peer in dir, measuring its build time and
// its heap growth per profile (rows, as for Confide's index), and compares
// it twice: "bleve" with facet counts on every query and "bleve_lean"
// with them only where the class shows them. It returns the
// disagreements of both.
func compareBleve(ctx context.Context, dir string, src ProfileSource, parser *search.Parser, now time.Time, rows int, rep *Report,
	cases []Case, want []Answer, warm int, stderr io.Writer) (int, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	b, err := NewBleve(ctx, dir, src, parser.Tax, parser, now)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	load := time.Since(start).Seconds()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(max(rows, 1))
	disk := float64(b.DiskBytes) / float64(max(rows, 1))
	fmt.Fprintf(stderr, "bleve peer: %d profiles (%d with more than one practice), %.1f MB on disk\n", b.Profiles, b.MultiLocation, float64(b.DiskBytes)/1e6)
	total := 0
	for _, p := range []*Bleve{b, b.Lean()} {
		pr, err := comparePeer(ctx, p, rep.Classes, cases, want, warm, load, p.Name(), stderr)
		if err != nil {
			return 0, err
		}
		pr.HeapBytesPerProfile, pr.DiskBytesPerProfile = heap, disk
		total += pr.Disagreements
		rep.Peers[p.Name()] = pr
	}
	return total, nil
}
