package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/enquiry"
	confidemail "github.com/confide-org/confide/internal/mail"
)

// faultySMTP is a real SMTP server on 127.0.0.1 that misbehaves: it
// answers 421 or 451, stalls past the client's timeout, or drops the
// connection after DATA, at random; addresses starting "perm-" always get
// 550. It records the Message-IDs it accepted.
type faultySMTP struct {
	mu        sync.Mutex
	rng       *rand.Rand
	delivered map[string]int
	faults    map[string]int
	srv       *smtp.Server
}

func (f *faultySMTP) roll() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64()
}

func (f *faultySMTP) count(kind string) {
	f.mu.Lock()
	f.faults[kind]++
	f.mu.Unlock()
}

func (f *faultySMTP) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &faultySession{f: f, conn: c}, nil
}

type faultySession struct {
	f    *faultySMTP
	conn *smtp.Conn
	to   string
}

func (s *faultySession) Reset()        {}
func (s *faultySession) Logout() error { return nil }
func (s *faultySession) Mail(string, *smtp.MailOptions) error {
	if s.f.roll() < 0.15 {
		s.f.count("421")
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "try again later"}
	}
	return nil
}

func (s *faultySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	if strings.HasPrefix(to, "perm-") {
		s.f.count("550")
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user " + to}
	}
	if s.f.roll() < 0.15 {
		s.f.count("451")
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "local error"}
	}
	return nil
}

func (s *faultySession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	id := strings.SplitN(strings.Trim(msg.Header.Get("Message-Id"), "<>"), "@", 2)[0]
	switch x := s.f.roll(); {
	case x < 0.1:
		s.f.count("timeout")
		time.Sleep(1500 * time.Millisecond) // longer than the client waits
		return &smtp.SMTPError{Code: 451, Message: "too slow"}
	case x < 0.2:
		// The message arrived, but the reply never does: the sender must
		// send again, and the Message-ID shows it is the same message.
		s.f.count("drop")
		s.f.mu.Lock()
		s.f.delivered[id]++
		s.f.mu.Unlock()
		s.conn.Conn().Close()
		return nil
	}
	s.f.mu.Lock()
	s.f.delivered[id]++
	s.f.mu.Unlock()
	return nil
}

