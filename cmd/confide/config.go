package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/confide-org/confide/internal/app"
	"github.com/confide-org/confide/internal/store"
)

// config is everything the commands can be told, from flags or from
// CONFIDE_* environment variables (a flag given on the command line wins).
type config struct {
	Addr            string
	DB              string
	Demo            bool
	DemoTherapists  int
	LogLevel        string
	LogFormat       string
	SiteName        string
	CrisisLines     string
	SyncInterval    time.Duration
	ShutdownTimeout time.Duration
	// IndexSnapshot is the index snapshot file: "" for the default (beside
	// the SQLite file; none with PostgreSQL), "off" for none.
	IndexSnapshot         string
	IndexSnapshotInterval time.Duration
	IndexSnapshotMaxAge   time.Duration

	// monitoring
	MetricsAddr  string
	MetricsToken string

	// accounts, mail and verification
	BaseURL    string
	TrustProxy bool
	// CountSuggestions turns on anonymous counts of guided suggestions.
	CountSuggestions bool
	SMTPHost         string
	SMTPPort         int
	SMTPTLS          string
	SMTPUsername     string
	SMTPPassword     string
	MailFrom         string
	MailCatcher      bool
	SessionIdle      time.Duration
	SessionLifetime  time.Duration
	RegistersFile    string
	JobsInterval     time.Duration
	Argon2MemoryKiB  uint
	Argon2Time       uint

	// enquiries
	KeyFile          string
	EnquiryMinFill   time.Duration
	EnquiryRetention time.Duration
	OutboxPoll       time.Duration
	OutboxLease      time.Duration
	PerTherapistDay  int
	PerSenderDay     int

	// audit
	Anchor              string
	AuditAnchorInterval time.Duration

	// admin create
	Email         string
	PasswordStdin bool

	// bench
	Queries     int
	Peers       peerList
	DatabaseURL string
	// PeerURL is bench search's PostgreSQL peer (its own tables).
	PeerURL string
	JSONOut string
	BenchDB string
	// bench http and live
	BenchDuration time.Duration
	Connections   int
	WrkBinary     string
	CPUProfile    string
	EditRate      int
	Workers       int

	// backup, restore and migrate-store
	Out          string
	From         string
	To           string
	AgeRecipient string
	AgeIdentity  string
	Force        bool

	// export and import
	ExportFormat string
	ImportFile   string
	ImportFormat string
	Apply        bool
	RegisterBody string

	// demo command
	Therapists int
	Seed       uint64
	AsOf       string
}

// defaultSyncInterval is how often serve picks up other processes'
// changes and merges recent changes into the main search segment.
const defaultSyncInterval = 2 * time.Second

const defaultCrisisLines = "In an emergency call 999.|For urgent help call NHS 111.|Samaritans: 116 123 (free, 24 hours)."

func (c *config) common(fs *flag.FlagSet) {
	fs.StringVar(&c.DB, "db", "./confide.db", "path of the SQLite database file (the default store: one process, nothing to install)")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL connection URL (postgres://user:password@host:5432/confide); when set the data lives there instead of --db, and several replicas may share it (with the same --key-file)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
}

// siteFlags are the settings of everything that sends email or links.
func (c *config) siteFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.BaseURL, "base-url", "", "public address of the site, used in emailed links; https:// turns on Secure __Host- cookies and HSTS (default http://ADDR)")
	fs.StringVar(&c.SiteName, "site-name", "Confide", "name of the service shown on every page")
	fs.StringVar(&c.SMTPHost, "smtp-host", "", "SMTP server for outgoing email (required unless --demo or --mail-catcher)")
	fs.IntVar(&c.SMTPPort, "smtp-port", 587, "SMTP port")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", "starttls", "SMTP transport security: starttls, tls (implicit, port 465) or none (only for a server on this machine)")
	fs.StringVar(&c.SMTPUsername, "smtp-username", "", "SMTP user name (empty: no authentication)")
	fs.StringVar(&c.SMTPPassword, "smtp-password", "", "SMTP password (prefer the environment variable)")
	fs.StringVar(&c.MailFrom, "mail-from", "Confide <no-reply@localhost>", "sender of outgoing email")
	fs.BoolVar(&c.MailCatcher, "mail-catcher", false, "send email to a built-in SMTP server on 127.0.0.1 and show it at /demo/mailbox instead of delivering it (on with --demo unless --smtp-host is set)")
	fs.StringVar(&c.RegistersFile, "registers", "", "JSON file of professional registers to verify against (default: the built-in UK list)")
	fs.UintVar(&c.Argon2MemoryKiB, "argon2-memory-kib", 19456, "argon2id memory per password hash in KiB (at least 19456); raising it re-hashes passwords at sign-in")
	fs.UintVar(&c.Argon2Time, "argon2-time", 2, "argon2id passes (at least 2)")
}

