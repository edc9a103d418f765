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
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/app"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/bench"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const benchUsage = `Usage:
  confide bench search [--therapists N] [--queries Q] [--seed S] [--peer sqlite] [--peer postgres --database-url URL] [--json FILE]
  confide bench http [--therapists N] [--duration D] [--connections C] [--json FILE]
  confide bench live [--therapists N] [--duration D] [--edits-per-second R] [--json FILE]`

const auditUsage = `Usage:
  confide audit verify [--key-file F] [--anchor F.anchor] [--db PATH]
  confide audit anchor [--key-file F] [--db PATH]`

const topUsage = `Confide: find a verified counsellor or psychotherapist.

Usage:
  confide serve [options]     serve the directory over HTTP
  confide demo [options]      add fictional demo profiles to a database
  confide admin create --email E
                              create an admin and print a one-time setup link
  confide audit verify [--anchor FILE]
                              check the audit log's MAC chain (and its anchor)
  confide audit anchor        anchor the audit log's head now
  confide keys rotate         add a new enquiry master key and re-wrap data keys
  confide backup --out FILE   write a checked, consistent copy of the database
  confide restore --from FILE put a backup in place
  confide export --format F   write the public directory as CSV, JSON lines or an HSDS data package
  confide import therapists FILE [--apply]
                              check (and with --apply, import) a register of therapists
  confide import register --body BODY FILE [--apply]
                              hold verified memberships to a body's current member list
  confide migrate-store --from FILE.db --to postgres://…
                              copy a SQLite directory into PostgreSQL
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
	// positional, when set, receives the command's file argument.
	var positional *string
	var positionalUsage string
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
		var sub string
		if sub, rest, ok = subcommand(rest, auditUsage, stderr, "verify", "anchor"); !ok {
			return 2
		}
		cfg.auditFlags(fs, sub)
		if sub == "anchor" {
			fs.Usage = usage(fs, stderr, "Usage: confide audit anchor [--key-file F] [--db PATH]\n\nWrites the audit log's head to the log and to the anchor file beside the key file now (a server does it\nhourly and on shutdown), e.g. before a backup.")
			action = func() error { return anchorAudit(ctx, cfg, stdout, stderr) }
			break
		}
		fs.Usage = usage(fs, stderr, "Usage: confide audit verify [--key-file F] [--anchor F.anchor] [--db PATH]\n\nChecks every link of the audit log (an HMAC under a key derived from the key file) and, with --anchor,\nthat the log still reaches the anchored entry and holds it unchanged; names the first bad entry.")
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
	case "import":
		const importUsage = "Usage: confide import therapists FILE [--apply] [--format csv|jsonl] [--key-file F] [--db PATH]\n" +
			"       confide import register --body BODY FILE [--apply] [--force] [--format csv|jsonl] [--key-file F] [--db PATH]"
		var sub string
		if sub, rest, ok = subcommand(rest, importUsage, stderr, "therapists", "register"); !ok {
			return 2
		}
		if sub == "register" {
			const registerUsage = "Usage: confide import register --body BODY FILE [--apply] [--force] [--format csv|jsonl] [--key-file F] [--db PATH]"
			cfg.registerFlags(fs)
			fs.Usage = usage(fs, stderr, registerUsage+"\n\nCompares a professional body's current member list (see docs/import.md) with the directory: verified\n"+
				"memberships of BODY the list leaves out or shows as lapsed or suspended would lose their verification (a profile\n"+
				"whose only one it is leaves search) and their therapists be told; lapsed ones listed as current again go back to\n"+
				"the verification queue. A dry run unless --apply; a list that would lapse more than half needs --force.")
			positional, positionalUsage = &cfg.ImportFile, registerUsage
			action = func() error { return importRegister(ctx, cfg, stdout, stderr) }
			break
		}
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintln(stderr, importUsage)
			return 2
		}
		cfg.ImportFile, rest = rest[0], rest[1:]
		cfg.importFlags(fs)
		fs.Usage = usage(fs, stderr, importUsage+"\n\nChecks every row of a register (see docs/import.md) and reports what would be created, updated or left\nunchanged, and every problem with its line and column; --apply does it. Imported profiles stay unpublished\nuntil their therapist claims them and a verifier checks them.")
		action = func() error { return importTherapists(ctx, cfg, stdout, stderr) }
	case "export":
		cfg.exportFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide export [--format csv|jsonl|hsds] [--out FILE|DIR] [--base-url URL] [--db PATH]\n\nWrites every public profile, with only what its public page shows (no email address, districts rather\nthan postcodes), for spreadsheets and other software. Enquiries and accounts are never exported.\n--format hsds writes an Open Referral HSDS 3.0 tabular data package (datapackage.json and one CSV per\ntable) into the new directory --out, and needs --base-url.")
		action = func() error { return exportDirectory(ctx, cfg, stdout, stderr) }
	case "restore":
		cfg.restoreFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide restore --from FILE --db PATH [--age-identity FILE] [--force]\n\nChecks a backup and puts it in place as the database (stop the server first).")
		action = func() error { return restore(ctx, cfg, stdout, stderr) }
	case "migrate-store":
		cfg.migrateStoreFlags(fs)
		fs.Usage = usage(fs, stderr, "Usage: confide migrate-store --from FILE.db --to postgres://… [--force]\n\nCopies a whole directory (profiles, accounts, sealed enquiries, the audit chain…) into another database,\nthen checks every table's count and the audit chain on the target. Stop the servers first.")
		action = func() error { return migrateStore(ctx, cfg, stdout, stderr) }
	case "bench":
		var sub string
		if sub, rest, ok = subcommand(rest, benchUsage, stderr, "search", "http", "live"); !ok {
			return 2
		}
		cfg.benchFlags(fs, sub)
		switch sub {
		case "search":
			fs.Usage = usage(fs, stderr, "Usage: confide bench search [options]\n\nGenerates a directory, runs a query mix on Confide and on each peer, checks every answer agrees and reports latencies.")
			action = func() error { return bench.RunSearch(ctx, cfg.benchSearchOptions(stderr), stdout, stderr) }
		case "http":
			fs.Usage = usage(fs, stderr, "Usage: confide bench http [options]\n\nServes the API on 127.0.0.1 and loads it with wrk (the query mix, then /healthz), beside the same mix in-process.")
			action = func() error { return bench.RunHTTP(ctx, cfg.benchHTTPOptions(stderr), stdout, stderr) }
		case "live":
			fs.Usage = usage(fs, stderr, "Usage: confide bench live [options]\n\nRuns the query mix while profile edits are committed at a steady rate; reports how soon each edit is searchable and how query latency changes.")
			action = func() error { return bench.RunLive(ctx, cfg.benchLiveOptions(stderr), stdout, stderr) }
		}
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
	// A command's one positional argument (a file) may come before, among
	// or after its flags.
	for positional != nil && *positional == "" && fs.NArg() > 0 {
		*positional = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			fmt.Fprintln(stderr, "confide:", err)
			return 2
		}
	}
	if positional != nil && *positional == "" {
		fmt.Fprintln(stderr, positionalUsage)
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
	db, err := store.Open(ctx, cfg.storeDSN(), log)
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
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		a.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return a.Run(ctx, ln, buildVersion())
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
	db, err := store.Open(ctx, cfg.storeDSN(), log)
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
	keys, _, err := enquiry.LoadOrCreateKeyring(cfg.KeyFile)
	if err != nil {
		return err
	}
	auditLog, err := app.OpenAudit(ctx, db, keys, cfg.KeyFile, log, now)
	if err != nil {
		return err
	}
	// Without --base-url there is no address to put in front of the link
	// (admin create has no --addr): the link is printed as a path, with
	// how to open it, rather than as a broken "http:///setup" link.
	base := strings.TrimRight(cfg.BaseURL, "/")
	accounts := account.NewService(account.Config{SiteName: cfg.SiteName, BaseURL: base}, db, cfg.appConfig().Accounts.Hasher(), account.NewPolicy(),
		noMail{}, auditLog, now, log)
	link, err := accounts.CreateAdmin(ctx, cfg.Email, password)
	if err != nil {
		return err
	}
	email, _ := account.NormalizeEmail(cfg.Email)
	u, err := db.UserByEmail(ctx, email)
	if err != nil {
		return err
	}
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	fmt.Fprintf(stdout, "%s is an admin. Its roles: %s.\n", u.Email, strings.Join(roles, ", "))
	switch {
	case link == "" && base != "":
		fmt.Fprintf(stdout, "Its password is set. Sign in at %s/signin\n", base)
	case link == "":
		fmt.Fprintln(stdout, "Its password is set. Sign in at /signin on your site.")
	case base != "":
		fmt.Fprintf(stdout, "Open this link within 24 hours to choose its password (it works once):\n%s\n", link)
	default:
		fmt.Fprintf(stdout, "No public address is set (--base-url or CONFIDE_BASE_URL), so only the path of the link can be printed.\n"+
			"Open it on your site's address within 24 hours to choose the password (it works once):\n%s\n"+
			"For a server on this machine at the default address that is http://127.0.0.1:8080%s\n"+
			"To have the whole link printed, give the site's public address, for example:\n"+
			"  confide admin create --email %s --base-url https://find.example.org\n",
			link, link, u.Email)
	}
	return nil
}

// noMail is the mailer of command-line tools: they print what they would
// send.
type noMail struct{}

// Send drops the message; CLI commands print their links instead.
func (noMail) Send(context.Context, string, string, string) error { return nil }

// verifyAudit is `confide audit verify`.
func verifyAudit(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	key, err := auditKey(cfg.KeyFile)
	if err != nil {
		return err
	}
	var anchor *audit.Head
	if cfg.Anchor != "" {
		if anchor, err = audit.ReadAnchor(cfg.Anchor); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, cfg.storeDSN(), newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	head, err := audit.Verify(ctx, db, key, anchor)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries, every link is a MAC under the key file's audit key\n", head.Seq)
	if anchor != nil {
		fmt.Fprintf(stdout, "and it holds the anchored entry %d (anchored %s) unchanged\n", anchor.Seq, anchor.At.Format(time.RFC3339))
	} else {
		fmt.Fprintf(stdout, "(no anchor given: entries removed from the end would not show; pass --anchor %s)\n", audit.AnchorPath(cfg.KeyFile))
	}
	return nil
}

// anchorAudit is `confide audit anchor`.
func anchorAudit(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	keys, err := enquiry.LoadKeyring(cfg.KeyFile)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.storeDSN(), log)
	if err != nil {
		return err
	}
	defer db.Close()
	auditLog, err := app.OpenAudit(ctx, db, keys, cfg.KeyFile, log, time.Now)
	if err != nil {
		return err
	}
	path := audit.AnchorPath(cfg.KeyFile)
	head, err := auditLog.Anchor(ctx, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "anchored the audit log at entry %d in %s\n", head.Seq, path)
	return nil
}

// auditKey derives the audit key from an existing key file: checking the
// log never creates a key.
func auditKey(keyFile string) (*audit.Key, error) {
	keys, err := enquiry.LoadKeyring(keyFile)
	if err != nil {
		return nil, err
	}
	return keys.AuditKey()
}
