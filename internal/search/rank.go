package search

import (
	"cmp"
	"math/bits"
	"slices"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// The recommended order (SortRecommended) adds four parts, each from 0 to
// 1, with these weights; README's Searching section states the formula,
// and the benchmark peers compute it in SQL, so a change here is a change
// there.
//
//	score = 3·match + 2·text + 2·near + 1·fresh
//
// match is the share of the asked issues and approaches the profile
// covers (issues are all required, so only approaches vary; 0 when none
// are asked); text is BM25/(BM25 + 4), so that relevance counts but
// saturates; near is 1/(1 + km/8), a half at 8 km (5 miles), 0 without a
// practice or a search point; fresh is 1 when the profile is accepting
// new clients, confirmed within directory.AvailabilityFreshFor. Ties go
// to the day's rotation, like every other order.
//
// Match weighs most because it is what the person asked for; text and
// distance next; fresh availability last, as a nudge towards therapists
// who can start soon without burying a close, well-matched one.
const (
	RecWeightMatch = 3
	RecWeightText  = 2
	RecWeightNear  = 2
	RecWeightFresh = 1
	// RecTextHalf is the BM25 score at which the text part is a half.
	RecTextHalf = 4.0
	// RecNearHalfKm is the distance at which the nearness part is a half.
	RecNearHalfKm = 8.0
)

// recommender returns the recommended score of a document, using sc for
// its BM25 score.
//
// Each step is rounded on its own (explicit conversions keep the compiler
// from fusing a multiply and an add), in the order the SQL peers use, so
// that every engine computes the same value from the same parts.
func (r *run) recommender(sc func(uint32) float64) func(d uint32) float64 {
	q := r.q
	asked := len(q.Issues) + len(q.Approaches)
	hasText := !q.Terms.Empty()
	cutoff := q.Now.Add(-directory.AvailabilityFreshFor)
	return func(d uint32) float64 {
		card := r.ix.cards[d]
		match := 0.0
		if asked > 0 {
			// Every result has every asked issue (an all-of filter).
			covered := len(q.Issues)
			for _, a := range q.Approaches {
				if slices.Contains(card.Approaches, a) {
					covered++
				}
			}
			match = float64(covered) / float64(asked)
		}
		text := 0.0
		if hasText {
			s := sc(d)
			text = s / float64(s+RecTextHalf)
		}
		near := 0.0
		if q.Point != nil {
			if km, ok := NearestKm(*q.Point, card.Locations); ok {
				near = 1 / float64(1+km/RecNearHalfKm)
			}
		}
		return recommendScore(match, text, near, freshAt(card, cutoff))
	}
}

// recommendScore adds the parts with their weights, rounding each step.
func recommendScore(match, text, near, fresh float64) float64 {
	s := float64(RecWeightMatch * match)
	s = float64(s + float64(RecWeightText*text))
	s = float64(s + float64(RecWeightNear*near))
	return float64(s + float64(RecWeightFresh*fresh))
}

// freshAt is 1 when the card is accepting new clients, confirmed at or
// after cutoff, and 0 otherwise.
func freshAt(c *Card, cutoff time.Time) float64 {
	if c.Availability == directory.Accepting && !c.ConfirmedAt.IsZero() && !c.ConfirmedAt.Before(cutoff) {
		return 1
	}
	return 0
}

// recommendedNear ranks a local search in the recommended order without
// scoring every result: practice positions are visited nearest first, and
// once the k-th best score so far beats anything a document at the next
// position could reach (full match, full text, fresh, and that position's
// nearness), the rest cannot enter the page. Results matched by a remote
// format, outside the radius, are bounded by the nearness at the radius.
func (r *run) recommendedNear(all bitset, k int, sc func(uint32) float64) []ranked {
	q := r.q
	rec := r.recommender(sc)
	day := uint64(dayOf(q.Now))
	match, text := 0.0, 0.0
	if len(q.Issues)+len(q.Approaches) > 0 {
		match = 1
	}
	if !q.Terms.Empty() {
		text = 1
	}
	// The margin covers rounding: bounds are compared, never equated.
	const margin = 1e-9
	bound := func(km float64) float64 {
		return recommendScore(match, text, 1/float64(1+km/RecNearHalfKm), 1) + margin
	}
	h := make(topK, 0, k)
	push := func(d uint32) {
		id := r.ix.cards[d].ID
		h.offer(ranked{doc: d, key: -rec(d), key2: RotationKey(day, id), id: id}, k)
	}
	beaten := func(km float64) bool { return len(h) == k && -h[0].key > bound(km) }
	pts := r.pointsInRadius
	slices.SortFunc(pts, func(a, b pointDist) int { return cmp.Compare(a.dist, b.dist) })
	seen := r.take()
	for _, p := range pts {
		if beaten(p.dist) {
			break
		}
		r.each(p.pt.docs, func(d uint32) {
			if all.has(d) && !seen.has(d) {
				seen.add(d)
				push(d)
			}
		})
	}
	if !beaten(q.RadiusKm) {
		// Documents in the radius not yet seen lie beyond the position
		// where the walk stopped, and are beaten too; scoring them again
		// changes nothing, so only the remote ones are left.
		for w, x := range all {
			x &^= seen[w]
			if r.inRadius != nil {
				x &^= r.inRadius[w]
			}
			for ; x != 0; x &= x - 1 {
				push(uint32(w<<6 | bits.TrailingZeros64(x)))
			}
		}
	}
	list := []ranked(h)
	sortRanked(list)
	return list
}
