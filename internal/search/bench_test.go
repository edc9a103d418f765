package search_test

import (
	"context"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/search"
)

// benchProfiles is the size of the benchmark directory.
const benchProfiles = 100_000

var bench struct {
	once sync.Once
	fx   *fixture
	ix   *search.Index
	heap uint64
	took time.Duration
}

func benchIndex(b *testing.B) (*fixture, *search.Index) {
	bench.once.Do(func() {
		fx := newFixture(b)
		ps := fx.gen.Generate(benchProfiles, 1, indexTime)
		for i, p := range ps {
			p.ID = int64(i + 1)
			fx.gen.Normalize(p)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		ix := search.NewIndex(fx.tax, fx.an, func() time.Time { return indexTime })
		if err := ix.Load(context.Background(), sliceSource(ps)); err != nil {
			b.Fatal(err)
		}
		bench.took = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		bench.fx, bench.ix, bench.heap = fx, ix, after.HeapAlloc-before.HeapAlloc
		runtime.KeepAlive(ps)
	})
	return bench.fx, bench.ix
}

// BenchmarkSearch measures the query mix over 100,000 demo profiles (about
// 82,000 public). Run: go test ./internal/search -run '^$' -bench Search
func BenchmarkSearch(b *testing.B) {
	fx, ix := benchIndex(b)
	b.Logf("index of %d public profiles built in %v; heap after build %.0f MiB (profiles included)", ix.Len(), bench.took, float64(bench.heap)/(1<<20))
	for _, c := range benchClasses() {
		v, _ := url.ParseQuery(c.query)
		q, err := fx.parser.Parse(v, indexTime)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			total := 0
			for b.Loop() {
				total = ix.Search(q).Total
			}
			b.ReportMetric(float64(total), "matches")
		})
	}
}

// benchClasses is the query mix of BenchmarkSearch and
// TestSearchAllocations.
func benchClasses() []struct{ name, query string } {
	return []struct{ name, query string }{
		{"a_near16_approach_2issues", "near=LS1&radius_km=16&approach=psychodynamic&issue=anxiety&issue=depression&sort=distance"},
		{"b_near40_facets", "near=M1&radius_km=40"},
		{"c_online_text", "format=online&q=grief+anxiety"},
		{"d_national_text", "q=bereavement"},
		{"e_deep_page", "client=individuals&page=10"},
		{"f_accepting_cheap", "accepting=true&concessions=true&max_fee=50"},
		{"g_rural_100km", "near=Inverness&radius_km=100"},
		{"h_everything", ""},
	}
}
