package search

import (
	"cmp"
	"container/heap"
	"math"
	"math/bits"
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

// run holds the working sets of one search of one segment, as bitsets
// (see bitset.go) that it gives back to the segment when its part is done.
type run struct {
	ix *segment
	q  *Query // &query
	// query is the search's own copy of the query, so that the caller's
	// stays on its stack.
	query Query
	// words is the length of every working set.
	words int
	// base: live, not overdue, not masked; baseIsLive when that is every
	// live document.
	base       bitset
	baseIsLive bool
	// last: docs with any completion of the last word; nil until needed.
	last bitset
	// common: base with every filter that is not an "any of" facet.
	common bitset
	// anyOf: the "any of" facet filters; nil where not filtered.
	anyOf [numFacets]bitset
	// inRadius / accessibleInRadius: docs with a (wheelchair-accessible)
	// practice within the radius; nil without a search point.
	inRadius, accessibleInRadius bitset
	// accepting (acceptingNow) and inRange (rangeFor the query's formats)
	// once computed.
	accepting, inRange bitset
	rangeDone          bool
	// pointsInRadius are the practice positions within the radius.
	pointsInRadius []pointDist
	pointsBuf      *[]pointDist
	lastIDs        []uint32
	// scored counts the documents tieredRank scored (for tests).
	scored int
	// denseSets, when the segment has them, count facets; counters holds
	// each result set counted within.
	denseSets *denseFacets
	counters  []denseCounter
	counterAr [numFacets + 1]denseCounter

	// bufs are the pooled buffers the run holds (bufAr backs it), lists
	// the pooled word lists; scratch is a set that scratchOf overwrites.
	bufs    []*[]uint64
	bufAr   [40]*[]uint64
	lists   []*[]int32
	listAr  [numFacets + 1]*[]int32
	scratch bitset
	// it and vals iterate roaring bitmaps without allocating (each).
	it   roaring.ManyIntIterator
	vals [256]uint32
}

// newRun starts a search of segment ix over its live documents that are
// neither overdue at q.Now nor in mask (documents a newer segment
// replaces). The run comes from the segment's pool (putRun gives it
// back), as it is a few kilobytes.
func (ix *segment) newRun(q *Query, mask *roaring.Bitmap) *run {
	r, _ := ix.denseSets.runs.Get().(*run)
	if r == nil {
		r = new(run)
	}
	*r = run{ix: ix, query: *q, words: (len(ix.cards) + 63) / 64}
	q = &r.query
	r.q = q
	r.bufs, r.lists, r.counters = r.bufAr[:0], r.listAr[:0], r.counterAr[:0]
	r.base, r.baseIsLive = r.load(ix.live), true
	today := dayOf(q.Now)
	for day, b := range ix.dueDay {
		if day < today && !b.IsEmpty() {
			r.andNotWith(r.base, b)
			r.baseIsLive = false
		}
	}
	if mask != nil && !mask.IsEmpty() {
		r.andNotWith(r.base, mask)
		r.baseIsLive = false
	}
	if !q.Terms.Empty() {
		r.lastIDs = ix.lastTermIDs(q.Terms)
	}
	return r
}

// putRun gives a finished run back to the segment's pool; nothing may
// use it afterwards.
func (ix *segment) putRun(r *run) {
	*r = run{}
	ix.denseSets.runs.Put(r)
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
	st := textStats{n: float64(r.base.count()), exactDF: make([]float64, len(q.Terms.Exact))}
	total := ix.totalLen
	if !r.baseIsLive {
		live := r.scratchOf(ix.live)
		for w, x := range live {
			x &^= r.base[w]
			for x != 0 {
				total -= uint64(ix.text[w<<6|bits.TrailingZeros64(x)].length)
				x &= x - 1
			}
		}
	}
	st.totalLen = float64(total)
	for i, t := range q.Terms.Exact {
		if id, ok := ix.termIDs[t]; ok {
			st.exactDF[i] = float64(r.countWith(r.base, ix.postings[id]))
		}
	}
	st.lastDF = float64(r.lastSet().andCount(r.base))
	return st
}

// lastSet is the docs having any completion of the last word.
func (r *run) lastSet() bitset {
	if r.last == nil {
		r.last = r.take()
		for _, id := range r.lastIDs {
			r.orWith(r.last, r.ix.postings[id])
		}
	}
	return r.last
}

// part is one segment's share of an answer. It holds no reference into
// the segment's mutable state or the run's working sets, so it stays
// valid after the segment's lock is released (cards are immutable once
// indexed).
type part struct {
	total  int
	top    []ranked // the best offset+perPage, best first
	cards  []*Card  // parallel to top
	scores []float64
	facets [numFacets][]FacetCount // by facet, in no order
}

// finish applies the filters, ranks and counts, scoring text with st, and
// gives the run's working sets back to the segment.
//
// Between steps it yields the processor (runtime.Gosched): a search of a
// million profiles runs for tens of milliseconds, and on a small machine
// an edit waiting to be applied should not wait for the scheduler to
// preempt it.
func (r *run) finish(st textStats) part {
	defer r.release()
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
	n := all.count()
	p := part{total: n}
	if !r.ix.fullRank && r.tieredEligible(b) {
		p.top = r.tieredRank(all, n, r.q.Page*r.q.PerPage, b, score)
	} else {
		p.top = r.rank(all, n, score)
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
	offset := (q.Page - 1) * q.PerPage
	hit := func(c ranked, card *Card, score float64) {
		h := Hit{Card: card, Score: score}
		if q.Sort == SortRecommended {
			h.Rank = -c.key
		}
		if q.Point != nil {
			h.DistanceKm, h.HasDistance = NearestKm(*q.Point, card.Locations)
		}
		res.Hits = append(res.Hits, h)
	}
	if len(parts) == 1 {
		p := parts[0]
		res.Total = p.total
		for i := min(offset, len(p.top)); i < min(offset+q.PerPage, len(p.top)); i++ {
			hit(p.top[i], p.cards[i], p.scores[i])
		}
	} else {
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
		slices.SortStableFunc(cands, func(a, b candidate) int {
			switch {
			case a.less(b.ranked):
				return -1
			case b.less(a.ranked):
				return 1
			}
			return 0
		})
		for _, c := range cands[min(offset, len(cands)):min(offset+q.PerPage, len(cands))] {
			hit(c.ranked, c.card, c.score)
		}
	}
	res.Facets = make(map[string][]FacetCount, numFacets)
	for f := range numFacets {
		counts := parts[0].facets[f]
		if len(parts) > 1 {
			sum := map[string]int{}
			for _, p := range parts {
				for _, c := range p.facets[f] {
					sum[c.Value] += c.Count
				}
			}
			counts = make([]FacetCount, 0, len(sum))
			for v, n := range sum {
				counts = append(counts, FacetCount{v, n})
			}
		}
		res.Facets[facetTable[f].Name] = tidyCounts(counts, valuesOf(q, f))
	}
	return res
}

func (r *run) values(f facet) []string { return valuesOf(r.q, f) }

// valuesOf lists the values q asks for in facet f.
func valuesOf(q *Query, f facet) []string { return *facetTable[f].query(q) }

// union is the set of docs having any of vals; nil when vals is empty.
func (r *run) union(f facet, vals []string) bitset {
	if len(vals) == 0 {
		return nil
	}
	s := r.take()
	for _, v := range vals {
		if b, ok := r.ix.facets[f][v]; ok {
			r.orWith(s, b)
		}
	}
	return s
}

// radius finds docs with a practice within the radius by visiting only the
// grid cells that the radius's bounding box overlaps, and computing one
// distance per practice position. Each position's docs are set bit by bit
// (they are few): roaring would merge hundreds of small arrays pairwise.
func (r *run) radius() {
	p, rad := *r.q.Point, r.q.RadiusKm
	dLat := rad / (math.Pi / 180 * geo.EarthRadiusKm)
	maxLat := math.Min(89.9, math.Abs(p.Lat)+dLat)
	dLon := math.Min(180, dLat/math.Cos(maxLat*math.Pi/180))
	lo := cellOf(geo.Point{Lat: p.Lat - dLat, Lon: p.Lon - dLon})
	hi := cellOf(geo.Point{Lat: p.Lat + dLat, Lon: p.Lon + dLon})
	r.inRadius, r.accessibleInRadius = r.take(), r.take()
	r.pointsInRadius = r.takePoints()
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
				r.orWith(r.inRadius, pt.docs)
				if !pt.accessible.IsEmpty() {
					r.orWith(r.accessibleInRadius, pt.accessible)
				}
			}
		}
	}
}

