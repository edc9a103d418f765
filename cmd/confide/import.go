package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/app"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/importer"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
)

// errRejected makes a dry run with rejected rows exit 1, so scripts see it.
var errRejected = errors.New("some rows were rejected")

// errNoBaseURL refuses an --apply whose emails would carry links without
// the site's address (http:///setup leads nowhere); what names them.
func errNoBaseURL(what string) error {
	return fmt.Errorf("--apply emails %s: give the site's public address with --base-url (or CONFIDE_BASE_URL), like --base-url https://find.example.org", what)
}

// importTherapists is `confide import therapists FILE`: a dry run that
// reports every row's fate, or with --apply the import itself.
func importTherapists(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	// Each new profile's therapist is emailed a link to claim it: without
	// the site's address that link would lead nowhere (http:///setup).
	if cfg.Apply && cfg.BaseURL == "" {
		return errNoBaseURL("each new therapist a link to claim their profile")
	}
	format := cmp.Or(cfg.ImportFormat, importer.FormatOf(cfg.ImportFile))
	f, err := os.Open(cfg.ImportFile)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	tax, err := taxonomy.Load()
	if err != nil {
		return err
	}
	gaz, err := geo.Load()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := store.Open(ctx, cfg.storeDSN(), log)
	if err != nil {
		return err
	}
	defer db.Close()
	validator := directory.Validator{Tax: tax, Gaz: gaz}
	im := &importer.Importer{Store: db, Tx: db, Now: time.Now}
	if cfg.Apply {
		keys, _, err := enquiry.LoadOrCreateKeyring(cfg.KeyFile)
		if err != nil {
			return err
		}
		auditLog, err := app.OpenAudit(ctx, db, keys, cfg.KeyFile, log, time.Now)
		if err != nil {
			return err
		}
		im.Audit = auditLog
		im.Profiles = directory.NewService(db, validator, time.Now, log)
		// Claim invitations go through the outbox, sealed, in each batch's
		// unit of work: the server sends them.
		mailer := &enquiry.Mailer{Store: db, Keys: keys, Now: time.Now}
		accounts := account.NewService(account.Config{SiteName: cfg.SiteName, BaseURL: cfg.appConfig().PublicURL()}, db,
			cfg.appConfig().Accounts.Hasher(), account.NewPolicy(), mailer, auditLog, time.Now, log)
		accounts.Tx = db
		im.Invite = accounts
	}
	// The same service as the admin page's upload, so both give one answer.
	svc := &importer.Service{Builder: importer.Builder{Tax: tax, Gaz: gaz, Validator: validator, Now: time.Now}, Importer: im}
	plan, err := svc.Run(ctx, f, format, filepath.Base(cfg.ImportFile), cfg.Apply)
	if fe := (*importer.FileError)(nil); errors.As(err, &fe) {
		return fmt.Errorf("%s: %w (nothing was imported)", cfg.ImportFile, err)
	}
	if err != nil {
		return err
	}
	if !cfg.Apply {
		plan.Report(stdout, false)
		fmt.Fprintf(stdout, "dry run: nothing was written; run again with --apply to import (%.2fs)\n", time.Since(start).Seconds())
		if len(plan.Problems) > 0 {
			return errRejected
		}
		return nil
	}
	plan.Report(stdout, true)
	n := plan.Counts[importer.Create] + plan.Counts[importer.Update]
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "imported: %d profiles written in %.2fs (%.0f rows a second)\n", n, secs, float64(len(plan.Steps)+plan.Rejected())/secs)
	return nil
}

// errRefusedList makes a dry run whose list has problems, or would be
// refused without --force, exit 1.
var errRefusedList = errors.New("the list would be refused: see above")

// importRegister is `confide import register --body B FILE`: a dry run
// that says which verified memberships would lapse and which would go
// back to the verification queue, or with --apply the sync itself.
func importRegister(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.Apply && cfg.BaseURL == "" {
		return errNoBaseURL("each therapist whose membership lapses a link to their verification page")
	}
	tax, err := taxonomy.Load()
	if err != nil {
		return err
	}
	body, ok := importer.FindBody(tax, cfg.RegisterBody)
	if !ok {
		var names []string
		for _, b := range tax.Bodies {
			names = append(names, b.Abbreviation)
		}
		return fmt.Errorf("--body %q is not a professional body we know (one of %s)", cfg.RegisterBody, strings.Join(names, ", "))
	}
	acfg := cfg.appConfig()
	registers, err := acfg.Accounts.Registers(tax)
	if err != nil {
		return err
	}
	reg, _ := registers.Get(body.Slug)
	format := cmp.Or(cfg.ImportFormat, importer.FormatOf(cfg.ImportFile))
	f, err := os.Open(cfg.ImportFile)
	if err != nil {
		return err
	}
	defer f.Close()
	log := newLogger(cfg, stderr)
	db, err := store.Open(ctx, cfg.storeDSN(), log)
	if err != nil {
		return err
	}
	defer db.Close()
	gaz, err := geo.Load()
	if err != nil {
		return err
	}
	sync := &importer.Sync{Store: db, Tx: db, Now: time.Now, SiteName: cfg.SiteName, BaseURL: acfg.PublicURL(),
		Profiles: directory.NewService(db, directory.Validator{Tax: tax, Gaz: gaz}, time.Now, log)}
	known, err := sync.KnownNumbers(ctx, body.Slug)
	if err != nil {
		return err
	}
	list, err := importer.ListReader{Tax: tax, Body: body, Register: reg, Known: known}.Read(f, format)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was changed)", cfg.ImportFile, err)
	}
	source := filepath.Base(cfg.ImportFile)
	plan, err := sync.Plan(ctx, list, source, cfg.Force)
	if err != nil {
		return err
	}
	if !cfg.Apply {
		plan.Report(stdout, false)
		fmt.Fprintln(stdout, "dry run: nothing was written; run again with --apply to carry it out")
		if plan.Refused() {
			return errRefusedList
		}
		return nil
	}
	if plan.Refused() {
		plan.Report(stdout, false)
		return sync.Apply(ctx, plan) // says why, and changes nothing
	}
	keys, _, err := enquiry.LoadOrCreateKeyring(cfg.KeyFile)
	if err != nil {
		return err
	}
	if sync.Audit, err = app.OpenAudit(ctx, db, keys, cfg.KeyFile, log, time.Now); err != nil {
		return err
	}
	// The notices go through the outbox in the sync's unit of work: the
	// server's outbox worker sends them.
	sync.Mail = &enquiry.Mailer{Store: db, Keys: keys, Now: time.Now}
	if err := sync.Apply(audit.WithActor(ctx, audit.Actor{Who: "cli"}), plan); err != nil {
		return err
	}
	plan.Report(stdout, true)
	if !plan.Changes() {
		fmt.Fprintln(stdout, "nothing to change: the directory already agrees with this list")
	}
	return nil
}
