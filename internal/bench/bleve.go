package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Bleve is the Bleve peer: two on-disk scorch indexes, one document per
// public profile (keyword fields for facets, numeric and date fields for
// fee, availability and the next check, text fields with Bleve's English
// analyser scored by BM25) and one document per practice location (a geo
// point, its profile's id and its exact coordinates, stored).
//
// Locations get their own documents because Bleve's geo distance query
// and geo distance sort read one point of a multi-valued geopoint field
// (the first in doc-value order): a profile whose nearest practice is not
// that one would be missed or misplaced. The radius is asked of the
// location index; the profiles with a practice in it become a document-id
// filter of the profile index, so totals and facet counts count profiles,
// never locations.
type Bleve struct {
	prof, loc bleve.Index
	dir       string
	parser    *search.Parser
	now       time.Time
	day       uint64
	// locations is how many location documents there are: the size of a
	// radius search that must return every one.
	locations int
	// lean, when set, asks for facet counts only in the classes whose
	// page shows them (ClassLocalFacets, ClassNationalFacets).
	lean bool
	// DiskBytes is the size of both indexes on disk once merged.
	DiskBytes int64
	// Profiles is how many profile documents were indexed, and
	// MultiLocation how many of them have more than one practice: the
	// profiles a one-point geo field would answer wrongly.
	Profiles, MultiLocation int
}

// Bleve's field names: facets keep Confide's names.
const (
	bvFee         = "fee"
	bvConcessions = "concessions"
	bvAvail       = "availability"
	bvConfirmed   = "confirmed"
	bvDue         = "due"
	bvRot         = "rot"
	bvWheelchair  = "wheelchair"
	bvName        = "name"
	bvHeadline    = "headline"
	bvBody        = "body"
	bvGeo         = "geo"
	bvPID         = "pid"
	bvLat         = "lat"
	bvLon         = "lon"
)

// bleveBatch is how many documents go into one Bleve batch while loading.
const bleveBatch = 2000

// bleveFacetSize is larger than any facet's number of values, so that a
// facet request returns every value's count.
const bleveFacetSize = 10000

// bleveTextFields are the text fields with Confide's field weights as
// query-time boosts.
var bleveTextFields = []struct {
	field string
	boost float64
}{{bvName, 3}, {bvHeadline, 2}, {bvBody, 1}}

// profileMapping is the profile index's mapping: nothing dynamic, nothing
// stored but the id, doc values only where facets and sorts need them.
func profileMapping() *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	im.DefaultAnalyzer = en.AnalyzerName
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	dm := bleve.NewDocumentStaticMapping()
	kw := bleve.NewKeywordFieldMapping()
	kw.Store, kw.IncludeInAll, kw.IncludeTermVectors = false, false, false
	for _, f := range search.FacetNames() {
		dm.AddFieldMappingsAt(f, kw)
	}
	dm.AddFieldMappingsAt(bvAvail, kw)
	dm.AddFieldMappingsAt(bvRot, kw)
	num := bleve.NewNumericFieldMapping()
	num.Store, num.IncludeInAll = false, false
	dm.AddFieldMappingsAt(bvFee, num)
	date := bleve.NewDateTimeFieldMapping()
	date.Store, date.IncludeInAll, date.DocValues = false, false, false
	dm.AddFieldMappingsAt(bvConfirmed, date)
	dm.AddFieldMappingsAt(bvDue, date)
	flag := bleve.NewBooleanFieldMapping()
	flag.Store, flag.IncludeInAll, flag.DocValues = false, false, false
	dm.AddFieldMappingsAt(bvConcessions, flag)
	dm.AddFieldMappingsAt(bvWheelchair, flag)
	txt := bleve.NewTextFieldMapping()
	txt.Analyzer = en.AnalyzerName
	txt.Store, txt.IncludeInAll, txt.IncludeTermVectors, txt.DocValues = false, false, false, false
	for _, f := range bleveTextFields {
		dm.AddFieldMappingsAt(f.field, txt)
	}
	im.DefaultMapping = dm
	return im
}

