package directory

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Limits on profile fields. They keep pages readable and the index small.
const (
	MaxNameLen       = 100
	MaxHeadlineLen   = 160
	MaxStatementLen  = 6000
	MaxMemberships   = 8
	MaxApproaches    = 15
	MaxIssues        = 40
	MaxLanguages     = 12
	MaxLocations     = 5
	MaxGenderLen     = 50
	MaxFeePence      = 100_000 // £1,000 a session
	MaxMembershipLen = 40
	MaxLevelLen      = 80
	MaxEmailLen      = 254
	MaxWebsiteLen    = 200
	MaxPhoneLen      = 30
	MinSlugLen       = 3
	MaxSlugLen       = 80
	maxClockSkew     = 5 * time.Minute
	MaxCheckInterval = 2 * 365 * 24 * time.Hour
)

// problems collects what is wrong with a profile as the one field-error
// shape, errs.Fields, keeping the first message for each field.
type problems errs.Fields

func (e problems) add(field, format string, args ...any) {
	errs.Fields(e).Add(field, fmt.Sprintf(format, args...))
}

// Validator checks profiles against the vocabularies and the gazetteer.
type Validator struct {
	Tax *taxonomy.Taxonomy
	Gaz *geo.Gazetteer
}

var (
	slugRe       = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	membershipRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 /.\-]*$`)
	genderRe     = regexp.MustCompile(`^[\p{L}][\p{L} \-']*$`)
	phoneRe      = regexp.MustCompile(`^\+?[0-9][0-9 ()\-]*[0-9]$`)
)

// Normalize tidies a profile before validation: trims text, folds
// postcodes to their standard form, removes repeated tags, fills each
// location's district, area and centroid from its postcode, and makes
// "in person" follow from having a location.
func (v Validator) Normalize(p *Profile) {
	p.Slug = strings.TrimSpace(strings.ToLower(p.Slug))
	p.DisplayName = collapse(p.DisplayName)
	p.Headline = collapse(p.Headline)
	p.Statement = strings.TrimSpace(strings.ReplaceAll(p.Statement, "\r\n", "\n"))
	p.Gender = collapse(p.Gender)
	p.ContactEmail = strings.TrimSpace(p.ContactEmail)
	c := &p.PublicContact
	c.Website, c.Phone, c.Email = strings.TrimSpace(c.Website), collapse(c.Phone), strings.TrimSpace(c.Email)
	if c.Website != "" && !strings.Contains(c.Website, "://") {
		c.Website = "https://" + c.Website // "www.example.org" as typed
	}
	for i := range p.Memberships {
		m := &p.Memberships[i]
		m.Body = strings.ToLower(strings.TrimSpace(m.Body))
		m.Number = collapse(m.Number)
		m.Level = collapse(m.Level)
	}
	p.Approaches = dedupe(p.Approaches, strings.ToLower)
	p.Issues = dedupe(p.Issues, strings.ToLower)
	p.ClientGroups = dedupe(p.ClientGroups, strings.ToLower)
	p.Languages = dedupe(p.Languages, strings.ToLower)
	// Session times in their display order, so that the same choice is
	// stored (and compared) the same way however the form sent it.
	times := dedupe(p.SessionTimes, strings.ToLower)
	var ordered []string
	for _, t := range SessionTimes() {
		if slices.Contains(times, t.Slug) {
			ordered = append(ordered, t.Slug)
		}
	}
	for _, t := range times {
		if !slices.Contains(ordered, t) {
			ordered = append(ordered, t) // unknown: Validate refuses it
		}
	}
	p.SessionTimes = ordered
	formats := dedupe(p.Formats, strings.ToLower)
	formats = slices.DeleteFunc(formats, func(f string) bool { return f == taxonomy.FormatInPerson })
	for i := range p.Locations {
		l := &p.Locations[i]
		if pc, ok := geo.FormatPostcode(l.Postcode); ok {
			l.Postcode = pc
			out, _, _ := geo.SplitPostcode(pc)
			if d, ok := v.Gaz.District(out); ok {
				l.Outcode, l.Area, l.Lat, l.Lon = d.Outcode, d.Area, d.Lat, d.Lon
			}
		} else if d, ok := v.Gaz.District(strings.ToUpper(strings.TrimSpace(l.Postcode))); ok {
			// A district alone ("LS6"), as registers often give: the
			// public page shows no more than that anyway.
			l.Postcode = d.Outcode
			l.Outcode, l.Area, l.Lat, l.Lon = d.Outcode, d.Area, d.Lat, d.Lon
		} else {
			l.Postcode = strings.TrimSpace(l.Postcode)
		}
	}
	if len(p.Locations) > 0 {
		formats = append([]string{taxonomy.FormatInPerson}, formats...)
	}
	p.Formats = formats
	p.Verification.NextCheckDue = calendarDate(p.Verification.NextCheckDue)
	p.Insurance.Until = calendarDate(p.Insurance.Until)
	p.Insurance.Insurer = collapse(p.Insurance.Insurer)
}

