// Package geo turns what a person types into a search box — a postcode, a
// postcode district or a town — into a point on the map, and measures
// distances between points. It is built from open data (see data/SOURCES.md)
// embedded in the binary, so it needs no network and no external service.
package geo

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/confide-org/confide/internal/fuzzy"
)

//go:embed data/uk-outcodes.csv
var outcodesCSV []byte

//go:embed data/uk-places.csv
var placesCSV []byte

// EarthRadiusKm is the mean Earth radius (IUGG) used for every distance
// Confide reports, so that all parts of the system agree to the metre.
const EarthRadiusKm = 6371.0088

// Point is a WGS84 position in decimal degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// HaversineKm is the great-circle distance between a and b in kilometres.
func HaversineKm(a, b Point) float64 {
	const rad = math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * EarthRadiusKm * math.Asin(math.Min(1, math.Sqrt(s)))
}

// District is a postcode district (outward code) with its centroid.
type District struct {
	Outcode string
	Point
	// Area is a display name for the district, such as "Leeds".
	Area string
	// Postcodes is the number of postcode units in the district, a rough
	// proxy for population; districts without a count get the median.
	Postcodes int
}

// Place is a named populated place.
type Place struct {
	Name   string
	County string
	Point
	// Weight is the number of postcode units in districts within 5 km: how
	// built-up the surroundings are. It decides between places of the same
	// name and ranks autocompletion.
	Weight int
}

// Location kinds, saying what the input was understood as.
const (
	KindPostcode = "postcode"
	KindSector   = "sector"
	KindDistrict = "district"
	KindPlace    = "place"
)

// Location is a resolved search point.
type Location struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Point
	// Outcode is the postcode district for postcode, sector and district
	// input; empty for places.
	Outcode string `json:"outcode,omitempty"`
	// Alternatives names other places the input could have meant, so a page
	// can say "Did you mean Newport, Isle of Wight?".
	Alternatives []string `json:"alternatives,omitempty"`
	// Corrected is set when the input was a slip for Label ("Leds" for
	// Leeds), so a page can say what it searched for.
	Corrected bool `json:"corrected,omitempty"`
	// SpanKm, for a county, is the radius around Point that covers most
	// of it: a search that gave no radius uses it.
	SpanKm float64 `json:"span_km,omitempty"`
}

// UnknownLocationError says that input matched nothing, with up to three
// close suggestions a person can pick from.
type UnknownLocationError struct {
	Input       string
	Suggestions []string
	// Outside names the country or city abroad the input is, when it is
	// one: the directory covers the UK only.
	Outside string
}

func (e *UnknownLocationError) Error() string {
	return fmt.Sprintf("unknown place or postcode %q", e.Input)
}

// ErrUnknownLocation is matched by every *UnknownLocationError with errors.Is.
var ErrUnknownLocation = errors.New("unknown location")

// Is lets callers test with errors.Is(err, geo.ErrUnknownLocation).
func (e *UnknownLocationError) Is(target error) bool { return target == ErrUnknownLocation }

// Gazetteer resolves UK postcodes, districts and place names. It is
// immutable after Load.
type Gazetteer struct {
	districts map[string]District
	outcodes  []string // sorted
	places    []Place  // file order (sorted by name)
	byName    map[string][]int
	names     []nameEntry // sorted by normalised name, for prefix search
	// placeCands are the places as suggestion candidates, most built-up
	// first, so that ties favour the towns people mean; candPlace[k] is
	// placeCands[k]'s index in places.
	placeCands []fuzzy.Candidate
	candPlace  []int
	// counties are the counties of the places file by normalised name,
	// abroad the names outside the UK (forgive.go).
	counties map[string]county
	abroad   map[string]string
	// postTowns counts the districts of each normalised area name: the
	// towns the post is addressed to, and how many districts each has.
	postTowns map[string]int
}

type nameEntry struct {
	norm  string
	place int
}

// MedianPostcodes stands in for districts whose postcode count is unknown
// (Northern Ireland and the Crown Dependencies), per data/SOURCES.md.
const MedianPostcodes = 572

// weightRadiusKm is how far around a place its Weight counts postcodes.
const weightRadiusKm = 5.0

// Load reads the embedded data files.
func Load() (*Gazetteer, error) {
	return Parse(outcodesCSV, placesCSV)
}

// MustLoad is Load for start-up and tests, where the data is part of the
// build and a failure is a programming error.
func MustLoad() *Gazetteer {
	g, err := Load()
	if err != nil {
		panic(err)
	}
	return g
}