// locationMapping is the location index's mapping: the point for the
// radius, and stored fields for what the peer reads back from each hit.
func locationMapping() *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	dm := bleve.NewDocumentStaticMapping()
	pt := bleve.NewGeoPointFieldMapping()
	pt.Store, pt.IncludeInAll = false, false
	dm.AddFieldMappingsAt(bvGeo, pt)
	pid := bleve.NewKeywordFieldMapping()
	pid.Store, pid.IncludeInAll, pid.IncludeTermVectors, pid.DocValues = true, false, false, false
	dm.AddFieldMappingsAt(bvPID, pid)
	stored := bleve.NewNumericFieldMapping()
	stored.Index, stored.Store, stored.IncludeInAll, stored.DocValues = false, true, false, false
	dm.AddFieldMappingsAt(bvLat, stored)
	dm.AddFieldMappingsAt(bvLon, stored)
	flag := bleve.NewBooleanFieldMapping()
	flag.Index, flag.Store, flag.IncludeInAll, flag.DocValues = false, true, false, false
	dm.AddFieldMappingsAt(bvWheelchair, flag)
	im.DefaultMapping = dm
	return im
}

// NewBleve builds the peer's indexes in a new directory dir from the
// public profiles of src (published, verified, with a next check that has
// not passed at now), then merges each into one segment, as one would
// before serving a bulk-loaded index.
func NewBleve(ctx context.Context, dir string, src ProfileSource, tax *taxonomy.Taxonomy, parser *search.Parser, now time.Time) (_ *Bleve, err error) {
	_ = os.RemoveAll(dir)
	b := &Bleve{dir: dir, parser: parser, now: now, day: uint64(dayNumber(now))}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if b.prof, err = bleve.NewUsing(filepath.Join(dir, "profiles"), profileMapping(), scorch.Name, scorch.Name, nil); err != nil {
		return nil, fmt.Errorf("bleve peer: create the profile index: %w", err)
	}
	if b.loc, err = bleve.NewUsing(filepath.Join(dir, "locations"), locationMapping(), scorch.Name, scorch.Name, nil); err != nil {
		return nil, fmt.Errorf("bleve peer: create the location index: %w", err)
	}
	today := now.UTC().Truncate(24 * time.Hour)
	pb, lb := b.prof.NewBatch(), b.loc.NewBatch()
	flush := func(force bool) error {
		for _, x := range []struct {
			ix    bleve.Index
			batch *bleve.Batch
		}{{b.prof, pb}, {b.loc, lb}} {
			if x.batch.Size() >= bleveBatch || force && x.batch.Size() > 0 {
				if err := x.ix.Batch(x.batch); err != nil {
					return err
				}
				x.batch.Reset()
			}
		}
		return nil
	}
	_, err = src.EachProfile(ctx, func(p *directory.Profile) error {
		due := p.Verification.NextCheckDue
		if !p.Published || p.Verification.State != directory.Verified || due.IsZero() || due.Before(today) {
			return nil
		}
		id := strconv.FormatInt(p.ID, 10)
		if err := pb.Index(id, b.profileDoc(p, tax)); err != nil {
			return err
		}
		b.Profiles++
		if len(p.Locations) > 1 {
			b.MultiLocation++
		}
		for i, l := range p.Locations {
			doc := map[string]any{bvGeo: map[string]any{"lat": l.Lat, "lon": l.Lon}, bvPID: id, bvLat: l.Lat, bvLon: l.Lon, bvWheelchair: l.Wheelchair}
			if err := lb.Index(id+"/"+strconv.Itoa(i), doc); err != nil {
				return err
			}
			b.locations++
		}
		return flush(false)
	})
	if err == nil {
		err = flush(true)
	}
	if err != nil {
		return nil, fmt.Errorf("bleve peer: load: %w", err)
	}
	for _, ix := range []bleve.Index{b.prof, b.loc} {
		if err := forceMerge(ctx, ix); err != nil {
			return nil, err
		}
	}
	b.DiskBytes, err = dirSize(dir)
	return b, err
}

