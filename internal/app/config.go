package app

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/mail"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
)

// Config is everything the application is told, grouped by concern so that
// each part receives only its own group. cmd/confide fills it from flags
// and CONFIDE_* environment variables.
type Config struct {
	Site      SiteConfig
	Server    ServerConfig
	Store     StoreConfig
	Mail      MailConfig
	Accounts  AccountsConfig
	Enquiries EnquiriesConfig
	Search    SearchConfig
	Jobs      JobsConfig
	Audit     AuditConfig
}

// SiteConfig is what every page and email says about the site.
type SiteConfig struct {
	Name string
	// CrisisLines are shown on every page and in the sender's receipt.
	CrisisLines []string
	// BaseURL is the public address used in emailed links; https turns
	// on Secure cookies and HSTS. Empty means http://Server.Addr.
	BaseURL string
	// Demo fills an empty database with DemoTherapists fictional
	// profiles and marks the site as a demo.
	Demo           bool
	DemoTherapists int
	// CountSuggestions keeps anonymous totals of the guided path's
	// suggestions per approach (the metric
	// confide_guided_suggestions_total): never the answers, never per
	// person. Off unless the operator turns it on.
	CountSuggestions bool
}

// ServerConfig is the HTTP side.
type ServerConfig struct {
	Addr            string
	TrustProxy      bool
	ShutdownTimeout time.Duration
	// MetricsAddr, when set, serves /metrics alone there; MetricsToken,
	// when set, serves it on the main address to bearers of the token.
	MetricsAddr, MetricsToken string
}

// StoreConfig says where the data lives.
type StoreConfig struct {
	// DSN is a SQLite file path or a postgres:// URL.
	DSN string
}

// MailConfig is how email leaves: an SMTP server, or the built-in catcher.
type MailConfig struct {
	SMTPHost, SMTPTLS, SMTPUsername, SMTPPassword, From string
	SMTPPort                                            int
	// Catcher sends everything to a built-in SMTP server on 127.0.0.1
	// shown at /demo/mailbox (on with Site.Demo unless SMTPHost is set).
	Catcher bool
	// OutboxPoll is how often the outbox worker looks for work (negative:
	// no worker in this process); OutboxLease how long a claim lasts.
	OutboxPoll, OutboxLease time.Duration
}

// AccountsConfig covers sign-in and verification.
type AccountsConfig struct {
	SessionIdle, SessionLifetime time.Duration
	// RegistersFile overrides the built-in list of professional registers.
	RegistersFile   string
	Argon2MemoryKiB uint
	Argon2Time      uint
}

// EnquiriesConfig covers enquiries and the key file that seals them.
type EnquiriesConfig struct {
	KeyFile                       string
	MinFill, Retention            time.Duration
	PerTherapistDay, PerSenderDay int
}

// SearchConfig covers the index.
type SearchConfig struct {
	// SyncInterval is how often the index polls the change feed (0: no
	// syncer in this process).
	SyncInterval time.Duration
	// SnapshotPath is the index snapshot file ("": none): loaded at start
	// when it is intact and current, so the index need not be rebuilt
	// from the store, and rewritten every SnapshotInterval and on
	// shutdown.
	SnapshotPath string
	// SnapshotInterval is how often a changed index is written out (0:
	// only on shutdown).
	SnapshotInterval time.Duration
	// SnapshotMaxAge is the oldest snapshot still used at start. It must
	// stay well under the change feed's retention (a day), so that every
	// change since the snapshot is still there to apply.
	SnapshotMaxAge time.Duration
}

// JobsConfig covers scheduled work.
type JobsConfig struct {
	// Interval is the tick of every scheduled job (0: no jobs here).
	Interval time.Duration
}

// AuditConfig covers the audit log.
type AuditConfig struct {
	// AnchorInterval is how often this process writes the chain's head to
	// the log and the anchor file beside the key file (0: only on
	// shutdown).
	AnchorInterval time.Duration
}

// PublicURL is the public address without a trailing slash.
func (c Config) PublicURL() string {
	if c.Site.BaseURL != "" {
		return strings.TrimRight(c.Site.BaseURL, "/")
	}
	return "http://" + c.Server.Addr
}

// Hasher is the password hasher at the configured cost (used by the
// server and by `confide admin create`).
func (c AccountsConfig) Hasher() *account.Hasher {
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
func (c MailConfig) mailer(demo bool) (*mail.SMTP, *mail.Catcher, error) {
	if c.Catcher || (demo && c.SMTPHost == "") {
		catcher, err := mail.StartCatcher("127.0.0.1:0", 500)
		if err != nil {
			return nil, nil, err
		}
		s, err := mail.NewSMTP(mail.Config{Host: catcher.Host(), Port: catcher.Port(), TLS: mail.TLSNone, From: c.From})
		if err != nil {
			catcher.Close()
			return nil, nil, err
		}
		return s, catcher, nil
	}
	if c.SMTPHost == "" {
		return nil, nil, errors.New("no way to send email: set --smtp-host (CONFIDE_SMTP_HOST), or use --mail-catcher or --demo for a local test mailbox")
	}
	s, err := mail.NewSMTP(mail.Config{Host: c.SMTPHost, Port: c.SMTPPort, TLS: c.SMTPTLS, Username: c.SMTPUsername, Password: c.SMTPPassword, From: c.From})
	return s, nil, err
}

// Registers loads the professional registers the configuration names (the
// built-in list unless RegistersFile is set), checked against tax.
func (c AccountsConfig) Registers(tax *taxonomy.Taxonomy) (*verify.Registers, error) {
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
