package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/account"
)

// TestDashboardSessionTimes checks the profile form's evenings and
// weekends checkboxes: what a therapist ticks is saved on the profile,
// shown back ticked (and the rest not) when the form is opened again, and
// shown on the preview of the public page; unticking every box clears
// them.
func TestDashboardSessionTimes(t *testing.T) {
	h := newHarness(t, 20, nil)
	const email, name = "sam@example.org", "Sam Okonkwo-Reyes"
	u := h.user(email, testPassword, account.Therapist)
	sam := h.client()
	sam.signIn(email, testPassword)
	box := func(v string, checked bool) string {
		s := `id="session_time-` + v + `" name="session_time" type="checkbox" value="` + v + `"`
		if checked {
			s += " checked"
		}
		return s + ">"
	}
	tests := []struct {
		name    string
		ticked  []string
		want    []string // stored, in display order
		preview string   // "" for no "Also sees clients" line
	}{
		{"evenings and Saturdays", []string{"saturdays", "evenings"}, []string{"evenings", "saturdays"}, "weekday evenings, Saturdays"},
		{"Sundays only", []string{"sundays"}, []string{"sundays"}, "Sundays"},
		{"none", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := profileForm(name)
			form["session_time"] = tt.ticked
			if res := sam.post("/dashboard/profile", form); res.status != http.StatusSeeOther {
				t.Fatalf("save: %d %s", res.status, excerpt(res.body))
			}
			if got := h.ownProfile(u).SessionTimes; !slices.Equal(got, tt.want) {
				t.Fatalf("stored session times %q, want %q", got, tt.want)
			}
			res := sam.get("/dashboard/profile")
			for _, v := range []string{"evenings", "saturdays", "sundays"} {
				if want := box(v, slices.Contains(tt.want, v)); !strings.Contains(res.body, want) {
					t.Errorf("the form lacks %s", want)
				}
			}
			preview := sam.get("/dashboard/preview").body
			if has := strings.Contains(preview, "Also sees clients"); has != (tt.preview != "") || !strings.Contains(preview, tt.preview) {
				t.Errorf("preview: \"Also sees clients\" shown %v, want %q", has, tt.preview)
			}
		})
	}
	if res := sam.post("/dashboard/profile", func() map[string][]string {
		f := profileForm(name)
		f["session_time"] = []string{"mornings"}
		return f
	}()); res.status != http.StatusBadRequest || !strings.Contains(res.body, "not a session time") {
		t.Fatalf("an unknown session time: %d, want 400 naming the field", res.status)
	}
}