// profileDoc is one profile as a Bleve document.
func (b *Bleve) profileDoc(p *directory.Profile, tax *taxonomy.Taxonomy) map[string]any {
	card := search.NewCard(p)
	doc := map[string]any{
		bvFee: float64(p.FeeMinPence), bvConcessions: p.Concessions, bvAvail: string(p.Availability),
		bvDue: p.Verification.NextCheckDue.UTC(),
		// The day's rotation as a fixed-width hexadecimal key, so that
		// sorting the keyword sorts the rotation (a float64 numeric field
		// would round 64-bit keys).
		bvRot: fmt.Sprintf("%016x", search.RotationKey(b.day, p.ID)),
	}
	// A keyword field per facet of the search package's table: a list
	// for a multi-valued facet, the one value (if any) for the others.
	for _, f := range search.Facets() {
		vals := f.CardValues(card)
		switch {
		case f.Multi:
			doc[f.Name] = vals
		case len(vals) > 0:
			doc[f.Name] = vals[0]
		}
	}
	if !p.AvailabilityConfirmedAt.IsZero() {
		doc[bvConfirmed] = p.AvailabilityConfirmedAt.UTC()
	}
	wheelchair := false
	for _, l := range p.Locations {
		wheelchair = wheelchair || l.Wheelchair
	}
	doc[bvWheelchair] = wheelchair
	var body []string
	for _, t := range search.DocumentText(p, tax) {
		switch t.Weight {
		case 3:
			doc[bvName] = t.Text
		case 2:
			doc[bvHeadline] = t.Text
		default:
			body = append(body, t.Text)
		}
	}
	doc[bvBody] = body
	return doc
}

// forceMerge merges a scorch index down to one segment, once its batches
// are persisted.
func forceMerge(ctx context.Context, ix bleve.Index) error {
	adv, err := ix.Advanced()
	if err != nil {
		return fmt.Errorf("bleve peer: merge: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	for range 600 {
		st := s.StatsMap()
		if n, _ := st["num_root_memorysegments"].(uint64); n == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.ForceMerge(ctx, nil); err != nil {
		return fmt.Errorf("bleve peer: merge: %w", err)
	}
	return nil
}

// dirSize is the bytes of every file under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bleve peer: size on disk: %w", err)
	}
	return n, nil
}

// Close closes both indexes and removes them.
func (b *Bleve) Close() error {
	var errs []error
	for _, ix := range []bleve.Index{b.prof, b.loc} {
		if ix != nil {
			errs = append(errs, ix.Close())
		}
	}
	errs = append(errs, os.RemoveAll(b.dir))
	return errors.Join(errs...)
}

// Lean is the same peer, on the same indexes, asking for facet counts
// only in the classes whose page shows them. It shares b's indexes: close
// only b.
func (b *Bleve) Lean() *Bleve {
	l := *b
	l.lean = true
	return &l
}

// Name is "bleve", or "bleve_lean" for the lean view.
func (b *Bleve) Name() string {
	if b.lean {
		return "bleve_lean"
	}
	return "bleve"
}

// Version is the Bleve module's version.
func (b *Bleve) Version() string {
	v := "v2"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/blevesearch/bleve/v2" {
				v = d.Version
			}
		}
	}
	return "Bleve " + v + " (scorch, BM25, two indexes merged to one segment each)"
}

// facetClass reports whether the page of class c shows facet counts.
func facetClass(class string) bool {
	return class == ClassLocalFacets || class == ClassNationalFacets
}

