// Package bench measures Confide's search against the stacks directories
// are usually built on (SQLite with FTS5 and R*Tree; PostgreSQL with
// PostGIS), on identical data and identical queries, and checks that every
// system gives the same answers. It also runs the benchmarks of `confide
// bench`: RunSearch (that comparison), RunHTTP (the real application,
// internal/app, served over HTTP and loaded with wrk) and RunLive (search
// while profiles are edited); cmd/confide only maps its flags into their
// options.
package bench

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// Case is one query of the mix.
type Case struct {
	Class  string
	Values url.Values
}

// Answer is what a system returned for a case, in a form every system can
// produce: the total, the page of ids in order with their sort keys, and
// every facet's counts.
type Answer struct {
	Total  int
	IDs    []int64
	Keys   []float64 // distance in km or relevance, parallel to IDs; NaN when unused
	Facets map[string]map[string]int
}

// System answers cases.
type System interface {
	Name() string
	Answer(ctx context.Context, c Case) (Answer, error)
}

// Stats are one query class's latencies.
type Stats struct {
	N     int     `json:"n"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	Max   float64 `json:"max_us"`
	QPS   float64 `json:"qps"`
	Total float64 `json:"-"`
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Measure runs every case once through sys (after warm-up runs), one at a
// time on one goroutine, and returns per-class latency statistics and the
// answers in case order.
func Measure(ctx context.Context, sys System, cases []Case, warmup int) (map[string]Stats, []Answer, error) {
	for i := 0; i < warmup && i < len(cases); i++ {
		if _, err := sys.Answer(ctx, cases[i]); err != nil {
			return nil, nil, fmt.Errorf("%s warm-up: %w", sys.Name(), err)
		}
	}
	lat := map[string][]float64{}
	answers := make([]Answer, len(cases))
	for i, c := range cases {
		start := time.Now()
		a, err := sys.Answer(ctx, c)
		us := float64(time.Since(start).Nanoseconds()) / 1000
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s %s: %w", sys.Name(), c.Class, c.Values.Encode(), err)
		}
		answers[i] = a
		lat[c.Class] = append(lat[c.Class], us)
	}
	out := map[string]Stats{}
	for class, ls := range lat {
		sort.Float64s(ls)
		var sum float64
		for _, l := range ls {
			sum += l
		}
		out[class] = Stats{N: len(ls), P50: percentile(ls, 0.5), P90: percentile(ls, 0.9), P99: percentile(ls, 0.99), Max: ls[len(ls)-1],
			QPS: float64(len(ls)) / (sum / 1e6), Total: sum}
	}
	return out, answers, nil
}

// Compare lists the differences between a peer's answer and Confide's.
func Compare(want, got Answer) []string {
	var diffs []string
	if want.Total != got.Total {
		diffs = append(diffs, fmt.Sprintf("total %d, peer %d", want.Total, got.Total))
	}
	if !slices.Equal(want.IDs, got.IDs) {
		diffs = append(diffs, fmt.Sprintf("ids %v, peer %v", want.IDs, got.IDs))
	}
	for i := range min(len(want.Keys), len(got.Keys)) {
		w, g := want.Keys[i], got.Keys[i]
		if !(math.IsNaN(w) && math.IsNaN(g)) && math.Abs(w-g) > 1e-6*math.Max(1, math.Abs(w)) {
			diffs = append(diffs, fmt.Sprintf("key %d: %g, peer %g", i, w, g))
			break
		}
	}
	facets := map[string]bool{}
	for f := range want.Facets {
		facets[f] = true
	}
	for f := range got.Facets {
		facets[f] = true
	}
	for f := range facets {
		w, g := want.Facets[f], got.Facets[f]
		for v := range union(w, g) {
			if w[v] != g[v] {
				diffs = append(diffs, fmt.Sprintf("facet %s=%s: %d, peer %d", f, v, w[v], g[v]))
			}
		}
	}
	slices.Sort(diffs)
	return diffs
}

// Comparable says which parts of a peer's answer can be held to
// Confide's exactly, for a peer that cannot reproduce all of Confide's
// semantics (Bleve: its analyser, its BM25, no recommended order).
type Comparable struct {
	// Set: the total and the facet counts (the peer matches exactly the
	// profiles Confide matches).
	Set bool
	// Order: the page's ids and sort keys.
	Order bool
	// Facets: the peer was asked for facet counts at all.
	Facets bool
}

// Exact is an answer compared in full.
var Exact = Comparable{Set: true, Order: true, Facets: true}

// CompareAs lists the differences between a peer's answer and Confide's
// in the parts c says are comparable.
func CompareAs(want, got Answer, c Comparable) []string {
	if !c.Set {
		want.Total, got.Total = 0, 0
	}
	if !c.Set || !c.Facets {
		want.Facets, got.Facets = nil, nil
	}
	if !c.Order {
		want.IDs, got.IDs, want.Keys, got.Keys = nil, nil, nil, nil
	}
	return Compare(want, got)
}

// OverlapTop is how many of the first n ids of Confide's page the peer's
// first n share, as a share of the larger of the two lists (1 when both
// are empty): how alike two orders that cannot be identical are.
func OverlapTop(want, got Answer, n int) float64 {
	w, g := want.IDs[:min(n, len(want.IDs))], got.IDs[:min(n, len(got.IDs))]
	if len(w) == 0 && len(g) == 0 {
		return 1
	}
	shared := 0
	for _, id := range g {
		if slices.Contains(w, id) {
			shared++
		}
	}
	return float64(shared) / float64(max(len(w), len(g)))
}

// RankedStats are one class's comparison where the order (and perhaps
// the set) cannot be Confide's: the mean top-10 overlap, and how many
// cases had the same total.
type RankedStats struct {
	N         int     `json:"n"`
	Top10     float64 `json:"mean_top10_overlap"`
	SameTotal int     `json:"same_total"`
}

func union(a, b map[string]int) map[string]bool {
	out := map[string]bool{}
	for k, v := range a {
		if v != 0 {
			out[k] = true
		}
	}
	for k, v := range b {
		if v != 0 {
			out[k] = true
		}
	}
	return out
}

// Disagreement is one case where a peer differs from Confide.
type Disagreement struct {
	Class string   `json:"class"`
	Query string   `json:"query"`
	Diffs []string `json:"diffs"`
}

// PeerReport is a peer's part of the report.
type PeerReport struct {
	Classes       map[string]Stats  `json:"classes"`
	Disagreements int               `json:"disagreements"`
	Examples      []Disagreement    `json:"examples,omitempty"`
	LoadSeconds   float64           `json:"load_s"`
	Explain       map[string]string `json:"explain,omitempty"`
	Version       string            `json:"version,omitempty"`
	Ratios        map[string]Ratio  `json:"ratios,omitempty"`
	// Ranked is, by class, how alike the answers are where the peer's
	// order cannot be Confide's (see Comparable); those parts are not
	// counted as disagreements.
	Ranked map[string]RankedStats `json:"ranked,omitempty"`
	// HeapBytesPerProfile is the peer's heap growth (after collection)
	// while loading, per profile, for peers that live in this process;
	// DiskBytesPerProfile its index files per profile.
	HeapBytesPerProfile float64 `json:"heap_bytes_per_profile,omitempty"`
	DiskBytesPerProfile float64 `json:"disk_bytes_per_profile,omitempty"`
}

// Ratio is how many times faster Confide is than a peer for a class.
type Ratio struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// Report is the JSON `confide bench search` writes.
type Report struct {
	Therapists          int              `json:"therapists"`
	Public              int              `json:"public"`
	Queries             int              `json:"queries"`
	Seed                uint64           `json:"seed"`
	BuildSeconds        float64          `json:"build_s"`
	ReadRowsSeconds     float64          `json:"read_rows_s"`
	HeapBytesPerProfile float64          `json:"heap_bytes_per_profile"`
	Classes             map[string]Stats `json:"classes"`
	// Allocs are the bytes Confide allocates per query (parse and
	// search), by class, from a second, untimed pass.
	Allocs  map[string]AllocStats `json:"allocs"`
	Peers   map[string]PeerReport `json:"peers"`
	Machine string                `json:"machine,omitempty"`
}

// Table renders the report for people.
// AllocStats are one class's heap bytes allocated per query.
type AllocStats struct {
	P50 uint64 `json:"p50_bytes"`
	Max uint64 `json:"max_bytes"`
}

// MeasureAllocs runs every case once more through the parser and the
// index, reading the allocator's exact totals (runtime.ReadMemStats, which
// stops the world, hence not in the timed pass) around each, and returns
// the bytes allocated per query by class: what one search costs the
// garbage collector.
func MeasureAllocs(c *Confide, cases []Case) (map[string]AllocStats, error) {
	by := map[string][]uint64{}
	var before, after runtime.MemStats
	for _, k := range cases {
		runtime.ReadMemStats(&before)
		q, err := c.Parser.Parse(k.Values, c.Now)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", k.Class, k.Values.Encode(), err)
		}
		c.Index.Search(q)
		runtime.ReadMemStats(&after)
		by[k.Class] = append(by[k.Class], after.TotalAlloc-before.TotalAlloc)
	}
	out := map[string]AllocStats{}
	for class, bs := range by {
		slices.Sort(bs)
		out[class] = AllocStats{P50: bs[(len(bs)-1)/2], Max: bs[len(bs)-1]}
	}
	return out, nil
}

func (r *Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d profiles (%d public), %d queries, seed %d\n", r.Therapists, r.Public, r.Queries, r.Seed)
	fmt.Fprintf(&b, "index build %.2fs, reading the rows %.2fs (%.2fx), heap %.0f bytes per profile\n\n", r.BuildSeconds, r.ReadRowsSeconds, r.BuildSeconds/math.Max(r.ReadRowsSeconds, 1e-9), r.HeapBytesPerProfile)
	classes := make([]string, 0, len(r.Classes))
	for c := range r.Classes {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	peers := make([]string, 0, len(r.Peers))
	for p := range r.Peers {
		peers = append(peers, p)
	}
	slices.Sort(peers)
	fmt.Fprintf(&b, "%-22s %10s %10s %10s %10s %10s %10s %10s", "class (µs)", "p50", "p90", "p99", "max", "qps", "KiB p50", "KiB max")
	for _, p := range peers {
		fmt.Fprintf(&b, " %12s %12s %9s %9s", p+" p50", p+" p99", "×p50", "×p99")
	}
	b.WriteString("\n")
	for _, c := range classes {
		s := r.Classes[c]
		al := r.Allocs[c]
		fmt.Fprintf(&b, "%-22s %10.1f %10.1f %10.1f %10.1f %10.0f %10.1f %10.1f", c, s.P50, s.P90, s.P99, s.Max, s.QPS, float64(al.P50)/1024, float64(al.Max)/1024)
		for _, p := range peers {
			ps := r.Peers[p].Classes[c]
			fmt.Fprintf(&b, " %12.1f %12.1f %9.1f %9.1f", ps.P50, ps.P99, ps.P50/math.Max(s.P50, 1e-9), ps.P99/math.Max(s.P99, 1e-9))
		}
		b.WriteString("\n")
	}
	for _, p := range peers {
		pr := r.Peers[p]
		fmt.Fprintf(&b, "\n%s: %d disagreements, loaded in %.1fs", p, pr.Disagreements, pr.LoadSeconds)
		if pr.HeapBytesPerProfile != 0 || pr.DiskBytesPerProfile != 0 {
			fmt.Fprintf(&b, ", heap %.0f bytes per profile, disk %.0f bytes per profile", pr.HeapBytesPerProfile, pr.DiskBytesPerProfile)
		}
		for _, c := range classes {
			if rs, ok := pr.Ranked[c]; ok {
				fmt.Fprintf(&b, "\n  %-20s top-10 overlap %.2f over %d cases, same total in %d", c, rs.Top10, rs.N, rs.SameTotal)
			}
		}
	}
	b.WriteString("\n")
	return b.String()
}
