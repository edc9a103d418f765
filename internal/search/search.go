package search

import (
	"cmp"
	"container/heap"
	"math"
	"runtime"
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
	// Rank is the recommended order's score (see Recommend) when the
	// results are in that order, and 0 otherwise.
	Rank float64
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

// run holds the working sets of one search of one segment.
type run struct {
	ix *segment
	q  *Query
	// base: live, not overdue, not masked.
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
	// scored counts the documents tieredRank scored (for tests).
	scored int
	// denseSets, when the segment has them, count facets; counters holds
	// each result set counted within, as a bitset.
	denseSets *denseFacets
	counters  map[*roaring.Bitmap]*denseCounter
}

// newRun starts a search of segment ix over its live documents that are
// neither overdue at q.Now nor in mask (documents a newer segment
// replaces).
func (ix *segment) newRun(q *Query, mask *roaring.Bitmap) *run {
	r := &run{ix: ix, q: q}
	// Usually nothing is overdue or masked: the base is then the live set
	// itself, which nothing changes while the search holds its lock (and
	// the run never changes its base), rather than a copy of it.
	r.base = ix.live
	if expired := ix.overdue(*q); expired != nil {
		r.base = roaring.AndNot(r.base, expired)
	}
	if mask != nil && !mask.IsEmpty() {
		r.base = roaring.AndNot(r.base, mask)
	}
	if !q.Terms.Empty() {
		r.lastIDs = ix.lastTermIDs(q.Terms)
	}
	return r
}

// textStats are the collection statistics of BM25, over the searchable
// documents of every segment a search covers, so that a document scores
// the same whichever segment holds it.
type textStats struct {
	n        float64   // documents
	totalLen float64   // sum of their lengths
	exactDF  []float64 // documents holding each exact query word
	lastDF   float64   // documents holding any completion of the last word
}

func (s *textStats) add(o textStats) {
	s.n += o.n
	s.totalLen += o.totalLen
	if s.exactDF == nil {
		s.exactDF = make([]float64, len(o.exactDF))
	}
	for i, v := range o.exactDF {
		s.exactDF[i] += v
	}
	s.lastDF += o.lastDF
}

// stats is this segment's share of the collection statistics.
func (r *run) stats() textStats {
	q, ix := r.q, r.ix
	if q.Terms.Empty() {
		return textStats{}
	}
	st := textStats{n: float64(r.base.GetCardinality()), exactDF: make([]float64, len(q.Terms.Exact))}
	total := ix.totalLen
	if r.base != ix.live {
		it := roaring.AndNot(ix.live, r.base).Iterator()
		for it.HasNext() {
			total -= uint64(ix.text[it.Next()].length)
		}
	}
	st.totalLen = float64(total)
	for i, t := range q.Terms.Exact {
		if id, ok := ix.termIDs[t]; ok {
			st.exactDF[i] = float64(ix.postings[id].AndCardinality(r.base))
		}
	}
	var lastParts []*roaring.Bitmap
	for _, id := range r.lastIDs {
		lastParts = append(lastParts, ix.postings[id])
	}
	st.lastDF = float64(roaring.FastOr(lastParts...).AndCardinality(r.base))
	return st
}

// part is one segment's share of an answer. It holds no reference into
// the segment's mutable state, so it stays valid after the segment's lock
// is released (cards are immutable once indexed).
type part struct {
	total  int
	top    []ranked // the best offset+perPage, best first
	cards  []*Card  // parallel to top
	scores []float64
	facets map[string][]FacetCount
}

// finish applies the filters, ranks and counts, scoring text with st.
//
// Between steps it yields the processor (runtime.Gosched): a search of a
// million profiles runs for tens of milliseconds, and on a small machine
// an edit waiting to be applied should not wait for the scheduler to
// preempt it.
func (r *run) finish(st textStats) part {
	q := r.q
	if q.Point != nil {
		r.radius()
	}
	r.buildCommon()
	runtime.Gosched()
	for f := range numFacets {
		if facetTable[f].Match == AnyOf {
			r.anyOf[f] = r.union(f, r.values(f))
		}
	}
	all := r.except(-1)
	b := r.newBM25(st)
	score := scorer(b)
	p := part{total: int(all.GetCardinality())}
	if !r.ix.fullRank && r.tieredEligible(b) {
		p.top = r.tieredRank(all, r.q.Page*r.q.PerPage, b, score)
	} else {
		p.top = r.rank(all, score)
	}
	runtime.Gosched()
	p.cards, p.scores = make([]*Card, len(p.top)), make([]float64, len(p.top))
	for i, c := range p.top {
		p.cards[i], p.scores[i] = r.ix.cards[c.doc], score(c.doc)
	}
	p.facets = r.facetCounts(all)
	return p
}

// assemble makes the answer from the parts of every segment searched.
func assemble(q *Query, parts ...part) Result {
	res := Result{Page: q.Page, PerPage: q.PerPage, Sort: q.Sort, Hits: make([]Hit, 0, q.PerPage)}
	type candidate struct {
		ranked
		card  *Card
		score float64
	}
	var cands []candidate
	for _, p := range parts {
		res.Total += p.total
		for i, c := range p.top {
			cands = append(cands, candidate{c, p.cards[i], p.scores[i]})
		}
	}
	if len(parts) > 1 {
		slices.SortStableFunc(cands, func(a, b candidate) int {
			switch {
			case a.less(b.ranked):
				return -1
			case b.less(a.ranked):
				return 1
			}
			return 0
		})
	}
	offset := (q.Page - 1) * q.PerPage
	for _, c := range cands[min(offset, len(cands)):min(offset+q.PerPage, len(cands))] {
		h := Hit{Card: c.card, Score: c.score}
		if q.Sort == SortRecommended {
			h.Rank = -c.key
		}
		if q.Point != nil {
			h.DistanceKm, h.HasDistance = NearestKm(*q.Point, c.card.Locations)
		}
		res.Hits = append(res.Hits, h)
	}
	res.Facets = make(map[string][]FacetCount, numFacets)
	for f := range numFacets {
		name := facetTable[f].Name
		counts := parts[0].facets[name]
		if len(parts) > 1 {
			sum := map[string]int{}
			for _, p := range parts {
				for _, c := range p.facets[name] {
					sum[c.Value] += c.Count
				}
			}
			counts = make([]FacetCount, 0, len(sum))
			for v, n := range sum {
				counts = append(counts, FacetCount{v, n})
			}
		}
		res.Facets[name] = tidyCounts(counts, valuesOf(q, f))
	}
	return res
}

// overdue is the set of docs whose next check has passed at q.Now.
func (ix *segment) overdue(q Query) *roaring.Bitmap {
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

func (r *run) values(f facet) []string { return valuesOf(r.q, f) }

// valuesOf lists the values q asks for in facet f.
func valuesOf(q *Query, f facet) []string { return *facetTable[f].query(q) }

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
	r.inRadius = r.ix.unionOf(docs)
	r.accessibleInRadius = r.ix.unionOf(acc)
}

// buildCommon applies the filters that every facet count shares: text,
// all-of facets (issues), wheelchair access, concessions, fresh availability and fee.
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
		var parts []*roaring.Bitmap
		for _, id := range r.lastIDs {
			parts = append(parts, ix.postings[id])
		}
		sets = append(sets, roaring.FastOr(parts...))
	}
	for f := range numFacets {
		if facetTable[f].Match != AllOf {
			continue
		}
		for _, s := range r.values(f) {
			b, ok := ix.facets[f][s]
			if !ok {
				r.common = roaring.New()
				return
			}
			sets = append(sets, b)
		}
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
		common = ix.atMostFee(common, q.MaxFeePence)
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
	var rg *roaring.Bitmap
	if skip != fFormat {
		rg = r.rangeFor(r.q.Formats)
	}
	narrows := rg != nil
	for f, b := range r.anyOf {
		narrows = narrows || b != nil && facet(f) != skip
	}
	if !narrows {
		// Nothing to intersect: the common set itself, which the run
		// owns and nobody changes after buildCommon, rather than a copy.
		return r.common
	}
	out := r.common.Clone()
	for f, b := range r.anyOf {
		if b != nil && facet(f) != skip {
			out.And(b)
		}
	}
	if rg != nil {
		out.And(rg)
	}
	return out
}

