package geo

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/confide-org/confide/internal/fuzzy"
)

// This file holds what Resolve tries once the input is not, as typed, a
// postcode, a district or a place: people type "Leds" on a phone, add the
// county they grew up with ("Leeds, West Yorkshire"), a district after the
// town ("Leeds LS1"), the short name everyone uses ("Hull"), a county
// ("Cornwall") or a city abroad ("Paris"). Each gets an answer: the place
// meant, choices ranked by closeness and size, or the plain fact that the
// directory covers the UK.

// KindCounty is a county or unitary authority: a wide area, searched
// around its centre with a radius that covers it.
const KindCounty = "county"

// county is a county of the places file, with the centre of its places
// (weighted by how built up each is) and the distance from that centre
// within which nine in ten of its places lie.
type county struct {
	name   string
	point  Point
	spanKm float64
	weight int
}

// shortNames are names people use for places the data knows by a longer
// one. Only well-established short forms: a guess here would send people
// to the wrong town.
var shortNames = map[string]string{
	"hull":          "kingston upon hull",
	"brum":          "birmingham",
	"southend":      "southend on sea",
	"the potteries": "stoke on trent",
}

// abroadNames are countries and cities outside the UK that people may
// type. A name the UK also has (Boston, Perth, Hamilton) never reaches
// this list: UK places are tried first.
func abroadNames() []string {
	return []string{
		"Ireland", "Republic of Ireland", "Eire", "Dublin", "Cork", "Galway", "Limerick", "Waterford",
		"France", "Paris", "Lyon", "Marseille", "Nice", "Toulouse", "Bordeaux", "Lille", "Calais",
		"Spain", "Madrid", "Barcelona", "Valencia", "Seville", "Malaga", "Ibiza", "Majorca", "Mallorca", "Tenerife",
		"Portugal", "Lisbon", "Porto", "Faro",
		"Germany", "Berlin", "Munich", "Hamburg", "Frankfurt", "Cologne", "Düsseldorf",
		"Netherlands", "Holland", "Amsterdam", "Rotterdam", "The Hague",
		"Belgium", "Brussels", "Antwerp", "Luxembourg",
		"Italy", "Rome", "Milan", "Naples", "Florence", "Venice", "Turin",
		"Switzerland", "Zurich", "Geneva", "Austria", "Vienna",
		"Denmark", "Copenhagen", "Sweden", "Stockholm", "Norway", "Oslo", "Finland", "Helsinki", "Iceland", "Reykjavik",
		"Poland", "Warsaw", "Krakow", "Czech Republic", "Prague", "Hungary", "Budapest", "Romania", "Bucharest",
		"Greece", "Athens", "Cyprus", "Malta", "Turkey", "Istanbul", "Ankara",
		"Russia", "Moscow", "Ukraine", "Kyiv", "Kiev",
		"United States", "USA", "America", "New York", "New York City", "Los Angeles", "Chicago", "San Francisco", "Washington DC", "Miami", "Seattle", "Las Vegas",
		"Canada", "Toronto", "Vancouver", "Montreal", "Ottawa",
		"Australia", "Sydney", "Melbourne", "Brisbane", "Adelaide", "New Zealand", "Auckland", "Wellington",
		"India", "Delhi", "New Delhi", "Mumbai", "Bangalore", "Pakistan", "Karachi", "Lahore", "Islamabad", "Bangladesh", "Dhaka",
		"China", "Beijing", "Shanghai", "Hong Kong", "Japan", "Tokyo", "Singapore", "Thailand", "Bangkok", "Philippines", "Manila",
		"Dubai", "Abu Dhabi", "United Arab Emirates", "Saudi Arabia", "Qatar", "Doha", "Israel", "Tel Aviv", "Jerusalem", "Egypt", "Cairo",
		"South Africa", "Cape Town", "Johannesburg", "Nigeria", "Lagos", "Kenya", "Nairobi", "Ghana", "Accra",
		"Brazil", "Rio de Janeiro", "Sao Paulo", "Mexico", "Mexico City", "Argentina", "Buenos Aires",
		"Europe", "Asia", "Africa",
	}
}

// weighCounties finds each county's centre and span from its places.
func (g *Gazetteer) weighCounties() {
	members := map[string][]int{}
	for i, pl := range g.places {
		if pl.County != "" {
			members[pl.County] = append(members[pl.County], i)
		}
	}
	g.counties = map[string]county{}
	for name, idx := range members {
		var lat, lon float64
		total := 0
		for _, i := range idx {
			w := max(g.places[i].Weight, 1)
			lat += g.places[i].Lat * float64(w)
			lon += g.places[i].Lon * float64(w)
			total += w
		}
		c := county{name: name, point: Point{lat / float64(total), lon / float64(total)}, weight: total}
		dists := make([]float64, 0, len(idx))
		for _, i := range idx {
			dists = append(dists, HaversineKm(c.point, g.places[i].Point))
		}
		sort.Float64s(dists)
		c.spanKm = dists[int(math.Floor(0.9*float64(len(dists)-1)))]
		g.counties[normalizeName(name)] = c
	}
}

