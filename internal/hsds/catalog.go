package hsds

import (
	"cmp"
	"slices"
	"time"

	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// catalog is every public profile as the index holds it, in profile id
// order (so pages stay put for a harvester walking them, whatever the
// search page's daily rotation), with its HSDS ids: HSDS ids are hashes,
// so finding the profile behind one needs a table.
type catalog struct {
	cards   []*search.Card
	service map[string]int // service id → card
	org     map[string]int // organization id → card
	loc     map[string]place
	sal     map[string]place
}

// place is location n of card c (n == len(Locations) is the online one).
type place struct{ c, n int }

// places are the locations of card c in Record order: the practices, then
// the virtual one when the therapist works online.
func places(c *search.Card) int {
	n := len(c.Locations)
	if slices.Contains(c.Formats, taxonomy.FormatOnline) {
		n++
	}
	return n
}

func locationIDOf(c *search.Card, n int) string {
	if n == len(c.Locations) {
		return OnlineLocationID(c.ID)
	}
	return LocationID(c.ID, n)
}

func salIDOf(c *search.Card, n int) string {
	if n == len(c.Locations) {
		return OnlineServiceAtLocationID(c.ID)
	}
	return ServiceAtLocationID(c.ID, n)
}

func buildCatalog(ix Searcher, now time.Time) *catalog {
	q := search.NewQuery(now)
	q.PerPage = search.MaxPerPage
	cat := &catalog{service: map[string]int{}, org: map[string]int{}, loc: map[string]place{}, sal: map[string]place{}}
	for q.Page = 1; q.Page <= search.MaxPage; q.Page++ {
		res := ix.Search(q)
		for _, hit := range res.Hits {
			cat.cards = append(cat.cards, hit.Card)
		}
		if q.Page*q.PerPage >= res.Total {
			break
		}
	}
	slices.SortFunc(cat.cards, func(a, b *search.Card) int { return cmp.Compare(a.ID, b.ID) })
	cat.cards = slices.CompactFunc(cat.cards, func(a, b *search.Card) bool { return a.ID == b.ID })
	for i, c := range cat.cards {
		cat.service[ServiceID(c.ID)] = i
		cat.org[OrganizationID(c.ID)] = i
		for n := range places(c) {
			cat.loc[locationIDOf(c, n)] = place{i, n}
			cat.sal[salIDOf(c, n)] = place{i, n}
		}
	}
	return cat
}

// catalog returns the catalogue for now, rebuilding it when the index has
// changed since or the day has.
func (h *Handler) catalog(now time.Time) *catalog {
	ver, day := h.Index.Version(), now.UTC().Format(time.DateOnly)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cat == nil || h.catVer != ver || h.catDate != day {
		h.cat, h.catVer, h.catDate = buildCatalog(h.Index, now), ver, day
	}
	return h.cat
}
