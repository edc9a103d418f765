package enquiry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
)

// Profiles reads the profile an enquiry is for.
type Profiles interface {
	ProfileByID(ctx context.Context, id int64) (*directory.Profile, error)
}

// Auditor appends to the audit log.
type Auditor interface {
	Record(ctx context.Context, action, object string) error
}

// IdemFinder finds an enquiry by its form's idempotency key.
type IdemFinder interface {
	EnquiryByIdem(ctx context.Context, key string) (*Enquiry, error)
}

// Config holds the enquiry settings.
type Config struct {
	// MinFill is the least time between showing the form and sending it;
	// faster submissions are taken as automated.
	MinFill time.Duration
	// Retention is how long after the last activity an enquiry is kept.
	Retention time.Duration
	// PerTherapistDay and PerSenderDay are the daily limits.
	PerTherapistDay, PerSenderDay int
	// ReminderAfter is when an unanswered enquiry gets one reminder.
	ReminderAfter time.Duration
}

// DefaultConfig is the documented behaviour.
var DefaultConfig = Config{MinFill: 3 * time.Second, Retention: 365 * 24 * time.Hour, PerTherapistDay: 20, PerSenderDay: 3, ReminderAfter: 3 * 24 * time.Hour}

// Service carries out enquiry actions.
type Service struct {
	// Tx makes each enquiry, its emails and its audit entry one unit of
	// work (the store); nil runs them one by one.
	Tx       commit.Runner
	Config   Config
	Store    Store
	Idem     IdemFinder
	Keys     *Keyring
	Profiles Profiles
	Audit    Auditor
	Now      func() time.Time
	Log      *slog.Logger
}

func (s *Service) record(ctx context.Context, action, object string) {
	if err := s.Audit.Record(ctx, action, object); err != nil {
		s.Log.ErrorContext(ctx, "audit", "err", err)
	}
}

// Open decrypts an enquiry's content in place.
func (s *Service) Open(e *Enquiry) error {
	b, err := s.Keys.Open(e.ID, e.Sealed)
	if err != nil {
		return fmt.Errorf("enquiry %s: %w", e.ID, err)
	}
	var c Content
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("enquiry %s: %w", e.ID, ErrOpen)
	}
	e.Content = &c
	return nil
}

// Submission is one sent form.
type Submission struct {
	ProfileID int64
	Token     string
	Honeypot  string
	Consent   string
	Content   Content
}

// Submit runs submitUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) Submit(ctx context.Context, sub Submission) (*Enquiry, error) {
	var r0 *Enquiry
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		var err error
		r0, err = s.submitUnit(ctx, sub)
		return err
	})
	return r0, err
}

