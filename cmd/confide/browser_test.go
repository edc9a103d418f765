package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/photo/phototest"
)

// The browser journeys drive Debian's chromium, headless, through the
// main jobs of the site as people do them, at a phone's size and a
// laptop's, and check every page they reach with axe-core. They need
// chromium and axe-core's axe.min.js: without them the test is skipped,
// unless CONFIDE_TEST_BROWSER=required (as in .ci/run), when it fails.
// CONFIDE_AXE_JS names axe.min.js; CONFIDE_SCREENSHOTS a folder for a
// PNG of every step and axe.json, the counts by impact on every page.

// viewport is a screen the journeys run on.
type viewport struct {
	name          string
	width, height int64
}

var viewports = []viewport{{"phone", 390, 844}, {"laptop", 1280, 800}}

// axeImpacts are axe-core's impact levels, most serious last.
var axeImpacts = []string{"minor", "moderate", "serious", "critical"}

// axeReport is one page's axe result.
type axeReport struct {
	Step   string         `json:"step"`
	URL    string         `json:"url"`
	Counts map[string]int `json:"counts"`
	// Rules names every rule violated, with its impact.
	Rules []string `json:"rules,omitempty"`
	// Failing lists each serious or critical rule with a target.
	Failing []string `json:"failing,omitempty"`
}

type browser struct {
	t     *testing.T
	h     *harness
	ctx   context.Context
	vp    viewport
	axe   string
	shots string
	mu    *sync.Mutex
	all   *[]axeReport
	step  int
}

func findChromium(t *testing.T) string {
	t.Helper()
	required := os.Getenv("CONFIDE_TEST_BROWSER") == "required"
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if required {
		t.Fatal("CONFIDE_TEST_BROWSER=required but no chromium on PATH")
	}
	t.Skip("no chromium on PATH: browser journeys skipped (apt-get install chromium)")
	return ""
}

func findAxe(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CONFIDE_AXE_JS")
	if path == "" {
		path = "node_modules/axe-core/axe.min.js"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CONFIDE_TEST_BROWSER") == "required" {
			t.Fatalf("axe-core: %v (npm install axe-core, then set CONFIDE_AXE_JS)", err)
		}
		t.Skipf("no axe-core at %s: browser journeys skipped", path)
	}
	return string(b)
}

// TestBrowserJourneys: a person seeking help searches by town, filters,
// opens a profile, sends an enquiry and sees the confirmation; the
// therapist signs in, reads it and marks it replied; a verifier approves
// a therapist's evidence; an editor publishes a reviewed article. Each
// page is checked with axe-core: no serious or critical violation.
func TestBrowserJourneys(t *testing.T) {
	if raceDetector {
		t.Skip("the browser journeys test pages, not races")
	}
	chrome := findChromium(t)
	axe := findAxe(t)
	shots := os.Getenv("CONFIDE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// Proxy headers are trusted so that the enquiries the journeys set up
	// come from addresses of their own, leaving the browser's address
	// its hourly allowance.
	h := newHarness(t, 300, func(c *config) { c.TrustProxy = true })
	var mu sync.Mutex
	var reports []axeReport
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
				chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
				chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(int(vp.width), int(vp.height)))
			actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancel()
			journeys := []struct {
				name string
				run  func(*browser)
			}{
				{"seeker", seekerJourney},
				{"seeker-without-javascript", noScriptJourney},
				{"therapist", therapistJourney},
				{"verifier", verifierJourney},
				{"editor", editorJourney},
				{"guided", guidedJourney},
				{"guided-without-javascript", guidedNoScriptJourney},
			}
			for i, j := range journeys {
				t.Run(j.name, func(t *testing.T) {
					// A new browser context per journey: its own cookies.
					bctx, cancel := chromedp.NewContext(actx)
					defer cancel()
					bctx, cancelTime := context.WithTimeout(bctx, 3*time.Minute)
					defer cancelTime()
					// Each journey comes from an address of its own (proxy
					// headers are trusted here), as different people would:
					// the site's hourly per-address limits then apply to each.
					addr := fmt.Sprintf("198.51.100.%d", 10*len(vp.name)+i)
					fromAddr := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
						if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
							return chromedp.Void{}, err
						}
						_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"X-Forwarded-For": addr}})
						return chromedp.Void{}, err
					}
					if err := chromedp.Do(bctx, chromedp.EmulateViewport(vp.width, vp.height), fromAddr); err != nil {
						t.Fatalf("start chromium: %v", err)
					}
					// The harness's helpers report to this journey's test.
					hj := *h
					hj.t = t
					j.run(&browser{t: t, h: &hj, ctx: bctx, vp: vp, axe: axe, shots: filepath.Join(shots, vp.name+"-"+j.name), mu: &mu, all: &reports})
				})
			}
		})
	}
	b, _ := json.MarshalIndent(reports, "", "  ")
	os.WriteFile(filepath.Join(shots, "axe.json"), b, 0o644)
	total := map[string]int{}
	for _, r := range reports {
		for k, v := range r.Counts {
			total[k] += v
		}
	}
	t.Logf("axe-core on %d pages: %d critical, %d serious, %d moderate, %d minor; screenshots and axe.json in %s",
		len(reports), total["critical"], total["serious"], total["moderate"], total["minor"], shots)
}