func (r *run) facetCounts(all *roaring.Bitmap) map[string][]FacetCount {
	out := make(map[string][]FacetCount, numFacets)
	if d := r.ix.dense(); d != nil {
		r.denseSets = d
		defer func() {
			for _, c := range r.counters {
				c.release(r.ix)
			}
		}()
	}
	for f := range numFacets {
		var counts []FacetCount
		switch {
		case facetTable[f].Match == AllOf:
			counts = r.countValues(f, all)
		case f == fFormat:
			rest := r.except(fFormat)
			for v, b := range r.ix.facets[fFormat] {
				set := roaring.And(rest, b)
				if rg := r.rangeFor([]string{v}); rg != nil {
					set.And(rg)
				}
				counts = append(counts, FacetCount{v, int(set.GetCardinality())})
			}
		default:
			within := all
			if r.anyOf[f] != nil {
				within = r.except(f)
			}
			// When nothing filters on this facet, leaving its filter out
			// changes nothing: the count is within the result set itself,
			// not a fresh copy of it (the largest allocation a search
			// made).
			counts = r.countValues(f, within)
		}
		out[facetTable[f].Name] = counts
		runtime.Gosched()
	}
	return out
}

func (r *run) countValues(f facet, within *roaring.Bitmap) []FacetCount {
	var counts []FacetCount
	if r.denseSets != nil {
		c, ok := r.counters[within]
		if !ok {
			c = r.ix.counter(r.denseSets, within)
			if r.counters == nil {
				r.counters = map[*roaring.Bitmap]*denseCounter{}
			}
			r.counters[within] = c
		}
		for v := range r.ix.facets[f] {
			counts = append(counts, FacetCount{v, c.count(f, v)})
		}
		return counts
	}
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

// ranked is a candidate with its sort key. Every order breaks its ties
// by the day's rotation, never by profile id (which would favour early
// sign-ups); the id only makes the order total, and never decides, as
// RotationKey gives distinct ids distinct keys.
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

// walkOrHeap reports whether the k best of n results among live documents
// are found sooner by walking a presorted order of all of them than by
// keeping the best k in a heap. A walk finds k matches in about k·live/n
// steps of one membership test each; a heap visits all n, each costing
// a card and a rotation key, a few times a membership test.
func walkOrHeap(n, k, live int) bool {
	return 2*int64(n)*int64(n) >= int64(k)*int64(live)
}

// rank returns the best offset+perPage of the result set, best first,
// with their sort keys (so that parts can be merged). Broad results in fee
// or rotation order walk a presorted list of all documents; results near a
// point walk practice positions outward; anything else keeps the best k in
// a heap.
func (r *run) rank(all *roaring.Bitmap, sc func(uint32) float64) []ranked {
	k := r.q.Page * r.q.PerPage
	n := int(all.GetCardinality())
	if n == 0 {
		return nil
	}
	dense := walkOrHeap(n, k, len(r.ix.cards)-len(r.ix.free))
	day := uint64(dayOf(r.q.Now))
	switch {
	case r.q.Sort == SortFee && dense:
		fee, _ := r.ix.dayOrders(dayOf(r.q.Now))
		top := walk(all, fee, k)
		for i := range top {
			card := r.ix.cards[top[i].doc]
			top[i].key, top[i].key2, top[i].id = float64(card.FeeMinPence), RotationKey(day, card.ID), card.ID
		}
		return top
	case r.q.Sort == SortRotation && dense:
		_, rot := r.ix.dayOrders(dayOf(r.q.Now))
		top := walk(all, rot, k)
		for i := range top {
			id := r.ix.cards[top[i].doc].ID
			top[i].key2, top[i].id = RotationKey(day, id), id
		}
		return top
	case r.q.Sort == SortDistance:
		return r.nearestFirst(all, k)
	case r.q.Sort == SortRecommended && r.q.Point != nil:
		return r.recommendedNear(all, k, sc)
	}
	return r.heapRank(all, k, sc)
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

// yieldEvery is how many documents a long loop handles between yields of
// the processor (about a millisecond's work).
const yieldEvery = 1 << 14

// heapRank computes every result's sort key and keeps the best k.
func (r *run) heapRank(all *roaring.Bitmap, k int, sc func(uint32) float64) []ranked {
	day := uint64(dayOf(r.q.Now))
	var rec func(uint32) float64
	if r.q.Sort == SortRecommended {
		rec = r.recommender(sc)
	}
	h := make(topK, 0, k)
	it := all.Iterator()
	for seen := 1; it.HasNext(); seen++ {
		if seen%yieldEvery == 0 {
			runtime.Gosched()
		}
		d := it.Next()
		card := r.ix.cards[d]
		c := ranked{doc: d, key2: RotationKey(day, card.ID), id: card.ID}
		switch r.q.Sort {
		case SortDistance:
			c.key = math.Inf(1)
			if dist, ok := NearestKm(*r.q.Point, card.Locations); ok {
				c.key = dist
			}
		case SortRelevance:
			c.key = -sc(d)
		case SortRecommended:
			c.key = -rec(d)
		case SortFee:
			c.key = float64(card.FeeMinPence)
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
	day := uint64(dayOf(r.q.Now))
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
			id := r.ix.cards[d].ID
			out = append(out, ranked{doc: d, key: p.dist, key2: RotationKey(day, id), id: id})
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

// bm25 scores documents of one segment for the query's words, with the
// collection statistics of every segment searched.
type bm25 struct {
	ix      *segment
	exact   []exactTerm
	lastIDs []uint32
	lastIDF float64
	avgdl   float64
}

type exactTerm struct {
	id  uint32
	idf float64
}

// newBM25 is the scorer for the query's words, with the collection
// statistics st; nil when the query has no words.
func (r *run) newBM25(st textStats) *bm25 {
	if r.q.Terms.Empty() {
		return nil
	}
	ix := r.ix
	n := st.n
	b := &bm25{ix: ix, lastIDs: r.lastIDs, avgdl: st.totalLen / math.Max(n, 1)}
	idf := func(df float64) float64 { return math.Log(1 + (n-df+0.5)/(df+0.5)) }
	for i, t := range r.q.Terms.Exact {
		// A word this segment lacks adds nothing to its documents' scores.
		if id, ok := ix.termIDs[t]; ok {
			b.exact = append(b.exact, exactTerm{id, idf(st.exactDF[i])})
		}
	}
	b.lastIDF = idf(st.lastDF)
	return b
}

// score is document d's BM25 score.
func (b *bm25) score(d uint32) float64 {
	td := &b.ix.text[d]
	norm := bm25K1 * (1 - bm25B + bm25B*float64(td.length)/b.avgdl)
	score := 0.0
	for _, e := range b.exact {
		tf := float64(td.tf(e.id))
		score += e.idf * tf * (bm25K1 + 1) / (tf + norm)
	}
	tf := 0
	for _, id := range b.lastIDs {
		tf += td.tf(id)
	}
	score += b.lastIDF * float64(tf) * (bm25K1 + 1) / (float64(tf) + norm)
	return score
}

// bound is the largest score a document of length at least minLen could
// have when its frequency of word g (of idfs) is at most tf(g): BM25 grows
// with frequency and shrinks with length.
func (b *bm25) bound(idfs []float64, tf func(g int) float64, minLen uint32) float64 {
	norm := bm25K1 * (1 - bm25B + bm25B*float64(minLen)/b.avgdl)
	s := 0.0
	for g, idf := range idfs {
		f := tf(g)
		s += idf * f * (bm25K1 + 1) / (f + norm)
	}
	return s
}

// scorer returns the BM25 score function of b (0 for a query without
// words).
func scorer(b *bm25) func(d uint32) float64 {
	if b == nil {
		return func(uint32) float64 { return 0 }
	}
	return b.score
}

// NearestKm is the distance from p to the nearest of locs.
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