// Submit checks and stores an enquiry. The returned enquiry (its
// Reference is the sender's receipt) is durably stored with its outbox
// messages before Submit returns. A resubmitted form returns the enquiry
// it already created.
func (s *Service) submitUnit(ctx context.Context, sub Submission) (*Enquiry, error) {
	now := s.Now().UTC()
	p, err := s.Profiles.ProfileByID(ctx, sub.ProfileID)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, ErrClosed
	} else if err != nil {
		return nil, err
	}
	if !p.IsPublic(now) || p.OwnerID == 0 {
		return nil, ErrClosed
	}
	if sub.Honeypot != "" {
		return nil, fmt.Errorf("honeypot filled: %w", ErrSpam)
	}
	tok, ok := ParseToken(s.Keys, sub.Token)
	switch {
	case !ok:
		return nil, fmt.Errorf("bad form token: %w", ErrSpam)
	case now.Sub(tok.Issued) < s.Config.MinFill:
		return nil, fmt.Errorf("sent %v after the form was shown: %w", now.Sub(tok.Issued), ErrSpam)
	case now.Sub(tok.Issued) > 24*time.Hour:
		return nil, FieldErrors{"form": "This form has expired. Your message is still in the box below: send it again."}
	}
	c := sub.Content
	if err := Check(&c, sub.Consent, p.Formats); err != nil {
		return nil, err
	}
	// The token is bound to what it was first used for: the same words to
	// the same therapist again (a double click, a retry after a timeout)
	// are the same enquiry; anything else is refused, never dropped.
	digest := s.Keys.Sign("form-content", strconv.FormatInt(p.ID, 10)+"\x00"+sub.Consent+"\x00"+string(marshal(&c)))
	if prior, err := s.Idem.EnquiryByIdem(ctx, tok.IdemKey); err == nil {
		return samePrior(prior, digest)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	day := now.Add(-24 * time.Hour)
	if n, err := s.Store.CountToProfileSince(ctx, p.ID, day); err != nil {
		return nil, err
	} else if n >= s.Config.PerTherapistDay {
		return nil, &errs.LimitError{Limit: "therapist", RetryAfter: 24 * time.Hour}
	}
	hash := s.Keys.HashEmail(c.Email)
	if n, err := s.Store.CountFromSenderSince(ctx, hash, day); err != nil {
		return nil, err
	} else if n >= s.Config.PerSenderDay {
		return nil, &errs.LimitError{Limit: "sender", RetryAfter: 24 * time.Hour}
	}
	e := &Enquiry{ID: NewID(), ProfileID: p.ID, IdemKey: tok.IdemKey, IdemDigest: digest, SenderHash: hash, ConsentVersion: sub.Consent, ConsentAt: now,
		Status: New, CreatedAt: now, LastActivityAt: now}
	e.Sealed = s.Keys.Seal(e.ID, marshal(&c))
	out := []Outbox{
		{ID: NewID(), EnquiryID: e.ID, Kind: MsgTherapistNotice, NextAttempt: now, Status: "pending", CreatedAt: now},
		{ID: NewID(), EnquiryID: e.ID, Kind: MsgSenderReceipt, NextAttempt: now, Status: "pending", CreatedAt: now},
	}
	stored, err := s.Store.InsertEnquiry(ctx, e, out)
	if errors.Is(err, ErrDuplicate) {
		return samePrior(stored, digest)
	} else if err != nil {
		return nil, err
	}
	s.record(ctx, "enquiry.create", fmt.Sprintf("profile:%d enquiry:%s", p.ID, e.ID))
	return stored, nil
}

// samePrior answers a form token that was used before: with the enquiry
// it made, if this is the same message again, else ErrFormUsed.
func samePrior(prior *Enquiry, digest string) (*Enquiry, error) {
	if prior.IdemDigest != "" && prior.IdemDigest != digest {
		return nil, ErrFormUsed
	}
	return prior, nil
}

// own loads an enquiry for a therapist's profile; anyone else's is "not
// found".
func (s *Service) own(ctx context.Context, profileID int64, id string) (*Enquiry, error) {
	e, err := s.Store.EnquiryByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.ProfileID != profileID {
		return nil, fmt.Errorf("enquiry %s is not for profile %d: %w", id, profileID, ErrNotFound)
	}
	return e, nil
}

// Inbox lists a profile's enquiries, newest first, opened. One that
// cannot be decrypted is listed with nil Content and logged loudly.
func (s *Service) Inbox(ctx context.Context, profileID int64) ([]Enquiry, error) {
	es, err := s.Store.EnquiriesFor(ctx, profileID)
	if err != nil {
		return nil, err
	}
	for i := range es {
		if err := s.Open(&es[i]); err != nil {
			s.Log.ErrorContext(ctx, "enquiry cannot be decrypted", "enquiry", es[i].ID, "err", err)
		}
	}
	return es, nil
}

// Read runs readUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) Read(ctx context.Context, profileID int64, id string) (*Enquiry, error) {
	var r0 *Enquiry
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		var err error
		r0, err = s.readUnit(ctx, profileID, id)
		return err
	})
	return r0, err
}

// Read opens one enquiry for its therapist, marks it read and audits the
// access.
func (s *Service) readUnit(ctx context.Context, profileID int64, id string) (*Enquiry, error) {
	e, err := s.own(ctx, profileID, id)
	if err != nil {
		return nil, err
	}
	if err := s.Open(e); err != nil {
		s.record(ctx, "enquiry.read_failed", "enquiry:"+e.ID)
		return nil, err
	}
	if e.Status == New {
		if err := s.Store.SetEnquiryStatus(ctx, e.ID, Read, s.Now().UTC()); err != nil {
			return nil, err
		}
		e.Status = Read
	}
	s.record(ctx, "enquiry.read", "enquiry:"+e.ID)
	return e, nil
}

