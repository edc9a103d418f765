package directory_test

import (
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func valid() *directory.Profile {
	return &directory.Profile{
		DisplayName: "Anna Example", Headline: "Psychodynamic psychotherapist in Leeds",
		Memberships:  []directory.Membership{{Body: "ukcp", Number: "DEMO-123456", Level: "Registered", CheckedAt: now.AddDate(0, -2, 0)}},
		Insurance:    directory.Insurance{Insurer: "Example Mutual", Until: now.AddDate(0, 10, 0), CheckedAt: now.AddDate(0, -2, 0)},
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
	// A district alone (as registers give it) stands for the location.
	p.Locations = []directory.Location{{Postcode: " ls6 "}}
	v.Normalize(p)
	if l := p.Locations[0]; l.Postcode != "LS6" || l.Outcode != "LS6" || l.Area == "" || l.Lat == 0 {
		t.Fatalf("district not filled: %+v", l)
	}
	if err := v.Validate(p, now); err != nil {
		t.Fatalf("a known district alone rejected: %v", err)
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
		{"membership checked in future", func(p *directory.Profile) { p.Memberships[0].CheckedAt = now.Add(time.Hour) }, "memberships[0].checked_at", "future"},
		{"insurance without end", func(p *directory.Profile) { p.Insurance.Until = time.Time{} }, "insurance.until", "date it ends"},
		{"insurance checked in future", func(p *directory.Profile) { p.Insurance.CheckedAt = now.Add(time.Hour) }, "insurance.checked_at", "future"},
		{"details changed in future", func(p *directory.Profile) { p.Verification.DetailsChangedAt = now.Add(time.Hour) }, "verification.details_changed_at", "future"},
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
		{"bad session time", func(p *directory.Profile) { p.SessionTimes = []string{"weekends"} }, "session_times", "choose from evenings, saturdays, sundays"},
		{"odd gender", func(p *directory.Profile) { p.Gender = "<b>" }, "gender", "letters"},
		{"negative fee", func(p *directory.Profile) { p.FeeMinPence = -1 }, "fee_min", "negative"},
		{"fee range upside down", func(p *directory.Profile) { p.FeeMaxPence = 100 }, "fee_max", "at least the lowest"},
		{"fee too high", func(p *directory.Profile) { p.FeeMaxPence = 200_000 }, "fee_max", "£1000 or less"},
		{"bad availability", func(p *directory.Profile) { p.Availability = "maybe" }, "availability", "accepting, waitlist or full"},
		{"confirmed in future", func(p *directory.Profile) { p.AvailabilityConfirmedAt = now.Add(time.Hour) }, "availability_confirmed_at", "future"},
		{"bad postcode", func(p *directory.Profile) { p.Locations[0].Postcode = "12345" }, "locations[0].postcode", "full UK postcode"},
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
			fe, ok := errs.FieldsOf(err)
			if !ok || errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Validate = %v, want errs.Fields", err)
			}
			if !strings.Contains(fe[tt.field], tt.words) {
				t.Fatalf("%s error %q does not contain %q (all: %v)", tt.field, fe[tt.field], tt.words, fe)
			}
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

func TestChangedFields(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *directory.Profile)
		want   string
	}{
		{"nothing", func(*directory.Profile) {}, ""},
		{"name", func(p *directory.Profile) { p.DisplayName = "Anna Other" }, "display_name"},
		{"headline and fees", func(p *directory.Profile) { p.Headline += "!"; p.FeeMaxPence++ }, "headline,fee_max"},
		{"a postcode", func(p *directory.Profile) { p.Locations[0].Postcode = "LS6 2AB" }, "locations"},
		{"publishing", func(p *directory.Profile) { p.Published = false }, "published"},
		{"a membership's check date", func(p *directory.Profile) { p.Memberships[0].CheckedAt = now }, "memberships"},
		{"insurance", func(p *directory.Profile) { p.Insurance.Until = now }, "insurance"},
		{"re-check waiting", func(p *directory.Profile) { p.Verification.DetailsChangedAt = now }, "verification"},
		{"same instant in another zone", func(p *directory.Profile) {
			p.AvailabilityConfirmedAt = p.AvailabilityConfirmedAt.In(time.FixedZone("BST", 3600))
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := valid()
			after := before.Clone()
			tt.mutate(after)
			if got := strings.Join(directory.ChangedFields(before, after), ","); got != tt.want {
				t.Fatalf("ChangedFields = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHoldsCheckedDetails(t *testing.T) {
	verifiedAt := now.AddDate(0, -1, 0)
	for _, tt := range []struct {
		v    directory.Verification
		want bool
	}{
		{directory.Verification{State: directory.Verified, VerifiedAt: verifiedAt}, true},
		{directory.Verification{State: directory.Suspended, VerifiedAt: verifiedAt}, true},
		{directory.Verification{State: directory.Suspended}, false},
		{directory.Verification{State: directory.Pending}, false},
		{directory.Verification{State: directory.Expired, VerifiedAt: verifiedAt}, false},
		{directory.Verification{State: directory.Unverified}, false},
	} {
		if got := tt.v.HoldsCheckedDetails(); got != tt.want {
			t.Errorf("%s (verified %v): HoldsCheckedDetails = %v, want %v", tt.v.State, !tt.v.VerifiedAt.IsZero(), got, tt.want)
		}
	}
}

// TestPublicContact: the contact details a therapist may publish are each
// optional; what is given is tidied (a website typed without https://
// gets it) and refused, with the field named, when it is not a web page,
// a phone number or an email address.
func TestPublicContact(t *testing.T) {
	t.Parallel()
	v := directory.Validator{Tax: taxonomy.MustLoad(), Gaz: geo.MustLoad()}
	for _, tt := range []struct {
		name  string
		in    directory.PublicContact
		want  directory.PublicContact // after Normalize, when valid
		field string                  // the field refused, if any
	}{
		{name: "none"},
		{name: "all three", in: directory.PublicContact{Website: " https://anna.example.org/practice ", Phone: "0113  496 0000", Email: "hello@anna.example.org"},
			want: directory.PublicContact{Website: "https://anna.example.org/practice", Phone: "0113 496 0000", Email: "hello@anna.example.org"}},
		{name: "website typed without a scheme", in: directory.PublicContact{Website: "www.example.org"}, want: directory.PublicContact{Website: "https://www.example.org"}},
		{name: "international phone", in: directory.PublicContact{Phone: "+44 (0)113 496-0000"}, want: directory.PublicContact{Phone: "+44 (0)113 496-0000"}},
		{name: "script address", in: directory.PublicContact{Website: "javascript:alert(1)"}, field: "website"},
		{name: "ftp address", in: directory.PublicContact{Website: "ftp://example.org"}, field: "website"},
		{name: "credentials in the address", in: directory.PublicContact{Website: "https://user:pass@example.org"}, field: "website"},
		{name: "address with a space", in: directory.PublicContact{Website: "https://exa mple.org"}, field: "website"},
		{name: "too long an address", in: directory.PublicContact{Website: "https://example.org/" + strings.Repeat("a", 200)}, field: "website"},
		{name: "phone with letters", in: directory.PublicContact{Phone: "0113 CALL ME"}, field: "phone"},
		{name: "phone too short", in: directory.PublicContact{Phone: "12345"}, field: "phone"},
		{name: "phone too long", in: directory.PublicContact{Phone: "+44 1234 5678 9012 34"}, field: "phone"},
		{name: "email without a domain", in: directory.PublicContact{Email: "anna@example"}, field: "public_email"},
		{name: "email with a name", in: directory.PublicContact{Email: "Anna <anna@example.org>"}, field: "public_email"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := valid()
			p.PublicContact = tt.in
			v.Normalize(p)
			err := v.Validate(p, now)
			fe, _ := errs.FieldsOf(err)
			if tt.field != "" {
				if fe[tt.field] == "" {
					t.Fatalf("%+v: want %s refused, got %v", tt.in, tt.field, err)
				}
				return
			}
			if err != nil || p.PublicContact != tt.want {
				t.Fatalf("%+v: got %+v, %v; want %+v", tt.in, p.PublicContact, err, tt.want)
			}
		})
	}
	before, after := valid(), valid()
	after.PublicContact.Phone = "0113 496 0000"
	if got := directory.ChangedFields(before, after); len(got) != 1 || got[0] != "phone" {
		t.Fatalf("changed fields %v, want [phone]", got)
	}
}
