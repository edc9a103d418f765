// Package search is Confide's hot path: an in-memory index of the public
// profiles, built from the store at start and kept current on every change,
// that answers a search (filters, distance, free text, facet counts,
// sorting, paging) without touching the database.
//
// Every facet value has a compressed bitmap of the documents that carry it
// (RoaringBitmap), so filters are set intersections; practice locations sit
// in a grid of cells keyed by district centroid, so a radius search visits
// only nearby cells and computes one distance per centroid rather than per
// therapist; free text has an inverted index with BM25 scoring.
//
// The index is two segments of that shape: a large main one and a small
// one for recent changes, so that an edit is searchable at once without
// waiting for searches in progress (see Index).
package search

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Card is what search shows of a public profile: only public fields, never
// a contact email or a full postcode. Cards are immutable once indexed, so
// results can hold them after the index lock is released.
type Card struct {
	ID           int64
	Slug         string
	Name         string
	Headline     string
	Approaches   []string
	Issues       []string
	Formats      []string
	ClientGroups []string
	Languages    []string
	Gender       string
	FeeMinPence  int
	FeeMaxPence  int
	Concessions  bool
	Availability directory.Availability
	ConfirmedAt  time.Time
	SessionTimes []string
	// Locations carry district, area and centroid; Postcode is blank.
	Locations    []directory.Location
	Membership   directory.Membership
	VerifiedAt   time.Time
	NextCheckDue time.Time
	// Rechecking is true while changed details wait for a verifier: the
	// card, like the profile page, shows only what was checked.
	Rechecking bool

	genderKeys []string // GenderKey(Gender) as a one-value facet list
}

// values lists the card's values of facet f.
func (c *Card) values(f facet) []string { return *facetTable[f].card(c) }

// Field weights for free-text scoring: a word in the name counts three
// times, in the headline twice.
const (
	weightName     = 3
	weightHeadline = 2
	weightBody     = 1
)

// BM25 parameters (the usual defaults).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

type textDoc struct {
	terms  []uint32 // sorted term ids
	tfs    []uint16 // weighted term frequency, parallel to terms
	length uint32   // sum of tfs
}

func (t *textDoc) tf(term uint32) int {
	i, ok := slices.BinarySearch(t.terms, term)
	if !ok {
		return 0
	}
	return int(t.tfs[i])
}

// cellDeg is the grid cell size in degrees. At UK latitudes a cell is about
// 22 km tall and 13 km wide, so a default 16 km search touches a handful.
const cellDeg = 0.2

type cellKey struct{ lat, lon int32 }

func cellOf(p geo.Point) cellKey {
	return cellKey{int32(math.Floor(p.Lat / cellDeg)), int32(math.Floor(p.Lon / cellDeg))}
}

// point is one distinct practice position (a district centroid) with the
// documents practising there.
type point struct {
	pt         geo.Point
	docs       *roaring.Bitmap
	accessible *roaring.Bitmap
}