func (c *config) keyFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.KeyFile, "key-file", "./confide.key", "file holding the master keys that seal enquiries (created, mode 0400, if missing); keep it out of database backups")
}

// existingKeyFlag is --key-file for commands that only read the key.
func (c *config) existingKeyFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.KeyFile, "key-file", "./confide.key", "the server's key file (the audit log's key is derived from it; it must exist)")
}

func (c *config) auditFlags(fs *flag.FlagSet, sub string) {
	c.common(fs)
	c.existingKeyFlag(fs)
	if sub != "verify" {
		return
	}
	fs.StringVar(&c.Anchor, "anchor", "", "also check the log against this anchor file (a server writes one beside its key file, KEY-FILE.anchor): fail if the log is shorter or disagrees")
}

func (c *config) serveFlags(fs *flag.FlagSet) {
	c.common(fs)
	c.siteFlags(fs)
	c.keyFlag(fs)
	fs.StringVar(&c.IndexSnapshot, "index-snapshot", "", "file to keep a snapshot of the search index in, so that a restart loads it in seconds rather than rebuilding from the database (default: the SQLite file's path + .index; none with --database-url unless given; off: none)")
	fs.DurationVar(&c.IndexSnapshotInterval, "index-snapshot-interval", app.DefaultSnapshotInterval, "how often to rewrite the index snapshot when profiles have changed (also done on shutdown; 0: only then)")
	fs.DurationVar(&c.IndexSnapshotMaxAge, "index-snapshot-max-age", app.DefaultSnapshotMaxAge, "ignore an index snapshot older than this at start and build from the database (at most 20h: the change feed keeps a day)")
	fs.DurationVar(&c.AuditAnchorInterval, "audit-anchor-interval", time.Hour, "how often to write the audit log's head to the log and to the anchor file beside the key file (also done on shutdown; 0: only then)")
	fs.DurationVar(&c.EnquiryMinFill, "enquiry-min-fill", 3*time.Second, "enquiries sent sooner than this after the form was shown are refused as automated")
	fs.DurationVar(&c.EnquiryRetention, "enquiry-retention", 365*24*time.Hour, "delete enquiries this long after their last activity")
	fs.DurationVar(&c.OutboxPoll, "outbox-poll", time.Second, "how often the outbox looks for emails to send")
	fs.DurationVar(&c.OutboxLease, "outbox-lease", time.Minute, "how long a replica may take to send one email before another replica may try it (at least 2s)")
	fs.IntVar(&c.PerTherapistDay, "enquiries-per-therapist-day", 20, "most enquiries one therapist receives in 24 hours")
	fs.IntVar(&c.PerSenderDay, "enquiries-per-sender-day", 3, "most enquiries one email address sends in 24 hours")
	fs.BoolVar(&c.CountSuggestions, "count-suggestions", false, "count how often each approach is suggested by the guided path, as the metric confide_guided_suggestions_total (anonymous totals per approach, never answers or people)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", false, "take the client address from the last X-Forwarded-For entry (only behind your own proxy)")
	fs.DurationVar(&c.SessionIdle, "session-idle", time.Hour, "sign out after this long without activity")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", 12*time.Hour, "sign out this long after signing in, however active")
	fs.DurationVar(&c.JobsInterval, "jobs-interval", 15*time.Minute, "how often to send verification reminders, expire lapsed checks and clear old sessions")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.BoolVar(&c.Demo, "demo", false, "fill an empty database with fictional demo profiles and mark the site as a demo")
	fs.IntVar(&c.DemoTherapists, "demo-therapists", 2000, "number of demo profiles --demo creates")
	fs.StringVar(&c.CrisisLines, "crisis-lines", defaultCrisisLines, "crisis signposting lines for the footer, separated by |")
	fs.DurationVar(&c.SyncInterval, "sync-interval", defaultSyncInterval, "how often to pick up profile changes made by other processes")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let requests finish on shutdown")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at /metrics on this separate address, e.g. 127.0.0.1:9090 (empty: no separate listener)")
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "also serve /metrics on the main address to requests with Authorization: Bearer TOKEN (empty: /metrics is 404 there); prefer the environment variable")
}

