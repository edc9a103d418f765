package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/errs"
)

// Store is what accounts need from persistence; internal/store implements it.
type Store interface {
	// CreateUser stores u with its roles and tok (whose UserID it sets) in
	// one transaction; a taken email gives ErrConflict.
	CreateUser(ctx context.Context, u *User, tok *Token) error
	UserByID(ctx context.Context, id int64) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context, emailLike string, limit int) ([]User, error)
	// SetPassword replaces the hash; revoke also raises the session epoch.
	SetPassword(ctx context.Context, userID int64, hash string, revoke bool, now time.Time) error
	// NoteNotice records that an "account already exists" notice was sent.
	NoteNotice(ctx context.Context, userID int64, now time.Time) error
	ConfirmEmail(ctx context.Context, userID int64, now time.Time) error
	ChangeEmail(ctx context.Context, userID int64, email string, now time.Time) error
	CreateToken(ctx context.Context, tok *Token) error
	// TokenByHash returns an unused, unexpired token.
	TokenByHash(ctx context.Context, hash string, purpose Purpose, now time.Time) (*Token, error)
	// UseToken marks the token used; ErrNotFound if it was used meanwhile.
	UseToken(ctx context.Context, hash string, now time.Time) error
	SetRole(ctx context.Context, userID int64, r Role, grant bool, by int64, now time.Time) error
	// SetDisabled disables (or re-enables) an account and revokes its sessions.
	SetDisabled(ctx context.Context, userID int64, disabled bool, now time.Time) error
	// RevokeSessions raises the session epoch.
	RevokeSessions(ctx context.Context, userID int64, now time.Time) error
	// CountWithRole counts the accounts holding role r.
	CountWithRole(ctx context.Context, r Role) (int, error)
}

// Mailer sends one plain-text email. Sending may be queued; an error means
// it was not accepted.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Auditor appends to the audit log.
type Auditor interface {
	Record(ctx context.Context, action, object string) error
}

// Config holds the account settings.
type Config struct {
	// SiteName and BaseURL (no trailing slash) are used in emails.
	SiteName string
	BaseURL  string
	// ConfirmTTL, ResetTTL and SetupTTL are how long links stay valid.
	ConfirmTTL, ResetTTL, SetupTTL time.Duration
	// NoticeEvery limits "you already have an account" emails.
	NoticeEvery time.Duration
	// ClaimTTL is how long an imported therapist's claim link works: long
	// enough for someone who reads email weekly.
	ClaimTTL time.Duration
}

// DefaultConfig fills durations left at zero.
func (c Config) withDefaults() Config {
	if c.ConfirmTTL == 0 {
		c.ConfirmTTL = 48 * time.Hour
	}
	if c.ResetTTL == 0 {
		c.ResetTTL = time.Hour
	}
	if c.SetupTTL == 0 {
		c.SetupTTL = 24 * time.Hour
	}
	if c.NoticeEvery == 0 {
		c.NoticeEvery = time.Hour
	}
	if c.ClaimTTL == 0 {
		c.ClaimTTL = 30 * 24 * time.Hour
	}
	return c
}

// Service carries out account actions.
type Service struct {
	// Tx makes each account change, its audit entry and its email one
	// unit of work (the store); nil runs them one by one.
	Tx commit.Runner
	// Throttle counts failed password checks (the store); nil counts
	// none, for tools that run without a site.
	Throttle Throttle
	cfg      Config
	store    Store
	hasher   *Hasher
	policy   *Policy
	mail     Mailer
	audit    Auditor
	now      func() time.Time
	log      *slog.Logger
	// background work (reset emails) that must not delay the response
	wg sync.WaitGroup
}

// NewService wires a Service.
func NewService(cfg Config, s Store, h *Hasher, p *Policy, m Mailer, a Auditor, now func() time.Time, log *slog.Logger) *Service {
	return &Service{cfg: cfg.withDefaults(), store: s, hasher: h, policy: p, mail: m, audit: a, now: now, log: log}
}

// Hasher is the password hasher the service uses.
func (s *Service) Hasher() *Hasher { return s.hasher }

// Wait blocks until background work has finished (for shutdown and tests).
func (s *Service) Wait() { s.wg.Wait() }

func (s *Service) link(path, token string) string {
	return s.cfg.BaseURL + path + "?token=" + token
}