// buildCommon applies the filters that every facet count shares: text,
// all-of facets (issues), wheelchair access, concessions, fresh availability and fee.
func (r *run) buildCommon() {
	q, ix := r.q, r.ix
	common := r.copyOf(r.base)
	r.common = common
	if !q.Terms.Empty() {
		for _, t := range q.Terms.Exact {
			id, ok := ix.termIDs[t]
			if !ok {
				clear(common)
				return
			}
			r.andWith(common, ix.postings[id])
		}
		common.and(r.lastSet())
	}
	for f := range numFacets {
		if facetTable[f].Match != AllOf {
			continue
		}
		for _, s := range r.values(f) {
			b, ok := ix.facets[f][s]
			if !ok {
				clear(common)
				return
			}
			r.andWith(common, b)
		}
	}
	if q.Wheelchair {
		if q.Point != nil {
			common.and(r.accessibleInRadius)
		} else {
			r.andWith(common, ix.accessible)
		}
	}
	if q.Concessions {
		r.andWith(common, ix.concessions)
	}
	if q.Accepting {
		common.and(r.acceptingNow())
	}
	if q.MaxFeePence >= 0 {
		r.atMostFee(common, q.MaxFeePence)
	}
}

// acceptingNow is the set of docs accepting new clients whose availability
// was confirmed within directory.AvailabilityFreshFor of q.Now. Whole days
// after the cut-off come from day buckets (their union cached by the
// segment, see freshAfter); only the cut-off day's docs are checked one by
// one.
func (r *run) acceptingNow() bitset {
	if r.accepting != nil {
		return r.accepting
	}
	cutoff := r.q.Now.Add(-directory.AvailabilityFreshFor)
	cutDay := dayOf(cutoff)
	out := r.take()
	if after := r.freshAfter(cutDay); after != nil {
		copy(out, after)
	} else {
		r.daysAfter(out, cutDay)
	}
	if b, ok := r.ix.acceptDay[cutDay]; ok {
		r.each(b, func(d uint32) {
			if !r.ix.cards[d].ConfirmedAt.Before(cutoff) {
				out.add(d)
			}
		})
	}
	r.accepting = out
	return out
}

