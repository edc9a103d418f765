// Package app is Confide as one process: one type that opens the store,
// runs its migrations, builds the search index, wires every service and
// handler, starts the change feed, scheduled jobs and mail worker, serves
// HTTP, and on shutdown stops taking requests, lets those in flight
// finish, and closes everything in reverse order. `confide serve`, the
// end-to-end tests and the benchmarks all run this same type, so tests
// exercise the real background workers.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/api"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/fhir"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/hsds"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/importer"
	"github.com/confide-org/confide/internal/jobs"
	"github.com/confide-org/confide/internal/mail"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/metrics"
	"github.com/confide-org/confide/internal/photo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
	"github.com/confide-org/confide/internal/web"
)

// App is Confide wired together. Its exported parts are there for the
// end-to-end tests and the benchmarks, which drive the same process the
// command runs.
type App struct {
	DB      *store.DB
	DSN     string // where the data lives: a SQLite path or a postgres:// URL
	KeyPath string
	Log     *slog.Logger
	Index   *search.Index
	Syncer  *search.Syncer
	// snapshots keeps the index snapshot file, when one is configured.
	snapshots *snapshots
	// Accounts … Keys are the domain services.
	Accounts *account.Service
	Verify   *verify.Service
	Photos   *photo.Service
	Content  *content.Service
	Enquiry  *enquiry.Service
	Outbox   *enquiry.Worker
	Keys     *enquiry.Keyring
	Mailer   *enquiry.Mailer
	Catcher  *mail.Catcher // the built-in mailbox, when email goes there
	Web      *web.Handler
	API      *api.Handler
	FHIR     *fhir.Handler
	HSDS     *hsds.Handler
	Handler  http.Handler // the whole site, middleware included
	Jobs     []jobs.Job
	Monitor  *Monitoring
	// Audit is the audit log, linking entries under the key file's audit
	// key; AnchorPath is where this process anchors its head.
	Audit      *audit.Log
	AnchorPath string

	// MetricsAddr is where the separate metrics listener listens, once
	// Start has opened it (Server.MetricsAddr may ask for port 0).
	MetricsAddr net.Addr

	cfg Config
	// stopBackground ends what Start started and waits for it.
	stopBackground func()
	closed         bool
}

// close stops background work and releases the database.
func (a *App) closeParts() {
	if a.Accounts != nil {
		a.Accounts.Wait()
	}
	if a.Catcher != nil {
		a.Catcher.Close()
	}
	a.DB.Close()
}

// buildIndex fills the search index: from the snapshot file when there
// is a trustworthy one, then brought up to date from the change feed and
// swept of checks that fell overdue meanwhile; otherwise from the store.
func (a *App) buildIndex(ctx context.Context, cfg SearchConfig, db *store.DB) error {
	start := time.Now()
	if cfg.SnapshotPath != "" {
		a.snapshots = &snapshots{path: cfg.SnapshotPath, maxAge: cmp.Or(cfg.SnapshotMaxAge, DefaultSnapshotMaxAge), index: a.Index, feed: db,
			log: a.Log, now: a.Syncer.Now, catchUp: a.Syncer.Step}
		if a.snapshots.load(ctx) {
			n, err := a.Syncer.Step(ctx)
			if err != nil {
				return fmt.Errorf("apply changes since the index snapshot: %w", err)
			}
			swept := a.Index.Sweep(a.Syncer.Now())
			if n == 0 && swept == 0 {
				a.snapshots.written = a.Index.Version() // the file is current
			}
			a.Log.Info("search index ready from snapshot", "public_profiles", a.Index.Len(), "changes_applied", n, "overdue_removed", swept,
				"seconds", time.Since(start).Seconds())
			return nil
		}
	}
	if err := a.Index.Load(ctx, db); err != nil {
		return err
	}
	a.Log.Info("search index built", "public_profiles", a.Index.Len(), "seconds", time.Since(start).Seconds())
	return nil
}

// ownerEmails finds where to write to a profile's therapist: their
// account's address.
type ownerEmails struct{ accounts *account.Service }

// OwnerEmail implements verify.Owners.
func (o ownerEmails) OwnerEmail(ctx context.Context, p *directory.Profile) string {
	if p.OwnerID == 0 {
		return ""
	}
	u, err := o.accounts.User(ctx, p.OwnerID)
	if err != nil {
		return ""
	}
	return u.Email
}