// Parse builds a gazetteer from the two CSV files described in
// data/SOURCES.md.
func Parse(outcodes, places []byte) (*Gazetteer, error) {
	g := &Gazetteer{districts: make(map[string]District), byName: make(map[string][]int)}
	err := eachRecord(outcodes, []string{"outcode", "latitude", "longitude", "area", "postcodes"}, func(rec []string) error {
		p, err := parsePoint(rec[1], rec[2])
		if err != nil {
			return err
		}
		count := MedianPostcodes
		if rec[4] != "" {
			if count, err = strconv.Atoi(rec[4]); err != nil {
				return fmt.Errorf("postcodes %q: %w", rec[4], err)
			}
		}
		d := District{Outcode: rec[0], Point: p, Area: rec[3], Postcodes: count}
		if _, dup := g.districts[d.Outcode]; dup {
			return fmt.Errorf("outcode %s repeated", d.Outcode)
		}
		g.districts[d.Outcode] = d
		g.outcodes = append(g.outcodes, d.Outcode)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("geo: outcodes: %w", err)
	}
	sort.Strings(g.outcodes)
	err = eachRecord(places, []string{"name", "county", "latitude", "longitude"}, func(rec []string) error {
		p, err := parsePoint(rec[2], rec[3])
		if err != nil {
			return err
		}
		g.places = append(g.places, Place{Name: rec[0], County: rec[1], Point: p})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("geo: places: %w", err)
	}
	g.weighPlaces()
	for i, pl := range g.places {
		n := normalizeName(pl.Name)
		g.byName[n] = append(g.byName[n], i)
		g.names = append(g.names, nameEntry{n, i})
	}
	sort.SliceStable(g.names, func(i, j int) bool { return g.names[i].norm < g.names[j].norm })
	order := make([]int, len(g.places))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return g.places[order[a]].Weight > g.places[order[b]].Weight })
	for _, i := range order {
		g.placeCands = append(g.placeCands, fuzzy.Candidate{Text: normalizeName(g.places[i].Name), Value: g.placeLabel(i)})
		g.candPlace = append(g.candPlace, i)
	}
	g.weighCounties()
	g.postTowns = map[string]int{}
	for _, d := range g.districts {
		if d.Area != "" {
			g.postTowns[normalizeName(d.Area)]++
		}
	}
	g.abroad = map[string]string{}
	for _, name := range abroadNames() {
		g.abroad[normalizeName(name)] = name
	}
	return g, nil
}

func eachRecord(data []byte, header []string, fn func([]string) error) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(header)
	got, err := r.Read()
	if err != nil {
		return err
	}
	if strings.Join(got, ",") != strings.Join(header, ",") {
		return fmt.Errorf("header %q, want %q", got, header)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			line, _ := r.FieldPos(0)
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
}

func parsePoint(lat, lon string) (Point, error) {
	la, err1 := strconv.ParseFloat(lat, 64)
	lo, err2 := strconv.ParseFloat(lon, 64)
	if err1 != nil || err2 != nil || la < -90 || la > 90 || lo < -180 || lo > 180 {
		return Point{}, fmt.Errorf("bad coordinates %q,%q", lat, lon)
	}
	return Point{la, lo}, nil
}

// weighPlaces sums the postcode counts of districts near each place, using
// a latitude-sorted sweep so that start-up stays in milliseconds.
func (g *Gazetteer) weighPlaces() {
	ds := make([]District, 0, len(g.districts))
	for _, oc := range g.outcodes {
		ds = append(ds, g.districts[oc])
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Lat < ds[j].Lat })
	dLat := weightRadiusKm / 111.0
	for i := range g.places {
		p := g.places[i].Point
		lo := sort.Search(len(ds), func(k int) bool { return ds[k].Lat >= p.Lat-dLat })
		w := 0
		for k := lo; k < len(ds) && ds[k].Lat <= p.Lat+dLat; k++ {
			if HaversineKm(p, ds[k].Point) <= weightRadiusKm {
				w += ds[k].Postcodes
			}
		}
		g.places[i].Weight = w
	}
}

// District finds a postcode district by its outward code (upper case).
func (g *Gazetteer) District(outcode string) (District, bool) {
	d, ok := g.districts[outcode]
	return d, ok
}

// Districts lists every district in outcode order.
func (g *Gazetteer) Districts() []District {
	out := make([]District, len(g.outcodes))
	for i, oc := range g.outcodes {
		out[i] = g.districts[oc]
	}
	return out
}

// Places lists every place in file order.
func (g *Gazetteer) Places() []Place { return g.places }

var (
	postcodePattern = regexp.MustCompile(`^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$`)
	districtPattern = regexp.MustCompile(`^[A-Z]{1,2}[0-9][A-Z0-9]?$`)
	sectorPattern   = regexp.MustCompile(`^([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9])$`)
	spaces          = regexp.MustCompile(`\s+`)
)