// forgive is Resolve's last resort for trimmed input that is not, as
// typed, a postcode, district or place.
func (g *Gazetteer) forgive(input, trimmed string) (Location, error) {
	// A postcode or district beside the town: the postcode is the more
	// precise, so it wins ("Leeds LS1", "LS6 Headingley", "Leeds, LS1 4AP").
	words := strings.Fields(strings.ToUpper(strings.NewReplacer(",", " ", ";", " ").Replace(trimmed)))
	if len(words) >= 2 {
		for _, part := range postcodeParts(words) {
			if loc, err := g.Resolve(part); err == nil && loc.Kind != KindPlace {
				return loc, nil
			}
		}
	}
	name, _, hasQualifier := strings.Cut(trimmed, ",")
	if hasQualifier {
		// "Leeds, West Yorkshire": the data files Leeds under its
		// authority, not its ceremonial county; the name alone decides.
		if loc, ok := g.resolvePlace(strings.TrimSpace(name)); ok {
			return loc, nil
		}
	}
	norm := normalizeName(name)
	if long, ok := shortNames[norm]; ok {
		if loc, ok := g.resolvePlace(long); ok {
			return loc, nil
		}
	}
	if c, ok := g.counties[norm]; ok && g.byName[norm] == nil {
		return g.countyLocation(c), nil
	}
	if foreign, ok := g.abroad[norm]; ok {
		return Location{}, &UnknownLocationError{Input: input, Outside: foreign}
	}
	return g.nearMiss(input, norm)
}

// postcodeParts are the ways a postcode may sit among words: the last
// two words (a full postcode or sector), the last word, the first two,
// the first word.
func postcodeParts(words []string) []string {
	var out []string
	n := len(words)
	if n >= 3 {
		out = append(out, words[n-2]+" "+words[n-1])
	}
	out = append(out, words[n-1])
	if n >= 3 {
		out = append(out, words[0]+" "+words[1])
	}
	out = append(out, words[0])
	return slices.DeleteFunc(out, func(s string) bool {
		_, _, full := SplitPostcode(s)
		return !full && !districtPattern.MatchString(strings.Fields(s)[0])
	})
}

func (g *Gazetteer) countyLocation(c county) Location {
	return Location{Kind: KindCounty, Label: c.name, Point: c.point, SpanKm: math.Ceil(c.spanKm)}
}

// nearMiss looks for the place or county the input is a slip of. A slip
// that leaves one clear answer (one or two edits from a place that is by
// far the most built up of those as close) is taken to mean it, marked
// Corrected so a page can say so; otherwise the closest names, nearest
// and most built up first, are offered.
func (g *Gazetteer) nearMiss(input, norm string) (Location, error) {
	n := len([]rune(norm))
	if n < 3 {
		return Location{}, &UnknownLocationError{Input: input}
	}
	// Edits tolerated for suggestions, and for taking the answer as meant.
	suggestWithin, takeWithin := 1, 1
	switch {
	case n >= 9:
		suggestWithin, takeWithin = 3, 2
	case n >= 5:
		suggestWithin = 2
	}
	type hit struct {
		dist, weight int
		label        string
		place        int // -1 for a county
		county       county
		// districts is how many postcode districts are addressed to
		// the place: the size of a post town.
		districts int
	}
	var hits []hit
	for k, cand := range g.placeCands {
		if d := abs(len([]rune(cand.Text)) - n); d > suggestWithin {
			continue
		}
		if d := fuzzy.Distance(norm, cand.Text); d <= suggestWithin {
			i := g.candPlace[k]
			hits = append(hits, hit{dist: d, weight: g.places[i].Weight, label: cand.Value, place: i, districts: g.postTowns[cand.Text]})
		}
	}
	for key, c := range g.counties {
		if _, isPlace := g.byName[key]; isPlace || abs(len([]rune(key))-n) > suggestWithin {
			// A county named after its town (Cardiff, Milton Keynes) is
			// found as the town.
			continue
		}
		if d := fuzzy.Distance(norm, key); d <= suggestWithin {
			hits = append(hits, hit{dist: d, weight: c.weight, label: c.name, place: -1, county: c})
		}
	}
	if len(hits) == 0 {
		return Location{}, &UnknownLocationError{Input: input}
	}
	sort.SliceStable(hits, func(a, b int) bool {
		if hits[a].dist != hits[b].dist {
			return hits[a].dist < hits[b].dist
		}
		if hits[a].weight != hits[b].weight {
			return hits[a].weight > hits[b].weight
		}
		return hits[a].label < hits[b].label
	})
	best := hits[0]
	// One answer is clear when nothing else is as close, when it is far
	// more built up than the next, or when it is the post town of several
	// times as many postcode districts (Leeds, 9; Lees, 1).
	second := hits[min(1, len(hits)-1)]
	clear := len(hits) == 1 || second.dist > best.dist || best.weight >= 4*second.weight ||
		best.districts >= 2 && best.districts >= 4*max(1, second.districts)
	if best.dist <= takeWithin && clear && best.weight > 0 {
		var loc Location
		if best.place >= 0 {
			// As if the name had been typed right: "Newcastel" is
			// Newcastle upon Tyne, as "Newcastle" is.
			pl := g.places[best.place]
			var ok bool
			if loc, ok = g.resolvePlace(pl.Name); !ok {
				loc = Location{Kind: KindPlace, Label: g.placeLabel(best.place), Point: pl.Point}
			}
		} else {
			loc = g.countyLocation(best.county)
		}
		loc.Corrected = true
		return loc, nil
	}
	var sugg []string
	for _, h := range hits {
		if len(sugg) == 3 {
			break
		}
		if !slices.Contains(sugg, h.label) {
			sugg = append(sugg, h.label)
		}
	}
	return Location{}, &UnknownLocationError{Input: input, Suggestions: sugg}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