func (s *Service) record(ctx context.Context, action, object string) {
	if err := s.audit.Record(ctx, action, object); err != nil {
		s.log.ErrorContext(ctx, "audit", "err", err)
	}
}

func (s *Service) checkNew(email, password string) (string, errs.Fields) {
	fe := errs.Fields{}
	email, ok := NormalizeEmail(email)
	if !ok {
		fe["email"] = "Enter an email address in the correct format, like name@example.com"
	}
	if msg := s.policy.Check(password, email); msg != "" {
		fe["password"] = msg
	}
	if len(fe) > 0 {
		return email, fe
	}
	return email, nil
}

// SignUp creates a therapist account and emails a confirmation link. If
// the address already has an account, that address gets a notice instead;
// either way the caller sees the same outcome, and the same work (one
// password hash, one write) is done, so the response does not reveal which.
func (s *Service) SignUp(ctx context.Context, email, password string) error {
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error { return s.signUpUnit(ctx, email, password) })
	if errors.Is(err, errSignedUpConcurrently) {
		return nil // the other request's account stands; this unit of work is rolled back
	}
	return err
}

// errSignedUpConcurrently ends a sign-up whose address another request
// took first; the failed insert has spoilt the transaction, so it must
// roll back, and the caller answers as if it had worked.
var errSignedUpConcurrently = errors.New("account created by a concurrent request")

