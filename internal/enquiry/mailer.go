package enquiry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MailStore keeps sealed emails in the outbox.
type MailStore interface {
	InsertMail(ctx context.Context, o Outbox) error
}

// Mailer is how every part of Confide sends email: it seals the message
// (a sign-in or reset link is as good as a password while it lasts) and
// writes it to the durable outbox, from which the outbox worker of
// whichever replica claims it delivers it, with retries, across restarts.
// Nothing waits only in memory. Its Send has the same shape as the other
// services' mail interfaces, so they need not know.
type Mailer struct {
	Store MailStore
	Keys  *Keyring
	Now   func() time.Time
}

// sealedMail is what a MsgMail row carries, sealed.
type sealedMail struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Send queues one email durably; it returns once the row is committed.
func (m *Mailer) Send(ctx context.Context, to, subject, body string) error {
	if to == "" || strings.ContainsAny(to, "\r\n") {
		return errors.New("mail: bad recipient")
	}
	b, err := json.Marshal(sealedMail{To: to, Subject: subject, Body: body})
	if err != nil {
		return err
	}
	now := m.Now().UTC()
	id := NewID()
	o := Outbox{ID: id, Kind: MsgMail, Status: "pending", NextAttempt: now, CreatedAt: now, Sealed: m.Keys.Seal(id, b)}
	if err := m.Store.InsertMail(ctx, o); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}

// openMail reads a MsgMail row back.
func (w *Worker) openMail(o *Outbox) (Message, error) {
	b, err := w.Keys.Open(o.ID, o.Sealed)
	if err != nil {
		return Message{}, fmt.Errorf("%w (%v)", errUndeliverable, err)
	}
	var sm sealedMail
	if err := json.Unmarshal(b, &sm); err != nil {
		return Message{}, errUndeliverable
	}
	return Message{ID: o.ID, To: sm.To, Subject: sm.Subject, Body: sm.Body}, nil
}