// SplitPostcode recognises a full UK postcode in any case or spacing
// ("sw1a1aa", " SW1A 1AA ") and returns its outward and inward codes.
func SplitPostcode(s string) (outcode, inward string, ok bool) {
	compact := strings.ToUpper(spaces.ReplaceAllString(s, ""))
	m := postcodePattern.FindStringSubmatch(compact)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// FormatPostcode writes a full postcode in its standard form ("SW1A 1AA"),
// or reports that s is not one.
func FormatPostcode(s string) (string, bool) {
	out, in, ok := SplitPostcode(s)
	if !ok {
		return "", false
	}
	return out + " " + in, true
}

// Resolve understands input as, in this order: a full postcode (resolved to
// its district's centroid), a postcode sector ("M1 4"), a postcode district,
// or a place name (case, spacing, full stops, hyphens and "Saint"/"St" do
// not matter; "Name, County" picks one of several places of that name).
//
// When several places share a name, Resolve takes the one with the most
// postcode units within 5 km (the built-up one), and lists the others as
// Alternatives. A place whose full name is the input followed by a linking
// word ("Newcastle upon Tyne", "Stoke-on-Trent") is preferred to an exact
// match only when it is at least four times as built up, so "Newcastle"
// finds the city rather than the small town in County Down, while
// "Manchester" stays Manchester and "St Andrews" is not a quay in Hull.
//
// Input that matches nothing gives an *UnknownLocationError with up to three
// suggestions.
func (g *Gazetteer) Resolve(input string) (Location, error) {
	trimmed := strings.TrimSpace(spaces.ReplaceAllString(input, " "))
	if trimmed == "" {
		return Location{}, &UnknownLocationError{Input: input}
	}
	upper := strings.ToUpper(trimmed)
	if out, in, ok := SplitPostcode(upper); ok {
		d, found := g.districts[out]
		if !found {
			return Location{}, g.unknownPostcode(input, out)
		}
		return Location{Kind: KindPostcode, Label: out + " " + in, Point: d.Point, Outcode: out}, nil
	}
	if m := sectorPattern.FindStringSubmatch(upper); m != nil {
		d, found := g.districts[m[1]]
		if !found {
			return Location{}, g.unknownPostcode(input, m[1])
		}
		return Location{Kind: KindSector, Label: upper, Point: d.Point, Outcode: d.Outcode}, nil
	}
	if districtPattern.MatchString(upper) {
		if d, found := g.districts[upper]; found {
			return Location{Kind: KindDistrict, Label: districtLabel(d), Point: d.Point, Outcode: d.Outcode}, nil
		}
		// "Bath1" is not a district, but a place called "Bath1" does not
		// exist either; fall through so names with digits are still tried.
	}
	if loc, ok := g.resolvePlace(trimmed); ok {
		return loc, nil
	}
	if districtPattern.MatchString(upper) {
		return Location{}, g.unknownPostcode(input, upper)
	}
	return g.forgive(input, trimmed)
}

func districtLabel(d District) string {
	if d.Area == "" {
		return d.Outcode
	}
	return d.Outcode + " (" + d.Area + ")"
}

func (g *Gazetteer) resolvePlace(input string) (Location, bool) {
	name, county := input, ""
	if i := strings.LastIndex(input, ","); i >= 0 {
		name, county = input[:i], strings.TrimSpace(input[i+1:])
	}
	norm := normalizeName(name)
	if norm == "" {
		return Location{}, false
	}
	exact := g.byName[norm]
	if county != "" {
		nc := normalizeName(county)
		var picked []int
		for _, i := range exact {
			if c := normalizeName(g.places[i].County); c == nc || strings.HasPrefix(c, nc) {
				picked = append(picked, i)
			}
		}
		if len(picked) == 0 {
			return Location{}, false
		}
		exact = picked
	}
	best := g.heaviest(exact)
	if county == "" {
		// Names that continue with a linking word: "newcastle" →
		// "newcastle upon tyne", "stoke" → "stoke on trent".
		lo := sort.Search(len(g.names), func(k int) bool { return g.names[k].norm >= norm+" " })
		var prefixed []int
		for k := lo; k < len(g.names) && strings.HasPrefix(g.names[k].norm, norm+" "); k++ {
			rest := strings.TrimPrefix(g.names[k].norm, norm+" ")
			if link, _, _ := strings.Cut(rest, " "); linkingWords[link] {
				prefixed = append(prefixed, g.names[k].place)
			}
		}
		if p := g.heaviest(prefixed); p >= 0 && (best < 0 || g.places[p].Weight >= 4*g.places[best].Weight) {
			best = p
			exact = append(prefixed, exact...)
		}
	}
	if best < 0 {
		return Location{}, false
	}
	pl := g.places[best]
	loc := Location{Kind: KindPlace, Label: g.placeLabel(best), Point: pl.Point}
	for _, i := range exact {
		if i != best && len(loc.Alternatives) < 3 {
			loc.Alternatives = append(loc.Alternatives, g.placeLabel(i))
		}
	}
	return loc, true
}

// linkingWords join a town's short name to the rest of its full name.
var linkingWords = map[string]bool{"upon": true, "under": true, "on": true, "in": true, "by": true, "le": true, "next": true}

// heaviest picks the most built-up place of a set; ties keep file order.
func (g *Gazetteer) heaviest(idx []int) int {
	best := -1
	for _, i := range idx {
		if best < 0 || g.places[i].Weight > g.places[best].Weight {
			best = i
		}
	}
	return best
}

// placeLabel names a place, adding its county when the name is shared.
func (g *Gazetteer) placeLabel(i int) string {
	pl := g.places[i]
	if len(g.byName[normalizeName(pl.Name)]) > 1 {
		return pl.Name + ", " + pl.County
	}
	return pl.Name
}

func (g *Gazetteer) unknownPostcode(input, outcode string) error {
	// Districts of the same postcode area come first, so "M70" suggests
	// "M7" before "B70".
	var same, other []fuzzy.Candidate
	for _, oc := range g.outcodes {
		c := fuzzy.Candidate{Text: oc, Value: oc}
		if postcodeArea(oc) == postcodeArea(outcode) {
			same = append(same, c)
		} else {
			other = append(other, c)
		}
	}
	return &UnknownLocationError{Input: input, Suggestions: fuzzy.Closest(outcode, append(same, other...), 3, 1)}
}

// postcodeArea is the leading letters of an outward code: "SW" of "SW1A".
func postcodeArea(outcode string) string {
	i := strings.IndexAny(outcode, "0123456789")
	if i < 0 {
		return outcode
	}
	return outcode[:i]
}

func (g *Gazetteer) suggestPlaces(input string) []string {
	maxDist := 2
	if len([]rune(input)) <= 4 {
		maxDist = 1
	}
	return fuzzy.Closest(normalizeName(input), g.placeCands, 3, maxDist)
}

// Suggestion is one autocompletion answer.
type Suggestion struct {
	// Value is what to put in the search box; it resolves to this entry.
	Value string `json:"value"`
	Label string `json:"label"`
	Kind  string `json:"kind"`
	Point
}

// Complete proposes up to n places or districts that start with prefix, most
// built-up first, for a type-ahead box.
func (g *Gazetteer) Complete(prefix string, n int) []Suggestion {
	trimmed := strings.TrimSpace(prefix)
	if trimmed == "" || n <= 0 {
		return nil
	}
	var out []Suggestion
	upper := strings.ToUpper(strings.ReplaceAll(trimmed, " ", ""))
	if len(upper) <= 4 && upper[0] >= 'A' && upper[0] <= 'Z' && strings.ContainsAny(upper, "0123456789") {
		lo := sort.SearchStrings(g.outcodes, upper)
		for k := lo; k < len(g.outcodes) && strings.HasPrefix(g.outcodes[k], upper) && len(out) < n; k++ {
			d := g.districts[g.outcodes[k]]
			out = append(out, Suggestion{Value: d.Outcode, Label: districtLabel(d), Kind: KindDistrict, Point: d.Point})
		}
		return out
	}
	norm := normalizeName(trimmed)
	if norm == "" {
		return nil
	}
	lo := sort.Search(len(g.names), func(k int) bool { return g.names[k].norm >= norm })
	var hits []int
	for k := lo; k < len(g.names) && strings.HasPrefix(g.names[k].norm, norm); k++ {
		hits = append(hits, g.names[k].place)
	}
	sort.SliceStable(hits, func(a, b int) bool {
		pa, pb := g.places[hits[a]], g.places[hits[b]]
		ea, eb := normalizeName(pa.Name) == norm, normalizeName(pb.Name) == norm
		if ea != eb {
			return ea
		}
		return pa.Weight > pb.Weight
	})
	for _, i := range hits {
		if len(out) == n {
			break
		}
		label := g.placeLabel(i)
		value := label
		if label == g.places[i].Name {
			value = g.places[i].Name
		}
		out = append(out, Suggestion{Value: value, Label: label, Kind: KindPlace, Point: g.places[i].Point})
	}
	return out
}

var nameReplacer = strings.NewReplacer(".", "", "'", "", "’", "", "-", " ", "&", " and ", "(", " ", ")", " ")

// normalizeName folds the spellings people use for one place name into one
// key: case, full stops, apostrophes, hyphens and "Saint" versus "St".
func normalizeName(s string) string {
	s = strings.ToLower(nameReplacer.Replace(s))
	words := strings.Fields(s)
	for i, w := range words {
		if w == "saint" {
			words[i] = "st"
		}
	}
	return strings.Join(words, " ")
}