func (s *Service) signUpUnit(ctx context.Context, email, password string) error {
	email, fe := s.checkNew(email, password)
	if fe != nil {
		return fe
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	existing, err := s.store.UserByEmail(ctx, email)
	switch {
	case err == nil:
		if now.Sub(existing.NoticeSentAt) < s.cfg.NoticeEvery {
			return s.store.NoteNotice(ctx, existing.ID, existing.NoticeSentAt)
		}
		if err := s.store.NoteNotice(ctx, existing.ID, now); err != nil {
			return err
		}
		s.send(ctx, email, "You already have an account",
			fmt.Sprintf("Someone (probably you) tried to create a %s account with this email address, but it already has one.\n\nSign in: %s/signin\nForgotten your password? %s/reset\n\nIf it was not you, you can ignore this email.", s.cfg.SiteName, s.cfg.BaseURL, s.cfg.BaseURL))
		return nil
	case !errors.Is(err, ErrNotFound):
		return err
	}
	u := &User{Email: email, PasswordHash: hash, Roles: []Role{Therapist}, CreatedAt: now, UpdatedAt: now}
	plain, tok, err := newToken(0, PurposeConfirm, now, s.cfg.ConfirmTTL)
	if err != nil {
		return err
	}
	if err := s.store.CreateUser(ctx, u, tok); err != nil {
		if errors.Is(err, ErrConflict) {
			return errSignedUpConcurrently
		}
		return err
	}
	s.record(audit.WithActor(ctx, s.actorAs(ctx, u.ID)), "account.create", audit.User(u.ID))
	s.sendConfirm(ctx, email, plain)
	return nil
}

// actorAs names the account itself as the actor when nobody is signed in.
func (s *Service) actorAs(ctx context.Context, id int64) audit.Actor {
	a := audit.ActorFrom(ctx)
	if a.Who == "" || a.Who == "anonymous" || a.Who == "system" {
		a.Who = audit.User(id)
	}
	return a
}

func (s *Service) sendConfirm(ctx context.Context, email, plain string) {
	s.send(ctx, email, "Confirm your email address",
		fmt.Sprintf("Welcome to %s.\n\nConfirm your email address by opening this link within %s:\n\n%s\n\nIf you did not create an account, ignore this email and nothing will happen.",
			s.cfg.SiteName, humanTTL(s.cfg.ConfirmTTL), s.link("/confirm", plain)))
}

func (s *Service) send(ctx context.Context, to, subject, body string) {
	if err := s.mail.Send(ctx, to, subject, body); err != nil {
		s.log.ErrorContext(ctx, "queue email", "subject", subject, "err", err)
	}
}

func humanTTL(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	if d%time.Hour == 0 {
		if d == time.Hour {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return fmt.Sprintf("%d minutes", int(d/time.Minute))
}

// Confirm runs confirmUnit as one unit of work (its writes and audit
// entries commit together or not at all) and returns the account as it is
// afterwards.
func (s *Service) Confirm(ctx context.Context, plain string) (*User, error) {
	return s.doThenRead(ctx, func(ctx context.Context) (int64, error) { return s.confirmUnit(ctx, plain) })
}

// doThenRead runs unit as one unit of work, then reads the account whose
// id it returns. Reads inside a unit see only what was committed before
// it began writing, so the account as the unit left it (its new session
// epoch, say, which the caller puts in the session it renews) can only
// be read afterwards.
func (s *Service) doThenRead(ctx context.Context, unit func(ctx context.Context) (int64, error)) (*User, error) {
	var id int64
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		var err error
		id, err = unit(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.store.UserByID(ctx, id)
}

// Confirm consumes a confirmation link.
func (s *Service) confirmUnit(ctx context.Context, plain string) (int64, error) {
	tok, err := s.useToken(ctx, plain, PurposeConfirm)
	if err != nil {
		return 0, err
	}
	if err := s.store.ConfirmEmail(ctx, tok.UserID, s.now().UTC()); err != nil {
		return 0, err
	}
	s.record(audit.WithActor(ctx, s.actorAs(ctx, tok.UserID)), "account.confirm", audit.User(tok.UserID))
	return tok.UserID, nil
}

// findToken returns the usable token for a link, or ErrTokenInvalid for
// anything else (malformed, unknown, used, expired, other purpose).
func (s *Service) findToken(ctx context.Context, plain string, p Purpose) (*Token, error) {
	if plain == "" || len(plain) > 100 {
		return nil, ErrTokenInvalid
	}
	tok, err := s.store.TokenByHash(ctx, HashToken(plain), p, s.now().UTC())
	if errors.Is(err, ErrNotFound) {
		return nil, ErrTokenInvalid
	}
	return tok, err
}

func (s *Service) useToken(ctx context.Context, plain string, p Purpose) (*Token, error) {
	tok, err := s.findToken(ctx, plain, p)
	if err != nil {
		return nil, err
	}
	if err := s.store.UseToken(ctx, tok.Hash, s.now().UTC()); errors.Is(err, ErrNotFound) {
		return nil, ErrTokenInvalid
	} else if err != nil {
		return nil, err
	}
	return tok, nil
}

// SignIn checks an email and password tried from source (the address it
// came from, an IPv6 address by its /64; "" for none). Unknown emails cost
// the same argon2id computation as known ones (Verify uses a dummy hash),
// and every failure is ErrBadCredentials. Failures are counted and a
// source that keeps failing is refused for a while with a LimitError (see
// Throttle), before any hashing. A hash made with weaker parameters than
// the current ones is replaced.
func (s *Service) SignIn(ctx context.Context, email, password, source string) (*User, error) {
	email, _ = NormalizeEmail(email)
	if err := s.signInAllowed(ctx, email, source); err != nil {
		return nil, err
	}
	if len(password) > 4*MaxPasswordLen {
		password = password[:4*MaxPasswordLen] // still wrong; bounds the work
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	stored := ""
	if u != nil {
		stored = u.PasswordHash
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, stored)
	if err != nil {
		return nil, err
	}
	if u == nil {
		s.record(ctx, "signin.failure", "unknown-account")
		s.signInFailed(ctx, email, source, nil)
		return nil, ErrBadCredentials
	}
	if !ok || u.Disabled() {
		s.record(ctx, "signin.failure", audit.User(u.ID))
		s.signInFailed(ctx, email, source, u)
		return nil, ErrBadCredentials
	}
	if u.EmailConfirmedAt.IsZero() {
		now := s.now().UTC()
		if now.Sub(u.NoticeSentAt) >= time.Minute*5 {
			if plain, tok, err := newToken(u.ID, PurposeConfirm, now, s.cfg.ConfirmTTL); err == nil {
				if err := s.store.CreateToken(ctx, tok); err == nil {
					_ = s.store.NoteNotice(ctx, u.ID, now)
					s.sendConfirm(ctx, u.Email, plain)
				}
			}
		}
		s.record(ctx, "signin.unconfirmed", audit.User(u.ID))
		return nil, ErrUnconfirmed
	}
	if rehash {
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			if err := s.store.SetPassword(ctx, u.ID, h, false, s.now().UTC()); err != nil {
				s.log.WarnContext(ctx, "rehash password", "err", err)
			}
		}
	}
	s.record(audit.WithActor(ctx, s.actorAs(ctx, u.ID)), "signin.success", audit.User(u.ID))
	return u, nil
}

// RequestReset emails a reset link if the address has an account. The
// lookup and email happen after the call returns, so the response time is
// the same whether or not the account exists.
func (s *Service) RequestReset(ctx context.Context, email string) error {
	email, ok := NormalizeEmail(email)
	if !ok {
		return errs.Fields{"email": "Enter an email address in the correct format, like name@example.com"}
	}
	bg := context.WithoutCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.sendReset(bg, email); err != nil {
			s.log.ErrorContext(bg, "password reset", "err", err)
		}
	}()
	return nil
}

func (s *Service) sendReset(ctx context.Context, email string) error {
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if u.Disabled() {
		return nil
	}
	plain, tok, err := newToken(u.ID, PurposeReset, s.now().UTC(), s.cfg.ResetTTL)
	if err != nil {
		return err
	}
	// The token, its audit entry and its email: one unit of work.
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		if err := s.store.CreateToken(ctx, tok); err != nil {
			return err
		}
		s.record(ctx, "password.reset_requested", audit.User(u.ID))
		s.send(ctx, u.Email, "Reset your password",
			fmt.Sprintf("Someone asked to reset the password of your %s account.\n\nChoose a new password by opening this link within %s:\n\n%s\n\nIf it was not you, ignore this email: your password has not changed.",
				s.cfg.SiteName, humanTTL(s.cfg.ResetTTL), s.link("/reset/new", plain)))
		return nil
	})
}

// CheckToken reports whether a reset or setup link is still usable,
// without using it, so the form can say so before anyone types.
func (s *Service) CheckToken(ctx context.Context, plain string, p Purpose) error {
	_, err := s.findToken(ctx, plain, p)
	return err
}

// ResetPassword runs resetPasswordUnit as one unit of work (its writes and audit
// entries commit together or not at all) and returns the account as it is
// afterwards.
func (s *Service) ResetPassword(ctx context.Context, plain string, p Purpose, password string) (*User, error) {
	return s.doThenRead(ctx, func(ctx context.Context) (int64, error) { return s.resetPasswordUnit(ctx, plain, p, password) })
}

// ResetPassword sets a new password from a reset (or setup) link, confirms
// the email (the link proved it) and signs the account out everywhere.
func (s *Service) resetPasswordUnit(ctx context.Context, plain string, p Purpose, password string) (int64, error) {
	now := s.now().UTC()
	tok, err := s.findToken(ctx, plain, p)
	if err != nil {
		return 0, err
	}
	u, err := s.store.UserByID(ctx, tok.UserID)
	if err != nil {
		return 0, err
	}
	if msg := s.policy.Check(password, u.Email); msg != "" {
		return 0, errs.Fields{"password": msg}
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return 0, err
	}
	if _, err := s.useToken(ctx, plain, p); err != nil {
		return 0, err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash, true, now); err != nil {
		return 0, err
	}
	if u.EmailConfirmedAt.IsZero() {
		if err := s.store.ConfirmEmail(ctx, u.ID, now); err != nil {
			return 0, err
		}
	}
	s.record(audit.WithActor(ctx, s.actorAs(ctx, u.ID)), "password."+string(p), audit.User(u.ID))
	return u.ID, nil
}

// checkCurrent verifies the current password of a signed-in user. It
// runs outside any unit of work: a failure is counted and audited, and a
// rolled-back unit would forget both. Too many failures are refused with
// a LimitError before any hashing.
func (s *Service) checkCurrent(ctx context.Context, userID int64, current string) (*User, error) {
	if err := s.checkCurrentAllowed(ctx, userID); err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	ok, _, err := s.hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.record(ctx, "password.check_failure", audit.User(u.ID))
		s.currentFailed(ctx, u.ID)
		return nil, errs.Fields{"current_password": "Your current password is not correct"}
	}
	return u, nil
}