// run performs actions on this page, failing the journey on an error.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// follow performs actions that lead to a new page (a click on a link or
// a button) and waits for that page: it must answer 200.
func (b *browser) follow(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.followTo(what, 200, actions...)
}

// followTo is follow for a page that must answer status.
func (b *browser) followTo(what string, status int64, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, actions...)
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
	if res == nil || res.Status != status {
		got := int64(0)
		if res != nil {
			got = res.Status
		}
		b.t.Fatalf("%s: %s answered %d, want %d:\n%s", what, loc, got, status, excerpt(b.text()))
	}
}

// open navigates to a path of the site under test.
func (b *browser) open(path string) {
	b.t.Helper()
	b.follow("open "+path, chromedp.Navigate(b.h.srv.URL+path))
}

// text is the page's visible text.
func (b *browser) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatalf("read the page: %v", err)
	}
	return s
}

// expect fails unless the page's text holds every want.
func (b *browser) expect(step string, want ...string) {
	b.t.Helper()
	text := b.text()
	for _, w := range want {
		if !strings.Contains(text, w) {
			b.t.Fatalf("%s: the page does not say %q:\n%s", step, w, excerpt(text))
		}
	}
}

// shot saves a screenshot of the page as the next step, and returns the
// step's name and the page's address.
func (b *browser) shot(step string) (name, loc string) {
	b.t.Helper()
	b.step++
	name = fmt.Sprintf("%02d-%s", b.step, step)
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", step, err)
	}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return name, loc
}

// check takes a screenshot of the page and runs axe-core on it.
func (b *browser) check(step string) {
	b.t.Helper()
	name, loc := b.shot(step)
	script := b.axe + `;axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))))`
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe %s: %v", step, err)
	}
	var violations []struct {
		ID, Impact string
		Nodes      []string
	}
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		b.t.Fatalf("axe result: %v: %s", err, raw)
	}
	r := axeReport{Step: b.vp.name + "/" + name, URL: strings.TrimPrefix(loc, b.h.srv.URL), Counts: map[string]int{}}
	for _, imp := range axeImpacts {
		r.Counts[imp] = 0
	}
	for _, v := range violations {
		r.Counts[v.Impact]++
		r.Rules = append(r.Rules, v.ID+" ("+v.Impact+")")
		if v.Impact == "serious" || v.Impact == "critical" {
			r.Failing = append(r.Failing, fmt.Sprintf("%s (%s) at %s", v.ID, v.Impact, strings.Join(v.Nodes, ", ")))
		}
	}
	b.mu.Lock()
	*b.all = append(*b.all, r)
	b.mu.Unlock()
	if len(r.Failing) > 0 {
		b.t.Errorf("%s %s: axe-core found %s", r.Step, r.URL, strings.Join(r.Failing, "; "))
	}
}

// signIn signs in through the sign-in page.
func (b *browser) signIn(email string) {
	b.t.Helper()
	b.open("/signin")
	b.check("sign-in")
	b.run("fill in the sign-in form", chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), testPassword))
	b.follow("sign in as "+email, chromedp.Click(chromedp.CSS(`main form[action="/signin"] button[type="submit"]`)))
	b.run("signed in", chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
}

