package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/directory"
)

// TestProfileShowsSessionTimes checks the profile page's "Also sees
// clients" line: the therapist's session times in a sentence, in display
// order, and no line at all without any.
func TestProfileShowsSessionTimes(t *testing.T) {
	srv, w := newServer(t)
	p := w.PublicProfile(t)
	tests := []struct {
		name  string
		times []string
		want  string // "" for no line
	}{
		{"none", nil, ""},
		{"evenings and Saturdays", []string{directory.TimeSaturdays, directory.TimeEvenings}, "weekday evenings, Saturdays"},
		{"Sundays only", []string{directory.TimeSundays}, "Sundays"},
		{"every time", []string{directory.TimeEvenings, directory.TimeSaturdays, directory.TimeSundays}, "weekday evenings, Saturdays, Sundays"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := p.Clone()
			cp.SessionTimes = tt.times
			if err := w.DB.UpdateProfile(context.Background(), cp); err != nil {
				t.Fatal(err)
			}
			status, body, _ := fetch(t, srv.URL+"/therapists/"+p.Slug)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			line := "<dt>Also sees clients</dt><dd>" + tt.want + "</dd>"
			switch {
			case tt.want == "" && strings.Contains(body, "Also sees clients"):
				t.Fatal("the page has an \"Also sees clients\" line for a therapist who gave no session times")
			case tt.want != "" && !strings.Contains(body, line):
				t.Fatalf("the page lacks %q", line)
			}
		})
	}
}

// TestSearchFiltersBySessionTimes checks the search page's evenings and
// weekends group, which comes from the facet table alone: its options
// with counts, the chosen one ticked, and an unknown value explained
// beside the group while the rest of the search is kept.
func TestSearchFiltersBySessionTimes(t *testing.T) {
	srv, _ := newServer(t)
	tests := []struct {
		query  string
		status int
		want   []string
	}{
		{"/search?times=evenings", 200, []string{"<summary>Evenings and weekends</summary>",
			`id="f-times-evenings" name="times" value="evenings" checked>`, `<label for="f-times-evenings">Weekday evenings (after 5 pm) <span class="count">(`,
			`id="f-times-saturdays" name="times" value="saturdays">`}},
		{"/search?near=Leeds&times=weekend", 400, []string{"There is a problem", "Choose from: evenings, saturdays, sundays", `value="Leeds"`}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			status, body, _ := fetch(t, srv.URL+tt.query)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			for _, want := range tt.want {
				if !strings.Contains(body, want) && !strings.Contains(body, strings.ReplaceAll(want, `"`, "&#34;")) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
}