// Comparable says which parts of the peer's answer to c can be held to
// Confide's exactly. Text changes which profiles match (Bleve's English
// analyser and stop words are not Confide's), so a text query compares
// only the overlap of the first ten; the recommended order has no Bleve
// equivalent (the peer orders by distance instead), so there the set
// (total and facets) is compared and the order by overlap. The lean view
// has no facet counts outside the facet classes.
func (b *Bleve) Comparable(c Case) Comparable {
	q, err := b.parser.Parse(c.Values, b.now)
	if err != nil {
		return Comparable{Set: true, Order: true, Facets: true}
	}
	out := Comparable{Set: q.Terms.Empty(), Facets: !b.lean || facetClass(c.Class)}
	out.Order = out.Set && q.Sort != search.SortRecommended && q.Sort != search.SortRelevance
	return out
}

// radius is what the location index says of a local search.
type radius struct {
	// in are the profiles with a practice within the radius, nearest
	// first (ties in the day's rotation), and dist their distances.
	in   []string
	dist map[string]float64
	// accessible are those with a wheelchair-accessible practice within it.
	accessible []string
}

// radiusOf asks the location index for the practices within the radius
// of q's point. Bleve's distance is its own (an ellipsoid and fast
// approximations), so it is asked with a small margin and each practice
// is then measured with Confide's haversine from its stored coordinates:
// the radius means exactly what it means in Confide.
func (b *Bleve) radiusOf(ctx context.Context, q search.Query) (*radius, error) {
	pt := *q.Point
	margin := q.RadiusKm*1.005 + 0.05
	gq := bleve.NewGeoDistanceQuery(pt.Lon, pt.Lat, strconv.FormatFloat(margin, 'f', 6, 64)+"km")
	gq.SetField(bvGeo)
	req := bleve.NewSearchRequestOptions(gq, max(b.locations, 1), 0, false)
	req.Score = "none"
	req.Fields = []string{bvPID, bvLat, bvLon, bvWheelchair}
	res, err := b.loc.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("bleve peer: radius: %w", err)
	}
	r := &radius{dist: map[string]float64{}}
	acc := map[string]bool{}
	for _, h := range res.Hits {
		pid, _ := h.Fields[bvPID].(string)
		lat, _ := h.Fields[bvLat].(float64)
		lon, _ := h.Fields[bvLon].(float64)
		d := geo.HaversineKm(pt, geo.Point{Lat: lat, Lon: lon})
		if d > q.RadiusKm {
			continue
		}
		if old, ok := r.dist[pid]; !ok || d < old {
			r.dist[pid] = d
		}
		if w, _ := h.Fields[bvWheelchair].(bool); w && !acc[pid] {
			acc[pid] = true
			r.accessible = append(r.accessible, pid)
		}
	}
	for pid := range r.dist {
		r.in = append(r.in, pid)
	}
	slices.SortFunc(r.in, func(x, y string) int {
		if c := cmp.Compare(r.dist[x], r.dist[y]); c != 0 {
			return c
		}
		return cmp.Compare(b.rotOf(x), b.rotOf(y))
	})
	return r, nil
}

// rotOf is a profile document's key in the day's rotation.
func (b *Bleve) rotOf(pid string) uint64 {
	id, _ := strconv.ParseInt(pid, 10, 64)
	return search.RotationKey(b.day, id)
}

// nearestOf measures the distance from p to the nearest practice of each
// profile in pids (those outside the radius that a remote format brought
// in); a profile without a practice has none.
func (b *Bleve) nearestOf(ctx context.Context, p geo.Point, pids []string) (map[string]float64, error) {
	out := map[string]float64{}
	for chunk := range slices.Chunk(pids, 1000) {
		var terms []query.Query
		for _, pid := range chunk {
			t := bleve.NewTermQuery(pid)
			t.SetField(bvPID)
			terms = append(terms, t)
		}
		req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(terms...), max(b.locations, 1), 0, false)
		req.Score = "none"
		req.Fields = []string{bvPID, bvLat, bvLon}
		res, err := b.loc.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("bleve peer: nearest practices: %w", err)
		}
		for _, h := range res.Hits {
			pid, _ := h.Fields[bvPID].(string)
			lat, _ := h.Fields[bvLat].(float64)
			lon, _ := h.Fields[bvLon].(float64)
			d := geo.HaversineKm(p, geo.Point{Lat: lat, Lon: lon})
			if old, ok := out[pid]; !ok || d < old {
				out[pid] = d
			}
		}
	}
	return out, nil
}