// calendarDate is t's day at midnight UTC, or zero for zero.
func calendarDate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	d := t.UTC()
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// Validate checks every field and returns errs.Fields listing every
// problem (the first for each field), or nil. Call Normalize first.
func (v Validator) Validate(p *Profile, now time.Time) error {
	e := problems{}
	checkText(e, "display_name", "Name", p.DisplayName, 2, MaxNameLen, true)
	if p.Slug != "" && (!slugRe.MatchString(p.Slug) || len(p.Slug) < MinSlugLen || len(p.Slug) > MaxSlugLen) {
		e.add("slug", "Web address must be %d to %d lower-case letters, digits and single hyphens", MinSlugLen, MaxSlugLen)
	}
	checkText(e, "headline", "Headline", p.Headline, 10, MaxHeadlineLen, true)
	if n := utf8.RuneCountInString(p.Statement); n > MaxStatementLen {
		e.add("statement", "Statement must be %d characters or fewer (it is %d)", MaxStatementLen, n)
	} else if !utf8.ValidString(p.Statement) || strings.ContainsRune(p.Statement, 0) {
		e.add("statement", "Statement contains characters that cannot be shown")
	}
	v.checkMemberships(e, p, now)
	v.checkVerification(e, p, now)
	v.checkTerms(e, "approaches", "approach", taxonomy.Approach, p.Approaches, 1, MaxApproaches)
	v.checkTerms(e, "issues", "issue", taxonomy.Issue, p.Issues, 0, MaxIssues)
	v.checkTerms(e, "client_groups", "client group", taxonomy.Client, p.ClientGroups, 1, 7)
	v.checkTerms(e, "formats", "session format", taxonomy.Format, p.Formats, 1, 3)
	if len(p.Languages) == 0 {
		e.add("languages", "Choose at least one language you work in")
	} else if len(p.Languages) > MaxLanguages {
		e.add("languages", "Choose at most %d languages", MaxLanguages)
	}
	for _, code := range p.Languages {
		if _, ok := v.Tax.Language(code); !ok {
			e.add("languages", "%q is not an ISO 639-1 language code (two letters, such as \"en\" or \"pl\")%s", code, didYouMean(v.Tax.SuggestLanguage(code, 3)))
		}
	}
	var timeSlugs []string
	for _, st := range SessionTimes() {
		timeSlugs = append(timeSlugs, st.Slug)
	}
	for _, t := range p.SessionTimes {
		if !slices.Contains(timeSlugs, t) {
			e.add("session_times", "%q is not a session time; choose from %s", t, strings.Join(timeSlugs, ", "))
		}
	}
	if p.Gender != "" {
		if utf8.RuneCountInString(p.Gender) > MaxGenderLen || !genderRe.MatchString(p.Gender) {
			e.add("gender", "Gender must be up to %d letters, spaces and hyphens, or left blank", MaxGenderLen)
		}
	}
	switch {
	case p.FeeMinPence < 0:
		e.add("fee_min", "Lowest fee cannot be negative")
	case p.FeeMinPence > MaxFeePence:
		e.add("fee_min", "Lowest fee must be £%d or less", MaxFeePence/100)
	}
	switch {
	case p.FeeMaxPence < p.FeeMinPence:
		e.add("fee_max", "Highest fee must be at least the lowest fee")
	case p.FeeMaxPence > MaxFeePence:
		e.add("fee_max", "Highest fee must be £%d or less", MaxFeePence/100)
	}
	if !slices.Contains(Availabilities, p.Availability) {
		e.add("availability", "Availability must be accepting, waitlist or full")
	}
	if p.AvailabilityConfirmedAt.After(now.Add(maxClockSkew)) {
		e.add("availability_confirmed_at", "Availability cannot be confirmed in the future")
	}
	v.checkLocations(e, p)
	if p.ContactEmail == "" {
		e.add("contact_email", "Enter the email address where enquiries should reach you")
	} else if a, err := mail.ParseAddress(p.ContactEmail); err != nil || a.Address != p.ContactEmail || len(p.ContactEmail) > MaxEmailLen || !strings.Contains(a.Address[strings.LastIndex(a.Address, "@"):], ".") {
		e.add("contact_email", "Enter an email address in the correct format, like name@example.com")
	}
	checkPublicContact(e, p.PublicContact)
	if len(e) > 0 {
		return errs.Fields(e)
	}
	return nil
}

