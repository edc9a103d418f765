package search

import (
	"context"
	"maps"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Index is the in-memory search index. All methods are safe for concurrent
// use.
//
// It is two segments. The main segment holds nearly everything and is
// read under a shared lock for the whole of a search, which at a million
// profiles can take tens of milliseconds. Changes never wait for that: a
// saved profile goes into a small recent segment (searches mask out its
// old version in the main segment), guarded by a second lock that searches
// hold only briefly, so an edit is searchable within microseconds of its
// commit. Merge folds the recent segment into the main one from time to
// time, in one pass, without holding up changes either. A search covers both segments with one set of
// collection statistics, so its answer is exactly what one segment holding
// every profile would give.
type Index struct {
	// mergeMu serialises the work that rewrites or reads the whole main
	// segment at length (merging, sweeping, writing a snapshot); it is
	// taken before mu.
	mergeMu sync.Mutex
	// mu guards main. Lock order: mu before omu. Changes take only omu.
	mu   sync.RWMutex
	main *segment

	// omu guards recent and pending.
	omu    sync.RWMutex
	recent *segment
	// pending is the latest version of every profile changed since it was
	// last merged (nil when deleted); recent indexes the public ones.
	pending map[int64]*directory.Profile
	// changed lists pending's ids as they change (with repeats), so that
	// the mask can be extended rather than rebuilt.
	changed []int64
	// versions holds the Version of every profile saved or deleted since
	// Load (deleted: math.MaxInt64, for ids never come back); the others
	// are at baseVersion, the position Load read. A copy older than the
	// one held is refused: this process announces its own writes at
	// once, and the syncer may be applying a read taken just before one.
	versions    map[int64]int64
	baseVersion int64

	// maskMu guards the cached mask: the main segment's docs that the
	// first maskIDs entries of changed replace. A published mask is never
	// modified; extending it makes a new one.
	maskMu  sync.Mutex
	maskBM  *roaring.Bitmap
	maskIDs int

	tax *taxonomy.Taxonomy
	an  *Analyzer
	now func() time.Time

	seq     atomic.Int64  // change-feed position applied
	version atomic.Uint64 // bumped by every change, for callers' caches
	built   atomic.Bool   // set once Load has filled the index
}

// mergeAt is how many pending profiles make a change merge at once, so
// the recent segment stays small even when nothing calls Merge.
const mergeAt = 4096

// NewIndex returns an empty index. now is the clock that decides, when a
// profile is saved, whether it is public.
func NewIndex(tax *taxonomy.Taxonomy, an *Analyzer, now func() time.Time) *Index {
	return &Index{
		main: newSegment(tax, an, now), recent: newSegment(tax, an, now),
		pending: map[int64]*directory.Profile{}, maskBM: roaring.New(), versions: map[int64]int64{},
		tax: tax, an: an, now: now,
	}
}

// Load fills the index from src, keeping only public profiles, and
// remembers the change-feed position so a Syncer can continue from it.
func (ix *Index) Load(ctx context.Context, src Source) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.omu.Lock()
	defer ix.omu.Unlock()
	ix.version.Add(1)
	seq, err := ix.main.load(ctx, src)
	if err != nil {
		return err
	}
	ix.seq.Store(seq)
	ix.baseVersion = seq
	ix.built.Store(true)
	return nil
}

// staleLocked reports whether the index already holds a newer copy of the
// profile than one of version v (omu held). Version 0 is a copy that
// never went through the store (tests, tools): always applied.
func (ix *Index) staleLocked(id, v int64) bool {
	if v == 0 {
		return false
	}
	cur, ok := ix.versions[id]
	if !ok {
		cur = ix.baseVersion
	}
	if v < cur {
		return true
	}
	ix.versions[id] = v
	return false
}

// Built reports whether Load has filled the index, so that a readiness
// probe holds traffic back until searches can find every public profile.
func (ix *Index) Built() bool { return ix.built.Load() }

// Seq is the change-feed position the index reflects.
func (ix *Index) Seq() int64 { return ix.seq.Load() }

// advance records that the index reflects the change feed up to seq.
func (ix *Index) advance(seq int64) {
	for {
		old := ix.seq.Load()
		if seq <= old || ix.seq.CompareAndSwap(old, seq) {
			return
		}
	}
}

// Version changes whenever the indexed profiles change, so that callers
// can cache answers that do not depend on the query.
func (ix *Index) Version() uint64 { return ix.version.Load() }

// Len is the number of indexed (public) profiles, expired or not.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.omu.RLock()
	defer ix.omu.RUnlock()
	return int(ix.main.live.GetCardinality()-ix.maskLocked().GetCardinality()) + int(ix.recent.live.GetCardinality())
}

// maskLocked is the main segment's docs that pending replaces, not to be
// modified. Callers hold mu and omu (read or write).
func (ix *Index) maskLocked() *roaring.Bitmap {
	ix.maskMu.Lock()
	defer ix.maskMu.Unlock()
	if ix.maskIDs < len(ix.changed) {
		bm := ix.maskBM.Clone()
		for _, id := range ix.changed[ix.maskIDs:] {
			if d, ok := ix.main.byID[id]; ok {
				bm.Add(d)
			}
		}
		ix.maskBM, ix.maskIDs = bm, len(ix.changed)
	}
	return ix.maskBM
}

