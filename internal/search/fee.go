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

// atMostFee is the docs of within whose minimum fee is at most maxPence.
func (ix *segment) atMostFee(within *roaring.Bitmap, maxPence int) *roaring.Bitmap {
	// Each band is intersected first: bands are sparse (arrays, in
	// roaring), and a union of intersections stays small, where a union of
	// bands would be large and slow to build.
	edge := feeBandOf(maxPence)
	var parts []*roaring.Bitmap
	for band, b := range ix.feeBands {
		if band < edge {
			parts = append(parts, roaring.And(within, b))
		}
	}
	if b, ok := ix.feeBands[edge]; ok {
		kept := roaring.New()
		it := roaring.And(within, b).Iterator()
		for it.HasNext() {
			if d := it.Next(); ix.cards[d].FeeMinPence <= maxPence {
				kept.Add(d)
			}
		}
		parts = append(parts, kept)
	}
	return roaring.FastOr(parts...)
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