func (c *config) demoFlags(fs *flag.FlagSet) {
	c.common(fs)
	fs.IntVar(&c.Therapists, "therapists", 2000, "number of profiles to generate")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed; the same seed and date give the same profiles")
	fs.StringVar(&c.AsOf, "as-of", "", "date the demo data is relative to, as YYYY-MM-DD (default today)")
}

func (c *config) adminFlags(fs *flag.FlagSet) {
	c.common(fs)
	c.siteFlags(fs)
	c.keyFlag(fs)
	fs.StringVar(&c.Email, "email", "", "email address of the admin account")
	fs.BoolVar(&c.PasswordStdin, "password-stdin", false, "read the password from standard input instead of printing a one-time setup link")
}

func (c *config) keysFlags(fs *flag.FlagSet) {
	c.common(fs)
	c.keyFlag(fs)
}

func (c *config) backupFlags(fs *flag.FlagSet) {
	c.common(fs)
	fs.StringVar(&c.Out, "out", "", "file to write the backup to (must not exist)")
	fs.StringVar(&c.AgeRecipient, "age-recipient", "", "encrypt the backup to this age recipient (age1…); the key file is never included")
}

func (c *config) exportFlags(fs *flag.FlagSet) {
	c.common(fs)
	fs.StringVar(&c.ExportFormat, "format", "csv", "csv (a spreadsheet; cells that would start a formula are made text), jsonl (one JSON object per line) or hsds (an Open Referral HSDS 3.0 tabular data package: a directory)")
	fs.StringVar(&c.Out, "out", "", "file to write, or for hsds the directory to create (must not exist); standard output when empty (csv and jsonl)")
	fs.StringVar(&c.BaseURL, "base-url", "", "public address of the site, to make each profile's address absolute (relative when empty; required for hsds)")
	fs.StringVar(&c.SiteName, "site-name", "Confide", "name of the directory, for the HSDS package's descriptions")
}

func (c *config) importFlags(fs *flag.FlagSet) {
	c.common(fs)
	c.siteFlags(fs)
	c.keyFlag(fs)
	fs.StringVar(&c.ImportFormat, "format", "", "csv or jsonl (default: from the file's extension)")
	fs.BoolVar(&c.Apply, "apply", false, "carry the import out; without it nothing is written and the report says what would happen")
}

func (c *config) registerFlags(fs *flag.FlagSet) {
	c.importFlags(fs)
	fs.StringVar(&c.RegisterBody, "body", "", "the professional body whose member list FILE is: its short name (BACP, UKCP, …), name or slug (required)")
	fs.BoolVar(&c.Force, "force", false, "apply a list even though it would lapse more than half of the body's verified memberships")
}

func (c *config) restoreFlags(fs *flag.FlagSet) {
	c.common(fs)
	fs.StringVar(&c.From, "from", "", "backup file to restore")
	fs.StringVar(&c.AgeIdentity, "age-identity", "", "age identity file to decrypt an encrypted backup")
	fs.BoolVar(&c.Force, "force", false, "replace an existing database at --db")
}

func (c *config) migrateStoreFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.LogLevel, "log-level", "warn", "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.From, "from", "", "the database to copy: a SQLite file (or a PostgreSQL URL)")
	fs.StringVar(&c.To, "to", "", "the database to copy into: a PostgreSQL URL (or a SQLite file that does not exist yet)")
	fs.BoolVar(&c.Force, "force", false, "replace whatever the target PostgreSQL database already holds")
	c.existingKeyFlag(fs)
	c.DB = "unused"
}

