package search

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// Facet counts are the bulk of a broad search's work: a results page
// counts every value of every facet, a hundred or so intersections. With
// roaring bitmaps, a result set of a few thousand documents per 65,536 is
// stored as sorted arrays, and intersecting two of those walks both
// (about 70% of a search's time before this). The main segment therefore
// also keeps each facet value as a plain bitset, built by the first search
// that needs it and kept up to date by every change (denseApply), and a
// search counts by AND and popcount over the words the result set occupies: about a
// microsecond per thousand words per value, whatever the sets' shapes.

// denseMinDocs is the smallest segment given bitsets: below it (the recent
// segment, small directories) roaring's own counting is as fast. Tests
// lower it (denseState.minDocs) to compare the two ways of counting.
const denseMinDocs = 1 << 15

// denseFacets are a segment's facet values as bitsets, valid while the
// segment's changes count is theirs: changes keep them up to date (see
// denseApply), so they are built once, not after every merge.
type denseFacets struct {
	changes uint64
	words   int
	sets    [numFacets]map[string][]uint64
}

// freshDays is the union of a segment's accepting day buckets after
// cutDay as a bitset, valid while the segment's changes count is changes.
// Fresh availability (a filter, and half of the recommended order's
// groups) unions a few dozen day buckets: the union is made once per day
// and change, not once per search.
type freshDays struct {
	cutDay  int32
	changes uint64
	set     bitset
}

// denseState is a segment's bitsets and the lock of whoever builds them.
type denseState struct {
	built atomic.Pointer[denseFacets]
	fresh atomic.Pointer[freshDays]
	mu    sync.Mutex
	// bufs pools the working sets of searches (bitset.go), lists the word
	// lists of sparse sets counted within, points the practice positions
	// of a radius, tiers the tiered ranking's work space, runs the runs
	// themselves.
	bufs, lists, points, tiers, runs sync.Pool
	// minDocs replaces denseMinDocs when positive (tests); off disables
	// the bitsets (tests: the reference they are compared with).
	minDocs int
	off     bool
}

// dense returns the segment's facet bitsets, building them if the segment
// changed since; nil when the segment is small, or while another search
// builds them (this one then counts the slower way rather than wait).
// The caller holds the segment's read lock, so it does not change.
func (ix *segment) dense() *denseFacets {
	if !ix.denseWorthIt() {
		return nil
	}
	if d := ix.denseSets.built.Load(); d != nil && d.changes == ix.changes {
		return d
	}
	if !ix.denseSets.mu.TryLock() {
		return nil
	}
	defer ix.denseSets.mu.Unlock()
	if d := ix.denseSets.built.Load(); d != nil && d.changes == ix.changes {
		return d
	}
	d := &denseFacets{changes: ix.changes, words: (len(ix.cards) + 63) / 64}
	for f := range numFacets {
		d.sets[f] = make(map[string][]uint64, len(ix.facets[f]))
		for v, b := range ix.facets[f] {
			set := make([]uint64, d.words)
			b.WriteDenseTo(set)
			d.sets[f][v] = set
		}
	}
	ix.denseSets.built.Store(d)
	return d
}

// denseApply brings the bitsets, if any, up to date with doc d gaining
// (on) or losing card c's values. Changes to a segment are made under its
// write lock, so no search reads the bitsets meanwhile. A doc beyond
// their length (the segment grew) drops them, to be built again.
func (ix *segment) denseApply(d uint32, c *Card, on bool) {
	ds := ix.denseSets.built.Load()
	if ds == nil {
		return
	}
	if int(d) >= ds.words*64 || ds.changes+1 != ix.changes {
		ix.denseSets.built.Store(nil)
		return
	}
	ds.changes = ix.changes
	w, bit := d/64, uint64(1)<<(d%64)
	for f := range numFacets {
		for _, v := range c.values(f) {
			set := ds.sets[f][v]
			switch {
			case on && set == nil:
				set = make([]uint64, ds.words)
				ds.sets[f][v] = set
				fallthrough
			case on:
				set[w] |= bit
			case set != nil:
				set[w] &^= bit
			}
		}
	}
}

// denseWorthIt reports whether the segment is large enough for bitsets.
func (ix *segment) denseWorthIt() bool {
	minDocs := denseMinDocs
	if ix.denseSets.minDocs > 0 {
		minDocs = ix.denseSets.minDocs
	}
	return !ix.denseSets.off && len(ix.cards) >= minDocs
}

// denseCounter counts facet values within one result set.
type denseCounter struct {
	d     *denseFacets
	set   bitset
	words []int32 // the words the set occupies, when it is sparse
}

// counter prepares counting within set, once per set a run counts in.
func (r *run) counter(set bitset) *denseCounter {
	for i := range r.counters {
		if &r.counters[i].set[0] == &set[0] {
			return &r.counters[i]
		}
	}
	c := denseCounter{d: r.denseSets, set: set}
	// A sparse set is visited word by word where it has documents.
	if n := set.count(); n < r.denseSets.words/4 {
		c.words = r.takeList(n)
		for w, x := range set {
			if x != 0 {
				c.words = append(c.words, int32(w))
			}
		}
	}
	r.counters = append(r.counters, c)
	return &r.counters[len(r.counters)-1]
}

// takeList is an empty list of capacity at least n, from the segment's
// pool; release gives it back.
func (r *run) takeList(n int) []int32 {
	buf, _ := r.ix.denseSets.lists.Get().(*[]int32)
	if buf == nil || cap(*buf) < n {
		s := make([]int32, 0, max(n, 64))
		buf = &s
	}
	r.lists = append(r.lists, buf)
	return (*buf)[:0]
}

// takePoints is an empty list of practice positions, from the segment's
// pool; release gives it back.
func (r *run) takePoints() []pointDist {
	buf, _ := r.ix.denseSets.points.Get().(*[]pointDist)
	if buf == nil {
		buf = new([]pointDist)
	}
	r.pointsBuf = buf
	return (*buf)[:0]
}

// count is how many documents of the set have value v of facet f.
func (c *denseCounter) count(f facet, v string) int {
	other := c.d.sets[f][v]
	if c.words != nil {
		n := 0
		for _, w := range c.words {
			n += bits.OnesCount64(c.set[w] & other[w])
		}
		return n
	}
	return c.set.andCount(other)
}
