package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/api"
	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/testworld"
)

// guidedServer serves the API with the shipped rule set at time now, its
// log written to logs (for the privacy check).
func guidedServer(t *testing.T, now time.Time, tweak func(*guided.RuleSet), logs io.Writer) (*httptest.Server, *testworld.World, *countingSuggestions) {
	t.Helper()
	w := testworld.New(t, 600)
	rules, err := guided.Default(w.Tax)
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(rules)
	}
	log := w.Log
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	clock := func() time.Time { return now }
	counter := &countingSuggestions{}
	mux := http.NewServeMux()
	api.New(api.Deps{Log: log, Parser: w.Parser, Index: w.Index, Profiles: w.DB, DB: w.DB, Tax: w.Tax, Gaz: w.Gaz, Markup: w.Markup, Now: clock,
		Rules: &guided.Rules{Shipped: rules, Articles: w.DB, Tax: w.Tax, Now: clock}, Articles: w.DB, Counter: counter,
		CrisisLines: []string{"In an emergency call 999.", "Samaritans: 116 123 (free, 24 hours)."}}).Register(mux)
	srv := httptest.NewServer(conformance(t, mux))
	t.Cleanup(srv.Close)
	return srv, w, counter
}

type countingSuggestions struct{ n map[string]int }

func (c *countingSuggestions) Suggested(approach string) {
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[approach]++
}

type guidedAnswer struct {
	Rules struct {
		Version, Reviewed string
		NextReview        string `json:"next_review"`
		Reviewer          struct{ Name, Credentials string }
		HowURL            string `json:"how_url"`
	}
	Risk        bool
	CrisisLines []string `json:"crisis_lines"`
	Suggestions []struct {
		Approach, Label, Evidence string
		Reasons                   []string
		Source                    *struct{ Title string }
		SearchURL                 string `json:"search_url"`
		APIURL                    string `json:"api_url"`
		Count                     int
	}
	All struct {
		SearchURL string `json:"search_url"`
		Count     int
	}
	Notice string
}

func postJSON(t *testing.T, url, body string, v any) (int, http.Header) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header
}

// TestGuidedAPI: the endpoint gives the page's suggestions — the same rule
// set's Suggest, with reasons, sources, the rule set's version and
// reviewer, and searches whose counts are what the search API finds.
func TestGuidedAPI(t *testing.T) {
	t.Parallel()
	srv, w, counter := guidedServer(t, testworld.Now, nil, nil)
	rules, _ := guided.Default(w.Tax)
	tests := []struct {
		name    string
		body    string
		answers guided.Answers
		risk    bool
	}{
		{"all skipped", `{}`, guided.Answers{}, false},
		{"past and open-ended", `{"wants":["past"],"length":"open"}`, guided.Answers{Wants: []string{"past"}, Length: "open"}, false},
		{"anxiety, tools, online, budget", `{"issues":["anxiety"],"wants":["tools"],"formats":["online"],"max_fee_gbp":60,"concessions":true}`,
			guided.Answers{Issues: []string{"anxiety"}, Wants: []string{"tools"}, Formats: []string{"online"}, MaxFee: "60", Concessions: true}, false},
		{"couple in Leeds", `{"who":"couple","issues":["relationship-difficulties"],"formats":["in_person"],"near":"Leeds","language":"en"}`,
			guided.Answers{Who: "couple", Issues: []string{"relationship-difficulties"}, Formats: []string{"in_person"}, Near: "Leeds", Language: "en"}, false},
		{"at risk", `{"safety":"yes","issues":["trauma"]}`, guided.Answers{Safety: "yes", Issues: []string{"trauma"}}, true},
		{"hurts themselves", `{"issues":["self-harm"]}`, guided.Answers{Issues: []string{"self-harm"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got guidedAnswer
			status, hdr := postJSON(t, srv.URL+"/api/v1/guided", tt.body, &got)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if hdr.Get("Cache-Control") != "no-store" || hdr.Get("ETag") != "" {
				t.Errorf("Cache-Control %q, ETag %q: an answer to health data must not be cached", hdr.Get("Cache-Control"), hdr.Get("ETag"))
			}
			want := rules.Suggest(tt.answers)
			if len(got.Suggestions) != len(want) || len(want) < 2 || len(want) > 4 {
				t.Fatalf("%d suggestions, want %d (2 to 4)", len(got.Suggestions), len(want))
			}
			for i, s := range got.Suggestions {
				if s.Approach != want[i].Approach || !slices.Equal(s.Reasons, want[i].Reasons) || s.Evidence != want[i].Evidence || s.Label == "" {
					t.Errorf("suggestion %d: %+v, want %s %q", i, s, want[i].Approach, want[i].Reasons)
				}
				if (s.Source != nil) != (want[i].Source.Title != "") {
					t.Errorf("suggestion %d: source %v, want %q", i, s.Source, want[i].Source.Title)
				}
				// The count is what the search API finds for the same search.
				var found struct{ Total int }
				if get(t, srv.URL+s.APIURL, &found); found.Total != s.Count || !strings.HasPrefix(s.SearchURL, "/search?") {
					t.Errorf("suggestion %d: count %d, but %s finds %d", i, s.Count, s.APIURL, found.Total)
				}
			}
			if got.Rules.Version != rules.Version || got.Rules.Reviewer.Name != rules.Reviewer.Name || got.Rules.Reviewed != "2026-11-20" ||
				got.Rules.NextReview != "2027-11-20" || got.Rules.HowURL != "/find/guided/how" {
				t.Errorf("rules %+v", got.Rules)
			}
			if got.Risk != tt.risk || len(got.CrisisLines) != 2 || !strings.Contains(got.Notice, "not a diagnosis") {
				t.Errorf("risk %v (want %v), crisis lines %q, notice %q", got.Risk, tt.risk, got.CrisisLines, got.Notice)
			}
		})
	}
	if counter.n == nil || counter.n["cbt"] == 0 {
		t.Errorf("suggestion counts %v: the counter was not told", counter.n)
	}
}

// TestGuidedAPIRefusesBadAnswers: every unknown field, unknown value, bad
// type or bad body is a 400 naming the field, listing what it takes where
// there is a list, and never repeating what was sent.
func TestGuidedAPIRefusesBadAnswers(t *testing.T) {
	t.Parallel()
	srv, _, _ := guidedServer(t, testworld.Now, nil, nil)
	tests := []struct {
		body, param string
		suggests    string
	}{
		{`{"feeling":"sad"}`, "feeling", "issues"},
		{`{"safety":"maybe"}`, "safety", "yes"},
		{`{"who":"my dog"}`, "who", "couple"},
		{`{"issues":["anxiety","haunted"]}`, "issues", "bereavement"},
		{`{"wants":["magic"]}`, "wants", "past"},
		{`{"length":"forever"}`, "length", "open"},
		{`{"formats":["telepathy"]}`, "formats", "online"},
		{`{"issues":"anxiety"}`, "issues", ""},
		{`{"max_fee_gbp":"sixty"}`, "max_fee_gbp", ""},
		{`{"max_fee_gbp":-5}`, "max_fee_gbp", ""},
		{`{"max_fee_gbp":1000000}`, "max_fee_gbp", ""},
		{`{"concessions":"yes"}`, "concessions", ""},
		{`{"near":"Atlantis Undersea"}`, "near", ""},
		{`{"language":"klingon"}`, "language", "en"},
		{`not json`, "body", ""},
		{`[1,2]`, "body", ""},
		{`{} {}`, "body", ""},
		{`{"near":"` + strings.Repeat("x", 20000) + `"}`, "body", ""},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			var e errorBody
			status, _ := postJSON(t, srv.URL+"/api/v1/guided", tt.body, &e)
			if status != http.StatusBadRequest || e.Error.Code != "invalid_parameter" || e.Error.Param != tt.param || e.Error.Message == "" || e.Error.Suggestions == nil {
				t.Fatalf("%s: %d %+v", tt.body, status, e.Error)
			}
			if tt.suggests != "" && !slices.Contains(e.Error.Suggestions, tt.suggests) {
				t.Errorf("%s: the valid values %q lack %q", tt.body, e.Error.Suggestions, tt.suggests)
			}
			for _, sent := range []string{"sad", "maybe", "my dog", "haunted", "magic", "forever", "telepathy", "sixty", "Atlantis", "klingon"} {
				if strings.Contains(tt.body, sent) && strings.Contains(e.Error.Message, sent) {
					t.Errorf("the message repeats what was sent: %q", e.Error.Message)
				}
			}
		})
	}
	// A form post is not the API's shape.
	res, err := http.Post(srv.URL+"/api/v1/guided", "application/x-www-form-urlencoded", strings.NewReader("want=past"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a form post: %d", res.StatusCode)
	}
}

