// Package mail sends Confide's emails over SMTP and, for demos and tests,
// receives them: Catcher is a real SMTP server on 127.0.0.1 that keeps
// what it is sent in memory. Emails carry account and verification
// notices only; enquiry content never goes into an email.
package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