func seekerJourney(b *browser) {
	b.t.Helper()
	_, p := b.h.therapist("browser-" + b.vp.name + "@example.org")
	b.open("/")
	b.check("home")
	b.run("type a town", chromedp.SendKeys(chromedp.ID("near"), "Leeds"))
	b.follow("search for Leeds", chromedp.Submit(chromedp.ID("near")))
	b.run("results", chromedp.WaitVisible(chromedp.ID("results-summary")))
	b.expect("results", "Leeds")
	b.check("results-leeds")
	// The count and the first result (its name at least) are on the first
	// screen, without scrolling, on a phone as on a laptop.
	fold, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`[document.getElementById('results-summary').getBoundingClientRect().bottom,
		document.querySelector('ol.results li.result a').getBoundingClientRect().bottom, window.innerHeight]`))
	if err != nil || len(fold) != 3 {
		b.t.Fatalf("measure the fold: %v %v", fold, err)
	}
	b.t.Logf("%s: results count ends at %.0f px, first result's name at %.0f px, screen %.0f px high", b.vp.name, fold[0], fold[1], fold[2])
	if fold[0] > fold[2] || fold[1] > fold[2] {
		b.t.Errorf("%s: the count (%.0f px) or the first result (%.0f px) is below the fold (%.0f px)", b.vp.name, fold[0], fold[1], fold[2])
	}
	// Tick the first filter on offer and update the results.
	// On a phone the filters fold under "Filters (…)": open them first.
	if b.vp.width < 896 { // 56rem, where site.css unfolds them
		b.run("open the filters", chromedp.Click(chromedp.CSS(`form.search-layout details > summary`), chromedp.NodeVisible))
	}
	b.run("tick a filter", chromedp.Click(chromedp.CSS(`form.search-layout fieldset input[type="checkbox"]`), chromedp.NodeVisible))
	b.follow("update the results", chromedp.Click(chromedp.Search(`//button[normalize-space()="Update results"]`), chromedp.NodeVisible))
	b.run("filtered results", chromedp.WaitVisible(chromedp.ID("results-summary")))
	b.check("results-filtered")
	b.follow("open a profile", chromedp.Click(chromedp.CSS(`main a[href^="/therapists/"]`), chromedp.NodeVisible))
	b.check("profile")
	// Contact a therapist who takes enquiries.
	b.open("/therapists/" + p.Slug)
	const message = "Hello, I would like to talk about anxiety. I am free on Tuesday evenings."
	b.run("fill in the enquiry", chromedp.SendKeys(chromedp.ID("enquiry-name"), "Sam Seeker"), chromedp.SendKeys(chromedp.ID("enquiry-email"), "sam.seeker@example.org"),
		chromedp.SendKeys(chromedp.ID("enquiry-message"), message))
	// Forgetting the consent box: the problem is summed up at the top of
	// the page and focused, and nothing typed is lost.
	b.followTo("send it without consent", 400, chromedp.Click(chromedp.Search(`//button[normalize-space()="Send enquiry"]`)))
	// The browser moves the focus to an autofocus element at its next
	// rendering step, which can come just after the load the click waited
	// for (a loaded machine made it miss once): wait up to two seconds.
	var focused string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(25 * time.Millisecond) {
		focused, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.className`))
		if err != nil || focused == "error-summary" || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || focused != "error-summary" {
		b.t.Errorf("after a refused enquiry the focus is on %q, not the error summary (%v)", focused, err)
	}
	if kept, _ := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("enquiry-message"))); kept != message {
		b.t.Errorf("the message was not kept: %q", kept)
	}
	b.check("enquiry-error")
	b.run("tick consent", chromedp.Click(chromedp.ID("enquiry-consent")))
	b.check("enquiry-form")
	b.follow("send it", chromedp.Click(chromedp.Search(`//button[normalize-space()="Send enquiry"]`)))
	b.expect("after sending", "sent")
	b.check("enquiry-sent")
}

