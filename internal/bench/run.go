package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Options are what every benchmark is told, so that the three commands
// share one set of flags for the directory they generate, the query mix
// and where results go. Validation messages name the `confide bench`
// flags, since that is where these values come from.
type Options struct {
	// Therapists is how many demo profiles to generate when the
	// database has none (--therapists).
	Therapists int
	// Queries is the size of the query mix (--queries).
	Queries int
	// Seed drives both the generated profiles and the query mix (--seed).
	Seed uint64
	// BenchDB keeps the generated SQLite directory at this path and
	// reuses it on later runs; empty means a temporary file (--bench-db).
	BenchDB string
	// JSONPath, when set, also receives the report as JSON (--json).
	JSONPath string
	// CPUProfile, when set, receives a CPU profile of the run
	// (--cpu-profile).
	CPUProfile string
	// Log receives the store's and services' logs; nil discards them.
	Log *slog.Logger
}

// fixedNow is the clock of every benchmark: profiles are generated as of
// this time and searched as of it, so runs on other days give the same
// answers.
func fixedNow() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

// syncInterval is how often the live benchmark's syncer and the HTTP
// benchmark's application poll the change feed: serve's default
// --sync-interval.
const syncInterval = 2 * time.Second

func (o Options) logger() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.New(slog.DiscardHandler)
}

// profiled runs fn, writing a CPU profile to o.CPUProfile unless it is
// empty.
func (o Options) profiled(fn func() error) error {
	if o.CPUProfile == "" {
		return fn()
	}
	f, err := os.Create(o.CPUProfile)
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

// generated is a benchmark's directory, ready to open: the vocabularies
// and gazetteer it was generated with and where it lives.
type generated struct {
	tax *taxonomy.Taxonomy
	gaz *geo.Gazetteer
	// file is the Confide SQLite database: BenchDB or a temporary one.
	file string
	// dsn is where the directory lives: file, or the PostgreSQL URL the
	// HTTP benchmark was given.
	dsn string
	// cleanup removes the temporary database, if there is one.
	cleanup func()
}

// generate makes sure the database at url (or, when url is empty, the
// SQLite file o.BenchDB, or a temporary one) holds a generated directory,
// filling it with o.Therapists profiles if it has none.
func (o Options) generate(ctx context.Context, url string, stderr io.Writer) (_ *generated, err error) {
	g := &generated{file: o.BenchDB, cleanup: func() {}}
	if g.file == "" {
		dir, err := os.MkdirTemp("", "confide-bench-")
		if err != nil {
			return nil, err
		}
		g.cleanup = func() { os.RemoveAll(dir) }
		g.file = filepath.Join(dir, "confide.db")
	}
	defer func() {
		if err != nil {
			g.cleanup()
		}
	}()
	g.dsn = cmp.Or(url, g.file)
	if g.tax, err = taxonomy.Load(); err != nil {
		return nil, err
	}
	if g.gaz, err = geo.Load(); err != nil {
		return nil, err
	}
	db, err := g.open(ctx, o.logger())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	n, err := db.CountProfiles(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return g, nil
	}
	gen, err := demo.NewGenerator(g.tax, g.gaz)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := gen.Load(ctx, db, directory.Validator{Tax: g.tax, Gaz: g.gaz}, o.Therapists, o.Seed, fixedNow(), nil); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "generated %d profiles in %.1fs\n", o.Therapists, time.Since(start).Seconds())
	return g, nil
}

// open opens the generated directory's store.
func (g *generated) open(ctx context.Context, log *slog.Logger) (*store.DB, error) {
	return store.Open(ctx, g.dsn, log)
}

// machine names the hardware and Go version a report was measured on.
func machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
}

// writeJSON writes a report, indented, to o.JSONPath when one is set.
func (o Options) writeJSON(v any) error {
	if o.JSONPath == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(o.JSONPath, append(b, '\n'), 0o644)
}
