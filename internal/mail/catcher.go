package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is an email the Catcher received.
type Message struct {
	From, To, Subject, Body string
	// MessageID is the Message-Id header without angle brackets.
	MessageID string
	At        time.Time
}

// Catcher is a real SMTP server on 127.0.0.1 that keeps every message it
// receives in memory. `serve --demo` and the end-to-end tests send their
// emails to one, so the whole path (client, protocol, encoding) is real.
type Catcher struct {
	srv  *smtp.Server
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	// newMsg is closed and replaced whenever a message arrives.
	newMsg chan struct{}
	max    int
}

// StartCatcher listens on addr (e.g. "127.0.0.1:0") and keeps up to max
// messages, dropping the oldest.
func StartCatcher(addr string, max int) (*Catcher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail catcher: %w", err)
	}
	c := &Catcher{ln: ln, newMsg: make(chan struct{}), max: max}
	s := smtp.NewServer(c)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 30*time.Second, 30*time.Second
	s.MaxMessageBytes = 1 << 20
	s.MaxRecipients = 10
	s.AllowInsecureAuth = true
	c.srv = s
	go func() { _ = s.Serve(ln) }()
	return c, nil
}

// Host and Port say where the catcher listens.
func (c *Catcher) Host() string { return c.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the catcher's TCP port.
func (c *Catcher) Port() int { return c.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server.
func (c *Catcher) Close() error { return c.srv.Close() }

// Messages returns a copy of what has been received, oldest first.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// WaitFor returns the first message to `to` whose subject contains
// subject, waiting until ctx ends.
func (c *Catcher) WaitFor(ctx context.Context, to, subject string) (Message, error) {
	for {
		c.mu.Lock()
		ch := c.newMsg
		for _, m := range c.msgs {
			if strings.EqualFold(m.To, to) && strings.Contains(m.Subject, subject) {
				c.mu.Unlock()
				return m, nil
			}
		}
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("no email to %s about %q: %w", to, subject, ctx.Err())
		}
	}
}

func (c *Catcher) add(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	if len(c.msgs) > c.max {
		c.msgs = c.msgs[len(c.msgs)-c.max:]
	}
	close(c.newMsg)
	c.newMsg = make(chan struct{})
}

// NewSession implements smtp.Backend.
func (c *Catcher) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }

type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	var body io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(msg.Body)
	case "base64":
		return errors.New("base64 bodies are not expected from Confide")
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(body, 1<<20)); err != nil {
		return err
	}
	for _, to := range s.to {
		s.c.add(Message{From: s.from, To: to, Subject: subject, Body: strings.ReplaceAll(buf.String(), "\r\n", "\n"),
			MessageID: strings.Trim(msg.Header.Get("Message-Id"), "<> "), At: time.Now()})
	}
	return nil
}
