package search_test

// A deliberately simple search over a slice of profiles, written apart from
// the index: no bitmaps, no grid, no inverted index, no heap. The
// differential test checks that the index gives exactly its answers.

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

type refHit struct {
	id    int64
	dist  float64
	hasD  bool
	score float64
	rank  float64 // the recommended score, in that order only
}

type refResult struct {
	total  int
	hits   []refHit
	facets map[string]map[string]int
}

// refDistance is the haversine distance written out again, independently.
func refDistance(a, b geo.Point) float64 {
	toRad := func(d float64) float64 { return d * math.Pi / 180 }
	h := math.Pow(math.Sin(toRad(b.Lat-a.Lat)/2), 2) +
		math.Cos(toRad(a.Lat))*math.Cos(toRad(b.Lat))*math.Pow(math.Sin(toRad(b.Lon-a.Lon)/2), 2)
	return 2 * 6371.0088 * math.Asin(math.Min(1, math.Sqrt(h)))
}

type refDoc struct {
	p        *directory.Profile
	formats  []string
	tf       map[string]int
	length   int
	minDist  float64
	hasDist  bool
	inRadius bool
	accIn    bool
}

// refCorpus is the profiles with their query-independent parts worked out
// once: offered formats and term frequencies.
type refCorpus []refDoc

func newRefCorpus(all []*directory.Profile, tax *taxonomy.Taxonomy, an *search.Analyzer) refCorpus {
	out := make(refCorpus, 0, len(all))
	for _, p := range all {
		d := refDoc{p: p, tf: map[string]int{}}
		if len(p.Locations) > 0 {
			d.formats = append(d.formats, "in_person")
		}
		for _, f := range p.Formats {
			if f != "in_person" && !slices.Contains(d.formats, f) {
				d.formats = append(d.formats, f)
			}
		}
		for _, f := range search.DocumentText(p, tax) {
			an.Terms(f.Text, func(t string) { d.tf[t] += f.Weight; d.length += f.Weight })
		}
		out = append(out, d)
	}
	return out
}