// ChangePassword checks the current password, then runs changePasswordUnit
// as one unit of work (its writes and audit entries commit together or not
// at all) and returns the account as it is afterwards.
func (s *Service) ChangePassword(ctx context.Context, userID int64, current, password string) (*User, error) {
	u, err := s.checkCurrent(ctx, userID, current)
	if err != nil {
		return nil, err
	}
	return s.doThenRead(ctx, func(ctx context.Context) (int64, error) { return s.changePasswordUnit(ctx, u, password) })
}

// ChangePassword replaces the password of u, whose current password was
// checked, and revokes every session; the caller renews its own.
func (s *Service) changePasswordUnit(ctx context.Context, u *User, password string) (int64, error) {
	if msg := s.policy.Check(password, u.Email); msg != "" {
		return 0, errs.Fields{"password": msg}
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return 0, err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash, true, s.now().UTC()); err != nil {
		return 0, err
	}
	s.record(ctx, "password.change", audit.User(u.ID))
	s.send(ctx, u.Email, "Your password was changed",
		fmt.Sprintf("The password of your %s account was changed and every other signed-in device was signed out.\n\nIf you did not do this, reset your password now: %s/reset", s.cfg.SiteName, s.cfg.BaseURL))
	return u.ID, nil
}

// RequestEmailChange checks the current password and sends a link to the
// new address; the change happens when that link is opened.
func (s *Service) RequestEmailChange(ctx context.Context, userID int64, current, newEmail string) error {
	email, ok := NormalizeEmail(newEmail)
	if !ok {
		return errs.Fields{"email": "Enter an email address in the correct format, like name@example.com"}
	}
	u, err := s.checkCurrent(ctx, userID, current)
	if err != nil {
		return err
	}
	if email == u.Email {
		return errs.Fields{"email": "This is already your email address"}
	}
	plain, tok, err := newToken(u.ID, PurposeEmail, s.now().UTC(), s.cfg.ConfirmTTL)
	if err != nil {
		return err
	}
	tok.NewEmail = email
	// The token, its audit entry and both emails: one unit of work (the
	// password check before it is counted outside, see checkCurrent).
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		if err := s.store.CreateToken(ctx, tok); err != nil {
			return err
		}
		s.record(ctx, "email.change_requested", audit.User(u.ID))
		s.send(ctx, email, "Confirm your new email address",
			fmt.Sprintf("Open this link within %s to use this address for your %s account:\n\n%s\n\nIf you did not ask for this, ignore this email.", humanTTL(s.cfg.ConfirmTTL), s.cfg.SiteName, s.link("/account/email/confirm", plain)))
		s.send(ctx, u.Email, "Your email address is being changed",
			fmt.Sprintf("Someone signed in to your %s account asked to change its email address. If it was not you, reset your password now: %s/reset", s.cfg.SiteName, s.cfg.BaseURL))
		return nil
	})
}

