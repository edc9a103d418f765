package search

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"math"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

// An index snapshot is the main segment written out as it sits in memory,
// so that a replica can start in seconds instead of re-reading and
// re-analysing every profile: bitmaps in the portable roaring format,
// cards and term lists in a compact varint encoding. It is a cache of the
// database, never a source of truth: anything that does not check out
// (format, fingerprint, checksum, a length that runs past the end) makes
// the caller rebuild from the store.
//
// Layout, little-endian:
//
//	magic "CONFIDX\x00" | format u32 | fingerprint u64 | seq i64 |
//	written-at unix ns i64 | profiles u64 | store identity (uvarint
//	length, bytes) | body … | CRC-32C u32
//
// The CRC covers everything before it and is checked before a single
// field of the body is believed.
const (
	snapshotMagic = "CONFIDX\x00"
	// snapshotFormat changes whenever the encoding or the meaning of a
	// segment field does (a new Card field, a new facet, a different
	// analyser that the fingerprint's probe would not notice). Format 2:
	// facets in facetTable's order (formats first). Format 3: the times
	// facet; locations lose their evenings and weekends flags.
	snapshotFormat = 3
	headerLen      = 8 + 4 + 8 + 8 + 8 + 8
)

// Snapshot errors. Callers rebuild the index from the store on any of
// them; they differ only in what is worth logging.
var (
	// ErrSnapshotCorrupt means the bytes are not a whole, intact snapshot.
	ErrSnapshotCorrupt = errors.New("index snapshot is corrupt")
	// ErrSnapshotIncompatible means an intact snapshot from another
	// format or another taxonomy or analyser: valid, but not for us.
	ErrSnapshotIncompatible = errors.New("index snapshot was written by an incompatible version")
)

// SnapshotInfo describes a snapshot: the change-feed position it reflects
// (every change up to Seq is in it; later ones may be too, and replaying
// them is harmless), when it was written and how many profiles it holds.
type SnapshotInfo struct {
	Seq       int64
	WrittenAt time.Time
	Profiles  int
	// Store is the identity of the database the index was read from
	// (the caller's to give when writing, and to check when loading).
	Store string
}

// fingerprint identifies what the indexed data depends on besides the
// profiles: the snapshot format, the taxonomy's labels and synonyms
// (document text includes them) and the analyser, probed on a sentence
// with stop words, plurals and suffixes.
func fingerprint(tax *taxonomy.Taxonomy, an *Analyzer) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "format %d\n", snapshotFormat)
	for _, kind := range []taxonomy.Kind{taxonomy.Approach, taxonomy.Issue} {
		for _, t := range tax.Terms(kind) {
			fmt.Fprintf(h, "%s\x00%s\x00%s\n", t.Slug, t.Label, strings.Join(t.Synonyms, "\x00"))
		}
	}
	an.Terms("The therapists' counselling sessions: relationships, anxieties and feelings, worried running families; CBT/EMDR for PTSD.",
		func(t string) { io.WriteString(h, t+"\n") })
	return h.Sum64()
}

// WriteSnapshot folds recent changes into the main segment and writes it
// to w. Searches carry on meanwhile (the main segment is only read);
// changes carry on in the recent segment, and merges wait for the writer
// rather than stalling searches behind a queued write lock.
func (ix *Index) WriteSnapshot(w io.Writer, store string, now time.Time) (SnapshotInfo, error) {
	ix.mergeMu.Lock()
	defer ix.mergeMu.Unlock()
	// Every change up to seq has reached pending by now, so after the
	// merge below the main segment holds it.
	info := SnapshotInfo{Seq: ix.Seq(), WrittenAt: now.UTC(), Store: store}
	ix.mergeLocked()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	info.Profiles = int(ix.main.live.GetCardinality())

	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<20)
	e := &encoder{w: bw}
	e.raw([]byte(snapshotMagic))
	e.u32(snapshotFormat)
	e.u64(fingerprint(ix.tax, ix.an))
	e.u64(uint64(info.Seq))
	e.u64(uint64(info.WrittenAt.UnixNano()))
	e.u64(uint64(info.Profiles))
	e.str(info.Store)
	ix.main.encode(e)
	if e.err == nil {
		e.err = bw.Flush()
	}
	if e.err != nil {
		return info, fmt.Errorf("search: write snapshot: %w", e.err)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := w.Write(sum[:]); err != nil {
		return info, fmt.Errorf("search: write snapshot: %w", err)
	}
	return info, nil
}

