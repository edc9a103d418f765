package search

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

type tierSource []*directory.Profile

func (s tierSource) EachProfile(_ context.Context, fn func(*directory.Profile) error) (int64, error) {
	for _, p := range s {
		if err := fn(p); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// demoIndex is an index of n demo profiles, with the parser for it.
func demoIndex(t *testing.T, n int, seed uint64) (*Index, *Parser, []*directory.Profile, time.Time) {
	t.Helper()
	tax, gaz := taxonomy.MustLoad(), geo.MustLoad()
	gen, err := demo.NewGenerator(tax, gaz)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ps := gen.Generate(n, seed, now)
	for i, p := range ps {
		p.ID = int64(i + 1)
		gen.Normalize(p)
	}
	an := NewAnalyzer()
	ix := NewIndex(tax, an, func() time.Time { return now })
	if err := ix.Load(context.Background(), tierSource(ps)); err != nil {
		t.Fatal(err)
	}
	return ix, &Parser{Tax: tax, Gaz: gaz, Analyzer: an}, ps, now
}

// TestTieredRankAgrees: ranking by the text tiers gives exactly the page
// that scoring every match gives (the same profiles, scores and order) for
// broad and narrow words, words still being typed, two and three words,
// both text orders, fresh-only searches and later pages; after edits that
// leave the tiers' bounds loose, in both segments; and after a snapshot,
// whose tiers are rebuilt on load. On broad words it must also score far
// fewer documents than match, or the tiers are not doing their job.
func TestTieredRankAgrees(t *testing.T) {
	t.Parallel()
	ix, parser, ps, now := demoIndex(t, 4000, 3)
	tax, an := ix.tax, ix.an
	queries := []string{"q=anxiety", "q=grief", "q=work", "q=trauma", "q=anx", "q=trau", "q=sleep", "q=leeds",
		"q=depression+work", "q=grief+anxiety+stress", "q=relationship+family", "q=self+esteem",
		"q=anxiety&sort=relevance", "q=work&sort=relevance&page=3", "q=grief&accepting=true",
		"q=anxiety&approach=cbt&approach=psychodynamic", "q=depression&issue=anxiety", "q=trauma&format=online&per_page=50",
		"q=anxiety&page=5&per_page=30", "q=person+centred&max_fee=60", "q=stress&sort=relevance&near=LS1&radius_km=40"}
	// check compares the tiered and the full answers of every query, and
	// returns how many documents the tiered answers scored and matched.
	check := func(stage string) (scored, matched int) {
		t.Helper()
		for _, qs := range queries {
			v, _ := url.ParseQuery(qs)
			q, err := parser.Parse(v, now)
			if err != nil {
				t.Fatalf("%s: %v", qs, err)
			}
			tiered := ix.Search(q)
			for _, seg := range []*segment{ix.main, ix.recent} {
				seg.fullRank = true
			}
			full := ix.Search(q)
			for _, seg := range []*segment{ix.main, ix.recent} {
				seg.fullRank = false
			}
			if full.Total == 0 || len(full.Hits) == 0 {
				t.Fatalf("%s: %s matches nothing, so proves nothing", stage, qs)
			}
			if !reflect.DeepEqual(tiered.Hits, full.Hits) || tiered.Total != full.Total {
				for i := range min(len(tiered.Hits), len(full.Hits)) {
					if tiered.Hits[i].Card.ID != full.Hits[i].Card.ID {
						t.Fatalf("%s: %s: hit %d is %d (%.6f), scoring everything gives %d (%.6f)", stage, qs, i,
							tiered.Hits[i].Card.ID, tiered.Hits[i].Rank, full.Hits[i].Card.ID, full.Hits[i].Rank)
					}
				}
				t.Fatalf("%s: %s: %d hits of %d, scoring everything gives %d of %d", stage, qs, len(tiered.Hits), tiered.Total, len(full.Hits), full.Total)
			}
			if ix.recent.live.IsEmpty() && q.Point == nil {
				r := ix.main.newRun(&q, nil)
				r.finish(r.stats())
				scored += r.scored
				matched += tiered.Total
			}
		}
		return scored, matched
	}

	scored, matched := check("built")
	t.Logf("built: scored %d documents for %d matches", scored, matched)
	// About a tenth here (pages of up to 150 from a few thousand matches);
	// scoring everything would be all of them.
	if scored*4 > matched {
		t.Fatalf("the tiers scored %d documents of %d matched: they hardly prune", scored, matched)
	}

	// Edits: some profiles grow much longer or shorter, repeat a word, or
	// leave; in the recent segment first, then merged into the main one.
	r := rand.New(rand.NewPCG(5, 9))
	edit := func() {
		for range 300 {
			p := *ps[r.IntN(len(ps))]
			switch r.IntN(4) {
			case 0:
				p.Headline = "Anxiety, anxiety and work stress: grief"
				p.Statement = ""
			case 1:
				p.Statement += " I work with trauma, grief, anxiety, depression and sleep. I work with trauma, grief and work."
			case 2:
				p.Published = false
			default:
				p.Statement = "Anxiety."
			}
			ix.ProfileSaved(&p)
		}
	}
	edit()
	check("edited, in the recent segment")
	ix.Merge()
	check("edited and merged")
	edit()
	ix.Merge()
	check("edited twice and merged")

	var buf bytes.Buffer
	if _, err := ix.WriteSnapshot(&buf, "test", now); err != nil {
		t.Fatal(err)
	}
	loaded := NewIndex(tax, an, func() time.Time { return now })
	if _, err := loaded.LoadSnapshot(buf.Bytes(), func(SnapshotInfo) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ix = loaded
	check("loaded from a snapshot")
}

// TestLenBuckets: every length falls in the bucket whose floor is the
// largest not above it, floors grow by at most lenRatio, and the bound a
// bucket's floor gives is never below a document's own.
func TestLenBuckets(t *testing.T) {
	t.Parallel()
	for _, n := range []uint32{0, 1, 2, 3, 9, 10, 11, 60, 61, 199, 200, 4095, 1 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			b := lenBucketOf(n)
			if lenFloors[b] > n || (b+1 < len(lenFloors) && lenFloors[b+1] <= n) {
				t.Fatalf("length %d in bucket %d [%d, %d)", n, b, lenFloors[b], lenFloors[b+1])
			}
			if n > 10 && float64(n) > float64(lenFloors[b])*lenRatio+1 {
				t.Fatalf("length %d is more than %.2f times its bucket's floor %d", n, lenRatio, lenFloors[b])
			}
			bm := &bm25{avgdl: 120}
			one := func(int) float64 { return 3 }
			if got, own := bm.bound([]float64{1.5}, one, lenFloors[b]), bm.bound([]float64{1.5}, one, n); got < own {
				t.Fatalf("bucket bound %v below the document's %v", got, own)
			}
		})
	}
}

// TestDenseFacetCounts: counting facets with the bitsets gives the counts
// roaring's intersections give, and a radius's union built in a bitset
// the results roaring's union gives, for narrow and broad result sets (sparse
// and dense bitsets), filtered facets, after edits waiting in the recent
// segment and after they are merged (the bitsets are rebuilt), with
// searches running side by side.
func TestDenseFacetCounts(t *testing.T) {
	t.Parallel()
	ix, parser, ps, now := demoIndex(t, 3000, 4)
	queries := []string{"", "q=anxiety", "q=leeds", "near=LS1&radius_km=40", "near=M1&radius_km=10&approach=cbt&approach=psychodynamic",
		"near=IV1&radius_km=100&wheelchair=true", "near=B1&radius_km=60&sort=distance&page=2", "lat=52.2&lon=0.12&radius_km=80&format=online",
		"accepting=true&concessions=true&max_fee=50", "language=en&client=couples", "gender=woman&issue=anxiety", "format=online&q=grief",
		"approach=cbt&language=pl&gender=man"}
	check := func(stage string) {
		t.Helper()
		for _, qs := range queries {
			v, _ := url.ParseQuery(qs)
			q, err := parser.Parse(v, now)
			if err != nil {
				t.Fatalf("%s: %v", qs, err)
			}
			ix.main.denseSets.minDocs = 1
			dense := ix.Search(q)
			if ix.main.denseSets.built.Load() == nil {
				t.Fatalf("%s: %s: no bitsets were built", stage, qs)
			}
			ix.main.denseSets.off = true
			want := ix.Search(q)
			ix.main.denseSets.off = false
			if !reflect.DeepEqual(dense.Facets, want.Facets) {
				t.Fatalf("%s: %s: bitset counts %v\nroaring counts %v", stage, qs, dense.Facets, want.Facets)
			}
			if !reflect.DeepEqual(dense.Hits, want.Hits) || dense.Total != want.Total {
				t.Fatalf("%s: %s: %d results with bitsets, %d without", stage, qs, dense.Total, want.Total)
			}
		}
	}
	check("built")
	for i := range 200 {
		p := *ps[i*7%len(ps)]
		p.Languages = []string{"pl", "en"}
		p.Gender = "man"
		if i%3 == 0 {
			p.Published = false
		}
		ix.ProfileSaved(&p)
	}
	check("edited, in the recent segment")
	before := ix.main.denseSets.built.Load()
	ix.Merge()
	if ix.main.denseSets.built.Load() != before {
		t.Fatal("the merge dropped the bitsets rather than bring them up to date")
	}
	check("merged")
	// A segment that outgrows its bitsets drops them and builds anew.
	for i := range 100 {
		p := *ps[i]
		p.ID = int64(len(ps) + 1 + i)
		ix.ProfileSaved(&p)
	}
	ix.Merge()
	check("grown")
	// Side by side: every search gets the same counts whoever builds.
	v, _ := url.ParseQuery("q=anxiety")
	q, _ := parser.Parse(v, now)
	want := ix.Search(q).Facets
	ix.ProfileSaved(ps[1])
	ix.Merge()
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			if got := ix.Search(q).Facets; !reflect.DeepEqual(got, want) {
				errs <- fmt.Sprint(got)
				return
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Fatalf("a concurrent search counted %s", e)
		}
	}
}
