package search

import (
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"
)

// A search used to build its intermediate sets (the base, the filters, the
// results, the facet counts' sets, the text tiers' groups) as roaring
// bitmaps, each a fresh allocation: 200 to 450 KB per search at 100,000
// profiles and up to 1.7 MB at a million, most of it bitmap containers
// copied only to be intersected once. A search's working sets are instead
// plain bitsets, one bit per document slot of the segment, taken from a
// pool of the segment's and given back when the search's part of the
// segment is done. The index's own structures (postings, facet values,
// practice positions, day buckets, tiers) stay roaring bitmaps, and are
// combined into the working sets word by word. Clearing or combining a
// bitset costs a pass over it (a few microseconds at a million profiles),
// whatever the sets hold.

// bitset is a working set: bit d of word d/64 is document slot d. All the
// working sets of one run have the same length.
type bitset []uint64

// has reports whether document d is in the set.
func (s bitset) has(d uint32) bool { return s[d>>6]&(1<<(d&63)) != 0 }

// add puts document d into the set.
func (s bitset) add(d uint32) { s[d>>6] |= 1 << (d & 63) }

// count is the number of documents in the set.
func (s bitset) count() int {
	n := 0
	for _, x := range s {
		n += bits.OnesCount64(x)
	}
	return n
}

// and keeps the documents of s that are also in o.
func (s bitset) and(o bitset) {
	o = o[:len(s)]
	for i := range s {
		s[i] &= o[i]
	}
}

// andNot drops the documents of s that are in o.
func (s bitset) andNot(o bitset) {
	o = o[:len(s)]
	for i := range s {
		s[i] &^= o[i]
	}
}

// or adds the documents of o to s.
func (s bitset) or(o bitset) {
	o = o[:len(s)]
	for i := range s {
		s[i] |= o[i]
	}
}

// andCount is the number of documents in both s and o.
func (s bitset) andCount(o bitset) int {
	o = o[:len(s)]
	n := 0
	for i, x := range s {
		n += bits.OnesCount64(x & o[i])
	}
	return n
}

// sparseCard is the cardinality below which a roaring bitmap is combined
// with a working set member by member rather than through a dense copy:
// a member costs about as much as a few words of a pass.
func sparseCard(words int) uint64 { return uint64(words) }

// take returns a cleared working set. The run gives every set it took back
// to the segment's pool when its part is done (release): a pooled buffer
// is only ever held by one run, so concurrent searches never share one.
func (r *run) take() bitset {
	buf, _ := r.ix.denseSets.bufs.Get().(*[]uint64)
	if buf == nil || cap(*buf) < r.words {
		// Room to grow by a few percent, so that the pool's sets still
		// serve after a merge adds documents.
		s := make([]uint64, r.words, r.words+r.words/32+64)
		buf = &s
	}
	s := bitset((*buf)[:r.words])
	clear(s)
	r.bufs = append(r.bufs, buf)
	return s
}

// copyOf is a working set holding the documents of s.
func (r *run) copyOf(s bitset) bitset {
	out := r.take()
	copy(out, s)
	return out
}

// release gives the run's working sets back to the segment's pool. The
// run must not use any of them afterwards.
func (r *run) release() {
	for i, b := range r.bufs {
		r.ix.denseSets.bufs.Put(b)
		r.bufs[i] = nil
	}
	r.bufs = r.bufs[:0]
	r.scratch = nil
	for i, l := range r.lists {
		r.ix.denseSets.lists.Put(l)
		r.lists[i] = nil
	}
	r.lists = r.lists[:0]
	if r.pointsBuf != nil {
		clear(r.pointsInRadius) // no references kept in the pool
		*r.pointsBuf = r.pointsInRadius[:0]
		r.ix.denseSets.points.Put(r.pointsBuf)
		r.pointsBuf, r.pointsInRadius = nil, nil
	}
}

// scratchOf is the run's scratch set holding exactly b's documents; it is
// overwritten by the next call.
func (r *run) scratchOf(b *roaring.Bitmap) bitset {
	if r.scratch == nil {
		r.scratch = r.take()
	} else {
		clear(r.scratch)
	}
	// WriteDenseTo copies bitmap containers and sets the bits of the
	// others: the set must be clear beforehand.
	b.WriteDenseTo(r.scratch)
	return r.scratch
}

// load is a working set holding b's documents.
func (r *run) load(b *roaring.Bitmap) bitset {
	s := r.take()
	b.WriteDenseTo(s)
	return s
}

// batches starts iterating b's members in ascending order, a batch at a
// time from next (empty at the end), with the run's one iterator: nothing
// else may iterate until the batches are done.
func (r *run) batches(b *roaring.Bitmap) { r.it.Initialize(b) }

// next is the next batch of members (see batches).
func (r *run) next() []uint32 { return r.vals[:r.it.NextMany(r.vals[:])] }

// each calls fn with each member of b in ascending order. fn must not
// iterate (see batches).
func (r *run) each(b *roaring.Bitmap, fn func(d uint32)) {
	r.batches(b)
	for ds := r.next(); len(ds) > 0; ds = r.next() {
		for _, d := range ds {
			fn(d)
		}
	}
}

// andWith keeps the documents of s that are in b.
func (r *run) andWith(s bitset, b *roaring.Bitmap) { s.and(r.scratchOf(b)) }

// orWith adds b's documents to s.
func (r *run) orWith(s bitset, b *roaring.Bitmap) {
	if b.GetCardinality() >= sparseCard(len(s)) {
		s.or(r.scratchOf(b))
		return
	}
	r.batches(b)
	for ds := r.next(); len(ds) > 0; ds = r.next() {
		for _, d := range ds {
			s[d>>6] |= 1 << (d & 63)
		}
	}
}

// andNotWith drops b's documents from s.
func (r *run) andNotWith(s bitset, b *roaring.Bitmap) {
	if b.GetCardinality() >= sparseCard(len(s)) {
		s.andNot(r.scratchOf(b))
		return
	}
	r.batches(b)
	for ds := r.next(); len(ds) > 0; ds = r.next() {
		for _, d := range ds {
			s[d>>6] &^= 1 << (d & 63)
		}
	}
}

// countWith is the number of documents of s in b.
func (r *run) countWith(s bitset, b *roaring.Bitmap) int {
	if b.GetCardinality() >= sparseCard(len(s)) {
		return s.andCount(r.scratchOf(b))
	}
	n := 0
	r.batches(b)
	for ds := r.next(); len(ds) > 0; ds = r.next() {
		for _, d := range ds {
			n += int(s[d>>6] >> (d & 63) & 1)
		}
	}
	return n
}
