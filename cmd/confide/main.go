// Command confide runs the Confide therapist directory: `serve` answers
// HTTP, `demo` fills a database with fictional profiles, `version` says
// which build this is. main only reads configuration and wires parts
// together; everything else lives under internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/confide-org/confide/internal/api"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const topUsage = `Confide: find a verified counsellor or psychotherapist.

Usage:
  confide serve [options]     serve the directory over HTTP
  confide demo [options]      add fictional demo profiles to a database
  confide version             print the version
  confide <command> --help    options of a command`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: testable, with its exit code returned.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, topUsage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var cfg config
	fs := flag.NewFlagSet("confide "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var action func() error
	switch cmd {
	case "serve":
		cfg.serveFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide serve [options]\n\nServes the directory's pages and JSON API.")
		action = func() error { return serve(ctx, cfg, stderr) }
	case "demo":
		cfg.demoFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide demo [--therapists N] [--seed S] [--db PATH]\n\nAdds N fictional, deterministic demo profiles to the database.")
		action = func() error { return runDemo(ctx, cfg, stdout, stderr) }
	case "version":
		fs.Usage = usage(fs, stderr, "Usage: confide version\n\nPrints the version of this build.")
		action = func() error { fmt.Fprintln(stdout, "confide", buildVersion()); return nil }
	case "help", "-h", "--help", "-help":
		fmt.Fprintln(stdout, topUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "confide: unknown command %q\n\n%s\n", cmd, topUsage)
		return 2
	}
	if err := parseFlags(fs, rest, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "confide:", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "confide %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	if err := cfg.validate(); cmd != "version" && err != nil {
		fmt.Fprintln(stderr, "confide:", err)
		return 2
	}
	if err := action(); err != nil {
		fmt.Fprintln(stderr, "confide:", err)
		return 1
	}
	return 0
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return version
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openData loads the vocabularies and the gazetteer and opens the
// database, which every data-handling command needs.
func openData(ctx context.Context, cfg config, log *slog.Logger) (*taxonomy.Taxonomy, *geo.Gazetteer, *store.DB, error) {
	tax, err := taxonomy.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	gaz, err := geo.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := store.Open(ctx, cfg.DB, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return tax, gaz, db, nil
}

func serve(ctx context.Context, cfg config, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	tax, gaz, db, err := openData(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	validator := directory.Validator{Tax: tax, Gaz: gaz}

	if cfg.Demo {
		n, err := db.CountProfiles(ctx)
		if err != nil {
			return err
		}
		if n == 0 && cfg.DemoTherapists > 0 {
			start := time.Now()
			gen, err := demo.NewGenerator(tax, gaz)
			if err != nil {
				return err
			}
			if err := gen.Load(ctx, db, validator, cfg.DemoTherapists, 1, time.Now(), nil); err != nil {
				return err
			}
			log.Info("filled empty database with demo profiles", "profiles", cfg.DemoTherapists, "seconds", time.Since(start).Seconds())
		}
	}

	analyzer := search.NewAnalyzer()
	index := search.NewIndex(tax, analyzer, time.Now)
	start := time.Now()
	if err := index.Load(ctx, db); err != nil {
		return err
	}
	log.Info("search index built", "public_profiles", index.Len(), "seconds", time.Since(start).Seconds())

	syncCtx, cancelSync := context.WithCancel(ctx)
	defer cancelSync()
	syncer := &search.Syncer{Index: index, Feed: db, Interval: cfg.SyncInterval, Log: log, Now: time.Now, Prune: db.PruneChanges}
	if cfg.SyncInterval > 0 {
		go syncer.Run(syncCtx)
	}

	parser := &search.Parser{Tax: tax, Gaz: gaz, Analyzer: analyzer}
	md := markup.New()
	mux := http.NewServeMux()
	api.New(api.Deps{Log: log, Parser: parser, Index: index, Profiles: db, DB: db, Tax: tax, Gaz: gaz, Markup: md, Now: time.Now}).Register(mux)
	pages, err := web.New(web.Deps{
		Config: web.Config{SiteName: cfg.SiteName, CrisisLines: splitLines(cfg.CrisisLines), Demo: cfg.Demo},
		Log:    log, Parser: parser, Index: index, Profiles: db, Tax: tax, Gaz: gaz, Markup: md, Now: time.Now,
	})
	if err != nil {
		return err
	}
	pages.Register(mux)

	handler := httpx.Observe(log, httpx.SecureHeaders(http.NewCrossOriginProtection().Handler(mux)))
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("serving", "url", "http://"+ln.Addr().String(), "version", buildVersion())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func splitLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "|") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func runDemo(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	asOf := time.Now().UTC()
	if cfg.AsOf != "" {
		t, err := time.Parse(time.DateOnly, cfg.AsOf)
		if err != nil {
			return fmt.Errorf("--as-of must be a date like 2026-11-25: %w", err)
		}
		asOf = t
	}
	tax, gaz, db, err := openData(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	gen, err := demo.NewGenerator(tax, gaz)
	if err != nil {
		return err
	}
	start := time.Now()
	err = gen.Load(ctx, db, directory.Validator{Tax: tax, Gaz: gaz}, cfg.Therapists, cfg.Seed, asOf, func(done int) {
		log.Debug("demo progress", "stored", done)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %d demo profiles (seed %d, as of %s) to %s in %.1fs\n", cfg.Therapists, cfg.Seed, asOf.Format(time.DateOnly), cfg.DB, time.Since(start).Seconds())
	return nil
}
