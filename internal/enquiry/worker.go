package enquiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// OutboxStore is the outbox's persistence. Claims are leases: a worker
// that dies mid-send loses its lease and another worker sends again (the
// shared Message-ID lets the recipient's mail system see the duplicate).
type OutboxStore interface {
	ClaimOutbox(ctx context.Context, owner string, now, leaseUntil time.Time) (*Outbox, error)
	FinishOutbox(ctx context.Context, id string, now time.Time) error
	RetryOutbox(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error
	KillOutbox(ctx context.Context, id string, attempts int, lastErr string, now time.Time) error
	EnquiryByID(ctx context.Context, id string) (*Enquiry, error)
}

// Message is one email to send.
type Message struct {
	ID, To, Subject, Body string
}

// Sender delivers one email now. An error that reports Permanent() true
// (an SMTP 5xx) will not succeed on retry.
type Sender interface {
	SendMessage(ctx context.Context, m Message) error
}

// OwnerEmails finds where to write to a profile's therapist.
type OwnerEmails interface {
	OwnerEmail(ctx context.Context, p *directory.Profile) string
}

// Worker sends outbox messages with retries, exponential backoff with
// jitter, and a dead-letter state.
type Worker struct {
	Store    OutboxStore
	Sender   Sender
	Keys     *Keyring
	Profiles Profiles
	Owners   OwnerEmails
	Now      func() time.Time
	Log      *slog.Logger
	Owner    string // this worker's name in leases
	SiteName string
	BaseURL  string
	// CrisisLines are the configured crisis lines, as every page shows
	// them; the sender's receipt repeats them.
	CrisisLines []string
	// Lease is how long a claimed message is ours; Poll how often to look
	// for work; Base and Cap bound the backoff; MaxTemporary and
	// MaxPermanent are how many attempts before a message is dead.
	Lease, Poll, Base, Cap     time.Duration
	MaxTemporary, MaxPermanent int
}

// permanent reports whether err will not succeed on retry.
func permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// safeError keeps only an SMTP status from an error: the server's text
// can echo an address, which must not be stored.
func safeError(err error) string {
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return c.Code()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "connection error"
}

func (w *Worker) backoff(attempt int) time.Duration {
	d := w.Base << min(attempt, 20)
	if d <= 0 || d > w.Cap {
		d = w.Cap
	}
	// Full jitter between half and the whole delay spreads retries out.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Run sends due messages until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Error("outbox", "err", err)
		}
		if n == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(w.Poll):
			}
		}
	}
}

// RunOnce sends every message that is due now and returns how many it
// attempted.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	var n int
	for ctx.Err() == nil {
		now := w.Now().UTC()
		m, err := w.Store.ClaimOutbox(ctx, w.Owner, now, now.Add(w.Lease))
		if errors.Is(err, ErrNotFound) {
			return n, nil
		} else if err != nil {
			return n, err
		}
		n++
		w.attempt(ctx, m)
	}
	return n, ctx.Err()
}

func (w *Worker) attempt(ctx context.Context, m *Outbox) {
	msg, err := w.render(ctx, m)
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, w.Lease/2)
		err = w.Sender.SendMessage(sendCtx, msg)
		cancel()
	}
	now := w.Now().UTC()
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the message is retried
	}
	attempts := m.Attempts + 1
	switch {
	case err == nil:
		if err := w.Store.FinishOutbox(ctx, m.ID, now); err != nil {
			w.Log.Error("outbox finish", "message", m.ID, "err", err)
		}
		w.Log.Info("email sent", "message", m.ID, "kind", m.Kind, "attempts", attempts)
	case errors.Is(err, errUndeliverable) || (permanent(err) && attempts >= w.MaxPermanent) || attempts >= w.MaxTemporary:
		if err := w.Store.KillOutbox(ctx, m.ID, attempts, safeError(err), now); err != nil {
			w.Log.Error("outbox dead-letter", "message", m.ID, "err", err)
		}
		w.Log.Warn("email given up: in the dead-letter list", "message", m.ID, "kind", m.Kind, "attempts", attempts, "error", safeError(err))
	default:
		next := now.Add(w.backoff(attempts))
		if err := w.Store.RetryOutbox(ctx, m.ID, attempts, next, safeError(err)); err != nil {
			w.Log.Error("outbox retry", "message", m.ID, "err", err)
		}
		w.Log.Warn("email send failed; will retry", "message", m.ID, "kind", m.Kind, "attempts", attempts, "error", safeError(err), "retry_at", next)
	}
}

// errUndeliverable is a message with nobody to send it to (the
// enquiry's profile lost its owner).
var errUndeliverable = errors.New("no recipient")

// render writes an email. No email ever contains what the sender wrote.
func (w *Worker) render(ctx context.Context, m *Outbox) (Message, error) {
	if m.Kind == MsgMail {
		msg, err := w.openMail(m)
		if err == nil && strings.ContainsAny(msg.To, "\r\n") {
			err = errUndeliverable
		}
		return msg, err
	}
	e, err := w.Store.EnquiryByID(ctx, m.EnquiryID)
	if err != nil {
		return Message{}, err
	}
	p, err := w.Profiles.ProfileByID(ctx, e.ProfileID)
	if err != nil {
		return Message{}, err
	}
	msg := Message{ID: m.ID}
	switch m.Kind {
	case MsgTherapistNotice, MsgReminder:
		if msg.To = w.Owners.OwnerEmail(ctx, p); msg.To == "" {
			return msg, errUndeliverable
		}
		if m.Kind == MsgReminder {
			msg.Subject = "An enquiry is waiting for your reply"
			msg.Body = fmt.Sprintf("You received an enquiry through %s on %s and have not marked it as replied. People who write are often waiting anxiously; even a short reply helps.\n\nSign in to read it: %s/dashboard/enquiries\n\n(For the sender's privacy we never put their message in an email.)",
				w.SiteName, e.CreatedAt.Format("2 January 2006"), w.BaseURL)
		} else {
			msg.Subject = "You have a new enquiry"
			msg.Body = fmt.Sprintf("Someone has sent you an enquiry through %s.\n\nSign in to read it: %s/dashboard/enquiries\n\n(For the sender's privacy we never put their message in an email.)", w.SiteName, w.BaseURL)
		}
	case MsgSenderReceipt:
		b, err := w.Keys.Open(e.ID, e.Sealed)
		if err != nil {
			return msg, fmt.Errorf("%w (%v)", errUndeliverable, err)
		}
		var c Content
		if err := jsonUnmarshal(b, &c); err != nil {
			return msg, errUndeliverable
		}
		msg.To = c.Email
		msg.Subject = "Your enquiry has been sent"
		msg.Body = fmt.Sprintf("Your enquiry to %s has been sent. Your reference is %s.\n\nTherapists usually reply by email. Many reply within a few days; if you do not hear back, it is fine to contact other therapists too.\n\nIf you would like us to delete your enquiry, open this link: %s%s",
			p.DisplayName, e.Reference(), w.BaseURL, ErasureLink(w.Keys, e.ID))
		if len(w.CrisisLines) > 0 {
			msg.Body += "\n\nIf you need help now:\n" + strings.Join(w.CrisisLines, "\n")
		}
	default:
		return msg, fmt.Errorf("outbox kind %q: %w", m.Kind, errUndeliverable)
	}
	if strings.ContainsAny(msg.To, "\r\n") {
		return msg, errUndeliverable
	}
	return msg, nil
}