// TestOutboxSurvivesSMTPFaults: every enquiry's emails are delivered at
// least once through a faulty server while the worker is killed mid-send
// again and again; permanent failures end in the dead-letter list.
func TestOutboxSurvivesSMTPFaults(t *testing.T) {
	h := newHarness(t, 50, func(c *config) { c.OutboxPoll = -1 }) // no background worker: this test runs its own
	f := &faultySMTP{rng: rand.New(rand.NewPCG(7, 11)), delivered: map[string]int{}, faults: map[string]int{}}
	f.srv = smtp.NewServer(f)
	f.srv.Domain, f.srv.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go f.srv.Serve(ln)
	defer f.srv.Close()
	_, p1 := h.therapist("worker1@example.org")
	_, p2 := h.therapist("worker2@example.org")
	profiles := []int64{p1.ID, p2.ID}
	all := func() []enquiry.Enquiry {
		a, _ := h.app.DB.EnquiriesFor(h.ctx, p1.ID)
		b, _ := h.app.DB.EnquiriesFor(h.ctx, p2.ID)
		return append(a, b...)
	}
	const n = 30
	perm := 0
	for i := range n {
		email := fmt.Sprintf("sender%d@example.org", i)
		if i%10 == 3 {
			email, perm = fmt.Sprintf("perm-%d@example.org", i), perm+1
		}
		if _, err := h.app.Enquiry.Submit(h.ctx, enquiry.Submission{ProfileID: profiles[i%2], Token: enquiry.IssueToken(h.app.Keys, h.clock.Now()),
			Consent: enquiry.ConsentVersion, Content: enquiry.Content{Name: "S", Email: email, Message: "hello"}}); err != nil {
			t.Fatal(err)
		}
	}
	sender, err := confidemail.NewSMTP(confidemail.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: confidemail.TLSNone,
		From: "no-reply@example.org", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	newWorker := func(i int) *enquiry.Worker {
		w := *h.app.Outbox
		w.Sender, w.Now, w.Owner = sender, time.Now, fmt.Sprintf("worker-%d", i)
		w.Lease, w.Base, w.Cap, w.Poll, w.MaxTemporary, w.MaxPermanent = 2500*time.Millisecond, 20*time.Millisecond, 200*time.Millisecond, 20*time.Millisecond, 60, 3
		w.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		return &w
	}
	rng := rand.New(rand.NewPCG(3, 5))
	deadline := time.Now().Add(90 * time.Second)
	kills := 0
	for cycle := 0; ; cycle++ {
		pending := 0
		for _, e := range all() {
			out, _ := h.app.DB.OutboxFor(h.ctx, e.ID)
			for _, o := range out {
				if o.Status == "pending" {
					pending++
				}
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still pending after %d worker restarts", pending, kills)
		}
		// Two workers, killed after a random moment (often mid-send).
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); newWorker(cycle*2 + i).Run(ctx) }()
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		cancel()
		wg.Wait()
		kills++
	}
	var sent, dead, dupes int
	for _, e := range all() {
		out, _ := h.app.DB.OutboxFor(h.ctx, e.ID)
		if len(out) != 2 {
			t.Fatalf("enquiry %s has %d outbox rows", e.ID, len(out))
		}
		for _, o := range out {
			switch o.Status {
			case "sent":
				sent++
				if f.delivered[o.ID] == 0 {
					t.Errorf("message %s marked sent but never accepted by the server", o.ID)
				}
				dupes += f.delivered[o.ID] - 1
			case "dead":
				dead++
				if o.Kind != enquiry.MsgSenderReceipt || !strings.HasPrefix(o.LastError, "550") || o.Attempts < 3 {
					t.Errorf("dead letter %+v", o)
				}
			}
		}
	}
	dl, _ := h.app.DB.DeadLetters(h.ctx)
	if sent != 2*n-perm || dead != perm || len(dl) != perm {
		t.Fatalf("sent %d, dead %d (list %d); want %d and %d", sent, dead, len(dl), 2*n-perm, perm)
	}
	t.Logf("%d messages delivered, %d dead-lettered, %d duplicate deliveries, %d worker kills, faults %v", sent, dead, dupes, kills, f.faults)
}

// TestAccountMailSurvivesRestart: account mail is committed to the
// durable outbox, not held in memory: a reset requested on a replica that
// stops before sending it is delivered by the next one to run.
func TestAccountMailSurvivesRestart(t *testing.T) {
	a := newHarness(t, 0, func(c *config) { c.OutboxPoll = -1 }) // sends nothing itself
	u := a.user("restart@example.org", testPassword, account.Therapist)
	if err := a.app.Accounts.RequestReset(a.ctx, u.Email); err != nil {
		t.Fatal(err)
	}
	a.app.Accounts.Wait()
	time.Sleep(100 * time.Millisecond)
	if n := len(a.app.Catcher.Messages()); n != 0 {
		t.Fatalf("%d emails went out without an outbox worker", n)
	}
	b := newHarness(t, 0, func(c *config) { c.DB, c.KeyFile, c.Demo = a.app.DSN, a.app.KeyPath, false })
	body := b.mail(u.Email, "password")
	if path, token := b.link(body); path != "/reset/new" || token == "" {
		t.Fatalf("reset email without its link: %q", body)
	}
}

// TestReceiptCarriesConfiguredCrisisLines: the sender's receipt repeats
// the crisis lines the site is configured with, not built-in ones.
func TestReceiptCarriesConfiguredCrisisLines(t *testing.T) {
	h := newHarness(t, 30, func(c *config) { c.CrisisLines = "Lifeline Testland: 0800 000 111|Text HELLO to 99999" })
	_, p := h.therapist("crisis@example.org")
	if res := h.client().enquire(p.Slug, map[string]string{"email": "worried@example.org"}); res.status != http.StatusSeeOther {
		t.Fatalf("enquiry: %d", res.status)
	}
	body := h.mail("worried@example.org", "enquiry")
	if !strings.Contains(body, "Lifeline Testland: 0800 000 111\nText HELLO to 99999") || strings.Contains(body, "116 123") {
		t.Fatalf("receipt does not carry the configured crisis lines:\n%s", body)
	}
}