// daysAfter adds the docs of the accepting day buckets after cutDay to s.
func (r *run) daysAfter(s bitset, cutDay int32) {
	for day, b := range r.ix.acceptDay {
		if day > cutDay {
			r.orWith(s, b)
		}
	}
}

// freshAfter is the segment's cached union of the accepting day buckets
// after cutDay, not to be modified, building it if the segment changed
// or the day moved on since; nil when the segment is small (the union is
// then cheap), or while another search builds it. The caller holds the
// segment's read lock, so it does not change.
func (r *run) freshAfter(cutDay int32) bitset {
	ix := r.ix
	if !ix.denseWorthIt() {
		return nil
	}
	valid := func(f *freshDays) bool {
		return f != nil && f.cutDay == cutDay && f.changes == ix.changes && len(f.set) == r.words
	}
	if f := ix.denseSets.fresh.Load(); valid(f) {
		return f.set
	}
	if !ix.denseSets.mu.TryLock() {
		return nil
	}
	defer ix.denseSets.mu.Unlock()
	if f := ix.denseSets.fresh.Load(); valid(f) {
		return f.set
	}
	f := &freshDays{cutDay: cutDay, changes: ix.changes, set: make(bitset, r.words)}
	r.daysAfter(f.set, cutDay)
	ix.denseSets.fresh.Store(f)
	return f.set
}

// rangeFor is the "in range" condition for the query's formats: a
// practice within the radius, or a requested remote format on offer.
// Without a search point everything is in range (nil).
func (r *run) rangeFor() bitset {
	if r.q.Point == nil {
		return nil
	}
	if !r.rangeDone {
		r.rangeDone = true
		r.inRange = r.inRadius
		copied := false
		for _, f := range r.q.Formats {
			if remoteFormat(f) {
				if b, ok := r.ix.facets[fFormat][f]; ok {
					if !copied {
						r.inRange, copied = r.copyOf(r.inRadius), true
					}
					r.orWith(r.inRange, b)
				}
			}
		}
	}
	return r.inRange
}

// remoteFormat reports whether format f needs no practice nearby.
func remoteFormat(f string) bool { return f == taxonomy.FormatOnline || f == taxonomy.FormatPhone }

// except is the result set with every filter applied except the "any of"
// facet skip (-1 for none).
func (r *run) except(skip facet) bitset {
	var rg bitset
	if skip != fFormat {
		rg = r.rangeFor()
	}
	narrows := rg != nil
	for f, b := range r.anyOf {
		narrows = narrows || b != nil && facet(f) != skip
	}
	if !narrows {
		// Nothing to intersect: the common set itself, which nobody
		// changes after buildCommon, rather than a copy.
		return r.common
	}
	out := r.copyOf(r.common)
	for f, b := range r.anyOf {
		if b != nil && facet(f) != skip {
			out.and(b)
		}
	}
	if rg != nil {
		out.and(rg)
	}
	return out
}