// LoadSnapshot fills an empty index from a snapshot's bytes. accept sees
// the snapshot's description once its checksum and header have checked
// out and before anything is decoded; an error from it (too old, from
// another database) is returned as it is and leaves the index empty. On
// success the index reflects the change feed up to the snapshot's Seq;
// run a Syncer step to apply what came after.
func (ix *Index) LoadSnapshot(data []byte, accept func(SnapshotInfo) error) (info SnapshotInfo, err error) {
	if len(data) < headerLen+4 {
		return info, fmt.Errorf("search: load snapshot: %w: %d bytes is too short", ErrSnapshotCorrupt, len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)); got != sum {
		return info, fmt.Errorf("search: load snapshot: %w: checksum %08x, expected %08x", ErrSnapshotCorrupt, got, sum)
	}
	if string(body[:8]) != snapshotMagic {
		return info, fmt.Errorf("search: load snapshot: %w: not a snapshot", ErrSnapshotCorrupt)
	}
	d := &decoder{b: body, pos: 8}
	if f := d.u32(); f != snapshotFormat {
		return info, fmt.Errorf("search: load snapshot: %w: format %d, this version reads %d", ErrSnapshotIncompatible, f, snapshotFormat)
	}
	if d.u64() != fingerprint(ix.tax, ix.an) {
		return info, fmt.Errorf("search: load snapshot: %w: taxonomy or analyser differ", ErrSnapshotIncompatible)
	}
	info.Seq = int64(d.u64())
	info.WrittenAt = time.Unix(0, int64(d.u64())).UTC()
	info.Profiles = int(d.u64())
	info.Store = d.str()
	if d.err != nil {
		return info, fmt.Errorf("search: load snapshot: %w: %w", ErrSnapshotCorrupt, d.err)
	}
	if accept != nil {
		if err := accept(info); err != nil {
			return info, err
		}
	}
	seg := newSegment(ix.tax, ix.an, ix.now)
	if err := seg.decode(d); err != nil {
		return info, fmt.Errorf("search: load snapshot: %w: %w", ErrSnapshotCorrupt, err)
	}
	if n := int(seg.live.GetCardinality()); n != info.Profiles {
		return info, fmt.Errorf("search: load snapshot: %w: %d profiles, header says %d", ErrSnapshotCorrupt, n, info.Profiles)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.omu.Lock()
	defer ix.omu.Unlock()
	if ix.built.Load() {
		return info, errors.New("search: load snapshot: the index is already built")
	}
	ix.version.Add(1)
	ix.main = seg
	ix.seq.Store(info.Seq)
	ix.baseVersion = info.Seq
	ix.built.Store(true)
	return info, nil
}

// encode writes the segment's lasting state. Caches (stems, word terms,
// the day's orders) are left out: they rebuild themselves on use.
func (ix *segment) encode(e *encoder) {
	// Strings many cards share are written once and referred to by
	// number, as internCard shares them in memory.
	// Cards go into a buffer first so that the string table they build
	// can precede them.
	buf := &byteWriter{}
	cards := &encoder{w: buf}
	table := map[string]uint64{}
	var strs []string
	ref := func(s string) {
		i, ok := table[s]
		if !ok {
			i = uint64(len(strs))
			table[s] = i
			strs = append(strs, s)
		}
		cards.uvarint(i)
	}
	cards.uvarint(uint64(len(ix.cards)))
	for _, c := range ix.cards {
		if c == nil {
			cards.byte(0)
			continue
		}
		cards.byte(1)
		encodeCard(cards, c, ref)
	}
	e.uvarint(uint64(len(strs)))
	for _, s := range strs {
		e.str(s)
	}
	e.raw(buf.b)

	var nTerms uint64
	for _, t := range ix.text {
		nTerms += uint64(len(t.terms))
	}
	e.uvarint(nTerms)
	for _, t := range ix.text {
		e.uvarint(uint64(len(t.terms)))
		prev := uint32(0)
		for i, id := range t.terms {
			e.uvarint(uint64(id - prev))
			prev = id
			e.uvarint(uint64(t.tfs[i]))
		}
	}
	e.uvarint(uint64(len(ix.free)))
	for _, d := range ix.free {
		e.uvarint(uint64(d))
	}
	for f := range numFacets {
		e.uvarint(uint64(len(ix.facets[f])))
		for v, b := range ix.facets[f] {
			e.str(v)
			e.bitmap(b)
		}
	}
	e.bitmap(ix.concessions)
	e.bitmap(ix.accessible)
	for _, m := range []map[int32]*roaring.Bitmap{ix.acceptDay, ix.dueDay} {
		e.uvarint(uint64(len(m)))
		for day, b := range m {
			e.varint(int64(day))
			e.bitmap(b)
		}
	}
	// Points cell by cell, in each cell's order, so that the decoded grid
	// is visited as this one is.
	e.uvarint(uint64(len(ix.points)))
	for _, pts := range ix.cells {
		for _, pt := range pts {
			e.f64(pt.pt.Lat)
			e.f64(pt.pt.Lon)
			e.bitmap(pt.docs)
			e.bitmap(pt.accessible)
		}
	}
	e.uvarint(uint64(len(ix.termStr)))
	for i, t := range ix.termStr {
		e.str(t)
		e.bitmap(ix.postings[i])
	}
	for _, id := range ix.sorted {
		e.uvarint(uint64(id))
	}
}

func encodeCard(e *encoder, c *Card, ref func(string)) {
	e.varint(c.ID)
	e.str(c.Slug)
	e.str(c.Name)
	e.str(c.Headline)
	for f := range numFacets {
		list := c.values(f)
		e.uvarint(uint64(len(list)))
		for _, v := range list {
			ref(v)
		}
	}
	ref(c.Gender)
	e.varint(int64(c.FeeMinPence))
	e.varint(int64(c.FeeMaxPence))
	ref(string(c.Availability))
	e.time(c.ConfirmedAt)
	e.uvarint(uint64(len(c.Locations)))
	for _, l := range c.Locations {
		ref(l.Outcode)
		ref(l.Area)
		e.f64(l.Lat)
		e.f64(l.Lon)
		e.byte(flags(l.Wheelchair))
	}
	ref(c.Membership.Body)
	e.str(c.Membership.Number)
	ref(c.Membership.Level)
	e.time(c.Membership.CheckedAt)
	e.time(c.VerifiedAt)
	e.time(c.NextCheckDue)
	e.byte(flags(c.Concessions, c.Rechecking))
}

func flags(bits ...bool) byte {
	var b byte
	for i, on := range bits {
		if on {
			b |= 1 << i
		}
	}
	return b
}

// decode fills an empty segment from d, checking every count against the
// bytes left so that no input, however damaged, allocates without bound.
func (ix *segment) decode(d *decoder) (err error) {
	defer func() {
		// The checksum makes damage that reaches here all but impossible;
		// a decoder bug must still never take the process down.
		if r := recover(); r != nil {
			err = fmt.Errorf("decoding: %v", r)
		}
	}()
	ix.strs = map[string]string{}
	strs := make([]string, d.count(1))
	for i := range strs {
		strs[i] = d.str()
		ix.strs[strs[i]] = strs[i]
	}
	ref := func() string {
		i := d.uvarint()
		if i >= uint64(len(strs)) {
			d.fail("string %d of %d", i, len(strs))
			return ""
		}
		return strs[i]
	}
	ix.cards = make([]*Card, d.count(1))
	live := make([]uint32, 0, len(ix.cards))
	for i := range ix.cards {
		if d.byte() == 0 {
			continue
		}
		c := decodeCard(d, ref)
		ix.cards[i] = c
		ix.byID[c.ID] = uint32(i)
		live = append(live, uint32(i))
	}
	ix.live.AddMany(live)
	d.docs = len(ix.cards)

	// Every document's terms share one array (each its own capped slice):
	// a million small allocations fewer, and nothing appends to them.
	terms := make([]uint32, d.count(2))
	tfs := make([]uint16, len(terms))
	ix.text = make([]textDoc, len(ix.cards))
	at := 0
	for i := range ix.text {
		n := int(d.uvarint())
		if n > len(terms)-at {
			d.fail("document %d has %d terms, %d left", i, n, len(terms)-at)
			return d.err
		}
		td := textDoc{terms: terms[at : at+n : at+n], tfs: tfs[at : at+n : at+n]}
		prev := uint32(0)
		for k := range n {
			prev += uint32(d.uvarint())
			td.terms[k] = prev
			tf := d.uvarint()
			td.tfs[k] = uint16(min(tf, math.MaxUint16))
			td.length += uint32(td.tfs[k])
		}
		at += n
		ix.text[i] = td
		ix.totalLen += uint64(td.length)
	}
	ix.free = make([]uint32, d.count(1))
	for i := range ix.free {
		ix.free[i] = d.doc(len(ix.cards))
	}
	for f := range numFacets {
		for range d.count(2) {
			v := d.str()
			if s, ok := ix.strs[v]; ok {
				v = s
			}
			ix.facets[f][v] = d.bitmap()
		}
	}
	ix.concessions = d.bitmap()
	ix.accessible = d.bitmap()
	for _, m := range []map[int32]*roaring.Bitmap{ix.acceptDay, ix.dueDay} {
		for range d.count(2) {
			day := int32(d.varint())
			m[day] = d.bitmap()
		}
	}
	for range d.count(24) {
		p := geo.Point{Lat: d.f64(), Lon: d.f64()}
		pt := &point{pt: p, docs: d.bitmap(), accessible: d.bitmap()}
		ix.points[p] = pt
		c := cellOf(p)
		ix.cells[c] = append(ix.cells[c], pt)
	}
	ix.termStr = make([]string, d.count(2))
	ix.postings = make([]*roaring.Bitmap, len(ix.termStr))
	for i := range ix.termStr {
		ix.termStr[i] = d.str()
		ix.termIDs[ix.termStr[i]] = uint32(i)
		ix.postings[i] = d.bitmap()
	}
	ix.sorted = make([]uint32, len(ix.termStr))
	for i := range ix.sorted {
		ix.sorted[i] = d.doc(len(ix.termStr))
	}
	for _, td := range ix.text {
		for _, t := range td.terms {
			if int(t) >= len(ix.termStr) {
				d.fail("term %d of %d", t, len(ix.termStr))
				return d.err
			}
		}
	}
	if d.err == nil && d.pos != len(d.b) {
		d.fail("%d bytes after the end", len(d.b)-d.pos)
	}
	if d.err == nil {
		ix.tiers = buildTiers(ix.text, ix.live)
		ix.feeBands = buildFeeBands(ix.cards)
	}
	return d.err
}

func decodeCard(d *decoder, ref func() string) *Card {
	c := &Card{ID: d.varint(), Slug: d.str(), Name: d.str(), Headline: d.str()}
	for f := range numFacets {
		list := facetTable[f].card(c)
		n := d.count(1)
		if n == 0 {
			continue
		}
		*list = make([]string, n)
		for i := range *list {
			(*list)[i] = ref()
		}
	}
	c.Gender = ref()
	c.FeeMinPence = int(d.varint())
	c.FeeMaxPence = int(d.varint())
	c.Availability = directory.Availability(ref())
	c.ConfirmedAt = d.time()
	c.Locations = make([]directory.Location, d.count(18))
	for i := range c.Locations {
		l := &c.Locations[i]
		l.Outcode, l.Area = ref(), ref()
		l.Lat, l.Lon = d.f64(), d.f64()
		b := d.byte()
		l.Wheelchair = b&1 != 0
	}
	c.Membership.Body = ref()
	c.Membership.Number = d.str()
	c.Membership.Level = ref()
	c.Membership.CheckedAt = d.time()
	c.VerifiedAt = d.time()
	c.NextCheckDue = d.time()
	b := d.byte()
	c.Concessions, c.Rechecking = b&1 != 0, b&2 != 0
	return c
}

// byteWriter collects bytes in memory.
type byteWriter struct{ b []byte }

func (w *byteWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// encoder writes the snapshot's primitive values, keeping the first
// error.
type encoder struct {
	w   io.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (e *encoder) raw(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) byte(b byte) { e.buf[0] = b; e.raw(e.buf[:1]) }

func (e *encoder) u32(v uint32) { e.raw(binary.LittleEndian.AppendUint32(e.buf[:0], v)) }

func (e *encoder) u64(v uint64) { e.raw(binary.LittleEndian.AppendUint64(e.buf[:0], v)) }

func (e *encoder) f64(v float64) { e.u64(math.Float64bits(v)) }

func (e *encoder) uvarint(v uint64) { e.raw(binary.AppendUvarint(e.buf[:0], v)) }

func (e *encoder) varint(v int64) { e.raw(binary.AppendVarint(e.buf[:0], v)) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

// time writes 0 for the zero time, else 1, seconds and nanoseconds: every
// stored time is UTC.
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.byte(0)
		return
	}
	e.byte(1)
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

func (e *encoder) bitmap(b *roaring.Bitmap) {
	e.uvarint(b.GetSerializedSizeInBytes())
	if e.err == nil {
		_, e.err = b.WriteTo(e.w)
	}
}

// decoder reads what encoder wrote from a byte slice. After the first
// problem it returns zero values and keeps the error, so callers check
// once at the end.
type decoder struct {
	b    []byte
	pos  int
	err  error
	docs int // the segment's document slots, bounding every bitmap
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: "+format, append([]any{d.pos}, args...)...)
	}
	d.pos = len(d.b)
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.pos {
		d.fail("%d bytes wanted, %d left", n, len(d.b)-d.pos)
		return nil
	}
	p := d.b[d.pos : d.pos+n]
	d.pos += n
	return p
}

func (d *decoder) byte() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }

func (d *decoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }

func (d *decoder) varint() int64 { return readVarint(d, binary.Varint) }

// readVarint reads one varint with read (binary.Uvarint or Varint).
func readVarint[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b[d.pos:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.pos += n
	return v
}

// count reads a number of items each at least minBytes long, refusing
// one the bytes left could not hold.
func (d *decoder) count(minBytes int) int {
	n := d.uvarint()
	if left := uint64(len(d.b) - d.pos); n > left/uint64(minBytes) {
		d.fail("%d items cannot fit in %d bytes", n, left)
		return 0
	}
	return int(n)
}

// doc reads a number below limit.
func (d *decoder) doc(limit int) uint32 {
	v := d.uvarint()
	if v >= uint64(limit) {
		d.fail("%d out of range %d", v, limit)
		return 0
	}
	return uint32(v)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.pos) {
		d.fail("string of %d bytes, %d left", n, len(d.b)-d.pos)
		return ""
	}
	return string(d.take(int(n)))
}

func (d *decoder) time() time.Time {
	if d.byte() == 0 {
		return time.Time{}
	}
	s := d.varint()
	ns := d.uvarint()
	if ns >= 1e9 {
		d.fail("nanoseconds %d", ns)
		return time.Time{}
	}
	return time.Unix(s, int64(ns)).UTC()
}

func (d *decoder) bitmap() *roaring.Bitmap {
	b := d.anyBitmap()
	// A document number past the cards would make a search index out of
	// range: such a bitmap is damage, whatever the checksum says.
	if d.err == nil && !b.IsEmpty() && uint64(b.Maximum()) >= uint64(d.docs) {
		d.fail("bitmap holds document %d of %d", b.Maximum(), d.docs)
	}
	return b
}

func (d *decoder) anyBitmap() *roaring.Bitmap {
	n := d.uvarint()
	b := roaring.New()
	p := d.take(int(min(n, math.MaxInt32)))
	if p == nil {
		return b
	}
	if err := b.UnmarshalBinary(p); err != nil {
		d.fail("bitmap: %v", err)
	}
	return b
}
