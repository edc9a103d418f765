package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSMTPRoundTrip sends through a real SMTP conversation to the catcher
// and checks that what arrives is what was sent, including a long link
// (quoted-printable wraps long lines) and a non-ASCII subject.
func TestSMTPRoundTrip(t *testing.T) {
	c, err := StartCatcher("127.0.0.1:0", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := NewSMTP(Config{Host: c.Host(), Port: c.Port(), TLS: TLSNone, From: "Confide <no-reply@example.org>"})
	if err != nil {
		t.Fatal(err)
	}
	link := "http://127.0.0.1:8080/reset/new?token=" + strings.Repeat("AbC-_9", 20)
	body := "Hello Zoë,\n\nChoose a new password:\n\n" + link + "\n"
	if err := s.Send(context.Background(), "zoe@example.org", "Réinitialiser — your password", body); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.WaitFor(ctx, "zoe@example.org", "Réinitialiser")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Réinitialiser — your password" || !strings.Contains(m.Body, link) || !strings.Contains(m.Body, "Zoë") || m.From != "no-reply@example.org" {
		t.Fatalf("received %+v", m)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no host":  {Port: 25, TLS: TLSNone, From: "a@example.org"},
		"bad port": {Host: "h", Port: 0, TLS: TLSNone, From: "a@example.org"},
		"bad tls":  {Host: "h", Port: 25, TLS: "ssl3", From: "a@example.org"},
		"no from":  {Host: "h", Port: 25, TLS: TLSStartTLS},
	} {
		if _, err := NewSMTP(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type flaky struct {
	fails int32
	calls atomic.Int32
	sent  chan string
}

func (f *flaky) Send(_ context.Context, to, subject, body string) error {
	if f.calls.Add(1) <= f.fails {
		return errors.New("connection refused")
	}
	f.sent <- subject
	return nil
}

// TestQueueRetries: a failed send is retried, and Close waits for the
// queue to drain.
func TestQueueRetries(t *testing.T) {
	f := &flaky{fails: 2, sent: make(chan string, 1)}
	q := NewQueue(f, 10, slog.New(slog.NewTextHandler(io.Discard, nil)))
	q.retries = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	if err := q.Send(context.Background(), "a@example.org", "hello", "body"); err != nil {
		t.Fatal(err)
	}
	q.Close()
	if got := <-f.sent; got != "hello" || f.calls.Load() != 3 {
		t.Fatalf("sent %q after %d calls", got, f.calls.Load())
	}
	if err := q.Send(context.Background(), "a@example.org", "late", "body"); err == nil {
		t.Fatal("a closed queue accepted a message")
	}
}