func (r *run) facetCounts(all bitset) [numFacets][]FacetCount {
	var out [numFacets][]FacetCount
	r.denseSets = r.ix.dense()
	for f := range numFacets {
		var counts []FacetCount
		switch {
		case facetTable[f].Match == AllOf:
			counts = r.countValues(f, all)
		case f == fFormat:
			// A value's set is the results without the format filter,
			// with the value, in range for it: within the radius unless
			// the value is remote (then the value itself is in range).
			rest := r.except(fFormat)
			counts = make([]FacetCount, 0, len(r.ix.facets[fFormat]))
			for v, b := range r.ix.facets[fFormat] {
				near := r.q.Point != nil && !remoteFormat(v)
				var set bitset
				if r.denseSets != nil {
					set = r.denseSets.sets[fFormat][v]
				} else {
					set = r.scratchOf(b)
				}
				n := 0
				if near {
					n = andCount3(rest, set, r.inRadius)
				} else {
					n = rest.andCount(set)
				}
				counts = append(counts, FacetCount{v, n})
			}
		default:
			within := all
			if r.anyOf[f] != nil {
				within = r.except(f)
			}
			// When nothing filters on this facet, leaving its filter out
			// changes nothing: the count is within the result set itself.
			counts = r.countValues(f, within)
		}
		out[f] = counts
		runtime.Gosched()
	}
	return out
}

// andCount3 is the number of documents in all of a, b and c.
func andCount3(a, b, c bitset) int {
	b, c = b[:len(a)], c[:len(a)]
	n := 0
	for i, x := range a {
		n += bits.OnesCount64(x & b[i] & c[i])
	}
	return n
}

func (r *run) countValues(f facet, within bitset) []FacetCount {
	counts := make([]FacetCount, 0, len(r.ix.facets[f]))
	if r.denseSets != nil {
		c := r.counter(within)
		for v := range r.ix.facets[f] {
			counts = append(counts, FacetCount{v, c.count(f, v)})
		}
		return counts
	}
	for v, b := range r.ix.facets[f] {
		counts = append(counts, FacetCount{v, r.countWith(within, b)})
	}
	return counts
}

// tidyCounts drops zero counts (keeping selected values), then orders by
// count, largest first, and value.
func tidyCounts(counts []FacetCount, selected []string) []FacetCount {
	out := counts[:0]
	for _, c := range counts {
		if c.Count > 0 || slices.Contains(selected, c.Value) {
			out = append(out, c)
		}
	}
	kept := len(out)
	for _, s := range selected {
		if !slices.ContainsFunc(out[:kept], func(c FacetCount) bool { return c.Value == s }) {
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

// offer keeps c if it is among the k best seen so far.
func (h *topK) offer(c ranked, k int) {
	if len(*h) < k {
		heap.Push(h, c)
	} else if c.less((*h)[0]) {
		(*h)[0] = c
		heap.Fix(h, 0)
	}
}

// walkOrHeap reports whether the k best of n results among live documents
// are found sooner by walking a presorted order of all of them than by
// keeping the best k in a heap. A walk finds k matches in about k·live/n
// steps of one membership test each; a heap visits all n, each costing
// a card and a rotation key, a few times a membership test.
func walkOrHeap(n, k, live int) bool {
	return 2*int64(n)*int64(n) >= int64(k)*int64(live)
}

// rank returns the best offset+perPage of the result set (n documents),
// best first, with their sort keys (so that parts can be merged). Broad
// results in fee or rotation order walk a presorted list of all
// documents; results near a point walk practice positions outward;
// anything else keeps the best k in a heap.
func (r *run) rank(all bitset, n int, sc func(uint32) float64) []ranked {
	k := r.q.Page * r.q.PerPage
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
func walk(all bitset, order []uint32, k int) []ranked {
	out := make([]ranked, 0, k)
	for _, d := range order {
		if all.has(d) {
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
func (r *run) heapRank(all bitset, k int, sc func(uint32) float64) []ranked {
	day := uint64(dayOf(r.q.Now))
	var rec func(uint32) float64
	if r.q.Sort == SortRecommended {
		rec = r.recommender(sc)
	}
	h := make(topK, 0, k)
	seen := 0
	for w, x := range all {
		for ; x != 0; x &= x - 1 {
			if seen++; seen%yieldEvery == 0 {
				runtime.Gosched()
			}
			d := uint32(w<<6 | bits.TrailingZeros64(x))
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
			h.offer(c, k)
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
func (r *run) nearestFirst(all bitset, k int) []ranked {
	pts := r.pointsInRadius
	day := uint64(dayOf(r.q.Now))
	slices.SortFunc(pts, func(a, b pointDist) int { return cmp.Compare(a.dist, b.dist) })
	seen := r.take()
	out := make([]ranked, 0, k)
	for i, p := range pts {
		found := false
		r.each(p.pt.docs, func(d uint32) {
			if all.has(d) && !seen.has(d) {
				seen.add(d)
				id := r.ix.cards[d].ID
				out = append(out, ranked{doc: d, key: p.dist, key2: RotationKey(day, id), id: id})
				found = true
			}
		})
		if !found {
			continue
		}
		if len(out) >= k && (i+1 == len(pts) || pts[i+1].dist > p.dist) {
			break
		}
	}
	sortRanked(out)
	if len(out) >= k {
		return out[:k]
	}
	rest := r.copyOf(all)
	rest.andNot(seen)
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