// New opens the store (running its migrations), fills it with demo data
// when asked, builds the search index and wires every service and handler.
// Nothing runs in the background until Start. now is the clock.
func New(ctx context.Context, cfg Config, log *slog.Logger, now func() time.Time) (_ *App, err error) {
	tax, err := taxonomy.Load()
	if err != nil {
		return nil, err
	}
	// The guided path's rule set is checked for consistency here; whether
	// it is still within its review date is checked on each use.
	rules, err := guided.Default(tax)
	if err != nil {
		return nil, err
	}
	gaz, err := geo.Load()
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.Store.DSN, log)
	if err != nil {
		return nil, err
	}
	a := &App{DB: db, DSN: cfg.Store.DSN, KeyPath: cfg.Enquiries.KeyFile, Log: log, cfg: cfg}
	defer func() {
		if err != nil {
			a.closeParts()
		}
	}()
	validator := directory.Validator{Tax: tax, Gaz: gaz}
	filled := false // demo profiles were generated by this start
	if cfg.Site.Demo {
		n, err := db.CountProfiles(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 && cfg.Site.DemoTherapists > 0 {
			start := time.Now()
			gen, err := demo.NewGenerator(tax, gaz)
			if err != nil {
				return nil, err
			}
			if err := gen.Load(ctx, db, validator, cfg.Site.DemoTherapists, 1, now(), nil); err != nil {
				return nil, err
			}
			filled = true
			log.Info("filled empty database with demo profiles", "profiles", cfg.Site.DemoTherapists, "seconds", time.Since(start).Seconds())
		}
	}

	analyzer := search.NewAnalyzer()
	a.Index = search.NewIndex(tax, analyzer, now)
	a.Syncer = &search.Syncer{Index: a.Index, Feed: db, Interval: cfg.Search.SyncInterval, Log: log, Now: now, Prune: db.PruneChanges}
	if err := a.buildIndex(ctx, cfg.Search, db); err != nil {
		return nil, err
	}
	if a.Monitor, err = newMonitoring(a, log, now); err != nil {
		return nil, err
	}

	registers, err := cfg.Accounts.Registers(tax)
	if err != nil {
		return nil, err
	}
	sender, catcher, err := cfg.Mail.mailer(cfg.Site.Demo)
	if err != nil {
		return nil, err
	}
	a.Catcher = catcher
	if catcher != nil {
		log.Info("emails go to the built-in mail catcher, not delivered", "smtp", fmt.Sprintf("%s:%d", catcher.Host(), catcher.Port()), "mailbox", cfg.PublicURL()+"/demo/mailbox")
	}
	if cfg.Site.Demo {
		arts, err := db.Articles(ctx)
		if err != nil {
			return nil, err
		}
		if len(arts) == 0 {
			if err := demo.LoadContent(ctx, db, now()); err != nil {
				return nil, err
			}
			log.Info("added sample articles and a demo expert panel")
		}
	}
	keys, created, err := enquiry.LoadOrCreateKeyring(cfg.Enquiries.KeyFile)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created a new enquiry key file: back it up separately from the database; without it enquiries cannot be read", "key_file", cfg.Enquiries.KeyFile)
	}
	a.Keys = keys
	if a.Audit, err = OpenAudit(ctx, db, keys, a.KeyPath, log, now); err != nil {
		return nil, err
	}
	a.AnchorPath = audit.AnchorPath(a.KeyPath)
	auditLog := a.Audit
	// Every email, of every kind, goes through the durable outbox.
	a.Mailer = &enquiry.Mailer{Store: db, Keys: keys, Now: now}
	ecfg := enquiry.DefaultConfig
	ecfg.MinFill, ecfg.Retention = cfg.Enquiries.MinFill, cfg.Enquiries.Retention
	if cfg.Enquiries.PerTherapistDay > 0 {
		ecfg.PerTherapistDay = cfg.Enquiries.PerTherapistDay
	}
	if cfg.Enquiries.PerSenderDay > 0 {
		ecfg.PerSenderDay = cfg.Enquiries.PerSenderDay
	}
	a.Enquiry = &enquiry.Service{Config: ecfg, Store: db, Idem: db, Keys: keys, Profiles: db, Audit: auditLog, Now: now, Log: log}
	hostname, _ := os.Hostname()
	a.Outbox = &enquiry.Worker{Store: db, Sender: sender, Keys: keys, Profiles: db, Owners: ownerEmails{nil}, Now: now, Log: log,
		Owner: fmt.Sprintf("%s-%d", hostname, os.Getpid()), SiteName: cfg.Site.Name, BaseURL: cfg.PublicURL(), CrisisLines: cfg.Site.CrisisLines,
		Lease: cmp.Or(cfg.Mail.OutboxLease, time.Minute), Poll: cfg.Mail.OutboxPoll, Base: 2 * time.Second, Cap: 30 * time.Minute, MaxTemporary: 12, MaxPermanent: 3}
	a.Content = &content.Service{Tx: db, Store: db, Terms: content.TaxonomyTerms{Tax: tax}, Mail: a.Mailer, Audit: auditLog, Now: now, Log: log, BaseURL: cfg.PublicURL()}
	dir := directory.NewService(db, validator, now, log, a.Index)
	a.Accounts = account.NewService(account.Config{SiteName: cfg.Site.Name, BaseURL: cfg.PublicURL()}, db, cfg.Accounts.Hasher(), account.NewPolicy(), a.Mailer, auditLog, now, log)
	a.Accounts.Tx = db
	a.Accounts.Throttle = db
	a.Enquiry.Tx = db
	a.Outbox.Owners = ownerEmails{a.Accounts}
	if cfg.Site.Demo {
		if err := demoAccounts(ctx, a, dir, log, now, filled); err != nil {
			return nil, err
		}
	}
	a.Verify = &verify.Service{Registers: registers, Store: db, Profiles: dirProfiles{dir, db}, Mail: a.Mailer, Audit: auditLog,
		Owners: ownerEmails{a.Accounts}, Now: now, Log: log, SiteName: cfg.Site.Name, BaseURL: cfg.PublicURL(), Tx: db}

	a.Photos = &photo.Service{Store: db, Mail: a.Mailer, Audit: auditLog, Tx: db, Now: now, SiteName: cfg.Site.Name, BaseURL: cfg.PublicURL()}

	parser := &search.Parser{Tax: tax, Gaz: gaz, Analyzer: analyzer, Genders: a.Index, Vocabulary: a.Index}
	md := markup.New()
	secure := strings.HasPrefix(cfg.PublicURL(), "https://")
	sessions := web.NewSessions(db.Sessions(), web.SessionConfig{Secure: secure, IdleTimeout: cfg.Accounts.SessionIdle, Lifetime: cfg.Accounts.SessionLifetime})
	apiDeps := api.Deps{Log: log, Parser: parser, Index: a.Monitor.Metrics.TimeSearches(a.Index, metrics.SurfaceAPI), Profiles: db, DB: db, Tax: tax, Gaz: gaz, Markup: md, Now: now,
		Rules: &guided.Rules{Shipped: rules, Articles: db, Tax: tax, Now: now}, Articles: db, CrisisLines: cfg.Site.CrisisLines}
	if cfg.Site.CountSuggestions {
		apiDeps.Counter = a.Monitor.Metrics
	}
	a.API = api.New(apiDeps)
	a.FHIR = fhir.New(fhir.Deps{Log: log, Index: a.Monitor.Metrics.TimeSearches(a.Index, metrics.SurfaceAPI), Profiles: db, Tax: tax, Gaz: gaz, Now: now,
		BaseURL: cfg.PublicURL(), SiteName: cfg.Site.Name})
	a.HSDS = hsds.New(hsds.Deps{Log: log, Index: a.Monitor.Metrics.TimeSearches(a.Index, metrics.SurfaceAPI), Profiles: db, Tax: tax, Gaz: gaz, Now: now,
		BaseURL: cfg.PublicURL(), SiteName: cfg.Site.Name})
	deps := web.Deps{
		Config: web.Config{SiteName: cfg.Site.Name, CrisisLines: cfg.Site.CrisisLines, Demo: cfg.Site.Demo, BaseURL: cfg.PublicURL(), TrustProxy: cfg.Server.TrustProxy},
		Log:    log, Parser: parser, Index: a.Monitor.Metrics.TimeSearches(a.Index, metrics.SurfacePage), Profiles: db, Tax: tax, Gaz: gaz, Markup: md, Now: now,
		Accounts: a.Accounts, Sessions: sessions, Directory: dir, Verify: a.Verify, Records: db, RateLimits: db,
		Content: db, Editorial: a.Content, ArticleMarkup: markup.NewArticle(), ProfileList: db,
		Enquiries: a.Enquiry, Outbox: db, Audit: a.Audit, AuditAnchor: a.AnchorPath, Counts: db,
		Photos: a.Photos, Guided: rules,
		Import: &importer.Service{Builder: importer.Builder{Tax: tax, Gaz: gaz, Validator: validator, Now: now},
			Importer: &importer.Importer{Store: db, Tx: db, Now: now, Audit: auditLog, Profiles: dir, Invite: a.Accounts}},
	}
	if catcher != nil {
		deps.Mailbox = catcher
	}
	if cfg.Site.CountSuggestions {
		deps.SuggestionCounter = a.Monitor.Metrics
	}
	if a.Web, err = web.New(deps); err != nil {
		return nil, err
	}
	mux := httpx.NewMux()
	a.API.Register(mux)
	a.FHIR.Register(mux)
	a.HSDS.Register(mux)
	a.Web.Register(mux)
	a.Monitor.register(mux, cfg.Server.MetricsToken)
	a.Handler = httpx.Observe(log, a.Monitor.Metrics, httpx.SecureHeaders(secure, http.NewCrossOriginProtection().Handler(mux)))

	a.Jobs = []jobs.Job{
		{Name: "verification checks", Every: cfg.Jobs.Interval, Run: func(ctx context.Context) error {
			reminded, expired, err := a.Verify.RunChecks(ctx)
			if reminded+expired > 0 {
				log.Info("verification checks", "reminders", reminded, "expired", expired)
			}
			return err
		}},
		{Name: "article review reminders", Every: cfg.Jobs.Interval, Run: func(ctx context.Context) error {
			n, err := a.Content.RunReviewReminders(ctx)
			if n > 0 {
				log.Info("article review reminders", "articles", n)
			}
			return err
		}},
		{Name: "enquiry retention and reminders", Every: cfg.Jobs.Interval, Run: func(ctx context.Context) error {
			deleted, err := a.Enquiry.RunRetention(ctx)
			if deleted > 0 {
				log.Info("deleted enquiries past retention", "enquiries", deleted)
			}
			reminded, rerr := a.Enquiry.RunReminders(ctx)
			if reminded > 0 {
				log.Info("queued reminders for unanswered enquiries", "enquiries", reminded)
			}
			return errors.Join(err, rerr)
		}},
		{Name: "session and rate-limit clean-up", Every: cfg.Jobs.Interval, Run: func(ctx context.Context) error {
			_, err := db.DeleteExpiredSessions(ctx, now())
			_, perr := db.PruneRateLimits(ctx, now())
			return errors.Join(err, perr)
		}},
	}
	return a, nil
}

