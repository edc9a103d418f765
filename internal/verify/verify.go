package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
)

// Status is where a verification request stands.
type Status string

// The request statuses.
const (
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusChanges   Status = "changes_requested"
	StatusWithdrawn Status = "withdrawn"
)

// CheckInterval is the longest a verification lasts: a check is due again
// after twelve months, or sooner when the insurance expires first.
const CheckInterval = 12

// Request is evidence a therapist submitted and what became of it.
type Request struct {
	ID        int64
	ProfileID int64
	// Name is the person the verifier must find on the register: the
	// name the therapist uses now, which the profile shows only once a
	// verifier has approved it.
	Name             string
	Body             string
	Number           string
	Level            string
	Insurer          string
	InsuranceExpires time.Time // a calendar date
	Qualification    string
	Status           Status
	SubmittedAt      time.Time
	DecidedAt        time.Time
	DecidedBy        int64
	// Reason is the verifier's explanation, shown to the therapist.
	Reason string
}

// Due is a verified profile whose check falls due on or before a date.
type Due struct {
	ProfileID int64
	Due       time.Time
}

// Store is what verification needs from persistence.
type Store interface {
	// SubmitRequest withdraws the profile's earlier pending requests and
	// stores r, in one transaction.
	SubmitRequest(ctx context.Context, r *Request) error
	// WithdrawRequests withdraws the profile's pending requests.
	WithdrawRequests(ctx context.Context, profileID int64, now time.Time) error
	RequestByID(ctx context.Context, id int64) (*Request, error)
	LatestRequest(ctx context.Context, profileID int64) (*Request, error)
	Requests(ctx context.Context, status Status, limit int) ([]Request, error)
	// DecideRequest moves a pending request to status; a request that is
	// no longer pending gives directory.ErrConflict.
	DecideRequest(ctx context.Context, id int64, status Status, by int64, reason string, now time.Time) error
	// VerifiedDueBy lists verified profiles whose check is due on or
	// before date.
	VerifiedDueBy(ctx context.Context, date time.Time) ([]Due, error)
	// ClaimReminder records that a reminder is being sent; false means it
	// was sent already (perhaps by another replica).
	ClaimReminder(ctx context.Context, profileID int64, due time.Time, kind string, now time.Time) (bool, error)
	ReleaseReminder(ctx context.Context, profileID int64, due time.Time, kind string) error
}

// Profiles reads and writes profiles through the directory, so that every
// change is validated and reaches search at once.
type Profiles interface {
	ProfileByID(ctx context.Context, id int64) (*directory.Profile, error)
	Create(ctx context.Context, p *directory.Profile) error
	Update(ctx context.Context, p *directory.Profile) error
	// Prepare normalises and validates p without storing it.
	Prepare(p *directory.Profile) error
}

// Mailer sends one plain-text email.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Auditor appends to the audit log.
type Auditor interface {
	Record(ctx context.Context, action, object string) error
}

// Owners says where to write to a profile's therapist.
type Owners interface {
	OwnerEmail(ctx context.Context, p *directory.Profile) string
}

// Service carries out verification.
type Service struct {
	// Tx makes each decision, its audit entry and its email one unit of
	// work (the store); nil runs them one by one.
	Tx        commit.Runner
	Registers *Registers
	Store     Store
	Profiles  Profiles
	Mail      Mailer
	Audit     Auditor
	Owners    Owners
	Now       func() time.Time
	Log       *slog.Logger
	SiteName  string
	BaseURL   string
}

// Evidence is what a therapist types into the evidence form.
type Evidence struct {
	Body, Number, Level, Insurer, InsuranceExpires, Qualification string
}

// FieldErrors reports problems with what was typed, field by field: the
// one field-error shape, errs.Fields.
type FieldErrors = errs.Fields

