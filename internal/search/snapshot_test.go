package search_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/search"
)

// snapshotPair builds an index from profiles with changes merged and
// pending deletions (so the snapshot holds free slots), writes a snapshot
// and loads it into a second index.
func snapshotPair(t *testing.T, f *fixture, seed uint64) (built, loaded *search.Index, ps []*directory.Profile, data []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	ps = f.profiles(r, 400, seed)
	clock := func() time.Time { return indexTime }
	built = search.NewIndex(f.tax, f.an, clock)
	if err := built.Load(context.Background(), sliceSource(ps)); err != nil {
		t.Fatal(err)
	}
	ps = f.mutate(r, built, ps)
	var buf bytes.Buffer
	info, err := built.WriteSnapshot(&buf, "test-store", indexTime)
	if err != nil {
		t.Fatal(err)
	}
	if info.Profiles != built.Len() || info.Profiles == 0 {
		t.Fatalf("snapshot holds %d profiles, index %d", info.Profiles, built.Len())
	}
	loaded = search.NewIndex(f.tax, f.an, clock)
	got, err := loaded.LoadSnapshot(buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Profiles != info.Profiles || !got.WrittenAt.Equal(indexTime) {
		t.Fatalf("loaded %+v, wrote %+v", got, info)
	}
	return built, loaded, ps, buf.Bytes()
}

// TestSnapshotRoundTrip: an index loaded from a snapshot answers every
// query exactly as the index that wrote it, and as the reference does,
// before and after further changes to both.
func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	built, loaded, ps, _ := snapshotPair(t, f, 3)
	if !loaded.Built() || loaded.Len() != built.Len() {
		t.Fatalf("loaded index: built %v, %d profiles; want %d", loaded.Built(), loaded.Len(), built.Len())
	}
	r := rand.New(rand.NewPCG(5, 5))
	check := func(stage string, ps []*directory.Profile) {
		t.Helper()
		words := vocabulary(f.tax, ps)
		corpus := newRefCorpus(ps, f.tax, f.an)
		for i := range 250 {
			v := f.randomQuery(r, ps, words)
			now := indexTime.Add(time.Duration(r.IntN(72)) * time.Hour)
			q, err := f.parser.Parse(v, now)
			if err != nil {
				t.Fatal(err)
			}
			want, got := built.Search(q), loaded.Search(q)
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("%s query %d %s: loaded index differs:\nbuilt  %+v\nloaded %+v", stage, i, v.Encode(), want, got)
			}
			if diff := compare(got, refSearch(corpus, q)); diff != "" {
				t.Fatalf("%s query %d %s: %s", stage, i, v.Encode(), diff)
			}
		}
	}
	check("as loaded", ps)
	// The same edits to both: slots freed before the snapshot are reused
	// the same way.
	ra, rb := rand.New(rand.NewPCG(9, 9)), rand.New(rand.NewPCG(9, 9))
	ps2 := f.mutate(ra, built, ps)
	f.mutate(rb, loaded, ps)
	check("edited", ps2)
	built.Merge()
	loaded.Merge()
	check("merged", ps2)
}

// TestSnapshotDamage: every one-byte change, every truncation tried and
// a snapshot from another format are refused, and leave the index
// unbuilt, so the caller rebuilds from the store.
func TestSnapshotDamage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, _, data := snapshotPair(t, f, 4)
	load := func(b []byte) error {
		ix := search.NewIndex(f.tax, f.an, func() time.Time { return indexTime })
		_, err := ix.LoadSnapshot(b, nil)
		if err != nil && (ix.Built() || ix.Len() != 0) {
			t.Fatalf("a refused snapshot left %d profiles in the index", ix.Len())
		}
		return err
	}
	r := rand.New(rand.NewPCG(6, 6))
	positions := []int{0, 7, 8, 12, 20, 28, 36, 44, len(data) / 2, len(data) - 5, len(data) - 4, len(data) - 1}
	for range 150 {
		positions = append(positions, r.IntN(len(data)))
	}
	for _, pos := range positions {
		b := bytes.Clone(data)
		b[pos] ^= byte(1 + r.IntN(255))
		if err := load(b); !errors.Is(err, search.ErrSnapshotCorrupt) {
			t.Fatalf("byte %d of %d changed: %v, want ErrSnapshotCorrupt", pos, len(data), err)
		}
	}
	for _, n := range []int{0, 3, 40, 48, len(data) / 3, len(data) - 1} {
		if err := load(data[:n]); !errors.Is(err, search.ErrSnapshotCorrupt) {
			t.Fatalf("cut to %d bytes: %v", n, err)
		}
	}
	// Another format version, with a checksum that matches.
	b := bytes.Clone(data)
	binary.LittleEndian.PutUint32(b[8:], 999)
	reseal(b)
	if err := load(b); !errors.Is(err, search.ErrSnapshotIncompatible) {
		t.Fatalf("format 999: %v", err)
	}
	if err := load(data); err != nil {
		t.Fatalf("the intact snapshot: %v", err)
	}
}

// TestSnapshotAccept: the caller's verdict on a snapshot's position and
// age is asked before decoding, and a refusal leaves the index empty.
func TestSnapshotAccept(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, _, data := snapshotPair(t, f, 5)
	ix := search.NewIndex(f.tax, f.an, func() time.Time { return indexTime })
	tooOld := errors.New("too old")
	var seen search.SnapshotInfo
	if _, err := ix.LoadSnapshot(data, func(i search.SnapshotInfo) error { seen = i; return tooOld }); !errors.Is(err, tooOld) {
		t.Fatalf("got %v", err)
	}
	if ix.Built() || seen.Profiles == 0 || !seen.WrittenAt.Equal(indexTime) || seen.Store != "test-store" {
		t.Fatalf("built %v, saw %+v", ix.Built(), seen)
	}
}

// reseal recomputes a snapshot's checksum after a deliberate change.
func reseal(b []byte) {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli)))
}

// FuzzSnapshotDecode feeds damaged snapshots whose checksum still matches
// (as a decoder bug or a bad write might produce): the load must fail
// cleanly or succeed, never panic, hang or allocate without bound.
func FuzzSnapshotDecode(f *testing.F) {
	fx := newFixture(f)
	ps := fx.profiles(rand.New(rand.NewPCG(1, 2)), 40, 8)
	ix := search.NewIndex(fx.tax, fx.an, func() time.Time { return indexTime })
	if err := ix.Load(context.Background(), sliceSource(ps)); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := ix.WriteSnapshot(&buf, "test-store", indexTime); err != nil {
		f.Fatal(err)
	}
	data := buf.Bytes()
	f.Add(uint32(60), byte(1), uint16(0))
	f.Add(uint32(len(data)/2), byte(0x80), uint16(3))
	f.Add(uint32(100), byte(0xff), uint16(200))
	f.Fuzz(func(t *testing.T, pos uint32, x byte, cut uint16) {
		b := bytes.Clone(data)
		if p := 48 + int(pos)%(len(b)-52); x != 0 {
			b[p] ^= x
		}
		if int(cut) < len(b)-52 {
			b = append(b[:len(b)-4-int(cut)], 0, 0, 0, 0)
		}
		reseal(b)
		ix := search.NewIndex(fx.tax, fx.an, func() time.Time { return indexTime })
		if _, err := ix.LoadSnapshot(b, nil); err == nil && ix.Len() == 0 {
			t.Fatal("a snapshot loaded with no profiles")
		}
	})
}
