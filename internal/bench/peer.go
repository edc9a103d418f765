package bench

import (
	"math"
	"strings"

	"github.com/confide-org/confide/internal/search"
)

// filters is a query's conditions as SQL, shared by both peers' builders:
// the filters every count shares, the any-of facet filters, and the range
// condition (a practice within the radius, or a requested remote format).
type filters struct {
	q      search.Query
	common string
	anyOf  map[string]string // facet → condition
	rng    func(formats []string) string
	ctes   []string
}

// where is the result set's condition without facet skip's own filter
// ("" for none), which is how each facet is counted.
func (f *filters) where(skip string) string {
	conds := []string{f.common}
	for name, c := range f.anyOf {
		if name != skip {
			conds = append(conds, c)
		}
	}
	if f.rng != nil && skip != search.FacetFormat {
		conds = append(conds, f.rng(f.q.Formats))
	}
	return strings.Join(conds, " AND ")
}

// with renders common table expressions.
func with(ctes []string) string {
	if len(ctes) == 0 {
		return ""
	}
	return "WITH " + strings.Join(ctes, ",\n") + "\n"
}

// addCount records one row of a peer's counts statement.
func (a *Answer) addCount(f, v string, n int) {
	if f == "total" {
		a.Total = n
		return
	}
	if a.Facets[f] == nil {
		a.Facets[f] = map[string]int{}
	}
	if n > 0 {
		a.Facets[f][v] = n
	}
}

// addHit records one row of a peer's page, keeping the sort key where the
// order has one (distance or relevance).
func (a *Answer) addHit(q search.Query, id int64, key *float64) {
	k := math.NaN()
	if key != nil && (q.Sort == search.SortDistance || q.Sort == search.SortRelevance) {
		k = *key
	}
	a.IDs = append(a.IDs, id)
	a.Keys = append(a.Keys, k)
}