// SetStatus runs setStatusUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) SetStatus(ctx context.Context, profileID int64, id string, st Status) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error { return s.setStatusUnit(ctx, profileID, id, st) })
}

// SetStatus marks an enquiry replied or archived.
func (s *Service) setStatusUnit(ctx context.Context, profileID int64, id string, st Status) error {
	if st != Replied && st != Archived {
		return fmt.Errorf("status %q: %w", st, ErrNotFound)
	}
	e, err := s.own(ctx, profileID, id)
	if err != nil {
		return err
	}
	if err := s.Store.SetEnquiryStatus(ctx, e.ID, st, s.Now().UTC()); err != nil {
		return err
	}
	s.record(ctx, "enquiry."+string(st), "enquiry:"+e.ID)
	return nil
}

// Erase runs eraseUnit as one unit of work: its writes and audit
// entries commit together or not at all.
func (s *Service) Erase(ctx context.Context, id, sig string) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error { return s.eraseUnit(ctx, id, sig) })
}

// Erase deletes an enquiry (row and data key) at its sender's request,
// given a signature from their confirmation email.
func (s *Service) eraseUnit(ctx context.Context, id, sig string) error {
	if !s.Keys.Verify("erase", id, sig) {
		return fmt.Errorf("erasure link: %w", ErrNotFound)
	}
	if err := s.Store.DeleteEnquiry(ctx, id); err != nil {
		return err
	}
	s.record(ctx, "enquiry.erase", "enquiry:"+id)
	return nil
}

// RunRetention deletes enquiries inactive for longer than the retention
// period.
func (s *Service) RunRetention(ctx context.Context) (int, error) {
	return s.Store.DeleteInactiveBefore(ctx, s.Now().UTC().Add(-s.Config.Retention))
}

// RunReminders queues one reminder for each enquiry unanswered after
// ReminderAfter.
func (s *Service) RunReminders(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	es, err := s.Store.UnansweredBefore(ctx, now.Add(-s.Config.ReminderAfter))
	if err != nil {
		return 0, err
	}
	for _, e := range es {
		out := Outbox{ID: NewID(), EnquiryID: e.ID, Kind: MsgReminder, NextAttempt: now, Status: "pending", CreatedAt: now}
		if err := s.Store.MarkReminded(ctx, e.ID, out, now); err != nil {
			return 0, err
		}
	}
	return len(es), nil
}

// Responsiveness is what a profile says about replies.
type Responsiveness struct {
	Known       bool // at least MinForStats enquiries in the window
	Median      time.Duration
	Rate        float64 // replied / received
	Enquiries   int
	WindowStart time.Time
}

// MinForStats is how many enquiries a profile needs before its response
// figures are shown; fewer would say too little, or too much about one
// sender.
const MinForStats = 5

// StatsWindow is the period response figures cover.
const StatsWindow = 90 * 24 * time.Hour

// Responsiveness computes a profile's response figures over StatsWindow.
func (s *Service) Responsiveness(ctx context.Context, profileID int64) (Responsiveness, error) {
	since := s.Now().UTC().Add(-StatsWindow)
	st, err := s.Store.ResponseStats(ctx, profileID, since)
	if err != nil {
		return Responsiveness{}, err
	}
	r := Responsiveness{Enquiries: st.Enquiries, WindowStart: since}
	if st.Enquiries < MinForStats {
		return r, nil
	}
	r.Known = true
	r.Rate = float64(st.Replied) / float64(st.Enquiries)
	if n := len(st.FirstResponses); n > 0 {
		ds := slices.Clone(st.FirstResponses)
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		if n%2 == 1 {
			r.Median = ds[n/2]
		} else {
			r.Median = (ds[n/2-1] + ds[n/2]) / 2
		}
	}
	return r, nil
}

// RotateKeys re-wraps every data key under the keyring's current key.
func RotateKeys(ctx context.Context, st Store, kr *Keyring) (int, error) {
	return st.AllSealed(ctx, func(id string, s Sealed) (Sealed, bool, error) {
		if s.KeyID == kr.Current() {
			return s, false, nil
		}
		n, err := kr.Rewrap(id, s)
		return n, err == nil, err
	})
}