func plainText(s string, minN, maxN int) bool {
	n := utf8.RuneCountInString(s)
	return n >= minN && n <= maxN && utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

func today(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Check validates evidence and returns the request it makes.
func (s *Service) Check(ev Evidence, now time.Time) (*Request, error) {
	fe := FieldErrors{}
	r := &Request{
		Body:          strings.ToLower(strings.TrimSpace(ev.Body)),
		Number:        NormalizeNumber(ev.Number),
		Level:         strings.Join(strings.Fields(ev.Level), " "),
		Insurer:       strings.Join(strings.Fields(ev.Insurer), " "),
		Qualification: strings.Join(strings.Fields(ev.Qualification), " "),
	}
	reg, ok := s.Registers.Get(r.Body)
	if !ok {
		fe["body"] = "Choose your professional body from the list"
	}
	switch {
	case r.Number == "":
		fe["number"] = "Enter your membership or registration number"
	case ok && !reg.Valid(r.Number):
		fe["number"] = fmt.Sprintf("This does not look like a %s number (%s)", reg.Name, reg.Hint)
	}
	if r.Level != "" && !plainText(r.Level, 1, directory.MaxLevelLen) {
		fe["level"] = fmt.Sprintf("Membership level must be %d characters or fewer", directory.MaxLevelLen)
	}
	if !plainText(r.Insurer, 2, 100) {
		fe["insurer"] = "Enter the name of your professional indemnity insurer (2 to 100 characters)"
	}
	if !plainText(r.Qualification, 2, 160) {
		fe["qualification"] = "Enter your highest relevant qualification (2 to 160 characters), like \"MA Psychodynamic Counselling\""
	}
	exp, err := time.Parse(time.DateOnly, strings.TrimSpace(ev.InsuranceExpires))
	switch {
	case err != nil:
		fe["insurance_expires"] = "Enter the date your insurance ends, like 2027-03-31"
	case !exp.After(today(now)):
		fe["insurance_expires"] = "Your insurance must still be in force: the end date has to be after today"
	case exp.After(today(now).AddDate(3, 0, 0)):
		fe["insurance_expires"] = "Insurance end date must be within three years"
	}
	r.InsuranceExpires = exp
	if len(fe) > 0 {
		return nil, fe
	}
	return r, nil
}

// Submit runs submitUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) Submit(ctx context.Context, p *directory.Profile, ev Evidence) (*Request, error) {
	var r0 *Request
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		var err error
		r0, err = s.submitUnit(ctx, p, ev)
		return err
	})
	return r0, err
}

// Submit stores evidence for a profile and marks it pending. A profile
// that is verified now stays public while its new evidence waits, showing
// what was checked; if the evidence changes a checked detail, the public
// record says the details are being re-checked. The request carries the
// name the therapist now asks to be known by, which may still wait for a
// verifier itself.
func (s *Service) submitUnit(ctx context.Context, p *directory.Profile, ev Evidence) (*Request, error) {
	if p.Verification.State == directory.Suspended {
		return nil, FieldErrors{"body": "Your profile is suspended; contact us before submitting new evidence"}
	}
	now := s.Now().UTC()
	r, err := s.Check(ev, now)
	if err != nil {
		return nil, err
	}
	if _, held := p.MembershipOf(r.Body); !held && len(p.Memberships) >= directory.MaxMemberships {
		return nil, FieldErrors{"body": fmt.Sprintf("A profile can show at most %d memberships, and yours has that many already", directory.MaxMemberships)}
	}
	latest, err := s.latest(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	r.ProfileID, r.Name, r.Status, r.SubmittedAt = p.ID, wantedName(p, latest), StatusPending, now
	if err := s.Store.SubmitRequest(ctx, r); err != nil {
		return nil, err
	}
	was := p.Verification
	if p.Verification.State != directory.Verified {
		p.Verification.State = directory.Pending
	}
	markHeld(p, r, now)
	if p.Verification != was {
		if err := s.Profiles.Update(ctx, p); err != nil {
			return nil, err
		}
	}
	s.record(ctx, "verification.submit", audit.Profile(p.ID)+fmt.Sprintf(" request:%d", r.ID))
	return r, nil
}

func (s *Service) record(ctx context.Context, action, object string) {
	if err := s.Audit.Record(ctx, action, object); err != nil {
		s.Log.ErrorContext(ctx, "audit", "err", err)
	}
}

// notify writes to the profile's therapist and reports whether an email
// was queued (profiles loaded by staff or the demo have nobody to tell).
func (s *Service) notify(ctx context.Context, p *directory.Profile, subject, body string) bool {
	to := s.Owners.OwnerEmail(ctx, p)
	if to == "" {
		return false
	}
	if err := s.Mail.Send(ctx, to, subject, body); err != nil {
		s.Log.ErrorContext(ctx, "queue email", "subject", subject, "err", err)
		return false
	}
	return true
}

// NextCheckDue is the earlier of the insurance end date and twelve months
// after verification.
func NextCheckDue(verified, insuranceExpires time.Time) time.Time {
	due := today(verified).AddDate(0, CheckInterval, 0)
	if ins := today(insuranceExpires); ins.Before(due) {
		return ins
	}
	return due
}

// Decision is what a verifier decides.
type Decision string

// The decisions.
const (
	Approve        Decision = "approve"
	Reject         Decision = "reject"
	RequestChanges Decision = "changes"
)

// Decide runs decideUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) Decide(ctx context.Context, verifierID, requestID int64, d Decision, reason string) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error { return s.decideUnit(ctx, verifierID, requestID, d, reason) })
}