// TestGuidedAPIRefusesUnreviewedRules: overdue or unreviewed rules give a
// 503 saying why, in the path's words, and no suggestion.
func TestGuidedAPIRefusesUnreviewedRules(t *testing.T) {
	t.Parallel()
	shipped, err := guided.Default(testworld.New(t, 1).Tax)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		now   time.Time
		tweak func(*guided.RuleSet)
		want  string
	}{
		{"overdue", shipped.NextReview.AddDate(0, 0, 1), nil, "were due to be checked again by a clinician on 20 November 2027"},
		{"no reviewer", testworld.Now, func(rs *guided.RuleSet) { rs.Reviewer = guided.Person{} }, "have not been checked by a clinician"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _, counter := guidedServer(t, tt.now, tt.tweak, nil)
			var e errorBody
			status, _ := postJSON(t, srv.URL+"/api/v1/guided", `{"wants":["past"]}`, &e)
			if status != http.StatusServiceUnavailable || e.Error.Code != "rules_unavailable" || !strings.Contains(e.Error.Message, tt.want) {
				t.Fatalf("%d %+v", status, e.Error)
			}
			if counter.n != nil {
				t.Errorf("a refused rule set counted suggestions: %v", counter.n)
			}
		})
	}
}

// TestGuidedAPIPrivacy: canary answers appear in no log line, at any
// level, whether the request succeeds or is refused.
func TestGuidedAPIPrivacy(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	srv, _, _ := guidedServer(t, testworld.Now, nil, &logs)
	var out map[string]any
	postJSON(t, srv.URL+"/api/v1/guided", `{"issues":["bereavement"],"near":"Canarytown-zq"}`, &out)
	postJSON(t, srv.URL+"/api/v1/guided", `{"issues":["bereavement"],"who":"canary-zq-who"}`, &out)
	postJSON(t, srv.URL+"/api/v1/guided", `{"issues":["bereavement"],"near":"York","language":"canary-zq"}`, &out)
	if strings.Contains(strings.ToLower(logs.String()), "canary") || strings.Contains(logs.String(), "bereavement") {
		t.Fatalf("answers reached the log:\n%s", logs.String())
	}
}
