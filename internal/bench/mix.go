package bench

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"

	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

// The query classes of the mix.
const (
	ClassLocalFiltered  = "a_local_filtered"  // near + 16 km + one approach + two issues, by distance
	ClassLocalFacets    = "b_local_facets"    // near + 40 km, all facet counts
	ClassOnlineText     = "c_online_text"     // format=online + a two-word q
	ClassNationalText   = "d_national_text"   // q only, national
	ClassDeepPage       = "e_deep_page"       // page 10 of a broad national filter
	ClassNationalFacets = "f_national_facets" // accepting + concessions + max fee, national
	ClassRuralWide      = "g_rural_wide"      // a rural near with a 100 km radius
)

// Classes lists the classes in report order.
var Classes = []string{ClassLocalFiltered, ClassLocalFacets, ClassOnlineText, ClassNationalText, ClassDeepPage, ClassNationalFacets, ClassRuralWide}

// words people type, drawn from the vocabularies and everyday phrasing.
var textWords = []string{"anxiety", "depression", "trauma", "grief", "couples", "relationship", "psychodynamic", "cbt", "counselling",
	"therapy", "stress", "panic", "eating", "addiction", "anger", "loneliness", "children", "family", "work", "sleep", "self", "esteem",
	"integrative", "person", "centred", "mindfulness", "emdr", "bereavement", "ocd", "ptsd", "leeds", "london", "manchester", "bristol"}

// Mix draws n cases, classes in turn, with districts weighted by how many
// postcodes they hold (a proxy for population) and rural searches from the
// sparsest districts.
func Mix(gaz *geo.Gazetteer, tax *taxonomy.Taxonomy, n int, seed uint64) []Case {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	ds := gaz.Districts()
	cum := make([]int, len(ds))
	total := 0
	for i, d := range ds {
		total += max(d.Postcodes, 1)
		cum[i] = total
	}
	pick := func() geo.District {
		x := rng.IntN(total)
		i, _ := slices.BinarySearch(cum, x+1)
		return ds[min(i, len(ds)-1)]
	}
	// Rural: the tenth of districts with the fewest postcodes.
	rural := slices.Clone(ds)
	slices.SortFunc(rural, func(a, b geo.District) int { return a.Postcodes - b.Postcodes })
	rural = rural[:max(1, len(rural)/10)]
	approaches := tax.Terms(taxonomy.Approach)
	issues := tax.Terms(taxonomy.Issue)
	word := func() string { return textWords[rng.IntN(len(textWords))] }
	out := make([]Case, 0, n)
	for i := range n {
		class := Classes[i%len(Classes)]
		v := url.Values{}
		switch class {
		case ClassLocalFiltered:
			v.Set("near", pick().Outcode)
			v.Set("radius_km", "16")
			v.Set("approach", approaches[rng.IntN(len(approaches))].Slug)
			a, b := rng.IntN(len(issues)), rng.IntN(len(issues)-1)
			if b >= a {
				b++
			}
			v.Add("issue", issues[a].Slug)
			v.Add("issue", issues[b].Slug)
			v.Set("sort", "distance")
		case ClassLocalFacets:
			v.Set("near", pick().Outcode)
			v.Set("radius_km", "40")
		case ClassOnlineText:
			v.Set("format", "online")
			v.Set("q", word()+" "+word())
		case ClassNationalText:
			v.Set("q", word())
		case ClassDeepPage:
			broad := [][2]string{{"format", "online"}, {"language", "en"}, {"client", "individuals"}, {"format", "phone"}}[rng.IntN(4)]
			v.Set(broad[0], broad[1])
			v.Set("page", "10")
		case ClassNationalFacets:
			v.Set("accepting", "true")
			v.Set("concessions", "true")
			v.Set("max_fee", "50")
		case ClassRuralWide:
			v.Set("near", rural[rng.IntN(len(rural))].Outcode)
			v.Set("radius_km", strconv.Itoa(100))
		}
		out = append(out, Case{Class: class, Values: v})
	}
	return out
}

// Describe is a case as a query string, for reports.
func (c Case) Describe() string { return fmt.Sprintf("%s: /search?%s", c.Class, c.Values.Encode()) }
