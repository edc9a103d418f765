package web_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/testworld"
	"github.com/confide-org/confide/internal/web"
)

var crisisLines = []string{"In an emergency call 999.", "For urgent help call NHS 111 and choose option 2.", "Samaritans: 116 123 (free, 24 hours).", "Text SHOUT to 85258."}

// newGuidedServer serves the pages with the shipped rule set (changed by
// tweak, if given) and a clock of its own.
func newGuidedServer(t *testing.T, now time.Time, tweak func(*guided.RuleSet)) (*httptest.Server, *testworld.World) {
	t.Helper()
	w := testworld.New(t, 300)
	rules, err := guided.Default(w.Tax)
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(rules)
	}
	h, err := web.New(web.Deps{
		Config: web.Config{SiteName: "Confide", CrisisLines: crisisLines, Demo: true},
		Log:    w.Log, Parser: w.Parser, Index: w.Index, Profiles: w.DB, Tax: w.Tax, Gaz: w.Gaz, Markup: w.Markup,
		Now: func() time.Time { return now }, RateLimits: w.DB, Guided: rules,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, w
}

func post(t *testing.T, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	res, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b), res.Header
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// mainForm returns the hidden fields of a page's last form that posts
// (the question's own form), as the browser would send them.
func mainForm(body string) url.Values {
	i := strings.LastIndex(body, `<form method="post" action="/find/guided"`)
	v := url.Values{}
	if i < 0 {
		return v
	}
	end := strings.Index(body[i:], "</form>")
	for _, m := range hiddenRe.FindAllStringSubmatch(body[i:i+end], -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// TestGuidedJourney walks the whole path as a browser without JavaScript
// would: each page's form carries the earlier answers, the check page
// lists them, and the result explains its suggestions.
func TestGuidedJourney(t *testing.T) {
	t.Parallel()
	srv, _ := newGuidedServer(t, testworld.Now, nil)
	status, body, _ := fetch(t, srv.URL+"/find/guided")
	if status != 200 || !strings.Contains(body, "Are you in danger, or thinking about harming yourself?") || !strings.Contains(body, "I need help now") {
		t.Fatalf("start: status %d, page lacks the safety question or the help button", status)
	}
	steps := []struct {
		answers url.Values
		want    string // on the next page
	}{
		{url.Values{"safety": {"no"}}, "What would you like help with?"},
		{url.Values{"issue": {"depression", "anxiety"}}, "Who is the therapy for?"},
		{url.Values{"who": {"me"}}, "What would you like from therapy?"},
		{url.Values{"want": {"past"}}, "Would you prefer short-term or open-ended therapy?"},
		{url.Values{"length": {"open"}}, "How would you like to meet?"},
		{url.Values{"format": {"in_person", "online"}, "near": {"Leeds"}}, "How much can you pay for each session?"},
		{url.Values{"max_fee": {"80"}}, "Which language would you like to have therapy in?"},
		{url.Values{}, "Check your answers"},
	}
	form := mainForm(body)
	for i, st := range steps {
		for k, vals := range st.answers {
			form[k] = vals
		}
		form.Set("go", "next")
		status, body, header := post(t, srv.URL+"/find/guided", form)
		if status != 200 || !strings.Contains(body, st.want) {
			t.Fatalf("step %d (%s): status %d, page lacks %q", i+1, form.Get("step"), status, st.want)
		}
		if header.Get("Cache-Control") != "no-store" {
			t.Errorf("step %d: Cache-Control %q, want no-store", i+1, header.Get("Cache-Control"))
		}
		form = mainForm(body)
	}
	if form.Get("near") != "Leeds" || len(form["issue"]) != 2 || form.Get("max_fee") != "80" || form.Get("want") != "past" {
		t.Fatalf("the check page carries %v", form)
	}
	form.Set("go", "results")
	status, body, _ = post(t, srv.URL+"/find/guided", form)
	if status != 200 {
		t.Fatalf("results: status %d", status)
	}
	for _, want := range []string{"Therapies that might suit you", "starting point, not a diagnosis", "Any therapist can talk it through",
		"Psychodynamic therapy", "You said you would like to understand patterns from your past", "What the evidence says", "Source:",
		"approach=psychodynamic", "issue=depression", "near=Leeds", "max_fee=80", "format=online", "client=individuals", "How these suggestions work"} {
		if !strings.Contains(body, want) && !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("results lack %q", want)
		}
	}
	// The search link's count is the search's own.
	m := regexp.MustCompile(`<a href="(/search\?[^"]+)">See ([0-9,]+) therapists? offering`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no pre-filled search link with a count")
	}
	_, sbody, _ := fetch(t, srv.URL+html.UnescapeString(m[1]))
	if m[2] != "0" && !strings.Contains(sbody, m[2]+" ") {
		t.Errorf("the link says %s therapists; the search page does not", m[2])
	}
}

// TestGuidedCrisisFromEveryPage: from every question page the crisis page
// is one post away ("I need help now"), shows the configured lines, and
// offers to continue where the person was; answering yes to the safety
// question goes there at once.
func TestGuidedCrisisFromEveryPage(t *testing.T) {
	t.Parallel()
	srv, _ := newGuidedServer(t, testworld.Now, nil)
	for _, step := range guided.Steps() {
		t.Run(string(step), func(t *testing.T) {
			t.Parallel()
			// The page itself offers the button.
			show := url.Values{"step": {string(step)}, "go": {"resume"}, "issue": {"ocd"}}
			if step == guided.StepCheck {
				show.Set("go", "check")
			}
			_, page, _ := post(t, srv.URL+"/find/guided", show)
			if !strings.Contains(page, `name="go" value="help">I need help now</button>`) {
				t.Fatalf("the %s page has no I need help now button", step)
			}
			form := url.Values{"step": {string(step)}, "go": {"help"}, "issue": {"ocd"}, "who": {"me"}}
			status, body, _ := post(t, srv.URL+"/find/guided", form)
			if status != 200 || !strings.Contains(body, "<h1>Help now</h1>") {
				t.Fatalf("status %d, not the crisis page", status)
			}
			for _, line := range crisisLines {
				if strings.Count(body, line) < 2 { // the page and the footer
					t.Errorf("crisis page shows %q fewer than twice", line)
				}
			}
			if next := mainForm(body); next.Get("step") != string(step) || next.Get("issue") != "ocd" {
				t.Errorf("continue form carries %v, want step %s and the answers", next, step)
			}
			if !strings.Contains(body, "not an emergency service") {
				t.Error("the crisis page does not say therapists are not an emergency service")
			}
		})
	}
	status, body, _ := post(t, srv.URL+"/find/guided", url.Values{"step": {"safety"}, "safety": {"yes"}, "go": {"next"}})
	if status != 200 || !strings.Contains(body, "<h1>Help now</h1>") || mainForm(body).Get("step") != "issues" {
		t.Errorf("safety yes: status %d, want the crisis page continuing to the issues", status)
	}
	if _, body, _ := fetch(t, srv.URL+"/find/guided/help"); !strings.Contains(body, "<h1>Help now</h1>") || !strings.Contains(body, "Samaritans: 116 123") {
		t.Error("the crisis page by link lacks the lines")
	}
}

// TestGuidedPages: skipping, going back, changing an answer from the check
// page and the two checks that can fail (place, fee).
func TestGuidedPages(t *testing.T) {
	t.Parallel()
	srv, _ := newGuidedServer(t, testworld.Now, nil)
	tests := []struct {
		name string
		form url.Values
		want []string
		not  []string
	}{
		{"skip clears the page's answer", url.Values{"step": {"who"}, "who": {"couple"}, "go": {"skip"}}, []string{"What would you like from therapy?"}, []string{`name="who" value="couple"`}},
		{"back shows the earlier answer", url.Values{"step": {"who"}, "issue": {"bereavement"}, "go": {"back"}}, []string{"What would you like help with?", `value="bereavement" checked`}, nil},
		{"change from check returns to check", url.Values{"step": {"check"}, "length": {"short"}, "go": {"change-length"}}, []string{"Would you prefer short-term", `value="short" checked`, `name="from_check" value="true"`}, nil},
		{"continue after a change goes to check", url.Values{"step": {"length"}, "length": {"open"}, "from_check": {"true"}, "go": {"next"}}, []string{"Check your answers", "Open-ended"}, nil},
		{"unknown place", url.Values{"step": {"format"}, "near": {"Qqxyzzy"}, "go": {"next"}}, []string{"There is a problem", `href="#near"`, "We could not find", `value="Qqxyzzy"`, "How would you like to meet?"}, nil},
		{"fee not a number", url.Values{"step": {"budget"}, "max_fee": {"lots"}, "go": {"next"}}, []string{"There is a problem", `href="#max_fee"`, "whole pounds"}, nil},
		{"all skipped", url.Values{"step": {"check"}, "go": {"results"}}, []string{"You skipped the questions", "Person-centred therapy", "Cognitive behavioural therapy (CBT)", "not a diagnosis"}, nil},
		{"a child is not offered psychosexual therapy", url.Values{"step": {"check"}, "who": {"child"}, "issue": {"sexual-issues"}, "go": {"results"}}, []string{"Play therapy", "client=children"}, []string{"Psychosexual"}},
		{"a safety yes brings the crisis lines to the results", url.Values{"step": {"check"}, "safety": {"yes"}, "want": {"listen"}, "go": {"results"}}, []string{"If you are thinking of hurting yourself now", "Samaritans: 116 123"}, nil},
		{"any of the approaches in one search", url.Values{"step": {"check"}, "want": {"past"}, "go": {"results"}}, []string{"offering any of these approaches", "/search?approach=psychodynamic&amp;approach=brief-psychodynamic"}, nil},
		{"nobody matches everything: a wider search", url.Values{"step": {"check"}, "want": {"past"}, "max_fee": {"1"}, "go": {"results"}}, []string{"matches all of your answers yet", "then loosen the other filters"}, []string{"See 0 therapists"}},
		{"self-harm brings the crisis lines to the results", url.Values{"step": {"check"}, "issue": {"self-harm"}, "go": {"results"}}, []string{"If you are thinking of hurting yourself now", "Text SHOUT to 85258.", "Dialectical behaviour therapy"}, nil},
		{"check lists skipped answers", url.Values{"step": {"language"}, "go": {"next"}}, []string{"Check your answers", "Skipped", "See suggestions"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body, _ := post(t, srv.URL+"/find/guided", tt.form)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			for _, want := range tt.want {
				if !strings.Contains(body, want) && !strings.Contains(body, strings.ReplaceAll(want, `"`, "&#34;")) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(body, not) {
					t.Errorf("page has %q", not)
				}
			}
		})
	}
}

// TestGuidedRefusesUnreviewedRules: past its review date, or without a
// reviewer, the rule set is not used; the path says why and offers the
// plain search, and the public page says suggestions are off.
func TestGuidedRefusesUnreviewedRules(t *testing.T) {
	t.Parallel()
	shipped, err := guided.Default(testworld.New(t, 1).Tax)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		now   time.Time
		tweak func(*guided.RuleSet)
		want  string
	}{
		{"overdue", shipped.NextReview.AddDate(0, 0, 1), nil, "were due to be checked again by a clinician on"},
		{"due today", shipped.NextReview.Time, nil, "were due to be checked again"},
		{"no reviewer", testworld.Now, func(rs *guided.RuleSet) { rs.Reviewer = guided.Person{} }, "have not been checked by a clinician"},
		{"reviewed by the author", testworld.Now, func(rs *guided.RuleSet) { rs.Reviewer.Name = rs.Author.Name }, "have not been checked by a clinician"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newGuidedServer(t, tt.now, tt.tweak)
			_, start, _ := fetch(t, srv.URL+"/find/guided")
			_, result, _ := post(t, srv.URL+"/find/guided", url.Values{"step": {"check"}, "want": {"past"}, "go": {"results"}})
			for name, body := range map[string]string{"start": start, "results": result} {
				if !strings.Contains(body, "Suggestions are not available") || !strings.Contains(body, tt.want) || !strings.Contains(body, `href="/search"`) {
					t.Errorf("%s page does not refuse with %q and the plain search", name, tt.want)
				}
				if strings.Contains(body, "Psychodynamic therapy") {
					t.Errorf("%s page suggests from a refused rule set", name)
				}
			}
			if _, how, _ := fetch(t, srv.URL+"/find/guided/how"); !strings.Contains(how, "Suggestions are switched off") {
				t.Error("the how page does not say suggestions are off")
			}
		})
	}
}

// TestGuidedHowPage shows the rules, who wrote and reviewed them, when,
// and their sources; the path is linked from home, search and therapy
// articles.
func TestGuidedHowPage(t *testing.T) {
	t.Parallel()
	srv, w := newGuidedServer(t, testworld.Now, nil)
	rules, _ := guided.Default(w.Tax)
	_, body, _ := fetch(t, srv.URL+"/find/guided/how")
	body = html.UnescapeString(body)
	for _, want := range []string{"How our suggestions work", rules.Version, rules.Author.Name, rules.Reviewer.Name, rules.Reviewer.Credentials,
		"20 November 2026", "20 November 2027", "Post-traumatic stress disorder (NG116)", "Obsessive-compulsive disorder and body dysmorphic disorder: treatment (CG31)",
		"You said you would like to understand patterns from your past", "What would you like from therapy?"} {
		if !strings.Contains(body, want) {
			t.Errorf("how page lacks %q", want)
		}
	}
	for _, path := range []string{"/", "/search"} {
		if _, body, _ := fetch(t, srv.URL+path); !strings.Contains(body, `href="/find/guided"`) {
			t.Errorf("%s does not link to the guided path", path)
		}
	}
}
