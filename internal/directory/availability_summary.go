package directory

import (
	"strings"
	"time"
)

// AvailabilitySummary says in a sentence or two whether p takes new
// clients now and whether it offers evenings or weekends: the open
// standards (FHIR's availabilityExceptions, HSDS's schedule description)
// carry it as text, and both must say the same as the profile page.
func AvailabilitySummary(p *Profile, now time.Time) string {
	var parts []string
	switch {
	case AcceptingNow(p.Availability, p.AvailabilityConfirmedAt, now):
		parts = append(parts, "Accepting new clients (confirmed "+p.AvailabilityConfirmedAt.UTC().Format(time.DateOnly)+").")
	case p.Availability == Waitlist:
		parts = append(parts, "Waiting list for new clients.")
	case p.Availability == Full:
		parts = append(parts, "Not taking new clients.")
	default:
		parts = append(parts, "Availability not confirmed recently.")
	}
	evenings, weekends := false, false
	for _, l := range p.Locations {
		evenings, weekends = evenings || l.Evenings, weekends || l.Weekends
	}
	if evenings {
		parts = append(parts, "Evening appointments at one or more practices.")
	}
	if weekends {
		parts = append(parts, "Weekend appointments at one or more practices.")
	}
	return strings.Join(parts, " ")
}