// Decide records a verifier's decision on a pending request. Approving
// makes the name and membership in the request the profile's verified
// ones (see approve); rejecting or asking for changes needs a reason,
// which the therapist sees.
func (s *Service) decideUnit(ctx context.Context, verifierID, requestID int64, d Decision, reason string) error {
	reason = strings.TrimSpace(strings.ReplaceAll(reason, "\r\n", "\n"))
	if utf8.RuneCountInString(reason) > 2000 || !utf8.ValidString(reason) {
		return FieldErrors{"reason": "Reason must be 2000 characters or fewer"}
	}
	status := map[Decision]Status{Approve: StatusApproved, Reject: StatusRejected, RequestChanges: StatusChanges}[d]
	if status == "" {
		return FieldErrors{"decision": "Choose approve, reject or ask for changes"}
	}
	if d != Approve && reason == "" {
		return FieldErrors{"reason": "Tell the therapist why, so they know what to do next"}
	}
	r, err := s.Store.RequestByID(ctx, requestID)
	if err != nil {
		return err
	}
	p, err := s.Profiles.ProfileByID(ctx, r.ProfileID)
	if err != nil {
		return err
	}
	if r.Status != StatusPending {
		return fmt.Errorf("request %d is %s: %w", r.ID, r.Status, directory.ErrConflict)
	}
	if d == Approve && !r.InsuranceExpires.After(today(s.Now())) {
		return FieldErrors{"decision": "The insurance in this evidence has expired; ask for changes instead"}
	}
	now := s.Now().UTC()
	if err := s.Store.DecideRequest(ctx, r.ID, status, verifierID, reason, now); err != nil {
		return err
	}
	switch d {
	case Approve:
		approve(p, r, now)
	default:
		if p.Verification.State == directory.Pending {
			p.Verification.State = directory.Unverified
		}
		// A changed detail the verifier could not confirm is dropped:
		// the checked details stand, without the re-checking note.
		p.Verification.DetailsChangedAt = time.Time{}
	}
	if err := s.Profiles.Update(ctx, p); err != nil {
		return err
	}
	s.record(ctx, "verification."+string(status), audit.Profile(p.ID)+fmt.Sprintf(" request:%d", r.ID))
	switch d {
	case Approve:
		s.notify(ctx, p, "Your credentials have been verified",
			fmt.Sprintf("We checked your %s membership and your profile is now verified. Your next check is due on %s.\n\nIf your profile is published, it appears in search now: %s/dashboard", strings.ToUpper(r.Body), p.Verification.NextCheckDue.Format("2 January 2006"), s.BaseURL))
	default:
		s.notify(ctx, p, "About your verification",
			fmt.Sprintf("We could not verify your credentials yet. Sign in to see the verifier's message and what to do next: %s/dashboard", s.BaseURL))
	}
	return nil
}

// Suspend runs suspendUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) Suspend(ctx context.Context, profileID int64) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error { return s.suspendUnit(ctx, profileID) })
}

// Suspend takes a profile out of search at once, whatever its state.
func (s *Service) suspendUnit(ctx context.Context, profileID int64) error {
	p, err := s.Profiles.ProfileByID(ctx, profileID)
	if err != nil {
		return err
	}
	p.Verification.State = directory.Suspended
	if err := s.Profiles.Update(ctx, p); err != nil {
		return err
	}
	s.record(ctx, "profile.suspend", audit.Profile(p.ID))
	return nil
}

