package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// KmPerMile converts distances for readers who think in miles.
const KmPerMile = 1.609344

// formatDate writes a date the way UK public services do: "26 May 2023".
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 January 2006")
}

// isoDate is a machine-readable date for <time datetime>.
func isoDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// formatMoney writes pence as pounds: "£55", or "£55.50" when there are
// pence.
func formatMoney(pence int) string {
	if pence%100 == 0 {
		return fmt.Sprintf("£%d", pence/100)
	}
	return fmt.Sprintf("£%d.%02d", pence/100, pence%100)
}

// formatFees describes a fee range: "£45–£60 a session", "£50 a session",
// "Free", with concessions where offered.
func formatFees(minP, maxP int, concessions bool) string {
	var s string
	switch {
	case maxP == 0:
		s = "Free sessions"
	case minP == maxP:
		s = formatMoney(minP) + " a session"
	default:
		s = formatMoney(minP) + "–" + formatMoney(maxP) + " a session"
	}
	if concessions {
		s += ", concessions available"
	}
	return s
}

// formatDistance gives miles first, then kilometres: "2.3 miles (3.7 km)".
func formatDistance(km float64) string {
	miles := km / KmPerMile
	unit := "miles"
	if math.Round(miles*10) == 10 {
		unit = "mile"
	}
	return fmt.Sprintf("%.1f %s (%.1f km)", miles, unit, km)
}

// formatRadius names a search radius in the unit it was chosen in: the
// page's choices are whole miles ("10 miles"), anything else was given in
// kilometres ("10 km (6 miles)"). The other unit follows in brackets only
// where the figure is not the choice itself, rounded to the nearest
// whole unit, so nothing reads rounder than it is.
func formatRadius(km float64) string {
	for _, c := range radiusChoices {
		if c.km == strconv.FormatFloat(km, 'f', -1, 64) {
			if c.miles == 1 {
				return "1 mile"
			}
			return fmt.Sprintf("%d miles", c.miles)
		}
	}
	miles := km / KmPerMile
	unit := "miles"
	if math.Round(miles) == 1 {
		unit = "mile"
	}
	if miles < 0.95 {
		return fmt.Sprintf("%s km (%.1f miles)", strconv.FormatFloat(km, 'f', -1, 64), miles)
	}
	return fmt.Sprintf("%s km (%.0f %s)", strconv.FormatFloat(math.Round(km*10)/10, 'f', -1, 64), miles, unit)
}

// ago says how long ago t was, in days for the first fortnight.
func ago(t, now time.Time) string {
	days := int(now.Sub(t).Hours() / 24)
	switch {
	case days <= 0:
		return "today"
	case days == 1:
		return "yesterday"
	case days < 14:
		return fmt.Sprintf("%d days ago", days)
	case days < 60:
		return fmt.Sprintf("%d weeks ago", days/7)
	}
	return fmt.Sprintf("%d months ago", days/30)
}

// availabilityText is what a visitor is told about availability. It is
// honest: an old confirmation is reported as such, never as "accepting".
func availabilityText(a directory.Availability, confirmed, now time.Time) string {
	switch {
	case directory.AcceptingNow(a, confirmed, now):
		return "Accepting new clients — confirmed " + ago(confirmed, now)
	case !directory.ConfirmedRecently(confirmed, now):
		return "Availability not confirmed recently"
	case a == directory.Waitlist:
		return "Waiting list — confirmed " + ago(confirmed, now)
	}
	return "Not taking new clients at the moment — confirmed " + ago(confirmed, now)
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// initials draws the photo placeholder: "Anna Patel" → "AP".
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		if w == "Dr" || w == "Mr" || w == "Ms" || w == "Mrs" || w == "Mx" {
			continue
		}
		for _, r := range w {
			out = append(out, r)
			break
		}
		if len(out) == 2 {
			break
		}
	}
	return strings.ToUpper(string(out))
}

// formatCount writes a whole number with thousands separators: "1,650".
func formatCount(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + formatCount(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"date":     formatDate,
		"isoDate":  isoDate,
		"money":    formatMoney,
		"fees":     formatFees,
		"distance": formatDistance,
		"radius":   formatRadius,
		"ago":      ago,
		"initials": initials,
		"joinAnd":  joinAnd,
		"plural":   plural,
		"count":    formatCount,
		"last":     func(i, n int) bool { return i == n-1 },
		"add":      func(a, b int) int { return a + b },
		"upper":    strings.ToUpper,
	}
}
