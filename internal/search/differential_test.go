package search_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// sliceSource feeds an index from memory.
type sliceSource []*directory.Profile

func (s sliceSource) EachProfile(_ context.Context, fn func(*directory.Profile) error) (int64, error) {
	for _, p := range s {
		if err := fn(p); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

type fixture struct {
	tax    *taxonomy.Taxonomy
	gaz    *geo.Gazetteer
	an     *search.Analyzer
	parser *search.Parser
	gen    *demo.Generator
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{tax: taxonomy.MustLoad(), gaz: geo.MustLoad(), an: search.NewAnalyzer()}
	f.parser = &search.Parser{Tax: f.tax, Gaz: f.gaz, Analyzer: f.an}
	var err error
	if f.gen, err = demo.NewGenerator(f.tax, f.gaz); err != nil {
		t.Fatal(err)
	}
	return f
}

var indexTime = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// profiles makes n demo profiles with scattered ids, then roughens them so
// that edge cases (checks due today, availability confirmed right at the
// cut-off, no locations, free sessions) are common.
func (f *fixture) profiles(r *rand.Rand, n int, seed uint64) []*directory.Profile {
	ps := f.gen.Generate(n, seed, indexTime)
	id := int64(0)
	for _, p := range ps {
		id += 1 + r.Int64N(3)
		p.ID = id
		switch r.IntN(10) {
		case 0:
			p.Verification.NextCheckDue = dateOnly(indexTime.AddDate(0, 0, r.IntN(4)-1))
		case 1:
			p.AvailabilityConfirmedAt = indexTime.Add(-30*24*time.Hour + time.Duration(r.IntN(48)-24)*time.Hour)
		case 2:
			p.FeeMinPence = 100 * (30 + 5*r.IntN(8))
			p.FeeMaxPence = p.FeeMinPence
		case 3:
			// Any session times, on any profile (the demo gives Sundays
			// only with Saturdays, and none to online-only therapists).
			p.SessionTimes = nil
			for _, t := range directory.SessionTimes() {
				if r.IntN(2) == 0 {
					p.SessionTimes = append(p.SessionTimes, t.Slug)
				}
			}
		}
	}
	return ps
}

func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// randomQuery builds query parameters the way a visitor or API client
// might, biased towards ones that find something.
func (f *fixture) randomQuery(r *rand.Rand, ps []*directory.Profile, words []string) url.Values {
	v := url.Values{}
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	switch x := r.Float64(); {
	case x < 0.35:
		p := ps[r.IntN(len(ps))]
		if len(p.Locations) > 0 {
			v.Set("near", p.Locations[0].Outcode)
		} else {
			v.Set("near", "M1")
		}
	case x < 0.45:
		v.Set("near", pick([]string{"Manchester", "leeds", "St Albans", "Newport", "Bristol", "SW1A 1AA", "eh1 1yz", "Cardiff", "belfast", "Inverness"}))
	case x < 0.55:
		v.Set("lat", strconv.FormatFloat(50.5+r.Float64()*5, 'f', 4, 64))
		v.Set("lon", strconv.FormatFloat(-4.5+r.Float64()*5, 'f', 4, 64))
	}
	if v.Has("near") || v.Has("lat") {
		if r.IntN(3) > 0 {
			v.Set("radius_km", pick([]string{"1", "5", "10", "16", "25", "40", "100", "200", "7.5"}))
		}
	}
	for range r.IntN(3) {
		if r.IntN(2) == 0 {
			v.Add("format", pick([]string{"in_person", "online", "phone"}))
		}
	}
	facet := func(param string, terms []taxonomy.Term, most int) {
		for range r.IntN(most + 1) {
			if r.IntN(2) == 0 {
				v.Add(param, terms[r.IntN(len(terms))].Slug)
			}
		}
	}
	facet("approach", f.tax.Approaches[:8], 2)
	facet("issue", f.tax.Issues[:10], 2)
	facet("client", f.tax.ClientGroups, 1)
	if r.IntN(6) == 0 {
		v.Add("language", pick([]string{"en", "pl", "cy", "ur", "fr"}))
	}
	if r.IntN(6) == 0 {
		v.Add("gender", pick([]string{"woman", "man", "non-binary", "Non binary"}))
	}
	if r.IntN(4) == 0 {
		v.Add("times", pick([]string{"evenings", "saturdays", "sundays", "Saturdays"}))
		if r.IntN(2) == 0 {
			v.Add("times", pick([]string{"evenings", "saturdays", "sundays"}))
		}
	}
	if r.IntN(4) == 0 {
		v.Set("max_fee", strconv.Itoa(30+5*r.IntN(15)))
	}
	for _, b := range []string{"concessions", "accepting", "wheelchair"} {
		if r.IntN(7) == 0 {
			v.Set(b, "true")
		}
	}
	if r.IntN(3) == 0 {
		n := 1 + r.IntN(2)
		var q []string
		source := words
		if r.IntN(2) == 0 { // words from one profile, so that most match
			p := ps[r.IntN(len(ps))]
			source = strings.Fields(strings.ToLower(p.Headline + " " + p.DisplayName))
		}
		for range n {
			q = append(q, pick(source))
		}
		if r.IntN(3) == 0 { // still typing the last word
			last := q[len(q)-1]
			q[len(q)-1] = last[:max(1, len(last)-r.IntN(4))]
		}
		v.Set("q", strings.Join(q, " "))
	}
	switch r.IntN(7) {
	case 0:
		v.Set("sort", "fee")
	case 1:
		if v.Has("near") || v.Has("lat") {
			v.Set("sort", "distance")
		}
	case 2:
		v.Set("sort", "recommended")
	case 3:
		if v.Has("q") && !f.an.ParseQueryTerms(v.Get("q")).Empty() {
			v.Set("sort", "relevance")
		}
	}
	if r.IntN(3) == 0 {
		v.Set("page", strconv.Itoa(1+r.IntN(3)))
	}
	if r.IntN(2) == 0 {
		v.Set("per_page", strconv.Itoa(1+r.IntN(30)))
	}
	return v
}

func vocabulary(tax *taxonomy.Taxonomy, ps []*directory.Profile) []string {
	seen := map[string]bool{}
	var out []string
	add := func(text string) {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !('a' <= r && r <= 'z') }) {
			if len(w) > 2 && !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	for _, term := range tax.Issues {
		add(term.Label)
		add(strings.Join(term.Synonyms, " "))
	}
	for _, term := range tax.Approaches {
		add(term.Label)
	}
	for _, p := range ps[:min(50, len(ps))] {
		add(p.DisplayName + " " + p.Headline + " " + p.Statement)
	}
	slices.Sort(out)
	return out
}

// TestDifferential compares the index with the brute-force reference over
// at least 1,000 random queries on random data, including data changed
// after the index was built.
func TestDifferential(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(7, 11))
	const datasets, queriesEach = 5, 240
	checked := 0
	for ds := range datasets {
		ps := f.profiles(r, 300+r.IntN(500), uint64(100+ds))
		ix := search.NewIndex(f.tax, f.an, func() time.Time { return indexTime })
		if err := ix.Load(context.Background(), sliceSource(ps)); err != nil {
			t.Fatal(err)
		}
		// Odd datasets change under the index between rounds of queries,
		// so that incremental updates meet every cached order: changes
		// still in the recent segment (round 1), merged changes with new
		// ones on top (round 2), everything merged (round 3).
		rounds := 1
		if ds%2 == 1 {
			rounds = 4
		}
		for round := range rounds {
			if round >= 2 && ix.Merge() == 0 {
				t.Fatalf("dataset %d round %d: nothing to merge", ds, round)
			}
			if round == 1 || round == 2 {
				ps = f.mutate(r, ix, ps)
			}
			words := vocabulary(f.tax, ps)
			corpus := newRefCorpus(ps, f.tax, f.an)
			for qi := range queriesEach / rounds {
				v := f.randomQuery(r, ps, words)
				now := indexTime.Add(time.Duration(r.IntN(72)) * time.Hour)
				q, err := f.parser.Parse(v, now)
				if err != nil {
					t.Fatalf("dataset %d query %d: %s: parse: %v", ds, qi, v.Encode(), err)
				}
				got := ix.Search(q)
				want := refSearch(corpus, q)
				if diff := compare(got, want); diff != "" {
					t.Fatalf("dataset %d round %d query %d (now %s): %s\n%s", ds, round, qi, now.Format(time.RFC3339), v.Encode(), diff)
				}
				checked++
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("checked only %d queries", checked)
	}
}

// mutate applies random edits through the listener interface, as the
// directory service would, and returns the resulting profile set.
func (f *fixture) mutate(r *rand.Rand, ix *search.Index, ps []*directory.Profile) []*directory.Profile {
	out := slices.Clone(ps)
	extra := f.gen.Generate(60, r.Uint64(), indexTime)
	nextID := out[len(out)-1].ID + 1
	for _, p := range extra {
		p.ID = nextID
		nextID += 2
		out = append(out, p)
		ix.ProfileSaved(p)
	}
	for range len(out) / 4 {
		i := r.IntN(len(out))
		cp := *out[i]
		p := &cp
		switch r.IntN(6) {
		case 0:
			p.Published = !p.Published
		case 1:
			p.Verification.State = directory.Suspended
		case 2:
			p.Approaches = []string{f.tax.Approaches[r.IntN(5)].Slug}
			p.Issues = slices.Clone(p.Issues[:1])
		case 3:
			p.Locations = nil
			p.Formats = []string{"online"}
		case 4:
			p.Headline = "Therapist for grief and bereavement in the Lake District"
			p.Gender = ""
		case 5:
			ix.ProfileDeleted(p.ID)
			out = slices.Delete(out, i, i+1)
			continue
		}
		out[i] = p
		ix.ProfileSaved(p)
	}
	return out
}

func compare(got search.Result, want refResult) string {
	var b strings.Builder
	if got.Total != want.total {
		fmt.Fprintf(&b, "total: index %d, reference %d\n", got.Total, want.total)
	}
	if len(got.Hits) != len(want.hits) {
		fmt.Fprintf(&b, "page length: index %d, reference %d\n", len(got.Hits), len(want.hits))
	}
	for i := 0; i < len(got.Hits) && i < len(want.hits); i++ {
		g, w := got.Hits[i], want.hits[i]
		if g.Card.ID != w.id {
			fmt.Fprintf(&b, "hit %d: index id %d, reference id %d (scores %g / %g)\n", i, g.Card.ID, w.id, g.Score, w.score)
			continue
		}
		if g.HasDistance != w.hasD || (w.hasD && math.Abs(g.DistanceKm-w.dist) > 1e-9) {
			fmt.Fprintf(&b, "hit %d: distance index %v/%g, reference %v/%g\n", i, g.HasDistance, g.DistanceKm, w.hasD, w.dist)
		}
		if math.Abs(g.Score-w.score) > 1e-9 {
			fmt.Fprintf(&b, "hit %d: score index %g, reference %g\n", i, g.Score, w.score)
		}
		if math.Abs(g.Rank-w.rank) > 1e-9 {
			fmt.Fprintf(&b, "hit %d: recommended score index %g, reference %g\n", i, g.Rank, w.rank)
		}
	}
	for _, name := range search.FacetNames() {
		gm := map[string]int{}
		for _, c := range got.Facets[name] {
			if c.Count > 0 {
				gm[c.Value] = c.Count
			}
		}
		wm := want.facets[name]
		for k, v := range wm {
			if gm[k] != v {
				fmt.Fprintf(&b, "facet %s=%s: index %d, reference %d\n", name, k, gm[k], v)
			}
		}
		for k, v := range gm {
			if _, ok := wm[k]; !ok {
				fmt.Fprintf(&b, "facet %s=%s: index %d, reference 0\n", name, k, v)
			}
		}
	}
	return b.String()
}
