package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/jobs"
	"github.com/confide-org/confide/internal/mail"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
	"github.com/confide-org/confide/internal/web"
)

// app is Confide wired together: everything `serve` runs, built by one
// function so the end-to-end and role-by-route tests run the same thing.
type app struct {
	db       *store.DB
	dbPath   string
	keyPath  string
	log      *slog.Logger
	index    *search.Index
	syncer   *search.Syncer
	accounts *account.Service
	verify   *verify.Service
	content  *content.Service
	enquiry  *enquiry.Service
	outbox   *enquiry.Worker
	keys     *enquiry.Keyring
	queue    *mail.Queue
	catcher  *mail.Catcher
	web      *web.Handler
	api      *api.Handler
	handler  http.Handler
	jobs     []jobs.Job
}

// close stops background work and releases the database.
func (a *app) close() {
	if a.accounts != nil {
		a.accounts.Wait()
	}
	if a.queue != nil {
		a.queue.Close()
	}
	if a.catcher != nil {
		a.catcher.Close()
	}
	a.db.Close()
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

func (c config) baseURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return "http://" + c.Addr
}

func (c config) hasher() *account.Hasher {
	p := account.DefaultParams
	if c.Argon2MemoryKiB > 0 {
		p.MemoryKiB = uint32(c.Argon2MemoryKiB)
	}
	if c.Argon2Time > 0 {
		p.Time = uint32(c.Argon2Time)
	}
	return account.NewHasher(p, 2)
}

// mailer picks where email goes: the configured SMTP server, or a
// catcher on 127.0.0.1 for demos and local development.
func (c config) mailer() (*mail.SMTP, *mail.Catcher, error) {
	useCatcher := c.MailCatcher || (c.Demo && c.SMTPHost == "")
	if useCatcher {
		catcher, err := mail.StartCatcher("127.0.0.1:0", 500)
		if err != nil {
			return nil, nil, err
		}
		s, err := mail.NewSMTP(mail.Config{Host: catcher.Host(), Port: catcher.Port(), TLS: mail.TLSNone, From: c.MailFrom})
		if err != nil {
			catcher.Close()
			return nil, nil, err
		}
		return s, catcher, nil
	}
	if c.SMTPHost == "" {
		return nil, nil, errors.New("no way to send email: set --smtp-host (CONFIDE_SMTP_HOST), or use --mail-catcher or --demo for a local test mailbox")
	}
	s, err := mail.NewSMTP(mail.Config{Host: c.SMTPHost, Port: c.SMTPPort, TLS: c.SMTPTLS, Username: c.SMTPUsername, Password: c.SMTPPassword, From: c.MailFrom})
	return s, nil, err
}

func (c config) registers(tax *taxonomy.Taxonomy) (*verify.Registers, error) {
	var data []byte
	if c.RegistersFile != "" {
		b, err := os.ReadFile(c.RegistersFile)
		if err != nil {
			return nil, fmt.Errorf("--registers: %w", err)
		}
		data = b
	}
	return verify.LoadRegisters(data, func(s string) bool { _, ok := tax.Body(s); return ok })
}