// ProfileSaved puts a saved profile into the index, or takes it out if it
// is no longer public. It implements directory.Listener. It takes only the
// recent segment's lock, so it waits neither for searches in progress nor
// for a merge.
func (ix *Index) ProfileSaved(p *directory.Profile) {
	p = p.Clone()
	ix.omu.Lock()
	if ix.staleLocked(p.ID, p.Version) {
		ix.omu.Unlock()
		return
	}
	ix.version.Add(1)
	ix.recent.upsertLocked(p, ix.now())
	ix.pending[p.ID] = p
	ix.changed = append(ix.changed, p.ID)
	n := len(ix.pending)
	ix.omu.Unlock()
	if n >= mergeAt {
		ix.Merge()
	}
}

// ProfileDeleted takes a deleted profile out of the index.
func (ix *Index) ProfileDeleted(id int64) {
	ix.omu.Lock()
	ix.versions[id] = math.MaxInt64
	ix.version.Add(1)
	if d, ok := ix.recent.byID[id]; ok {
		ix.recent.removeLocked(d)
	}
	ix.pending[id] = nil
	ix.changed = append(ix.changed, id)
	ix.omu.Unlock()
}

// Merge folds the recent segment into the main one and returns how many
// profiles it moved. It waits for searches in progress (new ones wait for
// it) and applies the changes in one batch; changes saved meanwhile go on
// into the recent segment and stay there for the next merge.
func (ix *Index) Merge() int {
	// While a snapshot is being written (or another merge runs) this one
	// stands aside: queueing for the write lock behind the writer's read
	// lock would hold up every new search. The next tick merges.
	if !ix.mergeMu.TryLock() {
		return 0
	}
	defer ix.mergeMu.Unlock()
	return ix.mergeLocked()
}

// mergeLocked is Merge with mergeMu held.
func (ix *Index) mergeLocked() int {
	// Idle ticks must not stall searches for the write lock.
	ix.omu.RLock()
	idle := len(ix.pending) == 0
	ix.omu.RUnlock()
	if idle {
		return 0
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.omu.RLock()
	batch := maps.Clone(ix.pending)
	ix.omu.RUnlock()
	if len(batch) == 0 {
		return 0
	}
	now := ix.now()
	m := ix.main
	m.beginBatch()
	for id, p := range batch {
		if p != nil {
			m.upsertLocked(p, now)
		} else if d, ok := m.byID[id]; ok {
			m.removeLocked(d)
		}
	}
	m.endBatch()

	ix.omu.Lock()
	defer ix.omu.Unlock()
	for id, p := range batch {
		if cur, ok := ix.pending[id]; ok && cur == p {
			delete(ix.pending, id)
		}
	}
	next := newSegment(ix.tax, ix.an, ix.now)
	next.stems = ix.recent.stems
	ix.recent = next
	ix.changed = ix.changed[:0]
	for id, p := range ix.pending {
		ix.changed = append(ix.changed, id)
		if p != nil {
			ix.recent.upsertLocked(p, now)
		}
	}
	// No search runs while mu is held, so the cache can simply restart.
	ix.maskBM, ix.maskIDs = roaring.New(), 0
	return len(batch)
}

// Sweep removes profiles whose next check has become overdue. Searches
// already leave them out; sweeping frees their memory.
func (ix *Index) Sweep(now time.Time) int {
	if !ix.mergeMu.TryLock() { // as in Merge
		return 0
	}
	defer ix.mergeMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.omu.Lock()
	defer ix.omu.Unlock()
	// A masked doc is the next merge's business, and must stay in the
	// main segment until then.
	n := ix.main.sweep(now, ix.maskLocked()) + ix.recent.sweep(now, nil)
	if n > 0 {
		ix.version.Add(1)
	}
	return n
}

// Search answers q from the index.
func (ix *Index) Search(q Query) Result {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	// A fresh time slice before taking omu, so that the scheduler is
	// unlikely to preempt this (long-running) goroutine while it holds the
	// lock that changes wait on.
	runtime.Gosched()
	ix.omu.RLock()
	if len(ix.pending) == 0 {
		ix.omu.RUnlock()
		runtime.Gosched() // let a change that was waiting for omu run now
		r := ix.main.newRun(&q, nil)
		p := r.finish(r.stats())
		ix.main.putRun(r)
		return assemble(&q, p)
	}
	// The recent segment is answered in full under its lock; the main
	// segment's run needs only its base (fixed by the mask) and the shared
	// statistics from here on.
	mainRun := ix.main.newRun(&q, ix.maskLocked())
	recentRun := ix.recent.newRun(&q, nil)
	st := mainRun.stats()
	st.add(recentRun.stats())
	recentPart := recentRun.finish(st)
	ix.recent.putRun(recentRun)
	ix.omu.RUnlock()
	runtime.Gosched()
	mainPart := mainRun.finish(st)
	ix.main.putRun(mainRun)
	return assemble(&q, mainPart, recentPart)
}

// GenderKeys lists the genders (as GenderKey) that indexed therapists
// give, sorted: the values a gender filter can match. A key may outlive
// its last therapist until the next merge, which only lets a search find
// nobody rather than refusing it.
func (ix *Index) GenderKeys() []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.omu.RLock()
	defer ix.omu.RUnlock()
	var out []string
	for _, seg := range []*segment{ix.main, ix.recent} {
		for key, bm := range seg.facets[fGender] {
			if !bm.IsEmpty() && !slices.Contains(out, key) {
				out = append(out, key)
			}
		}
	}
	slices.Sort(out)
	return out
}
