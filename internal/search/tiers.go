package search

import (
	"cmp"
	"math"
	"math/bits"
	"runtime"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Text tiers let a search ranked by words find its best page without
// scoring every match. A broad word ("anxiety", "grief") matches a third
// of a directory, and BM25 gives the best scores to the few documents
// that use it most and are shortest. The tiers group documents by length
// (byLen) and, per term, by how often they use it (hi), so that a search
// can bound the best score any document of a group could reach, score the
// groups from the most promising down, and stop once its k-th best beats
// every group left. The bounds are computed from each group's definition
// (its shortest possible length, its largest possible term frequency), so
// a change to a document never makes one wrong: nothing has to be
// recomputed when documents come and go, and answers are exactly those of
// scoring everything (the differential tests hold the two together).

// tfTiers are the term frequencies from which a document enters each hi
// tier of a term: a document in hi[j][t] uses t at least tfTiers[j] times
// (weighted), one outside it fewer.
var tfTiers = [...]uint16{2, 4, 8}

const numTFTiers = len(tfTiers)

// lenRatio is the growth from one length bucket's shortest document to the
// next's: a bound assumes a document of the bucket's shortest length, so
// it overestimates the length normalisation by at most this factor.
const lenRatio = 1.1

// lenFloors are the shortest document length of each length bucket.
var lenFloors = func() []uint32 {
	out := []uint32{0, 1}
	for x := 1.0; x < math.MaxUint32/2; {
		x = math.Ceil(x * lenRatio)
		out = append(out, uint32(x))
	}
	return out
}()

// lenBucketOf is the length bucket of a document of length n.
func lenBucketOf(n uint32) int {
	i, ok := slices.BinarySearch(lenFloors, n)
	if !ok {
		i--
	}
	return i
}

// textTiers are a segment's length buckets and term frequency tiers.
type textTiers struct {
	byLen []*roaring.Bitmap // by length bucket; nil where none
	// hi[j][t]: docs using term t at least tfTiers[j] times; nil where none.
	hi [numTFTiers][]*roaring.Bitmap
	// maxTF[t] is at least the largest frequency of t in any doc (it is not
	// lowered when that doc goes, which only loosens a bound).
	maxTF []uint16
}

func (tt *textTiers) add(d uint32, td *textDoc) {
	b := lenBucketOf(td.length)
	if b >= len(tt.byLen) {
		tt.byLen = growTo(tt.byLen, b)
	}
	if tt.byLen[b] == nil {
		tt.byLen[b] = roaring.New()
	}
	tt.byLen[b].Add(d)
	for i, t := range td.terms {
		tf := td.tfs[i]
		if int(t) >= len(tt.maxTF) {
			tt.maxTF = growTo(tt.maxTF, int(t))
		}
		tt.maxTF[t] = max(tt.maxTF[t], tf)
		for j, min := range tfTiers {
			if tf < min {
				break
			}
			hi := &tt.hi[j]
			if int(t) >= len(*hi) {
				*hi = growTo(*hi, int(t))
			}
			if (*hi)[t] == nil {
				(*hi)[t] = roaring.New()
			}
			(*hi)[t].Add(d)
		}
	}
}

func (tt *textTiers) remove(d uint32, td *textDoc) {
	if b := lenBucketOf(td.length); b < len(tt.byLen) && tt.byLen[b] != nil {
		tt.byLen[b].Remove(d)
	}
	for i, t := range td.terms {
		for j, min := range tfTiers {
			if td.tfs[i] < min {
				break
			}
			if int(t) < len(tt.hi[j]) && tt.hi[j][t] != nil {
				tt.hi[j][t].Remove(d)
			}
		}
	}
}

// growTo lengthens s with zero values so that index i exists.
func growTo[T any](s []T, i int) []T {
	return append(s, make([]T, i+1-len(s))...)
}

// hiSet is hi[j][t], or nil.
func (tt *textTiers) hiSet(j int, t uint32) *roaring.Bitmap {
	if int(t) < len(tt.hi[j]) {
		return tt.hi[j][t]
	}
	return nil
}

// buildTiers derives a segment's tiers from its documents' text, as a
// snapshot does not store them. Members are gathered in lists first and
// each bitmap built once from its sorted list: at a million profiles
// that is several times faster than adding them one by one.
func buildTiers(text []textDoc, live *roaring.Bitmap) *textTiers {
	var byLen [][]uint32
	var hi [numTFTiers][][]uint32
	var maxTF []uint16
	it := live.Iterator()
	for it.HasNext() {
		d := it.Next()
		td := &text[d]
		b := lenBucketOf(td.length)
		if b >= len(byLen) {
			byLen = growTo(byLen, b)
		}
		byLen[b] = append(byLen[b], d)
		for i, t := range td.terms {
			tf := td.tfs[i]
			if int(t) >= len(maxTF) {
				maxTF = growTo(maxTF, int(t))
			}
			maxTF[t] = max(maxTF[t], tf)
			for j, min := range tfTiers {
				if tf < min {
					break
				}
				if int(t) >= len(hi[j]) {
					hi[j] = growTo(hi[j], int(t))
				}
				hi[j][t] = append(hi[j][t], d)
			}
		}
	}
	bitmaps := func(lists [][]uint32) []*roaring.Bitmap {
		out := make([]*roaring.Bitmap, len(lists))
		for i, l := range lists {
			if len(l) > 0 {
				out[i] = roaring.BitmapOf(l...)
			}
		}
		return out
	}
	tt := &textTiers{byLen: bitmaps(byLen), maxTF: maxTF}
	for j := range hi {
		tt.hi[j] = bitmaps(hi[j])
	}
	return tt
}

// maxTieredGroups is the most scoring groups (distinct words) a tiered
// search handles; longer queries match few documents anyway.
const maxTieredGroups = 3

// maxTierCombos bounds the product of the dimensions' levels, the number
// of tier combinations a search bounds (times freshness and length).
const maxTierCombos = 64

// tieredEligible reports whether rank should use tieredRank: results
// ordered by a text score that does not depend on distance.
func (r *run) tieredEligible(b *bm25) bool {
	if r.q.Terms.Empty() || b == nil || len(b.exact)+1 > maxTieredGroups {
		return false
	}
	return r.q.Sort == SortRelevance || (r.q.Sort == SortRecommended && r.q.Point == nil)
}

// tierDim is one dimension along which a search splits its results: the
// frequency tier of some terms (levels 0 to numTFTiers), or, for the rarer
// completions of a word still being typed, whether a document has any of
// them at all (levels 0 and 1).
type tierDim struct {
	group  int      // the scoring group (word) whose frequency it bounds
	ids    []uint32 // its terms
	rest   bool     // presence only
	within []bitset
	maxSum float64 // sum of the terms' largest frequencies
}

func (dm *tierDim) levels() int {
	if dm.rest {
		return 2
	}
	return numTFTiers + 1
}

// tfBound is the largest frequency the dimension's terms add to a doc at
// level L.
func (dm *tierDim) tfBound(L int) float64 {
	switch {
	case dm.rest && L == 0:
		return 0
	case dm.rest, L == numTFTiers:
		return dm.maxSum
	}
	return math.Min(dm.maxSum, float64(len(dm.ids))*float64(tfTiers[L]-1))
}

// narrow sets out to the docs of s at level L (within holds the results
// above each level's floor) and returns how many there are.
func (dm *tierDim) narrow(out, s bitset, L int) int {
	var above, below bitset // nil: no condition
	if L > 0 {
		above = dm.within[L-1][:len(s)]
	}
	if L < len(dm.within) {
		below = dm.within[L][:len(s)]
	}
	n := 0
	for i, x := range s {
		if above != nil {
			x &= above[i]
		}
		if below != nil {
			x &^= below[i]
		}
		out[i] = x
		n += bits.OnesCount64(x)
	}
	return n
}

// dims chooses the dimensions of a search: one per exact word, and for the
// last word its most common completions one by one while the combinations
// allow, the others together by presence.
func (r *run) dims(all bitset, b *bm25) []*tierDim {
	tt := r.ix.tiers
	var dims []*tierDim
	combos := 1
	add := func(group int, ids []uint32, rest bool) {
		dm := &tierDim{group: group, ids: ids, rest: rest}
		for _, t := range ids {
			if int(t) < len(tt.maxTF) {
				dm.maxSum += float64(tt.maxTF[t])
			}
		}
		if rest {
			u := r.take()
			for _, t := range ids {
				r.orWith(u, r.ix.postings[t])
			}
			u.and(all)
			dm.within = []bitset{u}
		} else {
			dm.within = make([]bitset, 0, numTFTiers)
			for j := range numTFTiers {
				u := r.take()
				for _, t := range ids {
					if s := tt.hiSet(j, t); s != nil {
						r.orWith(u, s)
					}
				}
				u.and(all)
				dm.within = append(dm.within, u)
			}
		}
		combos *= dm.levels()
		dims = append(dims, dm)
	}
	for g, e := range b.exact {
		add(g, []uint32{e.id}, false)
	}
	last := len(b.exact)
	ids := slices.Clone(r.lastIDs)
	slices.SortStableFunc(ids, func(x, y uint32) int {
		return cmp.Compare(r.ix.postings[y].GetCardinality(), r.ix.postings[x].GetCardinality())
	})
	for n := 0; n < 2 && len(ids) > 1 && combos*(numTFTiers+1)*2 <= maxTierCombos; n++ {
		add(last, ids[:1], false)
		ids = ids[1:]
	}
	if len(ids) == 1 {
		add(last, ids, false)
	} else if len(ids) > 1 {
		add(last, ids, true)
	}
	return dims
}

// tierUnit is one group of documents with a bound on their score.
type tierUnit struct {
	fresh  int // 1: fresh availability; 0: not; -1: either
	code   int // the level of each dimension, in mixed radix
	bucket int // length bucket
	bound  float64
}

// tierPrefix is the results of one freshness and the levels of the first
// dimensions, computed once (see tieredRank).
type tierPrefix struct {
	set  bitset
	n    int
	done bool
}

// tierWork is a tiered ranking's work space, pooled by the segment.
type tierWork struct {
	units    []tierUnit
	prefixes []tierPrefix
}

// tieredRank is heapRank for results ordered by text (relevance, or the
// recommended order without a search point), visiting groups of documents
// in order of the best score they could reach and stopping once the k-th
// best found beats every group left.
func (r *run) tieredRank(all bitset, n, k int, b *bm25, sc func(uint32) float64) []ranked {
	if n == 0 {
		return nil
	}
	q, ix, tt := r.q, r.ix, r.ix.tiers
	day := uint64(dayOf(q.Now))
	recommended := q.Sort == SortRecommended
	var rec func(uint32) float64
	if recommended {
		rec = r.recommender(sc)
	}
	idfs := make([]float64, 0, len(b.exact)+1)
	for _, e := range b.exact {
		idfs = append(idfs, e.idf)
	}
	idfs = append(idfs, b.lastIDF)
	dims := r.dims(all, b)
	nCodes := 1
	for _, dm := range dims {
		nCodes *= dm.levels()
	}
	levelsOf := func(code int, out []int) []int {
		for i, dm := range dims {
			out[i] = code % dm.levels()
			code /= dm.levels()
		}
		return out
	}
	// Freshness splits the recommended order's groups in two, unless the
	// search asks only for fresh availability anyway.
	freshSplit := recommended && !q.Accepting
	var freshSets [2]bitset
	var freshN [2]int
	if freshSplit {
		fresh := r.acceptingNow()
		freshSets[1], freshSets[0] = r.copyOf(all), r.copyOf(all)
		freshSets[1].and(fresh)
		freshSets[0].andNot(fresh)
		freshN[1] = freshSets[1].count()
		freshN[0] = n - freshN[1]
	}
	matchUB := 0.0
	if len(q.Issues)+len(q.Approaches) > 0 {
		matchUB = 1
	}
	work, _ := ix.denseSets.tiers.Get().(*tierWork)
	if work == nil {
		work = &tierWork{}
	}
	defer func() {
		clear(work.prefixes) // no sets kept in the pool
		work.units, work.prefixes = work.units[:0], work.prefixes[:0]
		ix.denseSets.tiers.Put(work)
	}()
	// The margin covers rounding: bounds are compared, never equated.
	const margin = 1e-9
	tfs := make([]float64, len(idfs))
	levels := make([]int, len(dims))
	units := work.units[:0]
	freshes := []int{-1}
	if freshSplit {
		freshes = []int{1, 0}
	}
	for code := range nCodes {
		clear(tfs)
		for i, L := range levelsOf(code, levels) {
			tfs[dims[i].group] += dims[i].tfBound(L)
		}
		for bucket, docs := range tt.byLen {
			if docs == nil || docs.IsEmpty() {
				continue
			}
			s := b.bound(idfs, func(g int) float64 { return tfs[g] }, lenFloors[bucket])
			for _, f := range freshes {
				u := tierUnit{fresh: f, code: code, bucket: bucket, bound: s + margin}
				if recommended {
					// Unsplit (f < 0), every result may be fresh.
					fresh := 1.0
					if f == 0 {
						fresh = 0
					}
					u.bound = recommendScore(matchUB, s/float64(s+RecTextHalf), 0, fresh) + margin
				}
				units = append(units, u)
			}
		}
	}
	work.units = units
	slices.SortFunc(units, func(a, b tierUnit) int { return cmp.Compare(b.bound, a.bound) })

	// combo is the results of one freshness and tier levels. Each prefix
	// of the levels is computed once, so that a combination costs one
	// pass more than one already made. Prefixes of depth n are numbered
	// from offsets[n-1], by the levels of the first n dimensions in mixed
	// radix, for each freshness in turn.
	offsets := make([]int, len(dims)+1)
	for i, radix := 0, 1; i < len(dims); i++ {
		radix *= dims[i].levels()
		offsets[i+1] = offsets[i] + radix
	}
	perFresh := offsets[len(dims)]
	if need := 3 * perFresh; cap(work.prefixes) < need {
		work.prefixes = make([]tierPrefix, need)
	} else {
		work.prefixes = work.prefixes[:need]
	}
	prefixes := work.prefixes
	combo := func(u tierUnit) (bitset, int) {
		s, sn := all, n
		if u.fresh >= 0 {
			s, sn = freshSets[u.fresh], freshN[u.fresh]
		}
		code, radix := 0, 1
		for i, L := range levelsOf(u.code, levels) {
			code += L * radix
			radix *= dims[i].levels()
			p := &prefixes[(u.fresh+1)*perFresh+offsets[i]+code]
			if !p.done {
				p.done = true
				if sn > 0 {
					p.set = r.take()
					p.n = dims[i].narrow(p.set, s, L)
				}
			}
			s, sn = p.set, p.n
			if sn == 0 {
				return nil, 0
			}
		}
		return s, sn
	}

	h := make(topK, 0, k)
	push := func(d uint32) {
		var key float64
		if recommended {
			key = -rec(d)
		} else {
			key = -sc(d)
		}
		if len(h) == k && key > h[0].key {
			return
		}
		card := ix.cards[d]
		h.offer(ranked{doc: d, key: key, key2: RotationKey(day, card.ID), id: card.ID}, k)
	}
	seen := 0
	visit := func(d uint32) {
		if seen++; seen%yieldEvery == 0 {
			runtime.Gosched()
		}
		push(d)
	}
	for _, u := range units {
		if len(h) == k && -h[0].key > u.bound {
			break
		}
		s, sn := combo(u)
		if sn == 0 {
			continue
		}
		// The group is the combination's docs of one length bucket: the
		// bucket's members are tested against the combination; or, when
		// the bucket is the larger, it is written out as a bitset and
		// intersected; or, when it is far larger, the combination's
		// members are looked up in it.
		bucket := tt.byLen[u.bucket]
		switch size := bucket.GetCardinality(); {
		case size <= uint64(sn)+uint64(r.words):
			r.each(bucket, func(d uint32) {
				if s.has(d) {
					visit(d)
				}
			})
		case size <= 16*uint64(sn):
			in := r.scratchOf(bucket)
			for w, x := range s {
				for x &= in[w]; x != 0; x &= x - 1 {
					visit(uint32(w<<6 | bits.TrailingZeros64(x)))
				}
			}
		default:
			for w, x := range s {
				for ; x != 0; x &= x - 1 {
					if d := uint32(w<<6 | bits.TrailingZeros64(x)); bucket.Contains(d) {
						visit(d)
					}
				}
			}
		}
	}
	r.scored = seen
	list := []ranked(h)
	sortRanked(list)
	return list
}
