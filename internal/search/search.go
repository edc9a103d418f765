package search

import (
	"cmp"
	"container/heap"
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Hit is one search result.
type Hit struct {
	Card *Card
	// DistanceKm is the great-circle distance from the search point to the
	// nearest practice; valid when HasDistance.
	DistanceKm  float64
	HasDistance bool
	// Score is the BM25 relevance when the query has text.
	Score float64
}

// FacetCount is how many results a facet value would give.
type FacetCount struct {
	Value string
	Count int
}

// Result is the answer to a Query.
type Result struct {
	Total   int
	Page    int
	PerPage int
	Sort    string
	Hits    []Hit
	// Facets maps a facet name to its values with non-zero counts (and any
	// selected value, even at zero), largest count first.
	Facets map[string][]FacetCount
}

// pointDist is a practice position with its distance from the search
// point.
type pointDist struct {
	pt   *point
	dist float64
}

// run holds the working sets of one search.
type run struct {
	ix *Index
	q  *Query
	// base: live, not overdue.
	base *roaring.Bitmap
	// common: base with every filter that is not an "any of" facet.
	common *roaring.Bitmap
	// anyOf: the "any of" facet filters; nil where not filtered.
	anyOf [numFacets]*roaring.Bitmap
	// inRadius / accessibleInRadius: docs with a (wheelchair-accessible)
	// practice within the radius; nil without a search point.
	inRadius, accessibleInRadius *roaring.Bitmap
	// pointsInRadius are the practice positions within the radius.
	pointsInRadius []pointDist
	lastIDs        []uint32
}

// Search answers q from the index.
func (ix *Index) Search(q Query) Result {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	r := &run{ix: ix, q: &q}
	r.base = ix.live.Clone()
	if expired := ix.overdue(q); expired != nil {
		r.base.AndNot(expired)
	}
	if q.Point != nil {
		r.radius()
	}
	r.buildCommon()
	for _, f := range []facet{fApproach, fClient, fLanguage, fGender} {
		r.anyOf[f] = r.union(f, r.values(f))
	}
	if len(q.Formats) > 0 {
		r.anyOf[fFormat] = r.union(fFormat, q.Formats)
	}
	all := r.except(-1)
	res := Result{Total: int(all.GetCardinality()), Page: q.Page, PerPage: q.PerPage, Sort: q.Sort}
	res.Hits = r.rank(all)
	res.Facets = r.facetCounts(all)
	return res
}

// overdue is the set of docs whose next check has passed at q.Now.
func (ix *Index) overdue(q Query) *roaring.Bitmap {
	today := dayOf(q.Now)
	var parts []*roaring.Bitmap
	for day, b := range ix.dueDay {
		if day < today {
			parts = append(parts, b)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return roaring.FastOr(parts...)
}

func (r *run) values(f facet) []string {
	switch f {
	case fApproach:
		return r.q.Approaches
	case fIssue:
		return r.q.Issues
	case fClient:
		return r.q.Clients
	case fLanguage:
		return r.q.Languages
	case fGender:
		return r.q.Genders
	case fFormat:
		return r.q.Formats
	}
	return nil
}

// union is the set of docs having any of vals; nil when vals is empty.
func (r *run) union(f facet, vals []string) *roaring.Bitmap {
	if len(vals) == 0 {
		return nil
	}
	var parts []*roaring.Bitmap
	for _, v := range vals {
		if b, ok := r.ix.facets[f][v]; ok {
			parts = append(parts, b)
		}
	}
	if len(parts) == 0 {
		return roaring.New()
	}
	return roaring.FastOr(parts...)
}

// radius finds docs with a practice within the radius by visiting only the
// grid cells that the radius's bounding box overlaps, and computing one
// distance per practice position.
func (r *run) radius() {
	p, rad := *r.q.Point, r.q.RadiusKm
	dLat := rad / (math.Pi / 180 * geo.EarthRadiusKm)
	maxLat := math.Min(89.9, math.Abs(p.Lat)+dLat)
	dLon := math.Min(180, dLat/math.Cos(maxLat*math.Pi/180))
	lo := cellOf(geo.Point{Lat: p.Lat - dLat, Lon: p.Lon - dLon})
	hi := cellOf(geo.Point{Lat: p.Lat + dLat, Lon: p.Lon + dLon})
	var docs, acc []*roaring.Bitmap
	for la := lo.lat; la <= hi.lat; la++ {
		for lo2 := lo.lon; lo2 <= hi.lon; lo2++ {
			for _, pt := range r.ix.cells[cellKey{la, lo2}] {
				if pt.docs.IsEmpty() {
					continue
				}
				dist := geo.HaversineKm(p, pt.pt)
				if dist > rad {
					continue
				}
				r.pointsInRadius = append(r.pointsInRadius, pointDist{pt, dist})
				docs = append(docs, pt.docs)
				if !pt.accessible.IsEmpty() {
					acc = append(acc, pt.accessible)
				}
			}
		}
	}
	r.inRadius = roaring.FastOr(docs...)
	r.accessibleInRadius = roaring.FastOr(acc...)
}

// buildCommon applies the filters that every facet count shares: text,
// all-of issues, wheelchair access, concessions, fresh availability and fee.
func (r *run) buildCommon() {
	q, ix := r.q, r.ix
	sets := []*roaring.Bitmap{r.base}
	if !q.Terms.Empty() {
		for _, t := range q.Terms.Exact {
			id, ok := ix.termIDs[t]
			if !ok {
				r.common = roaring.New()
				return
			}
			sets = append(sets, ix.postings[id])
		}
		r.lastIDs = ix.lastTermIDs(q.Terms)
		var parts []*roaring.Bitmap
		for _, id := range r.lastIDs {
			parts = append(parts, ix.postings[id])
		}
		sets = append(sets, roaring.FastOr(parts...))
	}
	for _, s := range q.Issues {
		b, ok := ix.facets[fIssue][s]
		if !ok {
			r.common = roaring.New()
			return
		}
		sets = append(sets, b)
	}
	if q.Wheelchair {
		if q.Point != nil {
			sets = append(sets, r.accessibleInRadius)
		} else {
			sets = append(sets, ix.accessible)
		}
	}
	if q.Concessions {
		sets = append(sets, ix.concessions)
	}
	if q.Accepting {
		sets = append(sets, r.acceptingNow())
	}
	// Intersect smallest first: each step can only shrink the answer.
	slices.SortFunc(sets, func(a, b *roaring.Bitmap) int {
		return int(int64(a.GetCardinality()) - int64(b.GetCardinality()))
	})
	common := roaring.FastAnd(sets...)
	if q.MaxFeePence >= 0 {
		kept := roaring.New()
		it := common.Iterator()
		for it.HasNext() {
			d := it.Next()
			if ix.cards[d].FeeMinPence <= q.MaxFeePence {
				kept.Add(d)
			}
		}
		common = kept
	}
	r.common = common
}

// acceptingNow is the set of docs accepting new clients whose availability
// was confirmed within directory.AvailabilityFreshFor of q.Now. Whole days
// after the cut-off come from day buckets; only the cut-off day's docs are
// checked one by one.
func (r *run) acceptingNow() *roaring.Bitmap {
	cutoff := r.q.Now.Add(-directory.AvailabilityFreshFor)
	cutDay := dayOf(cutoff)
	var parts []*roaring.Bitmap
	out := roaring.New()
	for day, b := range r.ix.acceptDay {
		switch {
		case day > cutDay:
			parts = append(parts, b)
		case day == cutDay:
			it := b.Iterator()
			for it.HasNext() {
				d := it.Next()
				if !r.ix.cards[d].ConfirmedAt.Before(cutoff) {
					out.Add(d)
				}
			}
		}
	}
	out.Or(roaring.FastOr(parts...))
	return out
}

// rangeFor is the "in range" condition for a set of requested formats: a
// practice within the radius, or a requested remote format on offer.
// Without a search point everything is in range (nil).
func (r *run) rangeFor(formats []string) *roaring.Bitmap {
	if r.q.Point == nil {
		return nil
	}
	parts := []*roaring.Bitmap{r.inRadius}
	for _, f := range formats {
		if f == taxonomy.FormatOnline || f == taxonomy.FormatPhone {
			if b, ok := r.ix.facets[fFormat][f]; ok {
				parts = append(parts, b)
			}
		}
	}
	return roaring.FastOr(parts...)
}

// except is the result set with every filter applied except the "any of"
// facet skip (-1 for none).
func (r *run) except(skip facet) *roaring.Bitmap {
	out := r.common.Clone()
	for f, b := range r.anyOf {
		if b != nil && facet(f) != skip {
			out.And(b)
		}
	}
	if skip != fFormat {
		if rg := r.rangeFor(r.q.Formats); rg != nil {
			out.And(rg)
		}
	}
	return out
}

func (r *run) facetCounts(all *roaring.Bitmap) map[string][]FacetCount {
	out := make(map[string][]FacetCount, numFacets)
	for f := range numFacets {
		var counts []FacetCount
		switch f {
		case fIssue:
			counts = r.countValues(f, all)
		case fFormat:
			rest := r.except(fFormat)
			for v, b := range r.ix.facets[fFormat] {
				set := roaring.And(rest, b)
				if rg := r.rangeFor([]string{v}); rg != nil {
					set.And(rg)
				}
				counts = append(counts, FacetCount{v, int(set.GetCardinality())})
			}
		default:
			counts = r.countValues(f, r.except(f))
		}
		out[facetNames[f]] = tidyCounts(counts, r.values(f))
	}
	return out
}

func (r *run) countValues(f facet, within *roaring.Bitmap) []FacetCount {
	var counts []FacetCount
	for v, b := range r.ix.facets[f] {
		counts = append(counts, FacetCount{v, int(within.AndCardinality(b))})
	}
	return counts
}

// tidyCounts drops zero counts (keeping selected values), then orders by
// count, largest first, and value.
func tidyCounts(counts []FacetCount, selected []string) []FacetCount {
	out := counts[:0]
	seen := make(map[string]bool)
	for _, c := range counts {
		if c.Count > 0 || slices.Contains(selected, c.Value) {
			out = append(out, c)
			seen[c.Value] = true
		}
	}
	for _, s := range selected {
		if !seen[s] {
			out = append(out, FacetCount{s, 0})
		}
	}
	slices.SortFunc(out, func(a, b FacetCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		switch {
		case a.Value < b.Value:
			return -1
		case a.Value > b.Value:
			return 1
		}
		return 0
	})
	if out == nil {
		out = []FacetCount{}
	}
	return out
}

// ranked is a candidate with its sort key.
type ranked struct {
	doc  uint32
	key  float64 // smaller first
	key2 uint64  // then smaller first (rotation)
	id   int64   // then by profile id
}

func (a ranked) less(b ranked) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.key2 != b.key2 {
		return a.key2 < b.key2
	}
	return a.id < b.id
}

func sortRanked(list []ranked) {
	slices.SortFunc(list, func(a, b ranked) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
}

// topK keeps the k best candidates in a max-heap (the worst on top).
type topK []ranked

func (h topK) Len() int           { return len(h) }
func (h topK) Less(i, j int) bool { return h[j].less(h[i]) }
func (h topK) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topK) Push(x any)        { *h = append(*h, x.(ranked)) }
func (h *topK) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// denseShare is the result-set size, as a share of the index, above which
// walking a presorted order beats sorting the results: a walk then finds
// k matches within about k/share steps.
const denseShare = 8

// rank sorts the result set and returns the requested page. Broad results
// in fee or rotation order walk a presorted list of all documents; results
// near a point walk practice positions outward; anything else keeps the
// best k in a heap.
func (r *run) rank(all *roaring.Bitmap) []Hit {
	offset := (r.q.Page - 1) * r.q.PerPage
	k := offset + r.q.PerPage
	n := int(all.GetCardinality())
	if offset >= n {
		return []Hit{}
	}
	sc := r.scorer()
	var top []ranked
	dense := n*denseShare >= len(r.ix.cards)-len(r.ix.free)
	switch {
	case r.q.Sort == SortFee && dense:
		top = walk(all, r.ix.feeOrder, k)
	case r.q.Sort == SortRotation && dense:
		top = walk(all, r.ix.rotation(dayOf(r.q.Now)), k)
	case r.q.Sort == SortDistance:
		top = r.nearestFirst(all, k)
	default:
		top = r.heapRank(all, k, sc)
	}
	hits := make([]Hit, 0, r.q.PerPage)
	for _, c := range top[min(offset, len(top)):] {
		card := r.ix.cards[c.doc]
		h := Hit{Card: card, Score: sc(c.doc)}
		if r.q.Point != nil {
			h.DistanceKm, h.HasDistance = NearestKm(*r.q.Point, card.Locations)
		}
		hits = append(hits, h)
	}
	return hits
}

// walk takes the first k documents of order that are in the result set.
func walk(all *roaring.Bitmap, order []uint32, k int) []ranked {
	out := make([]ranked, 0, k)
	for _, d := range order {
		if all.Contains(d) {
			out = append(out, ranked{doc: d})
			if len(out) == k {
				break
			}
		}
	}
	return out
}

// heapRank computes every result's sort key and keeps the best k.
func (r *run) heapRank(all *roaring.Bitmap, k int, sc func(uint32) float64) []ranked {
	day := uint64(dayOf(r.q.Now))
	h := make(topK, 0, k)
	it := all.Iterator()
	for it.HasNext() {
		d := it.Next()
		card := r.ix.cards[d]
		c := ranked{doc: d, id: card.ID}
		switch r.q.Sort {
		case SortDistance:
			c.key = math.Inf(1)
			if dist, ok := NearestKm(*r.q.Point, card.Locations); ok {
				c.key = dist
			}
		case SortRelevance:
			c.key = -sc(d)
		case SortFee:
			c.key = float64(card.FeeMinPence)
		default:
			c.key2 = RotationKey(day, card.ID)
		}
		if len(h) < k {
			heap.Push(&h, c)
		} else if c.less(h[0]) {
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	list := []ranked(h)
	sortRanked(list)
	return list
}

// nearestFirst orders results by distance. Practice positions within the
// radius are visited nearest first, each giving all its documents at one
// distance, so a page of a large result set needs only the nearest few
// positions. Results outside the radius (matched by a remote format) all
// lie further away and follow, ranked by heap.
func (r *run) nearestFirst(all *roaring.Bitmap, k int) []ranked {
	pts := r.pointsInRadius
	slices.SortFunc(pts, func(a, b pointDist) int { return cmp.Compare(a.dist, b.dist) })
	seen := roaring.New()
	var out []ranked
	for i, p := range pts {
		x := roaring.And(p.pt.docs, all)
		x.AndNot(seen)
		if x.IsEmpty() {
			continue
		}
		it := x.Iterator()
		for it.HasNext() {
			d := it.Next()
			out = append(out, ranked{doc: d, key: p.dist, id: r.ix.cards[d].ID})
		}
		seen.Or(x)
		if len(out) >= k && (i+1 == len(pts) || pts[i+1].dist > p.dist) {
			break
		}
	}
	sortRanked(out)
	if len(out) >= k {
		return out[:k]
	}
	rest := roaring.AndNot(all, seen)
	return append(out, r.heapRank(rest, k-len(out), nil)...)
}

// scorer returns the BM25 score function for the query's words, with
// collection statistics taken over the searchable (not overdue) documents.
func (r *run) scorer() func(d uint32) float64 {
	if r.q.Terms.Empty() {
		return func(uint32) float64 { return 0 }
	}
	ix := r.ix
	n := float64(r.base.GetCardinality())
	totalLen := ix.totalLen
	if expired := ix.overdue(*r.q); expired != nil {
		it := expired.Iterator()
		for it.HasNext() {
			totalLen -= uint64(ix.text[it.Next()].length)
		}
	}
	avgdl := float64(totalLen) / math.Max(n, 1)
	idf := func(df float64) float64 { return math.Log(1 + (n-df+0.5)/(df+0.5)) }
	type exactTerm struct {
		id  uint32
		idf float64
	}
	var exact []exactTerm
	for _, t := range r.q.Terms.Exact {
		id := ix.termIDs[t]
		exact = append(exact, exactTerm{id, idf(float64(ix.postings[id].AndCardinality(r.base)))})
	}
	var lastParts []*roaring.Bitmap
	for _, id := range r.lastIDs {
		lastParts = append(lastParts, ix.postings[id])
	}
	lastIDF := idf(float64(roaring.FastOr(lastParts...).AndCardinality(r.base)))
	return func(d uint32) float64 {
		td := &ix.text[d]
		norm := bm25K1 * (1 - bm25B + bm25B*float64(td.length)/avgdl)
		score := 0.0
		for _, e := range exact {
			tf := float64(td.tf(e.id))
			score += e.idf * tf * (bm25K1 + 1) / (tf + norm)
		}
		tf := 0
		for _, id := range r.lastIDs {
			tf += td.tf(id)
		}
		score += lastIDF * float64(tf) * (bm25K1 + 1) / (float64(tf) + norm)
		return score
	}
}

func NearestKm(p geo.Point, locs []directory.Location) (float64, bool) {
	best, ok := math.Inf(1), false
	for _, l := range locs {
		if d := geo.HaversineKm(p, geo.Point{Lat: l.Lat, Lon: l.Lon}); d < best {
			best, ok = d, true
		}
	}
	return best, ok
}

// RotationKey orders profiles for the day's fair rotation: a fixed
// pseudo-random permutation of profile ids for each UTC day (SplitMix64).
func RotationKey(day uint64, id int64) uint64 {
	x := uint64(id) + day*0x9E3779B97F4A7C15
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}
