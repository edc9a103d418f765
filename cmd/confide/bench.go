package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/bench"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
)

// peerList collects repeated --peer flags.
type peerList []string

func (p *peerList) String() string { return strings.Join(*p, ",") }

// Set adds a peer, refusing unknown ones.
func (p *peerList) Set(v string) error {
	switch v {
	case "sqlite", "postgres":
		*p = append(*p, v)
		return nil
	}
	return fmt.Errorf("peer must be sqlite or postgres, not %q", v)
}

// profiled runs fn, writing a CPU profile to path unless path is empty.
func profiled(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	err = fn()
	pprof.StopCPUProfile()
	return errors.Join(err, f.Close())
}

// benchNow is the clock of every benchmark: profiles are generated as of
// this time and searched as of it, so runs on other days give the same
// answers.
var benchNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// benchEnv is an opened benchmark directory.
type benchEnv struct {
	log     *slog.Logger
	tax     *taxonomy.Taxonomy
	gaz     *geo.Gazetteer
	db      *store.DB
	cleanup func()
}

func (e *benchEnv) close() {
	e.db.Close()
	e.cleanup()
}

// openBench prepares the generated directory (see benchDatabase) and
// opens it.
func openBench(ctx context.Context, cfg *config, stderr io.Writer) (*benchEnv, error) {
	log := newLogger(*cfg, stderr)
	cleanup, err := benchDatabase(ctx, cfg, log, stderr)
	if err != nil {
		return nil, err
	}
	tax, gaz, db, err := openData(ctx, *cfg, log)
	if err != nil {
		cleanup()
		return nil, err
	}
	return &benchEnv{log: log, tax: tax, gaz: gaz, db: db, cleanup: cleanup}, nil
}

// benchDatabase points cfg.BenchDB (and cfg.DB) at a database holding a
// generated directory: the one named, filled if empty, or a temporary one
// that cleanup removes.
func benchDatabase(ctx context.Context, cfg *config, log *slog.Logger, stderr io.Writer) (cleanup func(), err error) {
	cleanup = func() {}
	if cfg.BenchDB == "" {
		dir, err := os.MkdirTemp("", "confide-bench-")
		if err != nil {
			return nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		cfg.BenchDB = filepath.Join(dir, "confide.db")
	}
	cfg.DB = cfg.BenchDB
	tax, gaz, db, err := openData(ctx, *cfg, log)
	if err != nil {
		cleanup()
		return nil, err
	}
	defer db.Close()
	n, err := db.CountProfiles(ctx)
	if err == nil && n == 0 {
		var gen *demo.Generator
		if gen, err = demo.NewGenerator(tax, gaz); err == nil {
			start := time.Now()
			if err = gen.Load(ctx, db, directory.Validator{Tax: tax, Gaz: gaz}, cfg.Therapists, cfg.Seed, benchNow, nil); err == nil {
				fmt.Fprintf(stderr, "generated %d profiles in %.1fs\n", cfg.Therapists, time.Since(start).Seconds())
			}
		}
	}
	if err != nil {
		cleanup()
		return nil, err
	}
	return cleanup, nil
}

// benchSearch is `confide bench search`: generate a directory, build the
// index, run the query mix on Confide and each peer, compare every answer
// and report latencies, ratios and disagreements.
func benchSearch(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.Therapists < 100 || cfg.Queries < len(bench.Classes) {
		return errors.New("--therapists must be at least 100 and --queries at least 7")
	}
	if slices.Contains(cfg.Peers, "postgres") && cfg.DatabaseURL == "" {
		return errors.New("--peer postgres needs --database-url (a throwaway database: bench/peers/postgres.sh makes one)")
	}
	env, err := openBench(ctx, &cfg, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	tax, gaz, db := env.tax, env.gaz, env.db
	now := benchNow
	rep := &bench.Report{Therapists: cfg.Therapists, Queries: cfg.Queries, Seed: cfg.Seed, Peers: map[string]bench.PeerReport{},
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
	cases := bench.Mix(gaz, tax, cfg.Queries, cfg.Seed)
	warm := min(len(cases), 3*len(bench.Classes))
	confide := &bench.Confide{Parser: parser, Index: ix, Now: now}
	var want []bench.Answer
	if rep.Classes, want, err = bench.Measure(ctx, confide, cases, warm); err != nil {
		return err
	}
	disagreements := 0
	for _, name := range cfg.Peers {
		var peer interface {
			bench.System
			Close() error
			Version() string
			Explain(ctx context.Context, c bench.Case) (string, error)
		}
		start := time.Now()
		switch name {
		case "sqlite":
			p, err := bench.NewSQLite(ctx, cfg.BenchDB+".sqlite-peer", db, tax, an, parser, now)
			if err != nil {
				return err
			}
			peer = p
		case "postgres":
			p, err := bench.NewPostgres(ctx, cfg.DatabaseURL, db, tax, an, parser, now)
			if err != nil {
				return err
			}
			peer = p
		}
		pr := bench.PeerReport{LoadSeconds: time.Since(start).Seconds(), Version: peer.Version(), Explain: map[string]string{}, Ratios: map[string]bench.Ratio{}}
		fmt.Fprintf(stderr, "%s peer loaded in %.1fs\n", name, pr.LoadSeconds)
		stats, got, err := bench.Measure(ctx, peer, cases, warm)
		if err != nil {
			peer.Close()
			return err
		}
		pr.Classes = stats
		for i, c := range cases {
			if d := bench.Compare(want[i], got[i]); len(d) > 0 {
				pr.Disagreements++
				if len(pr.Examples) < 10 {
					pr.Examples = append(pr.Examples, bench.Disagreement{Class: c.Class, Query: c.Values.Encode(), Diffs: d})
				}
			}
		}
		for _, class := range bench.Classes {
			for _, c := range cases {
				if c.Class == class {
					if plan, err := peer.Explain(ctx, c); err == nil {
						pr.Explain[class] = plan
					}
					break
				}
			}
			if s, ok := rep.Classes[class]; ok {
				ps := stats[class]
				pr.Ratios[class] = bench.Ratio{P50: ps.P50 / max(s.P50, 1e-9), P99: ps.P99 / max(s.P99, 1e-9)}
			}
		}
		disagreements += pr.Disagreements
		rep.Peers[name] = pr
		peer.Close()
	}
	fmt.Fprint(stdout, rep.Table())
	for name, pr := range rep.Peers {
		for _, d := range pr.Examples {
			fmt.Fprintf(stdout, "DISAGREEMENT %s %s ?%s\n  %s\n", name, d.Class, d.Query, strings.Join(d.Diffs, "\n  "))
		}
	}
	if cfg.JSONOut != "" {
		if err := writeJSONFile(cfg.JSONOut, rep); err != nil {
			return err
		}
	}
	if disagreements > 0 {
		return fmt.Errorf("%d answers differ from Confide's", disagreements)
	}
	return nil
}
