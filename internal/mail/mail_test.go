package mail

import (
	"context"
	"strings"
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