// Reinstate runs reinstateUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) Reinstate(ctx context.Context, profileID int64) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error { return s.reinstateUnit(ctx, profileID) })
}

// Reinstate lifts a suspension: the profile is verified again if its last
// check is still current, and unverified otherwise.
func (s *Service) reinstateUnit(ctx context.Context, profileID int64) error {
	p, err := s.Profiles.ProfileByID(ctx, profileID)
	if err != nil {
		return err
	}
	if p.Verification.State != directory.Suspended {
		return fmt.Errorf("profile %d is not suspended: %w", profileID, directory.ErrConflict)
	}
	v := &p.Verification
	switch {
	case !v.VerifiedAt.IsZero() && len(p.Memberships) > 0 && !directory.CheckOverdue(v.NextCheckDue, s.Now()):
		v.State = directory.Verified
	case !v.VerifiedAt.IsZero():
		v.State = directory.Expired
	default:
		v.State = directory.Unverified
	}
	if err := s.Profiles.Update(ctx, p); err != nil {
		return err
	}
	s.record(ctx, "profile.reinstate", audit.Profile(p.ID))
	return nil
}

// Reminder kinds, in the order they are sent.
const (
	Remind30 = "30d"
	Remind7  = "7d"
	Expiry   = "expired"
)

// RunChecks sends reminders 30 and 7 days before each verified profile's
// next check, and expires profiles whose check has passed (taking them out
// of search and telling the therapist how to re-verify). It is safe to run
// on every replica at once: each email is claimed in the database first.
func (s *Service) RunChecks(ctx context.Context) (reminded, expired int, err error) {
	now := s.Now().UTC()
	due, err := s.Store.VerifiedDueBy(ctx, today(now).AddDate(0, 0, 30))
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, d := range due {
		var r, e bool
		// One unit per profile: the claim, the expiry, its audit entry
		// and its email commit together, so a crash leaves nothing half
		// done for the next run to trip over.
		err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
			var err error
			r, e, err = s.checkOne(ctx, d, now)
			return err
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r {
			reminded++
		}
		if e {
			expired++
		}
	}
	return reminded, expired, errors.Join(errs...)
}

// checkOne sends the reminder due for one profile, or expires it.
func (s *Service) checkOne(ctx context.Context, d Due, now time.Time) (reminded, expired bool, err error) {
	days := int(today(d.Due).Sub(today(now)).Hours() / 24)
	kind := Remind30
	switch {
	case directory.CheckOverdue(d.Due, now):
		kind = Expiry
	case days <= 7:
		kind = Remind7
	}
	claimed, err := s.Store.ClaimReminder(ctx, d.ProfileID, d.Due, kind, now)
	if err != nil {
		return false, false, err
	}
	if !claimed && kind != Expiry {
		return false, false, nil
	}
	p, err := s.Profiles.ProfileByID(ctx, d.ProfileID)
	if err != nil {
		return false, false, err
	}
	if kind == Expiry {
		p.Verification.State = directory.Expired
		if err := s.Profiles.Update(ctx, p); err != nil {
			if s.Tx == nil {
				_ = s.Store.ReleaseReminder(ctx, d.ProfileID, d.Due, kind)
			}
			return false, false, err
		}
		s.record(audit.WithActor(ctx, audit.Actor{Who: "system"}), "verification.expire", audit.Profile(p.ID))
		if claimed {
			s.notify(ctx, p, "Your profile has left the directory until you re-verify",
				fmt.Sprintf("Your credentials check was due on %s and has not been renewed, so your profile is no longer shown in search.\n\nTo come back, sign in and submit up-to-date evidence (membership number and insurance): %s/dashboard/verification\n\nA verifier will check it against your professional body's register.", d.Due.Format("2 January 2006"), s.BaseURL))
		}
		return false, true, nil
	}
	sent := s.notify(ctx, p, fmt.Sprintf("Your credentials check is due on %s", d.Due.Format("2 January 2006")),
		fmt.Sprintf("Your %s profile needs a fresh credentials check by %s (in %d days). After that date it leaves search until it is re-verified.\n\nSubmit up-to-date evidence here: %s/dashboard/verification", s.SiteName, d.Due.Format("2 January 2006"), days, s.BaseURL))
	return sent, false, nil
}
