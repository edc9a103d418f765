package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/testworld"
	"github.com/confide-org/confide/internal/web"
)

func newServer(t *testing.T) (*httptest.Server, *testworld.World) {
	t.Helper()
	w := testworld.New(t, 600)
	h, err := web.New(web.Deps{
		Config: web.Config{SiteName: "Confide", CrisisLines: []string{"In an emergency call 999.", "Samaritans: 116 123 (free, 24 hours)."}, Demo: true},
		Log:    w.Log, Parser: w.Parser, Index: w.Index, Profiles: w.DB, Tax: w.Tax, Gaz: w.Gaz, Markup: w.Markup, Now: w.Clock, RateLimits: w.DB,
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

func fetch(t *testing.T, u string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Get(u)
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

var thirdParty = regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//`)

func TestPages(t *testing.T) {
	srv, w := newServer(t)
	pub := w.PublicProfile(t)
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/", 200, []string{"Find a verified counsellor", `<label for="near">Town or postcode</label>`, "What would you like help with?", "Browse by issue", "How we verify therapists"}},
		{"/search", 200, []string{"therapists", "Filters", "Update results", "order that changes every day"}},
		{"/search?near=Leeds&issue=anxiety", 200, []string{"within 10 miles of Leeds who work with anxiety", "Verified: ", "miles ("}},
		{"/search?near=LS1&radius_km=1.6&approach=istdp&issue=psychosis&issue=infertility", 200, []string{"No verified therapists within 1 mile of LS1", "Search within", "Include therapists who work online"}},
		{"/search?near=Edinborough", 400, []string{"There is a problem", `href="#near"`, "We could not find", `value="Edinborough"`, "Did you mean", "near=Edinburgh"}},
		{"/search?near=Leedz", 200, []string{"We could not find “Leedz”, so these are results for Leeds."}},
		{"/search?near=Paris", 400, []string{"There is a problem", "lists therapists in the UK, and Paris is outside it", "choose Online", `value="Paris"`,
			`href="/search?format=online"`, "See therapists who work online"}},
		{"/search?near=Cornwall", 200, []string{"Showing results across Cornwall."}},
		{"/search?q=anxeity", 200, []string{"Searched for “anxiety” (you typed “anxeity”).", `value="anxeity"`}},
		{"/search?near=Leeds&gender=martian", 400, []string{"There is a problem", "No listed therapist gives", `value="Leeds"`}},
		{"/search?page=0&max_fee=lots", 400, []string{"Page must be", "Maximum fee must be", `href="#f-fees-max"`}},
		{"/therapists/" + pub.Slug, 200, []string{pub.DisplayName, "Verification record", pub.Memberships[0].Number, "Next check due", "Fees"}},
		{"/therapists/" + w.HiddenProfile(t).Slug, 404, []string{"Page not found"}},
		{"/therapists/nobody-at-all", 404, []string{"Page not found"}},
		{"/no/such/page", 404, []string{"Page not found"}},
		{"/therapies", 200, []string{"Psychodynamic therapy", "/search?approach=psychodynamic"}},
		{"/issues", 200, []string{"Bereavement", "/search?issue=bereavement"}},
		{"/about", 200, []string{"How we verify", "Contains OS data © Crown copyright", "GeoNames", "CC BY 4.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, body, header := fetch(t, srv.URL+tt.path)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			for _, want := range append(tt.want, "In an emergency call 999.", `lang="en-GB"`, "Skip to main content", "every therapist listed here is fictional") {
				if !strings.Contains(body, want) && !strings.Contains(body, strings.ReplaceAll(want, `"`, "&#34;")) {
					t.Errorf("page lacks %q", want)
				}
			}
			if m := thirdParty.FindString(body); m != "" {
				t.Errorf("page loads a third-party resource: %s", m)
			}
			if header.Get("Set-Cookie") != "" {
				t.Error("public page sets a cookie")
			}
		})
	}
}

func TestProfileKeepsSecrets(t *testing.T) {
	srv, w := newServer(t)
	pub := w.PublicProfile(t)
	_, body, _ := fetch(t, srv.URL+"/therapists/"+pub.Slug+"?near=Leeds")
	if strings.Contains(body, pub.ContactEmail) {
		t.Fatal("profile page shows the private email")
	}
	if strings.Contains(body, pub.Locations[0].Postcode) {
		t.Fatal("profile page shows the full postcode")
	}
	if !strings.Contains(body, "from Leeds") {
		t.Fatal("profile page does not show distance from the search point")
	}
}

func TestPaginationKeepsFilters(t *testing.T) {
	srv, _ := newServer(t)
	_, body, _ := fetch(t, srv.URL+"/search?format=online&client=individuals&per_page=5")
	m := regexp.MustCompile(`href="(/search\?[^"]+)" rel="next"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no next-page link")
	}
	next, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	q := next.Query()
	if q.Get("page") != "2" || q.Get("format") != "online" || q.Get("client") != "individuals" || q.Get("per_page") != "5" {
		t.Fatalf("next link lost filters: %s", next)
	}
	status, body2, _ := fetch(t, srv.URL+next.String())
	if status != 200 || !strings.Contains(body2, "Page 2 of") {
		t.Fatalf("page 2: status %d", status)
	}
}

func TestHomeCountsFollowChanges(t *testing.T) {
	srv, w := newServer(t)
	countOf := func() string {
		_, body, _ := fetch(t, srv.URL+"/")
		m := regexp.MustCompile(`Search ([0-9,]+) therapists`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("home page lacks the therapist count")
		}
		return m[1]
	}
	before := countOf()
	p := w.PublicProfile(t)
	p.Published = false
	if err := w.Directory.Update(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if after := countOf(); after == before {
		t.Fatalf("count stayed %s after a profile was unpublished", after)
	}
}

func TestStaticFiles(t *testing.T) {
	srv, _ := newServer(t)
	if status, body, h := fetch(t, srv.URL+"/static/site.css"); status != 200 || !strings.Contains(h.Get("Content-Type"), "text/css") || !strings.Contains(body, "--focus") {
		t.Fatalf("stylesheet: %d %s", status, h.Get("Content-Type"))
	}
	if status, _, _ := fetch(t, srv.URL+"/static/"); status != 404 {
		t.Fatalf("directory listing answered %d", status)
	}
}
