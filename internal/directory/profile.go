// Package directory is the domain of therapist profiles: what a profile
// holds, what makes it valid, and when it may be shown to the public. It
// knows nothing of HTTP or SQL; adapters in internal/store and internal/web
// depend on it, never the other way round.
package directory

import (
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/errs"
)

// VerificationState says how far a profile's credentials have been checked.
type VerificationState string

// The verification states. Only Verified profiles can be public.
const (
	Unverified VerificationState = "unverified"
	Pending    VerificationState = "pending"
	Verified   VerificationState = "verified"
	Expired    VerificationState = "expired"
	Suspended  VerificationState = "suspended"
)

// VerificationStates lists every state, for validation and forms.
var VerificationStates = []VerificationState{Unverified, Pending, Verified, Expired, Suspended}

// Availability says whether a therapist is taking new clients.
type Availability string

// The availability values.
const (
	Accepting Availability = "accepting"
	Waitlist  Availability = "waitlist"
	Full      Availability = "full"
)

// Availabilities lists every availability value.
var Availabilities = []Availability{Accepting, Waitlist, Full}

// AvailabilityFreshFor is how recently availability must have been
// confirmed for a profile to count as accepting new clients; after that the
// site says "availability not confirmed recently".
const AvailabilityFreshFor = 30 * 24 * time.Hour

// Membership is one professional body a therapist belongs to.
type Membership struct {
	// Body is a professional body slug from the taxonomy, e.g. "bacp".
	Body   string `json:"body"`
	Number string `json:"membership_number"`
	// Level is the grade of membership as the body names it, e.g.
	// "Accredited member".
	Level string `json:"level"`
	// CheckedAt is when a verifier last found this membership on the
	// body's register. Each membership is checked on its own, so a
	// therapist in two bodies shows two dates; zero means never checked.
	CheckedAt time.Time `json:"checked_at"`
}

// Insurance is the professional indemnity insurance a verifier last saw
// evidence of. The zero value means none has been checked.
type Insurance struct {
	Insurer string `json:"insurer"`
	// Until is the calendar date (midnight UTC) the policy ends.
	Until     time.Time `json:"until"`
	CheckedAt time.Time `json:"checked_at"`
}

// Checked reports whether a verifier has seen evidence of the insurance.
func (i Insurance) Checked() bool { return !i.CheckedAt.IsZero() }

// Location is a practice address as far as Confide keeps it. The full
// postcode is private: only the district and area are ever shown, and the
// coordinates are the district's centroid, never the street.
type Location struct {
	Postcode   string  `json:"-"`
	Outcode    string  `json:"district"`
	Area       string  `json:"area"`
	Lat        float64 `json:"lat"`
	Lon        float64 `json:"lon"`
	Wheelchair bool    `json:"wheelchair"`
}

// Session times: when, besides weekday daytime, a therapist sees clients.
// They belong to the therapist, not to a practice (online sessions have
// hours too), and are what people who work office hours search by.
const (
	// TimeEvenings is weekday evenings, after 5 pm.
	TimeEvenings = "evenings"
	// TimeSaturdays is Saturdays.
	TimeSaturdays = "saturdays"
	// TimeSundays is Sundays.
	TimeSundays = "sundays"
)

// SessionTime is one session time with how it reads: Label on its own (a
// checkbox, a filter), Phrase within a sentence ("Also sees clients:
// weekday evenings, Saturdays").
type SessionTime struct {
	Slug   string
	Label  string
	Phrase string
}

// SessionTimes lists every session time in display order; the slice is the
// caller's.
func SessionTimes() []SessionTime {
	return []SessionTime{
		{TimeEvenings, "Weekday evenings (after 5 pm)", "weekday evenings"},
		{TimeSaturdays, "Saturdays", "Saturdays"},
		{TimeSundays, "Sundays", "Sundays"},
	}
}

// SessionTimesPhrase is the times a profile gives as a list for a
// sentence ("weekday evenings, Saturdays"), or "" for none.
func SessionTimesPhrase(times []string) string {
	var out []string
	for _, t := range SessionTimes() {
		if slices.Contains(times, t.Slug) {
			out = append(out, t.Phrase)
		}
	}
	return strings.Join(out, ", ")
}

// OffersWeekends reports whether the times include a Saturday or a
// Sunday: the "weekends" of the open standards and of the API's
// deprecated per-location flag.
func OffersWeekends(times []string) bool {
	return slices.Contains(times, TimeSaturdays) || slices.Contains(times, TimeSundays)
}

// Verification is the record of a credentials check.
type Verification struct {
	State      VerificationState
	VerifiedAt time.Time // zero when never verified
	// NextCheckDue is a calendar date (midnight UTC). The profile stays
	// public until the end of that day.
	NextCheckDue time.Time
	// DetailsChangedAt is when the therapist, while verified, changed a
	// detail a verifier checks (their name, a membership, their
	// insurance); zero when no such change waits for a verifier. The
	// profile stays public meanwhile, but only with what was checked: the
	// directory never shows an unchecked name or number as verified.
	DetailsChangedAt time.Time
}

// Rechecking reports whether changed details wait for a verifier, so the
// public record says "details changed, re-checking".
func (v Verification) Rechecking() bool { return !v.DetailsChangedAt.IsZero() }

