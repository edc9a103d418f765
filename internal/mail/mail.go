// Package mail sends Confide's emails over SMTP and, for demos and tests,
// receives them: Catcher is a real SMTP server on 127.0.0.1 that keeps
// what it is sent in memory. Emails carry account and verification
// notices only; enquiry content never goes into an email.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/confide-org/confide/internal/enquiry"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes for the SMTP connection.
const (
	TLSNone     = "none"     // plain SMTP, for a catcher on 127.0.0.1
	TLSStartTLS = "starttls" // upgrade with STARTTLS (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// Config is how to reach the SMTP server.
type Config struct {
	Host     string
	Port     int
	TLS      string
	Username string
	Password string
	// From is the sender address, e.g. "Confide <no-reply@example.org>".
	From    string
	Timeout time.Duration
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("SMTP host is empty"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("SMTP port %d is out of range", c.Port))
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("SMTP TLS mode must be none, starttls or tls, not %q", c.TLS))
	}
	if c.From == "" {
		errs = append(errs, errors.New("sender address (from) is empty"))
	}
	return errors.Join(errs...)
}

// SMTP sends each message over a new SMTP connection.
type SMTP struct{ cfg Config }

// NewSMTP returns a sender for cfg.
func NewSMTP(cfg Config) (*SMTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	return &SMTP{cfg: cfg}, nil
}

// Send delivers one plain-text message.
func (s *SMTP) Send(ctx context.Context, to, subject, body string) error {
	m := gomail.NewMsg()
	if err := m.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := m.To(to); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	m.Subject(subject)
	m.SetBodyString(gomail.TypeTextPlain, body)
	c, err := gomail.NewClient(s.cfg.Host, s.options()...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	return nil
}

func (s *SMTP) options() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return opts
}

// Sender is anything that delivers a message now.
type Sender interface {
	Send(ctx context.Context, to, subject, body string) error
}

type job struct{ to, subject, body string }

// Queue delivers messages in the background, so that a slow mail server
// never slows a page (and response times do not depend on whether an
// email was sent). Failed sends are retried with backoff. Messages still
// queued when the process ends are lost; the durable outbox arrives with
// enquiries.
type Queue struct {
	sender  Sender
	log     *slog.Logger
	jobs    chan job
	wg      sync.WaitGroup
	retries []time.Duration
	mu      sync.Mutex
	closed  bool
}

// ErrQueueFull is returned when the queue cannot take another message.
var ErrQueueFull = errors.New("mail queue is full")

// NewQueue starts a queue of up to size messages with one worker.
func NewQueue(s Sender, size int, log *slog.Logger) *Queue {
	q := &Queue{sender: s, log: log, jobs: make(chan job, size), retries: []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}}
	q.wg.Add(1)
	go q.run()
	return q
}

// Send queues a message.
func (q *Queue) Send(_ context.Context, to, subject, body string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errors.New("mail queue is closed")
	}
	select {
	case q.jobs <- job{to, subject, body}:
		return nil
	default:
		return ErrQueueFull
	}
}

func (q *Queue) run() {
	defer q.wg.Done()
	for j := range q.jobs {
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := q.sender.Send(ctx, j.to, j.subject, j.body)
			cancel()
			if err == nil {
				q.log.Info("email sent", "subject", j.subject)
				break
			}
			if attempt >= len(q.retries) {
				q.log.Error("email not sent", "subject", j.subject, "err", err)
				break
			}
			q.log.Warn("email send failed; will retry", "subject", j.subject, "err", err, "retry_in", q.retries[attempt].String())
			time.Sleep(q.retries[attempt])
		}
	}
}

// Close stops taking messages and waits for the queue to drain.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	q.wg.Wait()
}

// SMTPError is a failed delivery, reduced to what may be stored: the
// status code, never the server's text (which can echo an address).
type SMTPError struct {
	code      string
	permanent bool
	err       error
}

func (e *SMTPError) Error() string { return "smtp " + e.code }

// Unwrap returns the underlying error, for errors.Is.
func (e *SMTPError) Unwrap() error { return e.err }

// Permanent reports a 5xx reply: retrying will not help.
func (e *SMTPError) Permanent() bool { return e.permanent }

// Code is the SMTP reply code (and enhanced code when given).
func (e *SMTPError) Code() string { return e.code }

// SendMessage delivers one message with a fixed Message-ID, so that a
// message sent again after a crash is recognisably the same one.
func (s *SMTP) SendMessage(ctx context.Context, m enquiry.Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return &SMTPError{code: "bad-address", permanent: true, err: err}
	}
	host := "confide.local"
	if i := strings.LastIndexByte(s.cfg.From, '@'); i >= 0 {
		host = strings.Trim(s.cfg.From[i+1:], "> ")
	}
	msg.SetMessageIDWithValue(m.ID + "@" + host)
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	c, err := gomail.NewClient(s.cfg.Host, s.options()...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 400 {
		code := fmt.Sprint(se.ErrorCode())
		if ec := se.EnhancedStatusCode(); ec != "" {
			code += " " + ec
		}
		return &SMTPError{code: code, permanent: se.ErrorCode() >= 500, err: err}
	}
	return fmt.Errorf("smtp send: %w", err)
}
