package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/app"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/store/storetest"
)

// clock is a settable clock shared by the whole app under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a whole Confide served over real HTTP on 127.0.0.1, with a
// real SMTP catcher receiving its email and a database of its own: a
// SQLite file, or a PostgreSQL schema when CONFIDE_TEST_POSTGRES is set.
type harness struct {
	t     *testing.T
	app   *app.App
	srv   *httptest.Server
	clock *clock
	ctx   context.Context
}

func newHarness(t *testing.T, therapists int, tweak func(*config)) *harness {
	t.Helper()
	return newHarnessLogs(t, therapists, tweak, nil)
}

// newHarnessLogs is newHarness whose server logs go to logs (when not nil)
// as well as to the test's failure output.
func newHarnessLogs(t *testing.T, therapists int, tweak func(*config), extra *syncBuffer) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{
		DB: storetest.DSN(t), Demo: true, DemoTherapists: therapists, SiteName: "Confide",
		CrisisLines: defaultCrisisLines, BaseURL: "http://" + ln.Addr().String(), MailCatcher: true, MailFrom: "Confide <no-reply@example.org>",
		SessionIdle: time.Hour, SessionLifetime: 12 * time.Hour, JobsInterval: time.Hour, SyncInterval: 200 * time.Millisecond,
		KeyFile: filepath.Join(t.TempDir(), "confide.key"), EnquiryMinFill: 0, EnquiryRetention: 365 * 24 * time.Hour, OutboxPoll: 50 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	clk := &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{buf: &bytes.Buffer{}}
	var w io.Writer = logs
	if extra != nil {
		w = io.MultiWriter(logs, extra)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.buf.String())
		}
	})
	a, err := newApp(context.Background(), cfg, log, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Handler}}
	srv.Start()
	// The same background workers as `confide serve`: change feed,
	// scheduled jobs (each test's config says how often), outbox.
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &harness{t: t, app: a, srv: srv, clock: clk, ctx: context.Background()}
}

// client is a browser without JavaScript: it keeps cookies and does not
// follow redirects, so tests see each step.
type client struct {
	h    *harness
	http *http.Client
	// header is added to every request.
	header http.Header
}

func (h *harness) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, header: http.Header{}, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(method, path string, form url.Values) response {
	c.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.h.srv.URL+path, body)
	if err != nil {
		c.h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.h.t.Fatal(err)
	}
	return response{status: res.StatusCode, body: string(b), header: res.Header}
}

func (c *client) get(path string) response { return c.do(http.MethodGet, path, nil) }

func (c *client) post(path string, form url.Values) response {
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, path, form)
}

// cookie returns the session cookie's value, or "".
func (c *client) cookie() string {
	u, _ := url.Parse(c.h.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "confide_session") {
			return ck.Value
		}
	}
	return ""
}

func (c *client) setCookie(value string) {
	u, _ := url.Parse(c.h.srv.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "confide_session", Value: value, Path: "/"}})
}

func (c *client) signIn(email, password string) response {
	c.h.t.Helper()
	res := c.post("/signin", url.Values{"email": {email}, "password": {password}})
	if res.status != http.StatusSeeOther {
		c.h.t.Fatalf("sign in %s: status %d: %s", email, res.status, excerpt(res.body))
	}
	return res
}

// user makes a confirmed account with roles directly (for tests whose
// subject is not sign-up itself).
func (h *harness) user(email, password string, roles ...account.Role) *account.User {
	h.t.Helper()
	hash, err := h.app.Accounts.Hasher().Hash(h.ctx, password)
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.clock.Now()
	u := &account.User{Email: email, PasswordHash: hash, EmailConfirmedAt: now, Roles: roles, CreatedAt: now, UpdatedAt: now}
	if err := h.app.DB.CreateUser(h.ctx, u, nil); err != nil {
		h.t.Fatal(err)
	}
	return u
}

// mail waits for an email to `to` about subject.
func (h *harness) mail(to, subject string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	m, err := h.app.Catcher.WaitFor(ctx, to, subject)
	if err != nil {
		h.t.Fatal(err)
	}
	return m.Body
}

var linkRe = regexp.MustCompile(`https?://\S+\?token=[A-Za-z0-9_-]+`)

// link returns the path and token of the first link in an email.
func (h *harness) link(body string) (path, token string) {
	h.t.Helper()
	m := linkRe.FindString(body)
	if m == "" {
		h.t.Fatalf("no link in email:\n%s", body)
	}
	u, err := url.Parse(m)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.Path, u.Query().Get("token")
}

// profileForm is a complete, valid profile as the dashboard form sends it.
func profileForm(name string) url.Values {
	return url.Values{
		"display_name": {name}, "headline": {"Psychodynamic counsellor for anxiety and low mood in Leeds"},
		"statement": {"I work with adults.\n\nSessions are 50 minutes."}, "approach": {"psychodynamic", "integrative"},
		"issue": {"anxiety", "depression"}, "client": {"individuals"}, "format": {"online"}, "languages": {"English, Polish"},
		"fee_min": {"45"}, "fee_max": {"60"}, "concessions": {"yes"}, "availability": {"accepting"},
		"postcode_1": {"LS6 2AB"}, "wheelchair_1": {"yes"}, "gender": {"Woman"}, "contact_email": {"practice@example.org"},
	}
}

// ownProfile reads the profile an account keeps.
func (h *harness) ownProfile(u *account.User) *directory.Profile {
	h.t.Helper()
	p, err := h.app.DB.ProfileByOwner(h.ctx, u.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 1500 {
		s = s[:1500]
	}
	return s
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// httptestGet runs one GET through a handler in process.
func httptestGet(h http.Handler, path string) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Body.String()
}

// demoInbox counts the enquiries the demo site put in the demo
// therapist's inbox at start (0 without demo accounts), for tests that
// count every enquiry stored.
func (h *harness) demoInbox() int {
	h.t.Helper()
	u, err := h.app.DB.UserByEmail(h.ctx, "demo.therapist@example.org")
	if err != nil {
		return 0
	}
	p, err := h.app.DB.ProfileByOwner(h.ctx, u.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	es, err := h.app.DB.EnquiriesFor(h.ctx, p.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(es)
}
