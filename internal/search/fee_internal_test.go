package search

import (
	"testing"
)

// TestAtMostFee: the fee filter keeps exactly the documents whose minimum
// fee is at most the limit, whether it joins the bands under the limit's
// (a low limit) or takes away the bands over it (a high one), with fees
// inside a band on either side of the limit.
func TestAtMostFee(t *testing.T) {
	t.Parallel()
	ix, _, ps, now := demoIndex(t, 2000, 6)
	// Fees off the £5 steps, so that the limit's band holds fees on
	// both sides of it.
	for i, p := range ps {
		c := p.Clone()
		c.FeeMinPence = (i * 137) % 15000
		c.FeeMaxPence = max(c.FeeMaxPence, c.FeeMinPence)
		ix.ProfileSaved(c)
	}
	ix.Merge()
	seg := ix.main
	q := NewQuery(now)
	for _, tt := range []struct {
		name     string
		maxPence int
	}{
		{"free only", 0}, {"one penny", 1}, {"mid band", 2750}, {"band edge", 5000}, {"under an edge", 4999},
		{"over an edge", 5001}, {"high", 12345}, {"above every fee", 20000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := seg.newRun(&q, nil)
			defer r.release()
			within := r.copyOf(r.base)
			r.atMostFee(within, tt.maxPence)
			want, got := 0, within.count()
			for w, x := range r.base {
				for b := range 64 {
					if x&(1<<b) == 0 {
						continue
					}
					d := uint32(w*64 + b)
					in := seg.cards[d].FeeMinPence <= tt.maxPence
					if in {
						want++
					}
					if within.has(d) != in {
						t.Fatalf("doc %d (fee %d): kept %v under a limit of %d", d, seg.cards[d].FeeMinPence, within.has(d), tt.maxPence)
					}
				}
			}
			if got != want || want == 0 && tt.maxPence > 0 {
				t.Fatalf("kept %d, want %d", got, want)
			}
		})
	}
}