// noScriptJourney is a person whose browser runs no JavaScript: they
// search, and send an enquiry to a demo therapist picked at random among
// those who take them, and reach the confirmation.
func noScriptJourney(b *browser) {
	b.t.Helper()
	off := func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	}
	b.run("turn JavaScript off", off)
	// The sign-in page's only script adds "Show" beside the password: with
	// scripts off it must not be there (so they really are off).
	b.open("/signin")
	if n, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSSAll("button.show-password"), chromedp.AtLeast(0))); err != nil || len(n) != 0 {
		b.t.Fatalf("scripts still run: %d show-password buttons (%v)", len(n), err)
	}
	var open []*directory.Profile
	now := b.h.clock.Now()
	if _, err := b.h.app.DB.EachProfile(b.h.ctx, func(p *directory.Profile) error {
		// Not the therapists the other journeys made (t-…, browser-…).
		if p.IsPublic(now) && p.OwnerID != 0 && len(p.Locations) > 0 && !strings.HasPrefix(p.Slug, "t-") && !strings.HasPrefix(p.Slug, "browser-") {
			open = append(open, p.Clone())
		}
		return nil
	}); err != nil {
		b.t.Fatal(err)
	}
	if len(open) == 0 {
		b.t.Fatal("no demo therapist takes enquiries")
	}
	p := open[rand.IntN(len(open))]
	b.t.Logf("%d demo therapists take enquiries; writing to %s (%s)", len(open), p.DisplayName, p.Slug)
	b.open("/")
	b.run("type their district", chromedp.SendKeys(chromedp.ID("near"), p.Locations[0].Outcode))
	b.follow("search", chromedp.Submit(chromedp.ID("near")))
	b.expect("results", p.Locations[0].Outcode)
	b.shot("results")
	b.open("/therapists/" + p.Slug)
	b.run("fill in the enquiry", chromedp.SendKeys(chromedp.ID("enquiry-name"), "Noor No-Script"), chromedp.SendKeys(chromedp.ID("enquiry-email"), "noor@example.org"),
		chromedp.SendKeys(chromedp.ID("enquiry-message"), "Hello, could we talk about sessions in the evenings?"), chromedp.Click(chromedp.ID("enquiry-consent")))
	b.shot("enquiry-form")
	b.follow("send it", chromedp.Click(chromedp.Search(`//button[normalize-space()="Send enquiry"]`)))
	b.expect("after sending", "sent")
	b.shot("enquiry-sent")
}

func therapistJourney(b *browser) {
	b.t.Helper()
	email := "inbox-" + b.vp.name + "@example.org"
	_, p := b.h.therapist(email)
	sender := b.h.client()
	sender.header.Set("X-Forwarded-For", "192.0.2."+map[string]string{"phone": "21", "laptop": "22"}[b.vp.name])
	if res := sender.enquire(p.Slug, map[string]string{"name": "Robin Asker", "email": "robin@example.org", "message": "Could we meet online next week? I have been struggling with sleep."}); res.status != 303 {
		b.t.Fatalf("enquiry: %d %s", res.status, excerpt(res.body))
	}
	b.signIn(email)
	b.open("/dashboard")
	b.check("dashboard")
	b.open("/dashboard/enquiries")
	b.expect("inbox", "Robin Asker")
	b.check("inbox")
	b.follow("open the enquiry", chromedp.Click(chromedp.CSS(`main a[href^="/dashboard/enquiries/"]`), chromedp.NodeVisible))
	b.expect("enquiry", "struggling with sleep")
	b.check("enquiry")
	b.follow("mark it replied", chromedp.Click(chromedp.Search(`//button[normalize-space()="Mark as replied"]`)))
	b.expect("after replying", "Marked as replied")
	b.check("replied")
	// A photo, from the file chooser.
	file := filepath.Join(b.t.TempDir(), "me.jpg")
	if err := os.WriteFile(file, phototest.JPEG(phototest.Halves(600, 600)), 0o600); err != nil {
		b.t.Fatal(err)
	}
	b.open("/dashboard/photo")
	b.check("photo-form")
	b.run("choose a photo", chromedp.SetUploadFiles(chromedp.ID("photo"), []string{file}), chromedp.SendKeys(chromedp.ID("alt"), "Therapist smiling"))
	b.follow("upload it", chromedp.Click(chromedp.Search(`//button[normalize-space()="Upload photo"]`)))
	b.expect("after uploading", "Photo saved")
	b.check("photo-saved")
	b.open("/therapists/" + p.Slug)
	if alt, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("img.avatar-photo"), "alt")); err != nil || alt.Value != "Therapist smiling" {
		b.t.Errorf("the profile does not show the photo: %+v %v", alt, err)
	}
	b.check("profile-with-photo")
}