// segment is one part of the index with everything a search needs. The
// Index keeps a large main segment and a small one for recent changes;
// segments have no locks of their own (see Index).
type segment struct {
	tax *taxonomy.Taxonomy
	an  *Analyzer
	now func() time.Time

	cards []*Card
	text  []textDoc
	free  []uint32
	byID  map[int64]uint32
	live  *roaring.Bitmap

	facets      [numFacets]map[string]*roaring.Bitmap
	concessions *roaring.Bitmap
	accessible  *roaring.Bitmap // has a wheelchair-accessible practice
	acceptDay   map[int32]*roaring.Bitmap
	feeBands    map[int32]*roaring.Bitmap // see fee.go
	dueDay      map[int32]*roaring.Bitmap

	cells  map[cellKey][]*point
	points map[geo.Point]*point

	termIDs map[string]uint32
	// strs interns the strings many cards share (see internCard).
	strs     map[string]string
	termStr  []string
	postings []*roaring.Bitmap
	tiers    *textTiers // see tiers.go
	// changes counts upserts and removals, so that derived state (the
	// facet bitsets, dense.go) knows when it is out of date.
	changes   uint64
	denseSets denseState
	// fullRank, set only by tests, scores every match (heapRank) instead
	// of using the tiers: the reference tieredRank must agree with.
	fullRank bool
	sorted   []uint32 // term ids in string order, for prefix search
	bulk     bool     // loading: sort terms once at the end
	totalLen uint64

	// batch, while not nil, collects the docs changed since beginBatch;
	// feeOrder and rot are then brought up to date once, in endBatch.
	batch *roaring.Bitmap

	// feeOrder lists live docs by (minimum fee, day rotDay's rotation), so
	// that equal fees take turns rather than favouring early sign-ups; rot
	// lists live docs in the fair rotation of day rotDay. Both are rebuilt
	// on the first search of a new day (under rotMu, as searches share the
	// read lock) and kept in order by changes while rotValid.
	rotMu    sync.Mutex
	feeOrder []uint32
	rot      []uint32
	rotDay   int32
	rotValid bool

	scratch map[uint32]int // per-document term counts, reused under the write lock
	// wordTerm maps a lower-case word straight to its term id (noTerm for
	// stop words), skipping the stemmer for every word seen before.
	wordTerm map[string]uint32
	// stems maps a word to its stem ("" for stop words). Unlike wordTerm it
	// does not depend on this segment's term ids, so a new recent segment
	// takes over its predecessor's and starts warm.
	stems map[string]string
}

// noTerm marks a word that is not indexed.
const noTerm = math.MaxUint32

func newSegment(tax *taxonomy.Taxonomy, an *Analyzer, now func() time.Time) *segment {
	ix := &segment{
		tax:         tax,
		an:          an,
		now:         now,
		byID:        make(map[int64]uint32),
		live:        roaring.New(),
		concessions: roaring.New(),
		accessible:  roaring.New(),
		acceptDay:   make(map[int32]*roaring.Bitmap),
		feeBands:    make(map[int32]*roaring.Bitmap),
		dueDay:      make(map[int32]*roaring.Bitmap),
		cells:       make(map[cellKey][]*point),
		points:      make(map[geo.Point]*point),
		termIDs:     make(map[string]uint32),
		tiers:       &textTiers{},
		scratch:     make(map[uint32]int),
		wordTerm:    make(map[string]uint32),
		stems:       make(map[string]string),
	}
	for f := range ix.facets {
		ix.facets[f] = make(map[string]*roaring.Bitmap)
	}
	return ix
}

// Source streams every stored profile from one snapshot and returns the
// change-feed position of that snapshot.
type Source interface {
	EachProfile(ctx context.Context, fn func(*directory.Profile) error) (int64, error)
}

// loadBatch is how many profiles the reader hands the indexer at once.
const loadBatch = 512

