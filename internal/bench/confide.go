package bench

import (
	"context"
	"math"
	"time"

	"github.com/confide-org/confide/internal/search"
)

// Confide is the in-memory index as a System.
type Confide struct {
	Parser *search.Parser
	Index  *search.Index
	Now    time.Time
}

// Name is "confide".
func (c *Confide) Name() string { return "confide" }

// Answer parses the case as the web and API do and searches the index.
func (c *Confide) Answer(_ context.Context, k Case) (Answer, error) {
	q, err := c.Parser.Parse(k.Values, c.Now)
	if err != nil {
		return Answer{}, err
	}
	return FromResult(q, c.Index.Search(q)), nil
}

// FromResult turns a search result into an Answer.
func FromResult(q search.Query, res search.Result) Answer {
	a := Answer{Total: res.Total, Facets: map[string]map[string]int{}}
	for _, h := range res.Hits {
		a.IDs = append(a.IDs, h.Card.ID)
		key := math.NaN()
		switch {
		case q.Sort == search.SortRelevance:
			key = h.Score
		case q.Sort == search.SortRecommended:
			key = h.Rank
		case q.Sort == search.SortDistance && h.HasDistance:
			key = h.DistanceKm
		}
		a.Keys = append(a.Keys, key)
	}
	for f, counts := range res.Facets {
		m := map[string]int{}
		for _, fc := range counts {
			if fc.Count > 0 {
				m[fc.Value] = fc.Count
			}
		}
		a.Facets[f] = m
	}
	return a
}
