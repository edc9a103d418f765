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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/jobs"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const benchUsage = `Usage:
  confide bench search [--therapists N] [--queries Q] [--seed S] [--peer sqlite] [--peer postgres --database-url URL] [--json FILE]
  confide bench http [--therapists N] [--duration D] [--connections C] [--json FILE]
  confide bench live [--therapists N] [--duration D] [--edits-per-second R] [--json FILE]`

const topUsage = `Confide: find a verified counsellor or psychotherapist.

Usage:
  confide serve [options]     serve the directory over HTTP
  confide demo [options]      add fictional demo profiles to a database
  confide admin create --email E
                              create an admin and print a one-time setup link
  confide audit verify        check the audit log's hash chain
  confide keys rotate         add a new enquiry master key and re-wrap data keys
  confide backup --out FILE   write a checked, consistent copy of the database
  confide restore --from FILE put a backup in place
  confide bench search        benchmark search against SQLite and PostgreSQL
  confide bench http          load the JSON API over HTTP with wrk
  confide bench live          search while profiles are being edited
  confide version             print the version
  confide <command> --help    options of a command`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: testable, with its exit code returned.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, topUsage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var cfg config
	fs := flag.NewFlagSet("confide "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var action func() error
	ok := true
	switch cmd {
	case "serve":
		cfg.serveFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide serve [options]\n\nServes the directory's pages and JSON API.")
		action = func() error { return serve(ctx, cfg, stderr) }
	case "demo":
		cfg.demoFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide demo [--therapists N] [--seed S] [--db PATH]\n\nAdds N fictional, deterministic demo profiles to the database.")
		action = func() error { return runDemo(ctx, cfg, stdout, stderr) }
	case "admin":
		if _, rest, ok = subcommand(rest, "Usage: confide admin create --email E [--password-stdin]", stderr, "create"); !ok {
			return 2
		}
		cfg.adminFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide admin create --email E [--password-stdin]\n\nCreates an admin account (or makes an existing account an admin) and prints a one-time\nlink to choose its password; with --password-stdin, reads the password instead.")
		action = func() error { return createAdmin(ctx, cfg, stdin, stdout, stderr) }
	case "audit":
		if _, rest, ok = subcommand(rest, "Usage: confide audit verify [--db PATH]", stderr, "verify"); !ok {
			return 2
		}
		cfg.common(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide audit verify [--db PATH]\n\nChecks the audit log's hash chain and names the first broken link.")
		action = func() error { return verifyAudit(ctx, cfg, stdout, stderr) }
	case "keys":
		if _, rest, ok = subcommand(rest, "Usage: confide keys rotate [--key-file F] [--db PATH]", stderr, "rotate"); !ok {
			return 2
		}
		cfg.keysFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide keys rotate [--key-file F] [--db PATH]\n\nAdds a new master key to the key file and re-wraps every enquiry's data key with it.")
		action = func() error { return rotateKeys(ctx, cfg, stdout, stderr) }
	case "backup":
		cfg.backupFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide backup --out FILE [--age-recipient age1…] [--db PATH]\n\nWrites a consistent copy of the live database, checks it, and optionally encrypts it with age.")
		action = func() error { return backup(ctx, cfg, stdout, stderr) }
	case "restore":
		cfg.restoreFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide restore --from FILE --db PATH [--age-identity FILE] [--force]\n\nChecks a backup and puts it in place as the database (stop the server first).")
		action = func() error { return restore(ctx, cfg, stdout, stderr) }
	case "bench":
		var sub string
		if sub, rest, ok = subcommand(rest, benchUsage, stderr, "search", "http", "live"); !ok {
			return 2
		}
		cfg.benchFlags(fs, sub)
		var run func() error
		switch sub {
		case "search":
			fs.Usage = usage(fs, stderr, "Usage: confide bench search [options]\n\nGenerates a directory, runs a query mix on Confide and on each peer, checks every answer agrees and reports latencies.")
			run = func() error { return benchSearch(ctx, cfg, stdout, stderr) }
		case "http":
			fs.Usage = usage(fs, stderr, "Usage: confide bench http [options]\n\nServes the API on 127.0.0.1 and loads it with wrk (the query mix, then /healthz), beside the same mix in-process.")
			run = func() error { return benchHTTP(ctx, cfg, stdout, stderr) }
		case "live":
			fs.Usage = usage(fs, stderr, "Usage: confide bench live [options]\n\nRuns the query mix while profile edits are committed at a steady rate; reports how soon each edit is searchable and how query latency changes.")
			run = func() error { return benchLive(ctx, cfg, stdout, stderr) }
		}
		action = func() error { return profiled(cfg.CPUProfile, run) }
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

// subcommand checks that args start with want (as in "confide keys
// rotate") and returns the rest, or prints usage and reports false.
func subcommand(args []string, usage string, stderr io.Writer, wants ...string) (string, []string, bool) {
	if len(args) == 0 || !slices.Contains(wants, args[0]) {
		fmt.Fprintln(stderr, usage)
		return "", args, false
	}
	return args[0], args[1:], true
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
	a, err := newApp(ctx, cfg, log, time.Now)
	if err != nil {
		return err
	}
	defer a.close()

	bgCtx, cancelBackground := context.WithCancel(ctx)
	defer cancelBackground()
	if cfg.SyncInterval > 0 {
		go a.syncer.Run(bgCtx)
	}
	jobsDone := make(chan struct{})
	go func() { jobs.Run(bgCtx, log, a.jobs...); close(jobsDone) }()
	outboxDone := make(chan struct{})
	go func() { a.outbox.Run(bgCtx); close(outboxDone) }()
	defer func() { cancelBackground(); <-jobsDone; <-outboxDone }()

	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.handler,
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

// createAdmin is `confide admin create`: there is no default admin, so the
// operator makes the first one from the machine the database is on.
func createAdmin(ctx context.Context, cfg config, stdin io.Reader, stdout, stderr io.Writer) error {
	if cfg.Email == "" {
		return errors.New("--email is required")
	}
	log := newLogger(cfg, stderr)
	db, err := store.Open(ctx, cfg.DB, log)
	if err != nil {
		return err
	}
	defer db.Close()
	var password string
	if cfg.PasswordStdin {
		b, err := io.ReadAll(io.LimitReader(stdin, 4096))
		if err != nil {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
		if password == "" {
			return errors.New("no password on standard input")
		}
	}
	now := time.Now
	accounts := account.NewService(account.Config{SiteName: cfg.SiteName, BaseURL: cfg.baseURL()}, db, cfg.hasher(), account.NewPolicy(),
		noMail{}, audit.NewLog(db, now), now, log)
	link, err := accounts.CreateAdmin(ctx, cfg.Email, password)
	if err != nil {
		return err
	}
	if link == "" {
		fmt.Fprintf(stdout, "%s is an admin and its password is set. Sign in at %s/signin\n", cfg.Email, cfg.baseURL())
		return nil
	}
	fmt.Fprintf(stdout, "%s is an admin. Open this link within 24 hours to choose its password (it works once):\n%s\n", cfg.Email, link)
	return nil
}

// noMail is the mailer of command-line tools: they print what they would
// send.
type noMail struct{}

// Send drops the message; CLI commands print their links instead.
func (noMail) Send(context.Context, string, string, string) error { return nil }

// verifyAudit is `confide audit verify`.
func verifyAudit(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	db, err := store.Open(ctx, cfg.DB, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := audit.Verify(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries, every hash matches\n", n)
	return nil
}