// ConfirmEmailChange runs confirmEmailChangeUnit as one unit of work (its writes and audit
// entries commit together or not at all) and returns the account as it is
// afterwards.
func (s *Service) ConfirmEmailChange(ctx context.Context, plain string) (*User, error) {
	return s.doThenRead(ctx, func(ctx context.Context) (int64, error) { return s.confirmEmailChangeUnit(ctx, plain) })
}

// ConfirmEmailChange consumes a new-address link.
func (s *Service) confirmEmailChangeUnit(ctx context.Context, plain string) (int64, error) {
	tok, err := s.useToken(ctx, plain, PurposeEmail)
	if err != nil {
		return 0, err
	}
	if err := s.store.ChangeEmail(ctx, tok.UserID, tok.NewEmail, s.now().UTC()); err != nil {
		if errors.Is(err, ErrConflict) {
			return 0, errs.Fields{"email": "That address now belongs to another account"}
		}
		return 0, err
	}
	s.record(audit.WithActor(ctx, s.actorAs(ctx, tok.UserID)), "email.change", audit.User(tok.UserID))
	return tok.UserID, nil
}

// CreateAdmin runs createAdminUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) CreateAdmin(ctx context.Context, email, password string) (string, error) {
	var r0 string
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		var err error
		r0, err = s.createAdminUnit(ctx, email, password)
		return err
	})
	return r0, err
}