// newApp opens the database, fills it with demo data when asked, builds
// the index and wires every service and handler. now is the clock.
func newApp(ctx context.Context, cfg config, log *slog.Logger, now func() time.Time) (_ *app, err error) {
	tax, gaz, db, err := openData(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a := &app{db: db, dbPath: cfg.DB, keyPath: cfg.KeyFile, log: log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	validator := directory.Validator{Tax: tax, Gaz: gaz}
	if cfg.Demo {
		n, err := db.CountProfiles(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 && cfg.DemoTherapists > 0 {
			start := time.Now()
			gen, err := demo.NewGenerator(tax, gaz)
			if err != nil {
				return nil, err
			}
			if err := gen.Load(ctx, db, validator, cfg.DemoTherapists, 1, now(), nil); err != nil {
				return nil, err
			}
			log.Info("filled empty database with demo profiles", "profiles", cfg.DemoTherapists, "seconds", time.Since(start).Seconds())
		}
	}

	analyzer := search.NewAnalyzer()
	a.index = search.NewIndex(tax, analyzer, now)
	start := time.Now()
	if err := a.index.Load(ctx, db); err != nil {
		return nil, err
	}
	log.Info("search index built", "public_profiles", a.index.Len(), "seconds", time.Since(start).Seconds())
	a.syncer = &search.Syncer{Index: a.index, Feed: db, Interval: cfg.SyncInterval, Log: log, Now: now, Prune: db.PruneChanges}

	registers, err := cfg.registers(tax)
	if err != nil {
		return nil, err
	}
	sender, catcher, err := cfg.mailer()
	if err != nil {
		return nil, err
	}
	a.catcher = catcher
	if catcher != nil {
		log.Info("emails go to the built-in mail catcher, not delivered", "smtp", fmt.Sprintf("%s:%d", catcher.Host(), catcher.Port()), "mailbox", cfg.baseURL()+"/demo/mailbox")
	}
	a.queue = mail.NewQueue(sender, 1000, log)
	auditLog := audit.NewLog(db, now)
	if cfg.Demo {
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
	keys, created, err := enquiry.LoadOrCreateKeyring(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created a new enquiry key file: back it up separately from the database; without it enquiries cannot be read", "key_file", cfg.KeyFile)
	}
	a.keys = keys
	ecfg := enquiry.DefaultConfig
	ecfg.MinFill, ecfg.Retention = cfg.EnquiryMinFill, cfg.EnquiryRetention
	if cfg.PerTherapistDay > 0 {
		ecfg.PerTherapistDay = cfg.PerTherapistDay
	}
	if cfg.PerSenderDay > 0 {
		ecfg.PerSenderDay = cfg.PerSenderDay
	}
	a.enquiry = &enquiry.Service{Config: ecfg, Store: db, Idem: db, Keys: keys, Profiles: db, Audit: auditLog, Now: now, Log: log}
	hostname, _ := os.Hostname()
	a.outbox = &enquiry.Worker{Store: db, Sender: sender, Keys: keys, Profiles: db, Owners: ownerEmails{nil}, Now: now, Log: log,
		Owner: fmt.Sprintf("%s-%d", hostname, os.Getpid()), SiteName: cfg.SiteName, BaseURL: cfg.baseURL(),
		Lease: time.Minute, Poll: cfg.OutboxPoll, Base: 2 * time.Second, Cap: 30 * time.Minute, MaxTemporary: 12, MaxPermanent: 3}
	a.content = &content.Service{Store: db, Terms: content.TaxonomyTerms{Tax: tax}, Mail: a.queue, Audit: auditLog, Now: now, Log: log, BaseURL: cfg.baseURL()}
	dir := directory.NewService(db, validator, now, log, a.index)
	a.accounts = account.NewService(account.Config{SiteName: cfg.SiteName, BaseURL: cfg.baseURL()}, db, cfg.hasher(), account.NewPolicy(), a.queue, auditLog, now, log)
	a.outbox.Owners = ownerEmails{a.accounts}
	if cfg.Demo {
		if err := demoTherapist(ctx, a, dir, log, now); err != nil {
			return nil, err
		}
	}
	a.verify = &verify.Service{Registers: registers, Store: db, Profiles: dirProfiles{dir, db}, Mail: a.queue, Audit: auditLog,
		Owners: ownerEmails{a.accounts}, Now: now, Log: log, SiteName: cfg.SiteName, BaseURL: cfg.baseURL()}

	parser := &search.Parser{Tax: tax, Gaz: gaz, Analyzer: analyzer}
	md := markup.New()
	secure := strings.HasPrefix(cfg.baseURL(), "https://")
	sessions := web.NewSessions(db.Sessions(), web.SessionConfig{Secure: secure, IdleTimeout: cfg.SessionIdle, Lifetime: cfg.SessionLifetime})
	a.api = api.New(api.Deps{Log: log, Parser: parser, Index: a.index, Profiles: db, DB: db, Tax: tax, Gaz: gaz, Markup: md, Now: now})
	deps := web.Deps{
		Config: web.Config{SiteName: cfg.SiteName, CrisisLines: splitLines(cfg.CrisisLines), Demo: cfg.Demo, BaseURL: cfg.baseURL(), TrustProxy: cfg.TrustProxy},
		Log:    log, Parser: parser, Index: a.index, Profiles: db, Tax: tax, Gaz: gaz, Markup: md, Now: now,
		Accounts: a.accounts, Sessions: sessions, Directory: dir, Verify: a.verify, Records: db,
		Content: db, Editorial: a.content, ArticleMarkup: markup.NewArticle(), ProfileList: db,
		Enquiries: a.enquiry, Outbox: db,
	}
	if catcher != nil {
		deps.Mailbox = catcher
	}
	if a.web, err = web.New(deps); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	a.api.Register(mux)
	a.web.Register(mux)
	a.handler = httpx.Observe(log, httpx.SecureHeaders(secure, http.NewCrossOriginProtection().Handler(mux)))

	a.jobs = []jobs.Job{
		{Name: "verification checks", Every: cfg.JobsInterval, Run: func(ctx context.Context) error {
			reminded, expired, err := a.verify.RunChecks(ctx)
			if reminded+expired > 0 {
				log.Info("verification checks", "reminders", reminded, "expired", expired)
			}
			return err
		}},
		{Name: "article review reminders", Every: cfg.JobsInterval, Run: func(ctx context.Context) error {
			n, err := a.content.RunReviewReminders(ctx)
			if n > 0 {
				log.Info("article review reminders", "articles", n)
			}
			return err
		}},
		{Name: "enquiry retention and reminders", Every: cfg.JobsInterval, Run: func(ctx context.Context) error {
			deleted, err := a.enquiry.RunRetention(ctx)
			if deleted > 0 {
				log.Info("deleted enquiries past retention", "enquiries", deleted)
			}
			reminded, rerr := a.enquiry.RunReminders(ctx)
			if reminded > 0 {
				log.Info("queued reminders for unanswered enquiries", "enquiries", reminded)
			}
			return errors.Join(err, rerr)
		}},
		{Name: "session clean-up", Every: cfg.JobsInterval, Run: func(ctx context.Context) error {
			_, err := db.DeleteExpiredSessions(ctx, now())
			return err
		}},
	}
	return a, nil
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

// demoTherapistEmail is the demo site's therapist account.
const demoTherapistEmail = "demo.therapist@example.org"

// demoTherapist gives a fresh demo site one therapist account that owns a
// public profile, so that enquiries and the inbox can be tried. Its setup
// link is logged (demo only: the site's email goes to the mail catcher).
func demoTherapist(ctx context.Context, a *app, dir *directory.Service, log *slog.Logger, now func() time.Time) error {
	if _, err := a.db.UserByEmail(ctx, demoTherapistEmail); err == nil {
		return nil
	}
	var target *directory.Profile
	if _, err := a.db.EachProfile(ctx, func(p *directory.Profile) error {
		if target == nil && p.OwnerID == 0 && p.IsPublic(now()) && len(p.Locations) > 0 {
			target = p
		}
		return nil
	}); err != nil || target == nil {
		return err
	}
	u, link, err := a.accounts.Invite(ctx, demoTherapistEmail, account.Therapist)
	if err != nil {
		return err
	}
	target.OwnerID = u.ID
	target.ContactEmail = demoTherapistEmail
	if err := dir.Update(ctx, target); err != nil {
		return err
	}
	log.Info("demo therapist account: open the setup link to choose its password, then sign in to read enquiries sent to its profile",
		"email", demoTherapistEmail, "setup", link, "profile", "/therapists/"+target.Slug)
	return nil
}