// benchFlags are the options of `confide bench sub`.
func (c *config) benchFlags(fs *flag.FlagSet, sub string) {
	fs.StringVar(&c.LogLevel, "log-level", "warn", "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.IntVar(&c.Therapists, "therapists", 20000, "number of demo profiles to generate")
	fs.IntVar(&c.Queries, "queries", 700, "number of queries in the mix (classes in turn)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed for the profiles and the queries")
	fs.StringVar(&c.JSONOut, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&c.BenchDB, "bench-db", "", "keep the generated Confide database here and reuse it on later runs (default: a temporary file)")
	fs.StringVar(&c.CPUProfile, "cpu-profile", "", "write a CPU profile of the run here (go tool pprof reads it)")
	switch sub {
	case "search":
		fs.Var(&c.Peers, "peer", "compare with a peer: sqlite, postgres or bleve (repeatable; bleve also reports bleve_lean, facets only where the class shows them)")
		fs.StringVar(&c.PeerURL, "database-url", "", "PostgreSQL URL for --peer postgres (a throwaway database: its tables are replaced)")
	case "http":
		fs.StringVar(&c.DatabaseURL, "database-url", "", "serve from this PostgreSQL database instead of the generated SQLite file (the profiles are generated into it when it has none), to compare the two stores")
		fs.DurationVar(&c.BenchDuration, "duration", 30*time.Second, "how long each load runs (in-process, the mix over HTTP, /healthz)")
		fs.IntVar(&c.Connections, "connections", 32, "HTTP connections wrk keeps busy")
		fs.StringVar(&c.WrkBinary, "wrk", "wrk", "the wrk program (Debian package wrk)")
	case "live":
		fs.DurationVar(&c.BenchDuration, "duration", 30*time.Second, "how long each phase runs (queries alone, then queries with edits)")
		fs.IntVar(&c.EditRate, "edits-per-second", 200, "profile edits committed per second during the second phase")
		fs.IntVar(&c.Workers, "workers", 2, "goroutines sending queries back to back")
	}
	c.DB = "unused"
}

// envName is the environment variable for a flag: --log-level is
// CONFIDE_LOG_LEVEL.
func envName(flagName string) string {
	return "CONFIDE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags reads environment variables first, then the command line, so
// that flags win.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return fs.Parse(args)
}

// storeDSN is where the data lives: the PostgreSQL URL if one is given,
// else the SQLite file.
func (c config) storeDSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.DB
}

// indexSnapshotPath is where serve keeps its index snapshot ("": none).
func (c config) indexSnapshotPath() string {
	switch c.IndexSnapshot {
	case "off":
		return ""
	case "":
		return app.DefaultSnapshotPath(c.storeDSN())
	}
	return c.IndexSnapshot
}