// CreateAdmin makes (or promotes) an admin account from the command line
// and returns a one-time setup link. If password is not empty it is set
// directly instead and the link is empty. The site's first admin (no
// account holds the admin role yet) is given every staff role, so that
// the operator of a new site can verify therapists and edit and review
// articles at once; later admins get the admin role only.
func (s *Service) createAdminUnit(ctx context.Context, email, password string) (link string, err error) {
	email, ok := NormalizeEmail(email)
	if !ok {
		return "", fmt.Errorf("%q is not an email address", email)
	}
	if password != "" {
		if msg := s.policy.Check(password, email); msg != "" {
			return "", errors.New(msg)
		}
	}
	ctx = audit.WithActor(ctx, audit.Actor{Who: "cli"})
	now := s.now().UTC()
	admins, err := s.store.CountWithRole(ctx, Admin)
	if err != nil {
		return "", err
	}
	grant := []Role{Admin}
	if admins == 0 {
		grant = StaffRoles()
	}
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		u = &User{Email: email, Roles: grant, EmailConfirmedAt: now, CreatedAt: now, UpdatedAt: now}
		plain, tok, terr := newToken(0, PurposeSetup, now, s.cfg.SetupTTL)
		if terr != nil {
			return "", terr
		}
		if err := s.store.CreateUser(ctx, u, tok); err != nil {
			return "", err
		}
		s.record(ctx, "account.create", audit.User(u.ID))
		for _, r := range grant {
			s.record(ctx, "role.grant", audit.User(u.ID)+" role:"+string(r))
		}
		link = s.link("/setup", plain)
	} else if err != nil {
		return "", err
	} else {
		for _, r := range grant {
			if u.Has(r) {
				continue
			}
			if err := s.store.SetRole(ctx, u.ID, r, true, 0, now); err != nil {
				return "", err
			}
			s.record(ctx, "role.grant", audit.User(u.ID)+" role:"+string(r))
		}
		// As for any privilege change, sessions begun before it end.
		if err := s.store.RevokeSessions(ctx, u.ID, now); err != nil {
			return "", err
		}
		if err := s.store.ConfirmEmail(ctx, u.ID, now); err != nil {
			return "", err
		}
		plain, tok, terr := newToken(u.ID, PurposeSetup, now, s.cfg.SetupTTL)
		if terr != nil {
			return "", terr
		}
		if err := s.store.CreateToken(ctx, tok); err != nil {
			return "", err
		}
		link = s.link("/setup", plain)
	}
	if password != "" {
		hash, err := s.hasher.Hash(ctx, password)
		if err != nil {
			return "", err
		}
		if err := s.store.SetPassword(ctx, u.ID, hash, true, now); err != nil {
			return "", err
		}
		s.record(ctx, "password.setup", audit.User(u.ID))
		return "", nil
	}
	return link, nil
}

// HasAccount reports whether an address already has an account.
func (s *Service) HasAccount(ctx context.Context, email string) (bool, error) {
	email, _ = NormalizeEmail(email)
	_, err := s.store.UserByEmail(ctx, email)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// InviteToClaim makes a therapist account for someone a register import
// listed, and emails them a one-time link, valid for ClaimTTL, to choose a
// password: opening it proves the address, and signing in shows them the
// imported profile to check and submit for verification. It runs in the
// caller's unit of work (the import's batch). The address must not have an
// account yet (HasAccount).
func (s *Service) InviteToClaim(ctx context.Context, email, name, register string) (int64, error) {
	email, ok := NormalizeEmail(email)
	if !ok {
		return 0, fmt.Errorf("%q is not an email address", email)
	}
	now := s.now().UTC()
	u := &User{Email: email, Roles: []Role{Therapist}, CreatedAt: now, UpdatedAt: now}
	plain, tok, err := newToken(0, PurposeSetup, now, s.cfg.ClaimTTL)
	if err != nil {
		return 0, err
	}
	if err := s.store.CreateUser(ctx, u, tok); err != nil {
		return 0, err
	}
	s.record(audit.WithActor(ctx, audit.Actor{Who: "system"}), "account.create", audit.User(u.ID))
	s.send(ctx, email, "Claim your listing on "+s.cfg.SiteName,
		fmt.Sprintf("Hello %s,\n\n%s lists counsellors and psychotherapists who are members of professional registers. Your %s membership means we have prepared a listing for you. It is not shown to anyone until you claim it and we have checked your membership.\n\n"+
			"To claim it, open this link within %s and choose a password (the link works once):\n\n%s\n\n"+
			"Then check your details, add anything you would like people to know, and send them for verification.\n\n"+
			"If you would rather not be listed, ignore this email: nothing about you will be published.",
			name, s.cfg.SiteName, register, humanTTL(s.cfg.ClaimTTL), s.link("/setup", plain)))
	return u.ID, nil
}

// Invite runs inviteUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) Invite(ctx context.Context, email string, roles ...Role) (*User, string, error) {
	var r0 *User
	var r1 string
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		var err error
		r0, r1, err = s.inviteUnit(ctx, email, roles...)
		return err
	})
	return r0, r1, err
}