// checkPublicContact checks the optional contact details a therapist
// publishes: a web address that can only be a web page (never
// javascript: or a bare host a browser would read as a path), a phone
// number of 7 to 15 digits, and a well-formed email address.
func checkPublicContact(e problems, c PublicContact) {
	if c.Website != "" {
		u, err := url.Parse(c.Website)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(c.Website) > MaxWebsiteLen || strings.ContainsAny(c.Website, " \t\"<>") {
			e.add("website", "Enter your website's address, like https://www.example.org")
		}
	}
	if c.Phone != "" {
		digits := 0
		for _, r := range c.Phone {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if !phoneRe.MatchString(c.Phone) || digits < 7 || digits > 15 || len(c.Phone) > MaxPhoneLen {
			e.add("phone", "Enter a phone number, like 0113 496 0000 or +44 113 496 0000")
		}
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > MaxEmailLen || !strings.Contains(c.Email[strings.LastIndex(c.Email, "@"):], ".") {
			e.add("public_email", "Enter an email address in the correct format, like name@example.com")
		}
	}
}

func (v Validator) checkMemberships(e problems, p *Profile, now time.Time) {
	if len(p.Memberships) > MaxMemberships {
		e.add("memberships", "List at most %d professional memberships", MaxMemberships)
	}
	seen := make(map[string]bool)
	for i, m := range p.Memberships {
		field := fmt.Sprintf("memberships[%d]", i)
		if _, ok := v.Tax.Body(m.Body); !ok {
			e.add(field+".body", "Choose a professional body from the list")
		}
		if m.Number == "" || len(m.Number) > MaxMembershipLen || !membershipRe.MatchString(m.Number) {
			e.add(field+".membership_number", "Membership number must be 1 to %d letters, digits, spaces, hyphens, full stops or slashes", MaxMembershipLen)
		}
		if utf8.RuneCountInString(m.Level) > MaxLevelLen || hasControl(m.Level) {
			e.add(field+".level", "Membership level must be %d characters or fewer", MaxLevelLen)
		}
		if m.CheckedAt.After(now.Add(maxClockSkew)) {
			e.add(field+".checked_at", "A membership cannot have been checked in the future")
		}
		key := m.Body + "\x00" + m.Number
		if seen[key] {
			e.add(field, "This membership is listed twice")
		}
		seen[key] = true
	}
	if ins := p.Insurance; ins.Checked() {
		switch {
		case ins.Until.IsZero():
			e.add("insurance.until", "Checked insurance needs the date it ends")
		case ins.CheckedAt.After(now.Add(maxClockSkew)):
			e.add("insurance.checked_at", "Insurance cannot have been checked in the future")
		}
	}
}

func (v Validator) checkVerification(e problems, p *Profile, now time.Time) {
	ver := p.Verification
	if !slices.Contains(VerificationStates, ver.State) {
		e.add("verification.state", "Verification state must be one of unverified, pending, verified, expired or suspended")
		return
	}
	if ver.State == Verified {
		if len(p.Memberships) == 0 {
			e.add("memberships", "A verified profile needs the professional membership that was checked")
		}
		if ver.VerifiedAt.IsZero() {
			e.add("verification.verified_at", "A verified profile needs the date it was verified")
		}
		if ver.NextCheckDue.IsZero() {
			e.add("verification.next_check_due", "A verified profile needs a next check date")
		}
	}
	if ver.DetailsChangedAt.After(now.Add(maxClockSkew)) {
		e.add("verification.details_changed_at", "Details cannot have changed in the future")
	}
	if !ver.VerifiedAt.IsZero() && ver.VerifiedAt.After(now.Add(maxClockSkew)) {
		e.add("verification.verified_at", "Verification date cannot be in the future")
	}
	if !ver.VerifiedAt.IsZero() && !ver.NextCheckDue.IsZero() {
		if ver.NextCheckDue.Before(ver.VerifiedAt.Truncate(24 * time.Hour)) {
			e.add("verification.next_check_due", "Next check must fall after the verification date")
		} else if ver.NextCheckDue.Sub(ver.VerifiedAt) > MaxCheckInterval {
			e.add("verification.next_check_due", "Next check must be within two years of verification")
		}
	}
}

func (v Validator) checkTerms(e problems, field, noun string, kind taxonomy.Kind, slugs []string, minN, maxN int) {
	if len(slugs) < minN {
		e.add(field, "Choose at least %d %s", minN, plural(minN, noun))
	}
	if len(slugs) > maxN {
		e.add(field, "Choose at most %d %s", maxN, plural(maxN, noun))
	}
	for _, s := range slugs {
		if _, ok := v.Tax.Lookup(kind, s); !ok {
			e.add(field, "%q is not a known %s%s", s, noun, didYouMean(v.Tax.Suggest(kind, s, 3)))
		}
	}
}

func (v Validator) checkLocations(e problems, p *Profile) {
	if len(p.Locations) > MaxLocations {
		e.add("locations", "List at most %d practice locations", MaxLocations)
	}
	for i, l := range p.Locations {
		field := fmt.Sprintf("locations[%d].postcode", i)
		out, _, ok := geo.SplitPostcode(l.Postcode)
		if !ok {
			if _, district := v.Gaz.District(l.Postcode); district && l.Outcode == l.Postcode {
				continue // a known district alone, as Normalize left it
			}
			e.add(field, "Enter a full UK postcode, like SW1A 1AA, or its district, like SW1A")
			continue
		}
		if _, known := v.Gaz.District(out); !known {
			e.add(field, "Postcode district %s is not recognised", out)
		}
	}
}

func checkText(e problems, field, label, s string, minN, maxN int, required bool) {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && required:
		e.add(field, "Enter your %s", strings.ToLower(label))
	case n > 0 && n < minN:
		e.add(field, "%s must be at least %d characters", label, minN)
	case n > maxN:
		e.add(field, "%s must be %d characters or fewer", label, maxN)
	case hasControl(s) || !utf8.ValidString(s):
		e.add(field, "%s contains characters that cannot be shown", label)
	}
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func dedupe(in []string, fold func(string) string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		s = fold(strings.TrimSpace(s))
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	if strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "s") {
		return noun + "es"
	}
	return noun + "s"
}

