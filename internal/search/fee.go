package search

import (
	"github.com/RoaringBitmap/roaring/v2"
)

// A fee filter ("at most £50") used to test each result's fee, which at a
// million profiles meant a card per result: most of a broad filtered
// search. Documents are instead kept in fee bands, so that the bands
// wholly under the limit join by union and only the band the limit falls
// in is tested document by document.

// feeBand is the width of a fee band in pence: £5, the step in which
// therapists usually price.
const feeBand = 500

func feeBandOf(pence int) int32 { return int32(max(pence, 0) / feeBand) }

// atMostFee keeps the docs of within whose minimum fee is at most
// maxPence. Every live doc is in exactly one band, so the docs to keep
// are those of the bands under the limit's, and the docs to drop those of
// the bands over it: whichever side has fewer members is combined with
// within; only the limit's own band is tested document by document.
func (r *run) atMostFee(within bitset, maxPence int) {
	ix := r.ix
	edge := feeBandOf(maxPence)
	var under, over uint64
	for band, b := range ix.feeBands {
		switch {
		case band < edge:
			under += b.GetCardinality()
		case band > edge:
			over += b.GetCardinality()
		}
	}
	edgeBand := ix.feeBands[edge]
	if under <= over {
		keep := r.take()
		for band, b := range ix.feeBands {
			if band < edge {
				r.orWith(keep, b)
			}
		}
		if edgeBand != nil {
			r.each(edgeBand, func(d uint32) {
				if within.has(d) && ix.cards[d].FeeMinPence <= maxPence {
					keep.add(d)
				}
			})
		}
		within.and(keep)
		return
	}
	for band, b := range ix.feeBands {
		if band > edge {
			r.andNotWith(within, b)
		}
	}
	if edgeBand != nil {
		r.each(edgeBand, func(d uint32) {
			if within.has(d) && ix.cards[d].FeeMinPence > maxPence {
				within[d>>6] &^= 1 << (d & 63)
			}
		})
	}
}

// buildFeeBands derives the bands from the cards, as a snapshot does not
// store them.
func buildFeeBands(cards []*Card) map[int32]*roaring.Bitmap {
	bands := map[int32][]uint32{}
	for d, c := range cards {
		if c != nil {
			band := feeBandOf(c.FeeMinPence)
			bands[band] = append(bands[band], uint32(d))
		}
	}
	out := make(map[int32]*roaring.Bitmap, len(bands))
	for band, docs := range bands {
		out[band] = roaring.BitmapOf(docs...)
	}
	return out
}