func verifierJourney(b *browser) {
	b.t.Helper()
	h := b.h
	who := "evidence-" + b.vp.name
	u := h.user(who+"@example.org", testPassword, account.Therapist)
	c := h.client()
	c.signIn(u.Email, testPassword)
	name := "Browser Evidence " + strings.ToUpper(b.vp.name[:1]) + b.vp.name[1:]
	if res := c.post("/dashboard/profile", profileForm(name)); res.status != 303 {
		h.t.Fatalf("profile: %d %s", res.status, excerpt(res.body))
	}
	if res := c.post("/dashboard/publish", nil); res.status != 303 {
		h.t.Fatalf("publish: %d %s", res.status, excerpt(res.body))
	}
	evidence := url.Values{"body": {"bacp"}, "number": {"0" + fmt.Sprint(len(b.vp.name)) + "44 556"}, "level": {"Registered member MBACP"}, "insurer": {"Holloway Indemnity"},
		"insurance_expires": {h.clock.Now().AddDate(0, 0, 200).Format(time.DateOnly)}, "qualification": {"Diploma in Counselling"}}
	if res := c.post("/dashboard/verification", evidence); res.status != 303 {
		h.t.Fatalf("evidence: %d %s", res.status, excerpt(res.body))
	}
	v := h.user("verifier-"+b.vp.name+"@example.org", testPassword, account.Verifier)
	b.signIn(v.Email)
	b.open("/staff/verifications")
	b.expect("queue", name)
	b.check("queue")
	b.follow("open the request", chromedp.Click(chromedp.Search(fmt.Sprintf(`//main//a[normalize-space()=%q]`, name))))
	b.check("request")
	b.run("choose approve", chromedp.Click(chromedp.ID("decision-approve")))
	b.follow("record the decision", chromedp.Click(chromedp.Search(`//button[normalize-space()="Record decision"]`)))
	b.check("decided")
	if n := h.apiTotal("q=" + url.QueryEscape(name)); n == 0 {
		b.t.Errorf("%s is not searchable after the approval", name)
	}
}

func editorJourney(b *browser) {
	b.t.Helper()
	h := b.h
	ed := h.user("editor-"+b.vp.name+"@example.org", testPassword, account.Editor)
	rvU := h.user("reviewer-"+b.vp.name+"@example.org", testPassword, account.Reviewer)
	ec, rc := h.client(), h.client()
	ec.signIn(ed.Email, testPassword)
	rc.signIn(rvU.Email, testPassword)
	if res := ec.post("/staff/contributors", url.Values{"name": {"Reviewer " + b.vp.name}, "credentials": {"UKCP registered"}, "email": {rvU.Email}, "panel": {"yes"}}); res.status != 303 {
		h.t.Fatalf("panel: %d %s", res.status, excerpt(res.body))
	}
	slug := map[string]string{"phone": "cognitive-behavioural-therapy", "laptop": "person-centred-counselling"}[b.vp.name]
	a, err := h.app.DB.ArticleBySlug(h.ctx, content.KindTherapy, slug)
	if err != nil {
		h.t.Fatalf("article %s: %v", slug, err)
	}
	id := itoa(a.ID)
	form := url.Values{}
	for k, v := range map[string]string{"title": a.Live.Title, "summary": a.Live.Summary, "body": a.Live.Body + "\n\n## Seen in a browser\n\nChecked on a " + b.vp.name + ".",
		"faqs": content.FormatFAQs(a.Live.FAQs), "sources": content.FormatSources(a.Live.Sources), "term": a.Live.Term(),
		"funding": a.Live.Funding, "author_id": itoa(a.Live.AuthorID)} {
		form.Set(k, v)
	}
	if res := ec.post("/staff/articles/"+id, form); res.status != 303 {
		h.t.Fatalf("save: %d %s", res.status, excerpt(res.body))
	}
	ec.post("/staff/articles/"+id+"/submit", nil)
	if res := rc.post("/staff/articles/"+id+"/review", url.Values{"decision": {"approve"}, "comment": {"Checked."}}); res.status != 303 {
		h.t.Fatalf("review: %d %s", res.status, excerpt(res.body))
	}
	b.signIn(ed.Email)
	b.open("/staff/articles")
	b.check("articles")
	b.open("/staff/articles/" + id)
	b.check("article")
	b.follow("publish", chromedp.Click(chromedp.Search(`//button[starts-with(normalize-space(),"Publish this version")]`)))
	b.check("published")
	b.open(a.Kind.Path() + slug)
	b.expect("live article", "Seen in a browser")
	b.check("live-article")
}

