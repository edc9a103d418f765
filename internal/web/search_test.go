package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// resultCards splits a results page into its cards' HTML.
func resultCards(t *testing.T, body string) []string {
	t.Helper()
	list := body[strings.Index(body, `<ol class="results"`)+1:]
	list = list[:strings.Index(list, "</ol>")]
	cards := strings.Split(list, `<li class="result">`)[1:]
	if len(cards) == 0 {
		t.Fatal("no result cards")
	}
	return cards
}

// TestCardsShowTheMatch (issue 15): a search for issue "anxiety" and
// approach "psychodynamic" names both, in words, on every result card,
// before the headline; the card's lists put them first and say how many
// more there are.
func TestCardsShowTheMatch(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	status, body, _ := fetch(t, srv.URL+"/search?issue=anxiety&approach=psychodynamic&per_page=100")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	cards := resultCards(t, body)
	more := 0
	for i, c := range cards {
		m := regexp.MustCompile(`<p class="matches"><strong>Matches:</strong> (.*?)</p>`).FindStringSubmatch(c)
		if m == nil {
			t.Fatalf("card %d has no Matches line:\n%s", i, c)
		}
		text := html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
		if text != "anxiety, psychodynamic therapy" {
			t.Fatalf("card %d: Matches: %q", i, text)
		}
		if strings.Index(c, "Matches:") > strings.Index(c, `class="headline"`) {
			t.Fatalf("card %d: the match comes after the headline", i)
		}
		for _, want := range []string{"<dt>Approaches</dt><dd><strong>Psychodynamic therapy</strong>", "<dt>Works with</dt><dd><strong>Anxiety</strong>", "<dt>Where</dt>", "<dt>How</dt>", "<dt>Fees</dt>", "<dt>Availability</dt>", "Verified: "} {
			if !strings.Contains(c, want) {
				t.Fatalf("card %d lacks %q:\n%s", i, want, c)
			}
		}
		if strings.Contains(c, "more</span>") {
			more++
		}
	}
	if more == 0 {
		t.Fatalf("none of %d cards says how many more issues or approaches there are", len(cards))
	}
	t.Logf("%d cards, each naming both terms; %d say how many more", len(cards), more)
}

// TestWhyThisOrder: the results page says in one line why results come in
// their order, for each order.
func TestWhyThisOrder(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	tests := []struct{ query, want string }{
		{"near=Leeds&approach=psychodynamic", "Recommended: weighs the approaches you chose, distance, then recently confirmed availability; ties take turns, changing daily."},
		{"q=anxiety", "Recommended: weighs your keywords, then recently confirmed availability"},
		{"near=Leeds&sort=distance", "Nearest first; ties take turns"},
		{"sort=fee", "Lowest fee first; ties take turns"},
		{"q=anxiety&sort=relevance", "Best match for your keywords first"},
		{"", "order that changes every day"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			_, body, _ := fetch(t, srv.URL+"/search?"+tt.query)
			m := regexp.MustCompile(`<p class="hint order-note"><span class="visually-hidden">Why this order: </span>(.*?)</p>`).FindStringSubmatch(body)
			if m == nil || !strings.Contains(m[1], tt.want) {
				t.Fatalf("order note %q, want %q", m, tt.want)
			}
		})
	}
}

