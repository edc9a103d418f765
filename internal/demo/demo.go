// Package demo generates realistic, clearly fictional therapist profiles so
// that a new install, a test or a benchmark has a directory to search. The
// same seed and date always give the same profiles.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
)

// Generator makes demo profiles.
type Generator struct {
	tax        *taxonomy.Taxonomy
	gaz        *geo.Gazetteer
	districts  []geo.District
	cumWeight  []int // cumulative postcode counts, for weighted picks
	byArea     map[string][]geo.District
	approaches weighted
	issues     weighted
}

type weighted struct {
	values []string
	cum    []int
}

func newWeighted(m map[string]int) weighted {
	var w weighted
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // map order is random; the output must not be
	total := 0
	for _, k := range keys {
		total += m[k]
		w.values = append(w.values, k)
		w.cum = append(w.cum, total)
	}
	return w
}

func (w weighted) pick(r *rand.Rand) string {
	x := r.IntN(w.cum[len(w.cum)-1])
	i, _ := slices.BinarySearch(w.cum, x+1)
	return w.values[i]
}

// pickN picks n distinct values.
func (w weighted) pickN(r *rand.Rand, n int) []string {
	var out []string
	for tries := 0; len(out) < n && tries < n*20; tries++ {
		if v := w.pick(r); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// NewGenerator prepares a generator over the gazetteer's districts, spread
// like real demand: each district is chosen in proportion to its number of
// postcodes, a proxy for population.
func NewGenerator(tax *taxonomy.Taxonomy, gaz *geo.Gazetteer) (*Generator, error) {
	g := &Generator{tax: tax, gaz: gaz, byArea: make(map[string][]geo.District)}
	total := 0
	for _, d := range gaz.Districts() {
		if d.Postcodes <= 0 {
			continue
		}
		total += d.Postcodes
		g.districts = append(g.districts, d)
		g.cumWeight = append(g.cumWeight, total)
		a := areaLetters(d.Outcode)
		g.byArea[a] = append(g.byArea[a], d)
	}
	if len(g.districts) == 0 {
		return nil, fmt.Errorf("demo: gazetteer has no districts")
	}
	for slug := range approachWeights {
		if _, ok := tax.Lookup(taxonomy.Approach, slug); !ok {
			return nil, fmt.Errorf("demo: approach %q is not in the taxonomy", slug)
		}
	}
	for slug := range issueWeights {
		if _, ok := tax.Lookup(taxonomy.Issue, slug); !ok {
			return nil, fmt.Errorf("demo: issue %q is not in the taxonomy", slug)
		}
	}
	g.approaches = newWeighted(approachWeights)
	g.issues = newWeighted(issueWeights)
	return g, nil
}

func areaLetters(outcode string) string {
	return strings.TrimRightFunc(outcode[:2], func(r rune) bool { return r >= '0' && r <= '9' })
}

var scottishAreas = map[string]bool{"AB": true, "DD": true, "DG": true, "EH": true, "FK": true, "G": true, "HS": true, "IV": true,
	"KA": true, "KW": true, "KY": true, "ML": true, "PA": true, "PH": true, "TD": true, "ZE": true}

var welshAreas = map[string]bool{"CF": true, "LL": true, "NP": true, "SA": true, "LD": true, "SY": true}

var londonAreas = map[string]bool{"E": true, "EC": true, "N": true, "NW": true, "SE": true, "SW": true, "W": true, "WC": true}

// Generate makes n profiles from seed. Dates are relative to asOf (taken
// as a calendar day), so the same seed and day give the same profiles.
// Slugs are unique within the batch; IDs are left for the store to assign.
func (g *Generator) Generate(n int, seed uint64, asOf time.Time) []*directory.Profile {
	r := rand.New(rand.NewPCG(seed, seed^0x5DEECE66D))
	day := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 12, 0, 0, 0, time.UTC)
	used := make(map[string]int, n)
	out := make([]*directory.Profile, 0, n)
	for range n {
		out = append(out, g.one(r, day, used))
	}
	markRechecks(out, day)
	return out
}

func (g *Generator) district(r *rand.Rand) geo.District {
	x := r.IntN(g.cumWeight[len(g.cumWeight)-1])
	i, _ := slices.BinarySearch(g.cumWeight, x+1)
	return g.districts[i]
}

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func pickOne[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

const inwardLetters = "ABDEFGHJLNPQRSTUWXYZ"

func postcodeIn(r *rand.Rand, outcode string) string {
	return fmt.Sprintf("%s %d%c%c", outcode, r.IntN(10), inwardLetters[r.IntN(len(inwardLetters))], inwardLetters[r.IntN(len(inwardLetters))])
}

func (g *Generator) one(r *rand.Rand, day time.Time, used map[string]int) *directory.Profile {
	given, family := pickOne(r, givenNames), pickOne(r, familyNames)
	name := given + " " + family
	if chance(r, 0.08) {
		name = "Dr " + name
	}
	home := g.district(r)
	area := areaLetters(home.Outcode)
	p := &directory.Profile{DisplayName: name}

	// Locations: most practise in one place, some in two nearby, some only
	// online or by phone.
	var times sessionDraw
	switch x := r.Float64(); {
	case x < 0.12:
	case x < 0.87:
		p.Locations = []directory.Location{g.location(r, home, &times)}
	default:
		second := pickOne(r, g.byArea[area])
		p.Locations = []directory.Location{g.location(r, home, &times)}
		if second.Outcode != home.Outcode {
			p.Locations = append(p.Locations, g.location(r, second, &times))
		}
	}
	if times.evenings {
		p.SessionTimes = append(p.SessionTimes, directory.TimeEvenings)
	}
	if times.weekends {
		p.SessionTimes = append(p.SessionTimes, directory.TimeSaturdays)
	}
	if chance(r, 0.72) || len(p.Locations) == 0 {
		p.Formats = append(p.Formats, taxonomy.FormatOnline)
	}
	if chance(r, 0.35) || (len(p.Locations) == 0 && chance(r, 0.4)) {
		p.Formats = append(p.Formats, taxonomy.FormatPhone)
	}

	p.Approaches = g.approaches.pickN(r, 1+r.IntN(4))
	p.Issues = g.issues.pickN(r, 3+r.IntN(9))
	p.ClientGroups = clientGroups(r)
	p.Languages = []string{"en"}
	switch {
	case scottishAreas[area] && chance(r, 0.04):
		p.Languages = append(p.Languages, "gd")
	case welshAreas[area] && chance(r, 0.25):
		p.Languages = append(p.Languages, "cy")
	}
	if chance(r, 0.15) {
		p.Languages = append(p.Languages, pickOne(r, secondLanguages))
	}
	switch x := r.Float64(); {
	case x < 0.70:
		p.Gender = "Woman"
	case x < 0.95:
		p.Gender = "Man"
	case x < 0.98:
		p.Gender = "Non-binary"
	}

	base := 35 + 5*r.IntN(12)
	if londonAreas[area] {
		base += 15
	}
	p.FeeMinPence = base * 100
	p.FeeMaxPence = p.FeeMinPence + 500*pickOne(r, []int{0, 0, 1, 2, 3, 4, 6})
	p.Concessions = chance(r, 0.4)
	if chance(r, 0.02) {
		p.FeeMinPence, p.FeeMaxPence, p.Concessions = 0, 0, false // a charity's free sessions
	}

	switch x := r.Float64(); {
	case x < 0.60:
		p.Availability = directory.Accepting
	case x < 0.85:
		p.Availability = directory.Waitlist
	default:
		p.Availability = directory.Full
	}
	// Most therapists confirm availability within the month; some let it
	// lapse, and the site says so.
	switch x := r.Float64(); {
	case x < 0.78:
		p.AvailabilityConfirmedAt = day.Add(-time.Duration(r.IntN(29*24)) * time.Hour)
	case x < 0.96:
		p.AvailabilityConfirmedAt = day.Add(-time.Duration(30*24+r.IntN(90*24)) * time.Hour)
	}

	body := g.body(r, area, p.Approaches)
	p.Memberships = []directory.Membership{{Body: body, Number: fmt.Sprintf("DEMO-%06d", r.IntN(1_000_000)), Level: pickOne(r, levels[body])}}
	if chance(r, 0.15) {
		if other := g.body(r, area, p.Approaches); other != body {
			p.Memberships = append(p.Memberships, directory.Membership{Body: other, Number: fmt.Sprintf("DEMO-%06d", r.IntN(1_000_000)), Level: pickOne(r, levels[other])})
		}
	}
	g.verification(r, p, day)
	credentials(p)

	role := roleFor(body, p.Approaches[0])
	placeName := home.Area
	if len(p.Locations) == 0 {
		placeName = "online"
	}
	p.Headline = g.headline(r, role, p, placeName)
	p.Statement = g.statement(r, p)

	slug := directory.Slugify(given + " " + family + " " + home.Outcode)
	used[slug]++
	if k := used[slug]; k > 1 {
		slug = fmt.Sprintf("%s-%d", slug, k)
	}
	p.Slug = slug
	p.ContactEmail = strings.ToLower(directory.Slugify(given+"."+family)) + fmt.Sprintf(".%d@example.org", r.IntN(10000))
	p.PublicContact = publicContact(slug)
	p.Published = chance(r, 0.97)
	// Drawn last, so that everything drawn before it is as it was when
	// session times were flags on each practice.
	if chance(r, 0.35) && times.weekends {
		p.SessionTimes = append(p.SessionTimes, directory.TimeSundays)
	}
	return p
}

// sessionDraw collects the evening and weekend draws of a profile's
// practices: the profile sees clients at a time if any practice drew it.
type sessionDraw struct{ evenings, weekends bool }

func (g *Generator) location(r *rand.Rand, d geo.District, times *sessionDraw) directory.Location {
	l := directory.Location{
		Postcode: postcodeIn(r, d.Outcode), Outcode: d.Outcode, Area: d.Area, Lat: d.Lat, Lon: d.Lon,
		Wheelchair: chance(r, 0.55),
	}
	evenings, weekends := chance(r, 0.5), chance(r, 0.25)
	times.evenings, times.weekends = times.evenings || evenings, times.weekends || weekends
	return l
}

func clientGroups(r *rand.Rand) []string {
	var out []string
	for _, c := range []struct {
		slug string
		p    float64
	}{{"individuals", 0.96}, {"couples", 0.25}, {"families", 0.10}, {"groups", 0.08}, {"children", 0.08}, {"young-people", 0.22}, {"older-adults", 0.28}} {
		if chance(r, c.p) {
			out = append(out, c.slug)
		}
	}
	if len(out) == 0 {
		out = []string{"individuals"}
	}
	return out
}

func (g *Generator) body(r *rand.Rand, area string, approaches []string) string {
	if scottishAreas[area] && chance(r, 0.3) {
		return "cosca"
	}
	if slices.Contains(approaches, "cbt") && chance(r, 0.3) {
		return "babcp"
	}
	if slices.Contains(approaches, "psychoanalytic") && chance(r, 0.5) {
		return "bpc"
	}
	switch x := r.Float64(); {
	case x < 0.58:
		return "bacp"
	case x < 0.78:
		return "ukcp"
	case x < 0.89:
		return "ncps"
	case x < 0.93:
		return "bpc"
	case x < 0.98:
		return "hcpc"
	default:
		return "acc"
	}
}

func roleFor(body, approach string) string {
	switch {
	case body == "hcpc":
		return "counselling psychologist"
	case body == "bpc" || body == "ukcp" || strings.Contains(approach, "psychodynamic") || approach == "psychoanalytic":
		return "psychotherapist"
	case approach == "cbt":
		return "CBT therapist"
	default:
		return "counsellor"
	}
}

// verification sets the verification record: about 85 % verified and
// current, the rest pending, expired or suspended.
func (g *Generator) verification(r *rand.Rand, p *directory.Profile, day time.Time) {
	v := &p.Verification
	switch x := r.Float64(); {
	case x < 0.85:
		v.State = directory.Verified
		v.VerifiedAt = day.Add(-time.Duration(1+r.IntN(350)) * 24 * time.Hour)
		v.NextCheckDue = v.VerifiedAt.AddDate(1, 0, 0)
		if chance(r, 0.3) { // insurance renews sooner than a year
			v.NextCheckDue = day.AddDate(0, 0, 1+r.IntN(120))
			if year := v.VerifiedAt.AddDate(1, 0, 0); year.Before(v.NextCheckDue) {
				v.NextCheckDue = year // a check never lasts more than a year
			}
		}
	case x < 0.91:
		v.State = directory.Pending
	case x < 0.96:
		v.State = directory.Expired
		v.VerifiedAt = day.AddDate(-1, 0, -r.IntN(200)-1)
		v.NextCheckDue = v.VerifiedAt.AddDate(1, 0, 0)
	default:
		v.State = directory.Suspended
		v.VerifiedAt = day.Add(-time.Duration(30+r.IntN(300)) * 24 * time.Hour)
		v.NextCheckDue = v.VerifiedAt.AddDate(1, 0, 0)
	}
	if !v.NextCheckDue.IsZero() {
		d := v.NextCheckDue
		v.NextCheckDue = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	}
}

func (g *Generator) headline(r *rand.Rand, role string, p *directory.Profile, place string) string {
	approach := g.tax.Label(taxonomy.Approach, p.Approaches[0])
	issue := strings.ToLower(g.tax.Label(taxonomy.Issue, p.Issues[0]))
	if p.Issues[0] == "ptsd" || p.Issues[0] == "ocd" || p.Issues[0] == "adhd" {
		issue = g.tax.Label(taxonomy.Issue, p.Issues[0])
	}
	where := "in " + place
	if place == "online" {
		where = "working online"
	}
	switch r.IntN(3) {
	case 0:
		return fmt.Sprintf("%s %s %s", withoutAbbreviation(approach), role, where)
	case 1:
		return fmt.Sprintf("%s %s, helping adults with %s", capitalise(role), where, issue)
	default:
		return fmt.Sprintf("%s: %s and more, %s", capitalise(role), capitalise(issue), where)
	}
}

func withoutAbbreviation(label string) string {
	if i := strings.Index(label, " ("); i > 0 {
		return label[:i]
	}
	return label
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *Generator) statement(r *rand.Rand, p *directory.Profile) string {
	var b strings.Builder
	b.WriteString(pickOne(r, openings))
	b.WriteString(" ")
	b.WriteString(fmt.Sprintf(pickOne(r, methods), lowerFirst(withoutAbbreviation(g.tax.Label(taxonomy.Approach, p.Approaches[0])))))
	b.WriteString("\n\n")
	var issues []string
	for _, s := range p.Issues[:min(3, len(p.Issues))] {
		issues = append(issues, lowerFirst(g.tax.Label(taxonomy.Issue, s)))
	}
	b.WriteString(fmt.Sprintf(pickOne(r, focuses), joinAnd(issues)))
	if len(p.Issues) > 3 {
		b.WriteString(" I also work with:\n\n")
		for _, s := range p.Issues[3:] {
			b.WriteString("- ")
			b.WriteString(g.tax.Label(taxonomy.Issue, s))
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	b.WriteString(pickOne(r, closings))
	b.WriteString("\n\n*This is a fictional demo profile: no such therapist exists.*")
	return b.String()
}

func lowerFirst(s string) string {
	if len(s) > 1 && s[1] >= 'a' && s[1] <= 'z' {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
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

// Inserter stores profiles in bulk; internal/store implements it.
type Inserter interface {
	InsertProfiles(ctx context.Context, ps []*directory.Profile) error
	// InsertRequests stores verification requests as they are.
	InsertRequests(ctx context.Context, rs []verify.Request) error
}

// batchSize bounds one insert transaction, so a large demo load shows
// progress and does not hold the write lock for minutes.
const batchSize = 5000

// Load generates n profiles, checks each against the same rules a real
// profile must pass, and stores them in batches. progress, if not nil, is
// called after each batch with the number stored so far.
func (g *Generator) Load(ctx context.Context, dst Inserter, v directory.Validator, n int, seed uint64, asOf time.Time, progress func(done int)) error {
	profiles := g.Generate(n, seed, asOf)
	for start := 0; start < len(profiles); start += batchSize {
		batch := profiles[start:min(start+batchSize, len(profiles))]
		for _, p := range batch {
			v.Normalize(p)
			if err := v.Validate(p, asOf.Add(24*time.Hour)); err != nil {
				return fmt.Errorf("demo: generated profile %q is invalid: %w", p.Slug, err)
			}
			p.CreatedAt, p.UpdatedAt = asOf.UTC(), asOf.UTC()
		}
		if err := dst.InsertProfiles(ctx, batch); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if progress != nil {
			progress(start + len(batch))
		}
	}
	if rs := Requests(profiles, asOf); len(rs) > 0 {
		if err := dst.InsertRequests(ctx, rs); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// Normalize tidies a generated profile exactly as the directory would
// before storing it (districts, in-person format), for callers that index
// generated profiles without a database.
func (g *Generator) Normalize(p *directory.Profile) {
	directory.Validator{Tax: g.tax, Gaz: g.gaz}.Normalize(p)
}
