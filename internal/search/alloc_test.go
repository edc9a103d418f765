package search_test

import (
	"context"
	"net/url"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/search"
)

// TestSearchAllocations holds a search's allocations to what its answer
// needs: its working sets come from the segment's pools (bitset.go), so
// the bytes a search allocates do not grow with the directory. At 50,000
// profiles (the facet bitsets' size and up) a search made of fresh roaring
// bitmaps allocated 55 to 230 KB; the limit is half the 64 KiB that issue
// 16 allows at a million.
func TestSearchAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of 50,000 profiles")
	}
	if raceEnabled {
		t.Skip("the race detector makes pools drop buffers")
	}
	const limit = 32 << 10
	fx := newFixture(t)
	ps := fx.gen.Generate(50_000, 1, indexTime)
	for i, p := range ps {
		p.ID = int64(i + 1)
		fx.gen.Normalize(p)
	}
	ix := search.NewIndex(fx.tax, fx.an, func() time.Time { return indexTime })
	if err := ix.Load(context.Background(), sliceSource(ps)); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	for _, c := range benchClasses() {
		v, _ := url.ParseQuery(c.query)
		q, err := fx.parser.Parse(v, indexTime)
		if err != nil {
			t.Fatal(err)
		}
		ix.Search(q) // fills the pools
		// The median of several, as a collection can empty a pool.
		var bytes []uint64
		for range 9 {
			runtime.ReadMemStats(&before)
			ix.Search(q)
			runtime.ReadMemStats(&after)
			bytes = append(bytes, after.TotalAlloc-before.TotalAlloc)
		}
		slices.Sort(bytes)
		if p50 := bytes[len(bytes)/2]; p50 > limit {
			t.Errorf("%s: a search allocates %d bytes (p50), more than %d", c.name, p50, limit)
		}
	}
}
