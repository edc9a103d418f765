package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/directory"
)

type sessionTimesBody struct {
	Total   int `json:"total"`
	Results []struct {
		SessionTimes []string `json:"session_times"`
		Locations    []struct {
			Evenings bool `json:"evenings"`
			Weekends bool `json:"weekends"`
		} `json:"locations"`
	} `json:"results"`
	Facets map[string][]struct {
		Value string `json:"value"`
		Label string `json:"label"`
		Count int    `json:"count"`
	} `json:"facets"`
}

// TestSessionTimes checks session_times in the API: on a profile, with the
// deprecated per-practice evenings and weekends flags derived from it; as
// an any-of search filter with labelled counts; and an unknown value
// refused naming the parameter and its values.
func TestSessionTimes(t *testing.T) {
	srv, w := newServer(t)
	t.Run("profile", func(t *testing.T) {
		for _, tt := range []struct {
			times              []string
			evenings, weekends bool
		}{
			{[]string{directory.TimeEvenings, directory.TimeSaturdays}, true, true},
			{[]string{directory.TimeSundays}, false, true},
			{nil, false, false},
		} {
			p := w.PublicProfile(t)
			p.SessionTimes = tt.times
			if err := w.DB.UpdateProfile(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			var body struct {
				SessionTimes []string `json:"session_times"`
				Locations    []struct {
					Evenings bool `json:"evenings"`
					Weekends bool `json:"weekends"`
				} `json:"locations"`
			}
			if status := get(t, srv.URL+"/api/v1/therapists/"+p.Slug, &body); status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if body.SessionTimes == nil || !slices.Equal(body.SessionTimes, append([]string{}, tt.times...)) {
				t.Errorf("session_times %#v, want %q", body.SessionTimes, tt.times)
			}
			for _, l := range body.Locations {
				if l.Evenings != tt.evenings || l.Weekends != tt.weekends {
					t.Errorf("%q: location evenings %v weekends %v, want %v %v", tt.times, l.Evenings, l.Weekends, tt.evenings, tt.weekends)
				}
			}
		}
	})
	t.Run("filter and counts", func(t *testing.T) {
		var all, some sessionTimesBody
		get(t, srv.URL+"/api/v1/therapists?per_page=100", &all)
		if status := get(t, srv.URL+"/api/v1/therapists?times=evenings&times=sundays&per_page=100", &some); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		counts := map[string]int{}
		for _, c := range all.Facets["times"] {
			counts[c.Value] = c.Count
			if c.Label == "" || c.Label == c.Value {
				t.Errorf("times=%s has no label (%q)", c.Value, c.Label)
			}
		}
		if counts["evenings"] == 0 || counts["saturdays"] == 0 {
			t.Fatalf("demo data counts %v: want evenings and saturdays", counts)
		}
		if some.Total == 0 || some.Total >= all.Total || some.Total < counts["evenings"] {
			t.Fatalf("times=evenings or sundays finds %d of %d (evenings alone %d)", some.Total, all.Total, counts["evenings"])
		}
		for _, r := range some.Results {
			if !slices.Contains(r.SessionTimes, "evenings") && !slices.Contains(r.SessionTimes, "sundays") {
				t.Fatalf("a result has neither: %q", r.SessionTimes)
			}
		}
		// Any-of: the times facet is counted without its own filter.
		for _, c := range some.Facets["times"] {
			if c.Count != counts[c.Value] {
				t.Errorf("filtered count of %s %d, want the unfiltered %d", c.Value, c.Count, counts[c.Value])
			}
		}
	})
	t.Run("unknown value", func(t *testing.T) {
		var e errorBody
		if status := get(t, srv.URL+"/api/v1/therapists?times=weekend", &e); status != http.StatusBadRequest || e.Error.Param != "times" ||
			!strings.Contains(e.Error.Message, "evenings, saturdays, sundays") {
			t.Fatalf("status %d, error %+v; want a 400 on times naming its values", status, e)
		}
	})
}