// bleveQuery is one search as Bleve queries: the conditions every count
// shares, the any-of facet filters, and the radius.
type bleveQuery struct {
	q      search.Query
	common []query.Query
	anyOf  map[string]query.Query
	near   *radius
}

// rangeMode is how a search applies the radius: as Confide's "in range"
// (a practice within it, or a requested remote format), as a practice
// within it only, or not at all.
type rangeMode int

const (
	rangeFull rangeMode = iota
	rangeInRadius
	rangeNone
)

// term is a term query on field.
func term(field, v string) query.Query {
	t := bleve.NewTermQuery(v)
	t.SetField(field)
	return t
}

// ids is a document-id query; with no ids it matches nothing.
func ids(list []string) query.Query {
	if len(list) == 0 {
		return bleve.NewMatchNoneQuery()
	}
	return bleve.NewDocIDQuery(list)
}

// build translates a parsed query into Bleve queries.
func (b *Bleve) build(ctx context.Context, q search.Query) (*bleveQuery, error) {
	bq := &bleveQuery{q: q, anyOf: map[string]query.Query{}}
	yes := true
	today := q.Now.UTC().Truncate(24 * time.Hour)
	due := bleve.NewDateRangeInclusiveQuery(today, time.Time{}, &yes, nil)
	due.SetField(bvDue)
	bq.common = append(bq.common, due)
	if !q.Terms.Empty() {
		bq.common = append(bq.common, b.textQuery(q)...)
	}
	for _, f := range search.Facets() {
		if f.Match == search.AllOf {
			for _, v := range f.Selected(&q) {
				bq.common = append(bq.common, term(f.Name, v))
			}
		}
	}
	if q.Concessions {
		c := bleve.NewBoolFieldQuery(true)
		c.SetField(bvConcessions)
		bq.common = append(bq.common, c)
	}
	if q.Accepting {
		cutoff := bleve.NewDateRangeInclusiveQuery(q.Now.Add(-directory.AvailabilityFreshFor), time.Time{}, &yes, nil)
		cutoff.SetField(bvConfirmed)
		bq.common = append(bq.common, term(bvAvail, string(directory.Accepting)), cutoff)
	}
	if q.MaxFeePence >= 0 {
		fee := float64(q.MaxFeePence)
		r := bleve.NewNumericRangeInclusiveQuery(nil, &fee, nil, &yes)
		r.SetField(bvFee)
		bq.common = append(bq.common, r)
	}
	if q.Point != nil {
		var err error
		if bq.near, err = b.radiusOf(ctx, q); err != nil {
			return nil, err
		}
		if q.Wheelchair {
			bq.common = append(bq.common, ids(bq.near.accessible))
		}
	} else if q.Wheelchair {
		w := bleve.NewBoolFieldQuery(true)
		w.SetField(bvWheelchair)
		bq.common = append(bq.common, w)
	}
	for _, f := range search.Facets() {
		vals := f.Selected(&q)
		if f.Match != search.AnyOf || len(vals) == 0 {
			continue
		}
		var terms []query.Query
		for _, v := range vals {
			terms = append(terms, term(f.Name, v))
		}
		bq.anyOf[f.Name] = bleve.NewDisjunctionQuery(terms...)
	}
	return bq, nil
}