// load fills an empty segment from src, keeping only public profiles, and
// returns the change-feed position of what it read.
//
// Reading (decoding rows) and indexing run on two goroutines joined by a
// short queue of batches, so on a machine with two cores building the
// index takes little longer than reading the rows does.
func (ix *segment) load(ctx context.Context, src Source) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []*directory.Profile, 8)
	var seq int64
	var readErr error
	go func() {
		defer close(batches)
		batch := make([]*directory.Profile, 0, loadBatch)
		send := func() error {
			select {
			case batches <- batch:
				batch = make([]*directory.Profile, 0, loadBatch)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		seq, readErr = src.EachProfile(ctx, func(p *directory.Profile) error {
			if batch = append(batch, p); len(batch) == loadBatch {
				return send()
			}
			return nil
		})
		if readErr == nil && len(batch) > 0 {
			readErr = send()
		}
	}()

	ix.bulk = true
	now := ix.now()
	for batch := range batches {
		for _, p := range batch {
			ix.upsertLocked(p, now)
		}
	}
	ix.bulk = false
	ix.sortTerms()
	ix.rotValid = false
	if readErr != nil {
		return 0, fmt.Errorf("search: load index: %w", readErr)
	}
	for _, b := range ix.postings {
		b.RunOptimize()
	}
	for _, m := range ix.facets {
		for _, b := range m {
			b.RunOptimize()
		}
	}
	return seq, nil
}

// sweep removes profiles whose next check has become overdue, except
// docs in keep.
func (ix *segment) sweep(now time.Time, keep *roaring.Bitmap) int {
	today := dayOf(now)
	var gone []uint32
	for day, b := range ix.dueDay {
		if day < today {
			it := b.Iterator()
			for it.HasNext() {
				if d := it.Next(); keep == nil || !keep.Contains(d) {
					gone = append(gone, d)
				}
			}
		}
	}
	ix.beginBatch()
	for _, d := range gone {
		ix.removeLocked(d)
	}
	ix.endBatch()
	return len(gone)
}

// beginBatch starts a run of changes after which feeOrder and rot are
// updated in one pass each, rather than by one insertion per change.
func (ix *segment) beginBatch() { ix.batch = roaring.New() }

// endBatch drops the changed docs from the presorted orders and merges
// back those that are live, in order.
func (ix *segment) endBatch() {
	changed := ix.batch
	ix.batch = nil
	if changed.IsEmpty() {
		return
	}
	// A plain bit per doc: the filters below test every live doc.
	isChanged := make([]uint64, (len(ix.cards)+63)/64)
	var added []uint32
	it := changed.Iterator()
	for it.HasNext() {
		d := it.Next()
		isChanged[d/64] |= 1 << (d % 64)
		if ix.live.Contains(d) {
			added = append(added, d)
		}
	}
	reorder := func(order []uint32, compare func(a, b uint32) int) []uint32 {
		kept := slices.DeleteFunc(order, func(d uint32) bool { return isChanged[d/64]&(1<<(d%64)) != 0 })
		slices.SortFunc(added, compare)
		// Each added doc's place is found by binary search, and the kept
		// runs between them are copied whole: a few thousand comparisons
		// rather than one per live doc.
		out := make([]uint32, 0, len(kept)+len(added))
		from := 0
		for _, d := range added {
			i, _ := slices.BinarySearchFunc(kept[from:], d, compare)
			out = append(append(out, kept[from:from+i]...), d)
			from += i
		}
		return append(out, kept[from:]...)
	}
	if ix.rotValid {
		ix.feeOrder = reorder(ix.feeOrder, ix.compareFee)
		ix.rot = reorder(ix.rot, ix.compareRotation)
	}
}

func dayOf(t time.Time) int32 {
	return int32(math.Floor(float64(t.Unix()) / 86400))
}

// internCard makes the card's repeated strings (facet values, membership
// body, practice districts and areas) share one copy each across the
// index: at a million profiles the copies would cost hundreds of bytes a
// profile. Called with the write lock held.
func (ix *segment) internCard(c *Card) {
	if ix.strs == nil {
		ix.strs = make(map[string]string)
	}
	for f := range numFacets {
		list := c.values(f)
		for i, v := range list {
			list[i] = ix.intern(v)
		}
	}
	c.Gender = ix.intern(c.Gender)
	c.Membership.Body = ix.intern(c.Membership.Body)
	c.Membership.Level = ix.intern(c.Membership.Level)
	for i := range c.Locations {
		c.Locations[i].Outcode = ix.intern(c.Locations[i].Outcode)
		c.Locations[i].Area = ix.intern(c.Locations[i].Area)
	}
}

func (ix *segment) intern(s string) string {
	if v, ok := ix.strs[s]; ok {
		return v
	}
	ix.strs[s] = s
	return s
}

func (ix *segment) upsertLocked(p *directory.Profile, now time.Time) {
	if d, ok := ix.byID[p.ID]; ok {
		ix.removeLocked(d)
	}
	if !p.IsPublic(now) {
		return
	}
	ix.changes++
	card := NewCard(p)
	ix.internCard(card)
	var d uint32
	if n := len(ix.free); n > 0 {
		d = ix.free[n-1]
		ix.free = ix.free[:n-1]
		ix.cards[d] = card
	} else {
		d = uint32(len(ix.cards))
		ix.cards = append(ix.cards, card)
		ix.text = append(ix.text, textDoc{})
	}
	ix.byID[p.ID] = d
	ix.live.Add(d)
	for f := range numFacets {
		for _, v := range card.values(f) {
			bitmapAt(ix.facets[f], v).Add(d)
		}
	}
	if card.Concessions {
		ix.concessions.Add(d)
	}
	if card.Availability == directory.Accepting && !card.ConfirmedAt.IsZero() {
		bitmapAt(ix.acceptDay, dayOf(card.ConfirmedAt)).Add(d)
	}
	bitmapAt(ix.dueDay, dayOf(card.NextCheckDue)).Add(d)
	bitmapAt(ix.feeBands, feeBandOf(card.FeeMinPence)).Add(d)
	for _, l := range card.Locations {
		pt := ix.pointAt(geo.Point{Lat: l.Lat, Lon: l.Lon})
		pt.docs.Add(d)
		if l.Wheelchair {
			pt.accessible.Add(d)
			ix.accessible.Add(d)
		}
	}
	ix.text[d] = ix.analyse(p, d)
	ix.tiers.add(d, &ix.text[d])
	ix.denseApply(d, card, true)
	ix.totalLen += uint64(ix.text[d].length)
	switch {
	case ix.bulk:
		return
	case ix.batch != nil:
		ix.batch.Add(d)
		return
	}
	if ix.rotValid {
		ix.feeOrder = insertOrdered(ix.feeOrder, d, ix.compareFee)
		ix.rot = insertOrdered(ix.rot, d, ix.compareRotation)
	}
}

// compareFee orders docs by minimum fee, then as the day's rotation does.
func (ix *segment) compareFee(a, b uint32) int {
	if c := cmp.Compare(ix.cards[a].FeeMinPence, ix.cards[b].FeeMinPence); c != 0 {
		return c
	}
	return ix.compareRotation(a, b)
}

// compareRotation orders docs as the day's rotation does.
func (ix *segment) compareRotation(a, b uint32) int {
	day := uint64(ix.rotDay)
	ida, idb := ix.cards[a].ID, ix.cards[b].ID
	if c := cmp.Compare(RotationKey(day, ida), RotationKey(day, idb)); c != 0 {
		return c
	}
	return cmp.Compare(ida, idb)
}

func insertOrdered(order []uint32, d uint32, compare func(a, b uint32) int) []uint32 {
	i, _ := slices.BinarySearchFunc(order, d, compare)
	return slices.Insert(order, i, d)
}

func removeOrdered(order []uint32, d uint32, compare func(a, b uint32) int) []uint32 {
	if i, found := slices.BinarySearchFunc(order, d, compare); found {
		return slices.Delete(order, i, i+1)
	}
	return order
}

// dayOrders returns the live docs in day's fair-rotation order and in fee
// order (ties in the same rotation). Callers hold the index's read lock;
// rotMu guards the cache between them. A search for another day rebuilds
// both, leaving the slices earlier searches hold untouched.
func (ix *segment) dayOrders(day int32) (fee, rot []uint32) {
	ix.rotMu.Lock()
	defer ix.rotMu.Unlock()
	if !ix.rotValid || ix.rotDay != day {
		ix.rotDay = day
		ix.rot = ix.live.ToArray()
		slices.SortFunc(ix.rot, ix.compareRotation)
		ix.feeOrder = slices.Clone(ix.rot)
		slices.SortStableFunc(ix.feeOrder, ix.compareFee)
		ix.rotValid = true
	}
	return ix.feeOrder, ix.rot
}

func (ix *segment) removeLocked(d uint32) {
	ix.changes++
	card := ix.cards[d]
	if ix.batch != nil {
		ix.batch.Add(d)
	} else if ix.rotValid {
		ix.feeOrder = removeOrdered(ix.feeOrder, d, ix.compareFee)
		ix.rot = removeOrdered(ix.rot, d, ix.compareRotation)
	}
	for f := range numFacets {
		for _, v := range card.values(f) {
			ix.facets[f][v].Remove(d)
		}
	}
	ix.concessions.Remove(d)
	ix.accessible.Remove(d)
	if card.Availability == directory.Accepting && !card.ConfirmedAt.IsZero() {
		removeFrom(ix.acceptDay, dayOf(card.ConfirmedAt), d)
	}
	removeFrom(ix.dueDay, dayOf(card.NextCheckDue), d)
	removeFrom(ix.feeBands, feeBandOf(card.FeeMinPence), d)
	for _, l := range card.Locations {
		if pt, ok := ix.points[geo.Point{Lat: l.Lat, Lon: l.Lon}]; ok {
			pt.docs.Remove(d)
			pt.accessible.Remove(d)
		}
	}
	td := &ix.text[d]
	for _, t := range td.terms {
		ix.postings[t].Remove(d)
	}
	ix.tiers.remove(d, td)
	ix.denseApply(d, card, false)
	ix.totalLen -= uint64(td.length)
	*td = textDoc{}
	delete(ix.byID, card.ID)
	ix.live.Remove(d)
	ix.cards[d] = nil
	ix.free = append(ix.free, d)
}

func bitmapAt[K comparable](m map[K]*roaring.Bitmap, k K) *roaring.Bitmap {
	b, ok := m[k]
	if !ok {
		b = roaring.New()
		m[k] = b
	}
	return b
}

func removeFrom[K comparable](m map[K]*roaring.Bitmap, k K, d uint32) {
	if b, ok := m[k]; ok {
		b.Remove(d)
		if b.IsEmpty() {
			delete(m, k)
		}
	}
}

func (ix *segment) pointAt(p geo.Point) *point {
	if pt, ok := ix.points[p]; ok {
		return pt
	}
	pt := &point{pt: p, docs: roaring.New(), accessible: roaring.New()}
	ix.points[p] = pt
	c := cellOf(p)
	ix.cells[c] = append(ix.cells[c], pt)
	return pt
}

// NewCard copies the public parts of a profile. In-person is derived from
// having a location, whatever the stored formats say.
func NewCard(p *directory.Profile) *Card {
	c := &Card{
		ID: p.ID, Slug: p.Slug, Name: p.DisplayName, Headline: p.Headline,
		Approaches:   slices.Clone(p.Approaches),
		Issues:       slices.Clone(p.Issues),
		ClientGroups: slices.Clone(p.ClientGroups),
		Languages:    slices.Clone(p.Languages),
		SessionTimes: slices.Clone(p.SessionTimes),
		Gender:       p.Gender,
		FeeMinPence:  p.FeeMinPence, FeeMaxPence: p.FeeMaxPence,
		Concessions: p.Concessions, Availability: p.Availability, ConfirmedAt: p.AvailabilityConfirmedAt,
		VerifiedAt: p.Verification.VerifiedAt, NextCheckDue: p.Verification.NextCheckDue,
		Rechecking: p.Verification.Rechecking(),
	}
	c.Membership, _ = p.PrimaryMembership()
	if p.Gender != "" {
		c.genderKeys = []string{GenderKey(p.Gender)}
	}
	if len(p.Locations) > 0 {
		c.Formats = append(c.Formats, taxonomy.FormatInPerson)
	}
	for _, f := range p.Formats {
		if f != taxonomy.FormatInPerson && !slices.Contains(c.Formats, f) {
			c.Formats = append(c.Formats, f)
		}
	}
	c.Locations = make([]directory.Location, len(p.Locations))
	for i, l := range p.Locations {
		l.Postcode = ""
		c.Locations[i] = l
	}
	return c
}

// DocumentText lists the weighted text fields of a profile that free-text
// search covers: name, headline, statement, the labels and synonyms of its
// approaches and issues, and the districts and areas it practises in.
func DocumentText(p *directory.Profile, tax *taxonomy.Taxonomy) []WeightedText {
	out := []WeightedText{{p.DisplayName, weightName}, {p.Headline, weightHeadline}, {p.Statement, weightBody}}
	for _, kv := range []struct {
		kind  taxonomy.Kind
		slugs []string
	}{{taxonomy.Approach, p.Approaches}, {taxonomy.Issue, p.Issues}} {
		for _, s := range kv.slugs {
			if term, ok := tax.Lookup(kv.kind, s); ok {
				out = append(out, WeightedText{term.Label, weightBody})
				for _, syn := range term.Synonyms {
					out = append(out, WeightedText{syn, weightBody})
				}
			}
		}
	}
	for _, l := range p.Locations {
		out = append(out, WeightedText{l.Outcode + " " + l.Area, weightBody})
	}
	return out
}

// WeightedText is one field of a document with its scoring weight.
type WeightedText struct {
	Text   string
	Weight int
}

func (ix *segment) analyse(p *directory.Profile, d uint32) textDoc {
	tf := ix.scratch
	clear(tf)
	for _, f := range DocumentText(p, ix.tax) {
		words(f.Text, func(w []byte) {
			id, ok := ix.wordTerm[string(w)]
			if !ok {
				stem, known := ix.stems[string(w)]
				if !known {
					if !stopWords[string(w)] {
						stem = ix.an.stem(w)
					}
					ix.stems[string(w)] = stem
				}
				id = noTerm
				if stem != "" {
					id = ix.termID(stem)
				}
				ix.wordTerm[string(w)] = id
			}
			if id != noTerm {
				tf[id] += f.Weight
			}
		})
	}
	td := textDoc{terms: make([]uint32, 0, len(tf)), tfs: make([]uint16, len(tf))}
	for id := range tf {
		td.terms = append(td.terms, id)
	}
	slices.Sort(td.terms)
	for i, id := range td.terms {
		n := min(tf[id], math.MaxUint16)
		td.tfs[i] = uint16(n)
		td.length += uint32(n)
		ix.postings[id].Add(d)
	}
	return td
}

func (ix *segment) termID(t string) uint32 {
	if id, ok := ix.termIDs[t]; ok {
		return id
	}
	id := uint32(len(ix.termStr))
	ix.termIDs[t] = id
	ix.termStr = append(ix.termStr, t)
	ix.postings = append(ix.postings, roaring.New())
	if !ix.bulk {
		i := sort.Search(len(ix.sorted), func(k int) bool { return ix.termStr[ix.sorted[k]] >= t })
		ix.sorted = slices.Insert(ix.sorted, i, id)
	}
	return id
}

func (ix *segment) sortTerms() {
	ix.sorted = make([]uint32, len(ix.termStr))
	for i := range ix.sorted {
		ix.sorted[i] = uint32(i)
	}
	slices.SortFunc(ix.sorted, func(a, b uint32) int { return strings.Compare(ix.termStr[a], ix.termStr[b]) })
}

// lastTermIDs lists the dictionary terms that satisfy the final query word.
func (ix *segment) lastTermIDs(q QueryTerms) []uint32 {
	var ids []uint32
	if id, ok := ix.termIDs[q.Last]; ok {
		ids = append(ids, id)
	}
	if len(q.LastRaw) >= MinPrefixLen {
		i := sort.Search(len(ix.sorted), func(k int) bool { return ix.termStr[ix.sorted[k]] >= q.LastRaw })
		for ; i < len(ix.sorted) && strings.HasPrefix(ix.termStr[ix.sorted[i]], q.LastRaw); i++ {
			if id := ix.sorted[i]; ix.termStr[id] != q.Last {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