// guidedJourney walks the guided path ("Which kind of therapy might suit
// me?") from the home page, detouring through "I need help now", and runs
// axe-core on every page of it.
func guidedJourney(b *browser) {
	b.t.Helper()
	b.open("/")
	b.follow("start the guided path", chromedp.Click(chromedp.CSS(`a[href="/find/guided"]`), chromedp.NodeVisible))
	b.expect("safety question", "Are you in danger", "I need help now")
	b.check("guided-safety")
	b.follow("ask for help", chromedp.Click(chromedp.CSS(`button[value="help"]`), chromedp.NodeVisible))
	b.expect("crisis page", "Help now", "116 123", "not an emergency service")
	b.check("guided-crisis")
	b.follow("continue after help", chromedp.Click(chromedp.CSS(`button[value="resume"]`), chromedp.NodeVisible))
	b.walkGuided(true)
	b.open("/find/guided/how")
	b.expect("how suggestions work", "How our suggestions work", "Reviewed by", "Sources")
	b.check("guided-how")
}

// guidedNoScriptJourney completes the guided path with JavaScript off.
func guidedNoScriptJourney(b *browser) {
	b.t.Helper()
	off := func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	}
	b.run("turn JavaScript off", off)
	b.open("/find/guided")
	b.walkGuided(false)
}

// walkGuided answers every question from the safety page on, checking
// each page with axe-core when check is set, and opens a suggestion's
// search.
func (b *browser) walkGuided(check bool) {
	b.t.Helper()
	page := func(step string, want ...string) {
		b.t.Helper()
		b.expect(step, want...)
		if check {
			b.check("guided-" + step)
		}
	}
	next := func(what string) {
		b.t.Helper()
		b.follow(what, chromedp.Click(chromedp.CSS(`form.guided-form button[value="next"]`), chromedp.NodeVisible))
	}
	tick := func(id string) {
		b.t.Helper()
		b.run("choose "+id, chromedp.Click(chromedp.ID(id), chromedp.NodeVisible))
	}
	page("safety-again", "Question 1 of 8", "Are you in danger")
	tick("safety-2")
	next("say no")
	page("issues", "Question 2 of 8", "What would you like help with?")
	tick("issues-1")
	tick("issues-2")
	next("choose issues")
	page("who", "Who is the therapy for?")
	tick("who-1")
	next("choose who")
	page("want", "What would you like from therapy?")
	tick("want-1")
	next("choose what")
	page("length", "short-term or open-ended")
	b.follow("skip the length", chromedp.Click(chromedp.CSS(`button[value="skip"]`), chromedp.NodeVisible))
	page("format", "How would you like to meet?")
	tick("format-2")
	b.run("type a town", chromedp.SendKeys(chromedp.ID("near"), "Qqxyzzy"))
	next("a misspelt town")
	page("format-error", "There is a problem", "We could not find")
	b.run("correct the town", chromedp.Clear(chromedp.ID("near")), chromedp.SendKeys(chromedp.ID("near"), "Leeds"))
	next("the town")
	page("budget", "How much can you pay")
	b.run("type a fee", chromedp.SendKeys(chromedp.ID("max_fee"), "70"))
	next("the fee")
	page("language", "Which language")
	next("no language")
	page("check", "Check your answers", "Feeling anxious or worried a lot", "Skipped", "Near Leeds", "Up to £70")
	b.follow("see suggestions", chromedp.Click(chromedp.CSS(`button[value="results"]`), chromedp.NodeVisible))
	page("results", "Therapies that might suit you", "starting point, not a diagnosis", "You said you would like to understand patterns from your past", "What the evidence says")
	b.follow("open a suggested search", chromedp.Click(chromedp.CSS(`section.suggestion a[href^="/search?"]`), chromedp.NodeVisible))
	b.expect("the suggested search", "Leeds")
}
