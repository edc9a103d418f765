package directory

import (
	"slices"
	"strings"
	"time"
)

// AvailabilitySummary says in a sentence or two whether p takes new
// clients now and whether it sees clients evenings or weekends: the open
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
	if slices.Contains(p.SessionTimes, TimeEvenings) {
		parts = append(parts, "Evening appointments (weekdays after 5 pm).")
	}
	switch sat, sun := slices.Contains(p.SessionTimes, TimeSaturdays), slices.Contains(p.SessionTimes, TimeSundays); {
	case sat && sun:
		parts = append(parts, "Weekend appointments (Saturdays and Sundays).")
	case sat:
		parts = append(parts, "Weekend appointments (Saturdays).")
	case sun:
		parts = append(parts, "Weekend appointments (Sundays).")
	}
	return strings.Join(parts, " ")
}