// OpenAudit makes the audit log of db under keys' audit key and, on the
// first start after links became MACs, re-keys the chain from its first
// entry. A chain that cannot be re-keyed (broken before, or unkeyed
// although the anchor file beside keyPath exists) is left as it is and
// reported: `confide audit verify` and the admin page name the entry, and
// the site goes on. The server and `confide admin create`, the two
// writers of the log, both open it here.
func OpenAudit(ctx context.Context, db *store.DB, keys *enquiry.Keyring, keyPath string, log *slog.Logger, now func() time.Time) (*audit.Log, error) {
	key, err := keys.AuditKey()
	if err != nil {
		return nil, err
	}
	l := audit.NewLog(db, key, now)
	n, err := l.Rekey(ctx, audit.AnchorPath(keyPath))
	var broken *audit.BrokenLinkError
	switch {
	case errors.As(err, &broken):
		log.Error("the audit chain was not re-keyed: run confide audit verify", "err", err)
	case err != nil:
		return nil, err
	case n > 0:
		log.Warn("re-keyed the audit chain: its links are now MACs under a key derived from the key file", "entries", n)
	}
	return l, nil
}

// anchorAudit writes the chain's head to the log and the anchor file.
func (a *App) anchorAudit(ctx context.Context) error {
	h, err := a.Audit.Anchor(ctx, a.AnchorPath)
	if err != nil {
		return fmt.Errorf("anchor the audit chain: %w", err)
	}
	a.Log.Debug("anchored the audit chain", "seq", h.Seq, "file", a.AnchorPath)
	return nil
}

// dirProfiles gives verification the directory's validated writes and the
// store's reads.
type dirProfiles struct {
	*directory.Service
	db *store.DB
}

// ProfileByID reads straight from the store.
func (d dirProfiles) ProfileByID(ctx context.Context, id int64) (*directory.Profile, error) {
	return d.db.ProfileByID(ctx, id)
}