func refSearch(corpus refCorpus, q search.Query) refResult {
	var docs []*refDoc
	for _, base := range corpus {
		p := base.p
		if !p.Published || p.Verification.State != directory.Verified || p.Verification.NextCheckDue.IsZero() {
			continue
		}
		// Public until the end of the due date (UTC).
		due := p.Verification.NextCheckDue
		endOfDue := time.Date(due.Year(), due.Month(), due.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
		if !q.Now.Before(endOfDue) {
			continue
		}
		d := base
		if q.Point != nil {
			d.minDist = math.Inf(1)
			for _, l := range p.Locations {
				dist := refDistance(*q.Point, geo.Point{Lat: l.Lat, Lon: l.Lon})
				if dist < d.minDist {
					d.minDist, d.hasDist = dist, true
				}
				if dist <= q.RadiusKm {
					d.inRadius = true
					if l.Wheelchair {
						d.accIn = true
					}
				}
			}
		}
		docs = append(docs, &d)
	}

	anyOf := func(have, want []string) bool {
		if len(want) == 0 {
			return true
		}
		for _, w := range want {
			if slices.Contains(have, w) {
				return true
			}
		}
		return false
	}
	genderOf := func(d *refDoc) []string {
		if d.p.Gender == "" {
			return nil
		}
		return []string{search.GenderKey(d.p.Gender)}
	}
	inRange := func(d *refDoc, formats []string) bool {
		if q.Point == nil {
			return true
		}
		if d.inRadius {
			return true
		}
		for _, f := range formats {
			if (f == "online" || f == "phone") && slices.Contains(d.formats, f) {
				return true
			}
		}
		return false
	}
	textMatch := func(d *refDoc) bool {
		if q.Terms.Empty() {
			return true
		}
		for _, t := range q.Terms.Exact {
			if d.tf[t] == 0 {
				return false
			}
		}
		return refLastTF(d, q.Terms) > 0
	}
	// common: every filter except the "any of" facets and the range.
	common := func(d *refDoc) bool {
		if !textMatch(d) {
			return false
		}
		for _, s := range q.Issues {
			if !slices.Contains(d.p.Issues, s) {
				return false
			}
		}
		if q.Wheelchair {
			if q.Point != nil {
				if !d.accIn {
					return false
				}
			} else if !slices.ContainsFunc(d.p.Locations, func(l directory.Location) bool { return l.Wheelchair }) {
				return false
			}
		}
		if q.Concessions && !d.p.Concessions {
			return false
		}
		if q.Accepting {
			c := d.p.AvailabilityConfirmedAt
			if d.p.Availability != directory.Accepting || c.IsZero() || c.Before(q.Now.Add(-30*24*time.Hour)) {
				return false
			}
		}
		if q.MaxFeePence >= 0 && d.p.FeeMinPence > q.MaxFeePence {
			return false
		}
		return true
	}
	match := func(d *refDoc, skip string) bool {
		if !common(d) {
			return false
		}
		if skip != "approach" && !anyOf(d.p.Approaches, q.Approaches) {
			return false
		}
		if skip != "client" && !anyOf(d.p.ClientGroups, q.Clients) {
			return false
		}
		if skip != "language" && !anyOf(d.p.Languages, q.Languages) {
			return false
		}
		if skip != "gender" && !anyOf(genderOf(d), q.Genders) {
			return false
		}
		if skip != "times" && !anyOf(d.p.SessionTimes, q.Times) {
			return false
		}
		if skip != "format" {
			if !anyOf(d.formats, q.Formats) || !inRange(d, q.Formats) {
				return false
			}
		}
		return true
	}

	var res refResult
	var matched []*refDoc
	for _, d := range docs {
		if match(d, "") {
			matched = append(matched, d)
		}
	}
	res.total = len(matched)

	// Facet counts.
	res.facets = map[string]map[string]int{}
	count := func(name string, skip string, values func(*refDoc) []string) {
		m := map[string]int{}
		for _, d := range docs {
			if match(d, skip) {
				for _, v := range values(d) {
					m[v]++
				}
			}
		}
		res.facets[name] = m
	}
	count("approach", "approach", func(d *refDoc) []string { return d.p.Approaches })
	count("issue", "", func(d *refDoc) []string { return d.p.Issues })
	count("client", "client", func(d *refDoc) []string { return d.p.ClientGroups })
	count("language", "language", func(d *refDoc) []string { return d.p.Languages })
	count("gender", "gender", genderOf)
	count("times", "times", func(d *refDoc) []string { return d.p.SessionTimes })
	fm := map[string]int{}
	for _, d := range docs {
		if !match(d, "format") {
			continue
		}
		for _, f := range d.formats {
			if inRange(d, []string{f}) {
				fm[f]++
			}
		}
	}
	res.facets["format"] = fm

	// Scores (BM25 over all public docs).
	scores := map[int64]float64{}
	if !q.Terms.Empty() {
		n := float64(len(docs))
		total := 0
		for _, d := range docs {
			total += d.length
		}
		avgdl := float64(total) / math.Max(n, 1)
		idf := func(has func(*refDoc) bool) float64 {
			df := 0
			for _, d := range docs {
				if has(d) {
					df++
				}
			}
			return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
		}
		var idfs []float64
		for _, t := range q.Terms.Exact {
			idfs = append(idfs, idf(func(d *refDoc) bool { return d.tf[t] > 0 }))
		}
		lastIDF := idf(func(d *refDoc) bool { return refLastTF(d, q.Terms) > 0 })
		for _, d := range matched {
			norm := 1.2 * (1 - 0.75 + 0.75*float64(d.length)/avgdl)
			s := 0.0
			for i, t := range q.Terms.Exact {
				tf := float64(d.tf[t])
				s += idfs[i] * tf * 2.2 / (tf + norm)
			}
			tf := float64(refLastTF(d, q.Terms))
			s += lastIDF * tf * 2.2 / (tf + norm)
			scores[d.p.ID] = s
		}
	}

	// The recommended score, written out again: 3·match + 2·text +
	// 2·near + 1·fresh, each step rounded as the index rounds it.
	ranks := map[int64]float64{}
	if q.Sort == search.SortRecommended {
		for _, d := range matched {
			covered, asked := 0, len(q.Issues)+len(q.Approaches)
			for _, s := range slices.Concat(q.Issues, q.Approaches) {
				if slices.Contains(d.p.Issues, s) || slices.Contains(d.p.Approaches, s) {
					covered++
				}
			}
			match := 0.0
			if asked > 0 {
				match = float64(covered) / float64(asked)
			}
			text := 0.0
			if !q.Terms.Empty() {
				text = scores[d.p.ID] / float64(scores[d.p.ID]+4)
			}
			near := 0.0
			if d.hasDist {
				near = 1 / float64(1+d.minDist/8)
			}
			fresh := 0.0
			if c := d.p.AvailabilityConfirmedAt; d.p.Availability == directory.Accepting && !c.IsZero() && !c.Before(q.Now.Add(-30*24*time.Hour)) {
				fresh = 1
			}
			r := float64(3 * match)
			r = float64(r + float64(2*text))
			r = float64(r + float64(2*near))
			ranks[d.p.ID] = float64(r + fresh)
		}
	}

	// Every order breaks ties by the day's rotation, never by id.
	day := uint64(math.Floor(float64(q.Now.Unix()) / 86400))
	sort.SliceStable(matched, func(i, j int) bool {
		a, b := matched[i], matched[j]
		switch q.Sort {
		case search.SortDistance:
			da, db := math.Inf(1), math.Inf(1)
			if a.hasDist {
				da = a.minDist
			}
			if b.hasDist {
				db = b.minDist
			}
			if da != db {
				return da < db
			}
		case search.SortRelevance:
			if scores[a.p.ID] != scores[b.p.ID] {
				return scores[a.p.ID] > scores[b.p.ID]
			}
		case search.SortRecommended:
			if ranks[a.p.ID] != ranks[b.p.ID] {
				return ranks[a.p.ID] > ranks[b.p.ID]
			}
		case search.SortFee:
			if a.p.FeeMinPence != b.p.FeeMinPence {
				return a.p.FeeMinPence < b.p.FeeMinPence
			}
		}
		ka, kb := search.RotationKey(day, a.p.ID), search.RotationKey(day, b.p.ID)
		if ka != kb {
			return ka < kb
		}
		return a.p.ID < b.p.ID
	})
	start := (q.Page - 1) * q.PerPage
	for i := start; i < len(matched) && i < start+q.PerPage; i++ {
		d := matched[i]
		res.hits = append(res.hits, refHit{id: d.p.ID, dist: d.minDist, hasD: d.hasDist, score: scores[d.p.ID], rank: ranks[d.p.ID]})
	}
	return res
}

// refLastTF sums the frequencies of every term that satisfies the final
// query word: its stem exactly, or (when long enough) any term it prefixes.
func refLastTF(d *refDoc, t search.QueryTerms) int {
	n := 0
	for term, tf := range d.tf {
		if term == t.Last || (len(t.LastRaw) >= search.MinPrefixLen && strings.HasPrefix(term, t.LastRaw)) {
			n += tf
		}
	}
	return n
}