func (c *config) validate() error {
	var errs []error
	if (c.DatabaseURL != "" && !store.IsPostgresURL(c.DatabaseURL)) || (c.PeerURL != "" && !store.IsPostgresURL(c.PeerURL)) {
		errs = append(errs, errors.New("--database-url must start with postgres:// or postgresql://"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat))
	}
	if c.DB == "" {
		errs = append(errs, errors.New("--db must not be empty"))
	}
	if c.DemoTherapists < 0 || c.DemoTherapists > 2_000_000 {
		errs = append(errs, errors.New("--demo-therapists must be from 0 to 2000000"))
	}
	if c.Therapists < 0 || c.Therapists > 2_000_000 {
		errs = append(errs, errors.New("--therapists must be from 0 to 2000000"))
	}
	if c.Argon2MemoryKiB != 0 && c.Argon2MemoryKiB < 19456 {
		errs = append(errs, errors.New("--argon2-memory-kib must be at least 19456 (the OWASP minimum)"))
	}
	if c.Argon2MemoryKiB > 4<<20 {
		errs = append(errs, errors.New("--argon2-memory-kib must be at most 4194304"))
	}
	if c.Argon2Time != 0 && (c.Argon2Time < 2 || c.Argon2Time > 20) {
		errs = append(errs, errors.New("--argon2-time must be from 2 to 20"))
	}
	if u, err := url.Parse(c.BaseURL); c.BaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("--base-url must be an address starting with http:// or https:// and a host name, like https://find.example.org, not %q", c.BaseURL))
	}
	if c.SessionIdle < 0 || c.SessionLifetime < 0 || (c.SessionIdle > 0 && c.SessionLifetime > 0 && c.SessionIdle > c.SessionLifetime) {
		errs = append(errs, errors.New("--session-idle and --session-lifetime must be positive, idle no longer than lifetime"))
	}
	if c.OutboxLease != 0 && c.OutboxLease < 2*time.Second {
		errs = append(errs, errors.New("--outbox-lease must be at least 2s"))
	}
	if c.SyncInterval < 0 {
		errs = append(errs, errors.New("--sync-interval must not be negative"))
	}
	if c.IndexSnapshotInterval < 0 {
		errs = append(errs, errors.New("--index-snapshot-interval must not be negative"))
	}
	if c.IndexSnapshotMaxAge < 0 || c.IndexSnapshotMaxAge > 20*time.Hour {
		errs = append(errs, errors.New("--index-snapshot-max-age must be from 0 to 20h: the change feed keeps a day of changes to apply after loading it"))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-addr must be host:port, like 127.0.0.1:9090: %w", err))
		}
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < 16 || strings.ContainsFunc(c.MetricsToken, unicode.IsSpace)) {
		errs = append(errs, errors.New("--metrics-token must be at least 16 characters, without spaces"))
	}
	return errors.Join(errs...)
}

func usage(fs *flag.FlagSet, w io.Writer, synopsis string) func() {
	return func() {
		fmt.Fprintf(w, "%s\n\nOptions (each can also be set with the environment variable shown):\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(w, "  --%s (%s)\n        %s (default %q)\n", f.Name, envName(f.Name), f.Usage, f.DefValue)
		})
	}
}

// appConfig groups the serve settings the way internal/app takes them.
func (c config) appConfig() app.Config {
	return app.Config{
		Site: app.SiteConfig{Name: c.SiteName, CrisisLines: splitLines(c.CrisisLines), BaseURL: c.BaseURL, Demo: c.Demo, DemoTherapists: c.DemoTherapists,
			CountSuggestions: c.CountSuggestions},
		Server: app.ServerConfig{Addr: c.Addr, TrustProxy: c.TrustProxy, ShutdownTimeout: c.ShutdownTimeout, MetricsAddr: c.MetricsAddr, MetricsToken: c.MetricsToken},
		Store:  app.StoreConfig{DSN: c.storeDSN()},
		Mail: app.MailConfig{SMTPHost: c.SMTPHost, SMTPPort: c.SMTPPort, SMTPTLS: c.SMTPTLS, SMTPUsername: c.SMTPUsername, SMTPPassword: c.SMTPPassword,
			From: c.MailFrom, Catcher: c.MailCatcher, OutboxPoll: c.OutboxPoll, OutboxLease: c.OutboxLease},
		Accounts: app.AccountsConfig{SessionIdle: c.SessionIdle, SessionLifetime: c.SessionLifetime, RegistersFile: c.RegistersFile,
			Argon2MemoryKiB: c.Argon2MemoryKiB, Argon2Time: c.Argon2Time},
		Enquiries: app.EnquiriesConfig{KeyFile: c.KeyFile, MinFill: c.EnquiryMinFill, Retention: c.EnquiryRetention,
			PerTherapistDay: c.PerTherapistDay, PerSenderDay: c.PerSenderDay},
		Search: app.SearchConfig{SyncInterval: c.SyncInterval, SnapshotPath: c.indexSnapshotPath(),
			SnapshotInterval: c.IndexSnapshotInterval, SnapshotMaxAge: c.IndexSnapshotMaxAge},
		Jobs:  app.JobsConfig{Interval: c.JobsInterval},
		Audit: app.AuditConfig{AnchorInterval: c.AuditAnchorInterval},
	}
}

// newApp builds the application from the command's settings.
func newApp(ctx context.Context, cfg config, log *slog.Logger, now func() time.Time) (*app.App, error) {
	return app.New(ctx, cfg.appConfig(), log, now)
}