// Invite creates a confirmed account with the given roles and returns it
// with a one-time link to choose its password (used for the demo
// therapist; an address that already has an account is refused).
func (s *Service) inviteUnit(ctx context.Context, email string, roles ...Role) (*User, string, error) {
	email, ok := NormalizeEmail(email)
	if !ok {
		return nil, "", fmt.Errorf("%q is not an email address", email)
	}
	now := s.now().UTC()
	u := &User{Email: email, Roles: roles, EmailConfirmedAt: now, CreatedAt: now, UpdatedAt: now}
	plain, tok, err := newToken(0, PurposeSetup, now, s.cfg.SetupTTL)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreateUser(ctx, u, tok); err != nil {
		return nil, "", err
	}
	s.record(audit.WithActor(ctx, audit.Actor{Who: "system"}), "account.create", audit.User(u.ID))
	return u, s.link("/setup", plain), nil
}

// SetRoles makes userID's roles exactly want, as one unit of work: if any
// change is refused (an admin removing their own admin role), none is
// applied, so the page that reports the refusal shows the roles as they
// still are.
func (s *Service) SetRoles(ctx context.Context, actorID, userID int64, want []Role) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		u, err := s.store.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		for _, r := range Roles {
			if grant := slices.Contains(want, r); grant != u.Has(r) {
				if err := s.setRoleUnit(ctx, actorID, userID, r, grant); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// setRoleUnit grants or revokes one role and ends the account's
// sessions. Admins cannot remove their own admin role, so the site can
// never be left without one by accident.
func (s *Service) setRoleUnit(ctx context.Context, actorID, userID int64, r Role, grant bool) error {
	if !grant && r == Admin && actorID == userID {
		return errs.Fields{"role": "You cannot remove your own admin role; ask another admin"}
	}
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		return err
	}
	if err := s.store.SetRole(ctx, userID, r, grant, actorID, s.now().UTC()); err != nil {
		return err
	}
	action := "role.revoke"
	if grant {
		action = "role.grant"
	}
	s.record(ctx, action, audit.User(userID)+" role:"+string(r))
	// A change of privilege, up or down, ends every session of the
	// account: roles are read per request, so no session would act on
	// stale ones, but a session id that existed before the change (one
	// that leaked, or was planted) must not carry the new privileges. The
	// account signs in again and gets a fresh id.
	return s.store.RevokeSessions(ctx, userID, s.now().UTC())
}

// SetDisabled runs setDisabledUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) SetDisabled(ctx context.Context, actorID, userID int64, disabled bool) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error { return s.setDisabledUnit(ctx, actorID, userID, disabled) })
}

// SetDisabled disables or re-enables an account; disabling revokes every
// session.
func (s *Service) setDisabledUnit(ctx context.Context, actorID, userID int64, disabled bool) error {
	if actorID == userID && disabled {
		return errs.Fields{"disabled": "You cannot disable your own account"}
	}
	if err := s.store.SetDisabled(ctx, userID, disabled, s.now().UTC()); err != nil {
		return err
	}
	action := "account.enable"
	if disabled {
		action = "account.disable"
	}
	s.record(ctx, action, audit.User(userID))
	return nil
}

// SignOutEverywhere revokes every session of the account; the revocation
// and its audit entry are one unit of work.
func (s *Service) SignOutEverywhere(ctx context.Context, userID int64) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		if err := s.store.RevokeSessions(ctx, userID, s.now().UTC()); err != nil {
			return err
		}
		s.record(ctx, "signout", audit.User(userID))
		return nil
	})
}

// Current returns the account for a session, or ErrNotFound when the
// account no longer exists, is disabled, or its sessions were revoked
// after this one began.
func (s *Service) Current(ctx context.Context, userID, epoch int64) (*User, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Disabled() || u.SessionEpoch != epoch {
		return nil, fmt.Errorf("session of user %d revoked: %w", userID, ErrNotFound)
	}
	return u, nil
}

// User returns an account by id.
func (s *Service) User(ctx context.Context, id int64) (*User, error) {
	return s.store.UserByID(ctx, id)
}

// Users lists accounts whose email contains q (all when q is empty).
func (s *Service) Users(ctx context.Context, q string, limit int) ([]User, error) {
	return s.store.Users(ctx, strings.ToLower(strings.TrimSpace(q)), limit)
}