// TestFiltersFold: filters sit in one "Filters (n active)" disclosure,
// closed unless a filter has an error; near a place the remote formats'
// counts say they are national.
func TestFiltersFold(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	tests := []struct {
		query      string
		status     int
		want, lack []string
	}{
		{"near=Leeds", 200, []string{`<details class="filters-toggle">`, "<summary>Filters</summary>", "across the UK)"}, []string{"active)"}},
		{"near=Leeds&format=online&issue=anxiety&max_fee=60", 200, []string{`<details class="filters-toggle">`, "<summary>Filters (3 active)</summary>"}, nil},
		{"format=online", 200, []string{"<summary>Filters (1 active)</summary>"}, []string{"across the UK"}},
		{"language=zz", 400, []string{`<details class="filters-toggle" open>`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			status, body, _ := fetch(t, srv.URL+"/search?"+tt.query)
			if status != tt.status {
				t.Fatalf("status %d", status)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, l := range tt.lack {
				if strings.Contains(body, l) {
					t.Errorf("page has %q", l)
				}
			}
			if strings.Index(body, `class="filters-toggle"`) > strings.Index(body, `class="search-results"`) {
				t.Error("filters come after the results")
			}
		})
	}
}

// TestBackToResults (issue 15): a profile opened from a results card links
// back to exactly that search (page included), and a "from" naming
// anything but a search on this site gives no such link.
func TestBackToResults(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t)
	search := "near=Leeds&radius_km=40&format=in_person&format=online&issue=anxiety&sort=fee&page=2&per_page=3"
	status, body, _ := fetch(t, srv.URL+"/search?"+search)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	m := regexp.MustCompile(`<h3><a href="([^"]+)">`).FindStringSubmatch(resultCards(t, body)[0])
	profile := html.UnescapeString(m[1])
	status, page, _ := fetch(t, srv.URL+profile)
	if status != 200 {
		t.Fatalf("profile %s: status %d", profile, status)
	}
	back := regexp.MustCompile(`<a class="back-link" href="([^"]+)">Back to results</a>`).FindStringSubmatch(page)
	if back == nil {
		t.Fatalf("profile %s has no Back to results link", profile)
	}
	got, err := url.Parse(html.UnescapeString(back[1]))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := url.ParseQuery(search)
	if got.Path != "/search" || got.Host != "" || got.Query().Encode() != want.Encode() {
		t.Fatalf("back link %s, want /search?%s", got, want.Encode())
	}
	if !strings.Contains(page, "from Leeds") {
		t.Error("profile reached from a Leeds search does not say how far it is from Leeds")
	}

	slug := w.PublicProfile(t).Slug
	backRe := regexp.MustCompile(`<a class="back-link" href="([^"]*)">`)
	tests := []struct {
		from string
		link string // the back link expected, "" for none
	}{
		{"//evil.example/search", "/search"},
		{"https://evil.example/?near=Leeds", "/search"},
		{"%zz", ""},
		{"near=Qqxyzzy", ""},
		{"near=" + strings.Repeat("a", 5000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.from[:min(len(tt.from), 30)], func(t *testing.T) {
			t.Parallel()
			_, page, _ := fetch(t, srv.URL+"/therapists/"+slug+"?"+url.Values{"from": {tt.from}}.Encode())
			got := ""
			if m := backRe.FindStringSubmatch(page); m != nil {
				got = m[1]
			}
			if got != tt.link || strings.Contains(page, "evil.example") {
				t.Fatalf("from=%q gave back link %q, want %q (or echoed the address)", tt.from, got, tt.link)
			}
		})
	}
	_, page, _ = fetch(t, srv.URL+"/therapists/"+slug+"?"+url.Values{"from": {"near=Leeds&next=https://evil.example/"}}.Encode())
	if !strings.Contains(page, `href="/search?near=Leeds">Back to results`) || strings.Contains(page, "evil.example") {
		t.Fatal("unknown parameters in from were not dropped")
	}
}

// TestFiltersKeepThePage: page 2 of a filtered search shows every filter
// set in the form, so that changing one keeps the rest; its cards carry
// the page for the way back.
func TestFiltersKeepThePage(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	_, body, _ := fetch(t, srv.URL+"/search?near=Leeds&radius_km=80&format=online&client=individuals&accepting=true&max_fee=80&sort=distance&per_page=2&page=2")
	for _, want := range []string{`id="f-format-online" name="format" value="online" checked`, `id="f-client-individuals" name="client" value="individuals" checked`,
		`name="accepting" value="true" checked`, `<option value="80" selected>£80</option>`, `<option value="80" selected>Within 50 miles</option>`,
		`<option value="distance" selected>`, `name="per_page" value="2"`, `value="Leeds"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page 2 form lacks %q", want)
		}
	}
	m := regexp.MustCompile(`<h3><a href="[^"]*from=([^"&]+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no card link with from")
	}
	from, _ := url.QueryUnescape(html.UnescapeString(m[1]))
	if v, _ := url.ParseQuery(from); v.Get("page") != "2" || v.Get("client") != "individuals" {
		t.Fatalf("card's from %q lost the page or a filter", from)
	}
}