// textQuery is one condition per word the visitor typed that Confide
// searches for (its stop words left out): the word in the name (boost 3),
// the headline (2) or the other text (1), analysed by Bleve's English
// analyser; the last word also as a prefix of an indexed term, as Confide
// matches it. A word Bleve's analyser drops is left out.
func (b *Bleve) textQuery(q search.Query) []query.Query {
	an := b.parser.Analyzer
	// The words Confide searches for, each stem once; a word with the
	// last word's stem is the last word.
	var words []string
	seen := map[string]bool{q.Terms.Last: true}
	for _, w := range strings.FieldsFunc(strings.ToLower(strings.NewReplacer("'", "", "’", "").Replace(q.Text)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		stem := ""
		an.Terms(w, func(t string) { stem = t })
		if stem == "" || seen[stem] {
			continue
		}
		seen[stem] = true
		words = append(words, w)
	}
	words = append(words, q.Terms.LastRaw)
	var out []query.Query
	for i, w := range words {
		prefix := i == len(words)-1 && len(w) >= search.MinPrefixLen
		if !prefix && !b.analysable(w) {
			continue
		}
		var alts []query.Query
		for _, f := range bleveTextFields {
			m := bleve.NewMatchQuery(w)
			m.SetField(f.field)
			m.Analyzer = en.AnalyzerName
			m.SetBoost(f.boost)
			alts = append(alts, m)
			if prefix {
				p := bleve.NewPrefixQuery(w)
				p.SetField(f.field)
				p.SetBoost(f.boost)
				alts = append(alts, p)
			}
		}
		out = append(out, bleve.NewDisjunctionQuery(alts...))
	}
	if len(out) == 0 {
		out = append(out, bleve.NewMatchNoneQuery())
	}
	return out
}

// analysable reports whether Bleve's English analyser keeps a token of w.
func (b *Bleve) analysable(w string) bool {
	a := b.prof.Mapping().AnalyzerNamed(en.AnalyzerName)
	return a != nil && len(a.Analyze([]byte(w))) > 0
}

// query is the result set with every filter but the any-of facet skip
// ("" for none), with the radius applied as mode says.
func (bq *bleveQuery) query(skip string, mode rangeMode) query.Query {
	conds := slices.Clone(bq.common)
	for _, f := range search.FacetNames() {
		if c, ok := bq.anyOf[f]; ok && f != skip {
			conds = append(conds, c)
		}
	}
	if bq.near != nil && mode != rangeNone {
		in := ids(bq.near.in)
		if mode == rangeFull {
			parts := []query.Query{in}
			for _, f := range bq.q.Formats {
				if f == taxonomy.FormatOnline || f == taxonomy.FormatPhone {
					parts = append(parts, term(search.FacetFormat, f))
				}
			}
			in = bleve.NewDisjunctionQuery(parts...)
		}
		conds = append(conds, in)
	}
	return bleve.NewConjunctionQuery(conds...)
}

// order is the page's order in Bleve's sort syntax, or nil for the orders
// the peer makes itself (by distance). Recommended, which Bleve cannot
// express, becomes relevance with words and distance with a place.
func order(q search.Query) []string {
	switch {
	case q.Sort == search.SortFee:
		return []string{bvFee, bvRot}
	case q.Sort == search.SortRelevance || q.Sort == search.SortRecommended && !q.Terms.Empty():
		return []string{"-_score", bvRot}
	case q.Sort == search.SortDistance || q.Sort == search.SortRecommended && q.Point != nil:
		return nil
	}
	return []string{bvRot}
}

// Answer runs one case: the page with the total and the facet counts the
// result set gives, then one more search for each facet that must be
// counted without its own filter, and for a local search by distance, the
// nearest profiles' membership in the result set.
func (b *Bleve) Answer(ctx context.Context, c Case) (Answer, error) {
	q, err := b.parser.Parse(c.Values, b.now)
	if err != nil {
		return Answer{}, err
	}
	bq, err := b.build(ctx, q)
	if err != nil {
		return Answer{}, err
	}
	facets := !b.lean || facetClass(c.Class)
	a := Answer{Facets: map[string]map[string]int{}}
	offset := (q.Page - 1) * q.PerPage
	sortBy := order(q)
	req := bleve.NewSearchRequestOptions(bq.query("", rangeFull), q.PerPage, offset, false)
	if sortBy == nil {
		req.Size, req.From = 0, 0
	} else {
		req.SortBy(sortBy)
	}
	if sortBy == nil || sortBy[0] != "-_score" {
		req.Score = "none"
	}
	if facets {
		for _, f := range search.FacetNames() {
			if _, filtered := bq.anyOf[f]; !filtered {
				req.AddFacet(f, bleve.NewFacetRequest(f, bleveFacetSize))
			}
		}
	}
	res, err := b.prof.SearchInContext(ctx, req)
	if err != nil {
		return a, fmt.Errorf("bleve peer: search: %w", err)
	}
	a.Total = int(res.Total)
	for name, fr := range res.Facets {
		a.addFacet(name, fr, nil)
	}
	for _, h := range res.Hits {
		key := math.NaN()
		if sortBy[0] == "-_score" {
			key = h.Score
		}
		id, _ := strconv.ParseInt(h.ID, 10, 64)
		a.IDs = append(a.IDs, id)
		a.Keys = append(a.Keys, key)
	}
	if facets {
		if err := b.disjunctiveFacets(ctx, bq, &a); err != nil {
			return a, err
		}
	}
	if sortBy == nil && offset < a.Total {
		if err := b.byDistance(ctx, bq, &a, offset); err != nil {
			return a, err
		}
	}
	return a, nil
}

// addFacet records a Bleve facet's counts, keeping only the values keep
// accepts (nil for all).
func (a *Answer) addFacet(name string, fr *bsearch.FacetResult, keep func(string) bool) {
	if a.Facets[name] == nil {
		a.Facets[name] = map[string]int{}
	}
	if fr == nil || fr.Terms == nil {
		return
	}
	for _, t := range fr.Terms.Terms() {
		if t.Count > 0 && (keep == nil || keep(t.Term)) {
			a.Facets[name][t.Term] = t.Count
		}
	}
}

// disjunctiveFacets counts each filtered any-of facet without its own
// filter, as Confide does, one search per facet. Formats are counted in
// range per value: a remote format counts anywhere, in person only within
// the radius, so a local search counts formats in two searches.
func (b *Bleve) disjunctiveFacets(ctx context.Context, bq *bleveQuery, a *Answer) error {
	count := func(f string, q query.Query, keep func(string) bool) error {
		req := bleve.NewSearchRequestOptions(q, 0, 0, false)
		req.Score = "none"
		req.AddFacet(f, bleve.NewFacetRequest(f, bleveFacetSize))
		res, err := b.prof.SearchInContext(ctx, req)
		if err != nil {
			return fmt.Errorf("bleve peer: %s counts: %w", f, err)
		}
		a.addFacet(f, res.Facets[f], keep)
		return nil
	}
	for _, f := range search.FacetNames() {
		if _, filtered := bq.anyOf[f]; filtered && f != search.FacetFormat {
			if err := count(f, bq.query(f, rangeFull), nil); err != nil {
				return err
			}
		}
	}
	remote := func(v string) bool { return v == taxonomy.FormatOnline || v == taxonomy.FormatPhone }
	_, formatFiltered := bq.anyOf[search.FacetFormat]
	switch {
	case bq.near != nil:
		// Without a format filter the main search already counted the
		// formats within the radius.
		if formatFiltered {
			delete(a.Facets, search.FacetFormat)
			if err := count(search.FacetFormat, bq.query(search.FacetFormat, rangeInRadius), func(v string) bool { return !remote(v) }); err != nil {
				return err
			}
		} else {
			for v := range a.Facets[search.FacetFormat] {
				if remote(v) {
					delete(a.Facets[search.FacetFormat], v)
				}
			}
		}
		return count(search.FacetFormat, bq.query(search.FacetFormat, rangeNone), remote)
	case formatFiltered:
		return count(search.FacetFormat, bq.query(search.FacetFormat, rangeNone), nil)
	}
	return nil
}

// smallResult is the result-set size up to which a page by distance
// fetches every match at once rather than walking out from the point.
const smallResult = 1000

// byDistance makes the page of a local search in distance order (the
// nearest practice, ties in the day's rotation): the profiles with a
// practice in the radius are already in that order, so their membership
// in the result set is asked in growing chunks until the page is full;
// profiles a remote format brings in from outside the radius follow.
func (b *Bleve) byDistance(ctx context.Context, bq *bleveQuery, a *Answer, offset int) error {
	q, near := bq.q, bq.near
	k := offset + q.PerPage
	all := bq.query("", rangeFull)
	matches := func(qq query.Query, size int) ([]string, error) {
		req := bleve.NewSearchRequestOptions(qq, size, 0, false)
		req.Score = "none"
		res, err := b.prof.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("bleve peer: page by distance: %w", err)
		}
		out := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			out[i] = h.ID
		}
		return out, nil
	}
	var page []string
	inside := map[string]bool{}
	if a.Total <= smallResult {
		got, err := matches(all, a.Total)
		if err != nil {
			return err
		}
		for _, id := range got {
			inside[id] = true
		}
		for _, id := range near.in {
			if inside[id] {
				page = append(page, id)
			}
		}
	} else {
		for start, size := 0, max(2*k, 64); start < len(near.in) && len(page) < k; start, size = start+size, 2*size {
			chunk := near.in[start:min(start+size, len(near.in))]
			got, err := matches(bleve.NewConjunctionQuery(all, ids(chunk)), len(chunk))
			if err != nil {
				return err
			}
			for _, id := range got {
				inside[id] = true
			}
			for _, id := range chunk {
				if inside[id] {
					page = append(page, id)
				}
			}
		}
	}
	dist := near.dist
	if len(page) < k && len(page) < a.Total {
		// Matched by a remote format from outside the radius: measured to
		// their nearest practice, those without one last.
		outside := bleve.NewBooleanQuery()
		outside.AddMust(all)
		outside.AddMustNot(ids(near.in))
		rest, err := matches(outside, a.Total)
		if err != nil {
			return err
		}
		far, err := b.nearestOf(ctx, *q.Point, rest)
		if err != nil {
			return err
		}
		key := func(id string) float64 {
			if d, ok := far[id]; ok {
				return d
			}
			return math.Inf(1)
		}
		slices.SortFunc(rest, func(x, y string) int {
			if c := cmp.Compare(key(x), key(y)); c != 0 {
				return c
			}
			return cmp.Compare(b.rotOf(x), b.rotOf(y))
		})
		page = append(page, rest...)
		dist = map[string]float64{}
		for id, d := range near.dist {
			dist[id] = d
		}
		for id, d := range far {
			dist[id] = d
		}
	}
	for _, pid := range page[min(offset, len(page)):min(k, len(page))] {
		id, _ := strconv.ParseInt(pid, 10, 64)
		key := math.NaN()
		if d, ok := dist[pid]; ok {
			key = d
		}
		a.IDs = append(a.IDs, id)
		a.Keys = append(a.Keys, key)
	}
	return nil
}

// Explain returns the Bleve search request of a case's page, as JSON.
func (b *Bleve) Explain(ctx context.Context, c Case) (string, error) {
	q, err := b.parser.Parse(c.Values, b.now)
	if err != nil {
		return "", err
	}
	bq, err := b.build(ctx, q)
	if err != nil {
		return "", err
	}
	req := bleve.NewSearchRequestOptions(bq.query("", rangeFull), q.PerPage, (q.Page-1)*q.PerPage, false)
	if s := order(q); s != nil {
		req.SortBy(s)
	}
	out, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("bleve peer: explain: %w", err)
	}
	// A document-id list (the profiles within the radius) can be long:
	// the plan is its shape, not every id.
	s := string(out)
	if len(s) > 4000 {
		s = s[:4000] + "…"
	}
	return s, nil
}