// HoldsCheckedDetails reports whether the profile's name, memberships and
// insurance are the ones a verifier approved and could be shown as such
// (now, or after a suspension is lifted without a new check). Changes to
// them must then wait for a verifier instead of reaching the public page.
func (v Verification) HoldsCheckedDetails() bool {
	return v.State == Verified || (v.State == Suspended && !v.VerifiedAt.IsZero())
}

// Profile is a therapist's directory entry.
type Profile struct {
	ID int64
	// Version is the change-feed position this copy reflects: every
	// committed write up to it is in it. The store sets it on every read
	// and write, so an index fed by both a process's own writes and the
	// feed can refuse a copy older than the one it holds. Zero means
	// unknown (a profile that never went through the store).
	Version     int64
	Slug        string
	DisplayName string
	Headline    string
	// Statement is Markdown written by the therapist; it is sanitised when
	// rendered, never trusted.
	Statement string
	// Memberships are only ever those a verifier approved: evidence for
	// a new or changed one waits in a verification request.
	Memberships []Membership
	// Insurance is the insurance last verified.
	Insurance    Insurance
	Verification Verification
	Approaches   []string
	Issues       []string
	ClientGroups []string
	// Formats always includes "in_person" exactly when there is at least
	// one location; Normalize keeps that true.
	Formats   []string
	Languages []string
	// Gender is as the therapist describes themself, or empty.
	Gender                  string
	FeeMinPence             int
	FeeMaxPence             int
	Concessions             bool
	Availability            Availability
	AvailabilityConfirmedAt time.Time // zero when never confirmed
	// SessionTimes are the out-of-hours times the therapist sees clients
	// (TimeEvenings, TimeSaturdays, TimeSundays), in SessionTimes order.
	SessionTimes []string
	Locations    []Location
	// ContactEmail is private: enquiries are relayed, never shown.
	ContactEmail string
	// PublicContact is what the therapist chose to publish besides the
	// enquiry form. Unlike ContactEmail, everything in it is shown on the
	// public profile and in the APIs.
	PublicContact PublicContact
	Published     bool
	// OwnerID is the account that keeps this profile, or 0 for profiles
	// loaded by staff or the demo generator.
	OwnerID   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PublicContact is how a therapist may choose to be reached directly:
// some people would rather ring or look at a practice's own site than
// write through a form. Each field is optional and, once set, public.
type PublicContact struct {
	// Website is an http or https address.
	Website string
	// Phone is a UK or international number as the therapist writes it.
	Phone string
	// Email is an address to show, which may differ from the private one
	// enquiries are sent to.
	Email string
}

// IsZero reports whether the therapist published no direct contact.
func (c PublicContact) IsZero() bool { return c == PublicContact{} }

// IsPublic reports whether the profile may appear in search and on its
// page: verified, published, and its next check not yet overdue.
func (p *Profile) IsPublic(now time.Time) bool {
	return p.Published && p.Verification.State == Verified && !CheckOverdue(p.Verification.NextCheckDue, now)
}

// CheckOverdue reports whether a next-check date has passed: the check is
// due on that calendar day (UTC) and overdue from the following midnight.
func CheckOverdue(due, now time.Time) bool {
	return due.IsZero() || !now.Before(due.AddDate(0, 0, 1))
}

// ConfirmedRecently reports whether availability was confirmed within
// AvailabilityFreshFor of now.
func ConfirmedRecently(confirmedAt, now time.Time) bool {
	return !confirmedAt.IsZero() && !confirmedAt.Before(now.Add(-AvailabilityFreshFor))
}

// AcceptingNow reports whether the therapist is accepting new clients and
// has said so within AvailabilityFreshFor.
func AcceptingNow(a Availability, confirmedAt, now time.Time) bool {
	return a == Accepting && ConfirmedRecently(confirmedAt, now)
}

// OffersFormat reports whether the profile offers format f.
func (p *Profile) OffersFormat(f string) bool {
	for _, x := range p.Formats {
		if x == f {
			return true
		}
	}
	return false
}

// PrimaryMembership is the membership the verification record refers to:
// the first one listed.
func (p *Profile) PrimaryMembership() (Membership, bool) {
	if len(p.Memberships) == 0 {
		return Membership{}, false
	}
	return p.Memberships[0], true
}

// Errors of the shared kinds in package errs, under the names the store
// and callers already use.
const (
	// ErrNotFound is wrapped by every error that reports a missing
	// profile or verification request.
	ErrNotFound = errs.NotFound
	// ErrConflict is wrapped by errors that report a clash with existing
	// data, such as a slug already taken.
	ErrConflict = errs.Conflict
)

// Change is one entry of the store's change feed: profile ProfileID was
// created, updated or deleted at sequence number Seq.
type Change struct {
	Seq       int64
	ProfileID int64
}

// Clone is a deep copy of p, for keeping a profile beyond a call while its
// owner goes on using the original.
func (p *Profile) Clone() *Profile {
	c := *p
	c.Memberships = slices.Clone(p.Memberships)
	c.Approaches = slices.Clone(p.Approaches)
	c.Issues = slices.Clone(p.Issues)
	c.ClientGroups = slices.Clone(p.ClientGroups)
	c.Formats = slices.Clone(p.Formats)
	c.Languages = slices.Clone(p.Languages)
	c.SessionTimes = slices.Clone(p.SessionTimes)
	c.Locations = slices.Clone(p.Locations)
	return &c
}