func didYouMean(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// Slugify makes a web-address slug from a name: "Dr Anna O'Neil-Smith" →
// "dr-anna-oneil-smith". Letters outside a–z are dropped after removing
// common accents, so every slug is plain ASCII.
func Slugify(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		if f, ok := foldAccent[r]; ok {
			r = f
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			hyphen = false
		case r == '\'' || r == '’':
		default:
			if !hyphen && b.Len() > 0 {
				b.WriteByte('-')
				hyphen = true
			}
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if len(s) > MaxSlugLen-6 {
		s = strings.TrimSuffix(s[:MaxSlugLen-6], "-")
	}
	if len(s) < MinSlugLen {
		s = strings.TrimPrefix(s+"-therapist", "-")
	}
	return s
}

var foldAccent = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ā': 'a', 'ą': 'a',
	'ç': 'c', 'ć': 'c', 'č': 'c', 'ď': 'd', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e', 'ē': 'e', 'ę': 'e', 'ě': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ī': 'i', 'ł': 'l', 'ñ': 'n', 'ń': 'n', 'ň': 'n',
	'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ø': 'o', 'ō': 'o', 'ř': 'r', 'ś': 's', 'š': 's', 'ș': 's', 'ş': 's',
	'ť': 't', 'ț': 't', 'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ū': 'u', 'ů': 'u', 'ý': 'y', 'ÿ': 'y', 'ź': 'z', 'ż': 'z', 'ž': 'z',
}
