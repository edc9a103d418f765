package directory_test

import (
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func valid() *directory.Profile {
	return &directory.Profile{
		DisplayName: "Anna Example", Headline: "Psychodynamic psychotherapist in Leeds",
		Memberships:  []directory.Membership{{Body: "ukcp", Number: "DEMO-123456", Level: "Registered"}},
		Verification: directory.Verification{State: directory.Verified, VerifiedAt: now.AddDate(0, -2, 0), NextCheckDue: now.AddDate(0, 10, 0)},
		Approaches:   []string{"psychodynamic"}, Issues: []string{"anxiety"}, ClientGroups: []string{"individuals"},
		Formats: []string{"online"}, Languages: []string{"en"}, FeeMinPence: 5000, FeeMaxPence: 6000,
		Availability: directory.Accepting, AvailabilityConfirmedAt: now.Add(-time.Hour),
		Locations: []directory.Location{{Postcode: "ls14ap"}}, ContactEmail: "anna@example.org", Published: true,
	}
}

func TestNormalize(t *testing.T) {
	v := directory.Validator{Tax: taxonomy.MustLoad(), Gaz: geo.MustLoad()}
	p := valid()
	p.DisplayName = "  Anna   Example "
	p.Approaches = []string{"CBT", "cbt", " psychodynamic "}
	p.Formats = []string{"online", "in_person"}
	v.Normalize(p)
	if p.DisplayName != "Anna Example" || strings.Join(p.Approaches, ",") != "cbt,psychodynamic" {
		t.Fatalf("not tidied: %q %v", p.DisplayName, p.Approaches)
	}
	l := p.Locations[0]
	if l.Postcode != "LS1 4AP" || l.Outcode != "LS1" || l.Area == "" || l.Lat == 0 {
		t.Fatalf("location not filled from postcode: %+v", l)
	}
	if strings.Join(p.Formats, ",") != "in_person,online" {
		t.Fatalf("formats %v: in person must follow from having a location", p.Formats)
	}
	p.Locations = nil
	v.Normalize(p)
	if strings.Join(p.Formats, ",") != "online" {
		t.Fatalf("formats %v: in person without a location", p.Formats)
	}
	if err := v.Validate(p, now); err != nil {
		t.Fatalf("normalised valid profile rejected: %v", err)
	}
}

func TestValidateMessages(t *testing.T) {
	v := directory.Validator{Tax: taxonomy.MustLoad(), Gaz: geo.MustLoad()}
	tests := []struct {
		name   string
		mutate func(p *directory.Profile)
		field  string
		words  string
	}{
		{"no name", func(p *directory.Profile) { p.DisplayName = "" }, "display_name", "Enter your name"},
		{"long name", func(p *directory.Profile) { p.DisplayName = strings.Repeat("a", 101) }, "display_name", "100 characters or fewer"},
		{"bad slug", func(p *directory.Profile) { p.Slug = "Not A Slug" }, "slug", "lower-case"},
		{"short headline", func(p *directory.Profile) { p.Headline = "Hi" }, "headline", "at least 10"},
		{"control character", func(p *directory.Profile) { p.Headline = "Therapist\x07 in Leeds" }, "headline", "cannot be shown"},
		{"huge statement", func(p *directory.Profile) { p.Statement = strings.Repeat("x", 6001) }, "statement", "6000 characters"},
		{"unknown body", func(p *directory.Profile) { p.Memberships[0].Body = "xyz" }, "memberships[0].body", "professional body"},
		{"bad membership number", func(p *directory.Profile) { p.Memberships[0].Number = "<script>" }, "memberships[0].membership_number", "Membership number"},
		{"verified without date", func(p *directory.Profile) { p.Verification.VerifiedAt = time.Time{} }, "verification.verified_at", "date it was verified"},
		{"check before verification", func(p *directory.Profile) { p.Verification.NextCheckDue = now.AddDate(-1, 0, 0) }, "verification.next_check_due", "after the verification"},
		{"bad state", func(p *directory.Profile) { p.Verification.State = "approved" }, "verification.state", "must be one of"},
		{"no approach", func(p *directory.Profile) { p.Approaches = nil }, "approaches", "at least 1"},
		{"unknown approach", func(p *directory.Profile) { p.Approaches = []string{"psychodynamc"} }, "approaches", `did you mean "psychodynamic"`},
		{"unknown issue", func(p *directory.Profile) { p.Issues = []string{"grief"} }, "issues", `did you mean "bereavement"`},
		{"no client group", func(p *directory.Profile) { p.ClientGroups = nil }, "client_groups", "at least 1"},
		{"no format", func(p *directory.Profile) { p.Formats = nil; p.Locations = nil }, "formats", "at least 1"},
		{"no language", func(p *directory.Profile) { p.Languages = nil }, "languages", "at least one language"},
		{"bad language", func(p *directory.Profile) { p.Languages = []string{"english"} }, "languages", "ISO 639-1"},
		{"odd gender", func(p *directory.Profile) { p.Gender = "<b>" }, "gender", "letters"},
		{"negative fee", func(p *directory.Profile) { p.FeeMinPence = -1 }, "fee_min", "negative"},
		{"fee range upside down", func(p *directory.Profile) { p.FeeMaxPence = 100 }, "fee_max", "at least the lowest"},
		{"fee too high", func(p *directory.Profile) { p.FeeMaxPence = 200_000 }, "fee_max", "£1000 or less"},
		{"bad availability", func(p *directory.Profile) { p.Availability = "maybe" }, "availability", "accepting, waitlist or full"},
		{"confirmed in future", func(p *directory.Profile) { p.AvailabilityConfirmedAt = now.Add(time.Hour) }, "availability_confirmed_at", "future"},
		{"bad postcode", func(p *directory.Profile) { p.Locations[0].Postcode = "LS1" }, "locations[0].postcode", "full UK postcode"},
		{"unknown district", func(p *directory.Profile) { p.Locations[0].Postcode = "ZZ9 9ZZ" }, "locations[0].postcode", "not recognised"},
		{"no email", func(p *directory.Profile) { p.ContactEmail = "" }, "contact_email", "Enter the email"},
		{"bad email", func(p *directory.Profile) { p.ContactEmail = "anna at example" }, "contact_email", "correct format"},
		{"email with name", func(p *directory.Profile) { p.ContactEmail = "Anna <anna@example.org>" }, "contact_email", "correct format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			v.Normalize(p)
			tt.mutate(p)
			err := v.Validate(p, now)
			ve, ok := err.(*directory.ValidationError)
			if !ok {
				t.Fatalf("Validate = %v, want a ValidationError", err)
			}
			for _, f := range ve.Fields {
				if f.Field == tt.field && strings.Contains(f.Message, tt.words) {
					return
				}
			}
			t.Fatalf("no %s error containing %q in %v", tt.field, tt.words, ve.Fields)
		})
	}
}

func TestIsPublic(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *directory.Profile)
		want   bool
	}{
		{"verified and published", func(*directory.Profile) {}, true},
		{"unpublished", func(p *directory.Profile) { p.Published = false }, false},
		{"pending", func(p *directory.Profile) { p.Verification.State = directory.Pending }, false},
		{"suspended", func(p *directory.Profile) { p.Verification.State = directory.Suspended }, false},
		{"expired", func(p *directory.Profile) { p.Verification.State = directory.Expired }, false},
		{"due today is still public", func(p *directory.Profile) {
			p.Verification.NextCheckDue = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
		}, true},
		{"due yesterday is overdue", func(p *directory.Profile) {
			p.Verification.NextCheckDue = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.mutate(p)
			if got := p.IsPublic(now); got != tt.want {
				t.Fatalf("IsPublic = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSlugify(t *testing.T) {
	tests := map[string]string{
		"Anna Patel":             "anna-patel",
		"Dr Siobhán O'Neil":      "dr-siobhan-oneil",
		"  Zoë   Kowalski-Smith": "zoe-kowalski-smith",
		"李":                      "therapist",
		"Ab":                     "ab-therapist",
	}
	for in, want := range tests {
		if got := directory.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}
