package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/store"
)

// DefaultSnapshotPath is where an index snapshot is kept unless told
// otherwise: beside a SQLite database file ("" for PostgreSQL, whose
// replicas have no such natural place, and for in-memory or URI-style
// SQLite names).
func DefaultSnapshotPath(dsn string) string {
	if dsn == "" || store.IsPostgresURL(dsn) || strings.HasPrefix(dsn, "file:") || strings.Contains(dsn, ":memory:") {
		return ""
	}
	return dsn + ".index"
}

// Defaults for keeping the index snapshot.
const (
	DefaultSnapshotInterval = 10 * time.Minute
	DefaultSnapshotMaxAge   = 12 * time.Hour
)

// snapshotStore is the part of the store a snapshot is checked against.
type snapshotStore interface {
	FeedSpan(ctx context.Context) (oldest, newest int64, err error)
	Identity(ctx context.Context) (string, error)
}

// snapshots keeps an index snapshot file for fast starts: it loads one
// at start when it can be trusted, and writes a fresh one from time to
// time and on shutdown when the index has changed. The file is only ever
// a cache of the database: when in doubt it is ignored, and the index is
// built from the store as it would be without one.
type snapshots struct {
	path   string
	maxAge time.Duration
	index  *search.Index
	feed   snapshotStore
	log    *slog.Logger
	now    func() time.Time
	// catchUp applies the change feed to the index before a write, so
	// that the snapshot's position covers this process's own changes too
	// (they reach the index at once, the position only through the feed)
	// and the next start replays as little as possible.
	catchUp func(ctx context.Context) (int, error)
	// written is the index Version the file last reflected (0: none yet),
	// writtenAt when that file was written.
	written   uint64
	writtenAt time.Time
}

// errStale explains why an intact snapshot is not used.
var errStale = errors.New("index snapshot is stale")

// load fills the index from the snapshot file and reports whether it did;
// every reason not to (missing, too old, from another database, corrupt)
// is logged and leaves the index empty for a build from the store. A
// corrupt file is removed so that nothing reads it again.
func (s *snapshots) load(ctx context.Context) bool {
	start := time.Now()
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Info("no index snapshot yet: building the index from the store", "snapshot", s.path)
		return false
	}
	if err != nil {
		s.log.Warn("cannot read the index snapshot: building the index from the store", "snapshot", s.path, "err", err)
		return false
	}
	oldest, newest, err := s.feed.FeedSpan(ctx)
	var self string
	if err == nil {
		self, err = s.feed.Identity(ctx)
	}
	if err != nil {
		s.log.Warn("cannot check the index snapshot against the change feed: building the index from the store", "err", err)
		return false
	}
	now := s.now()
	info, err := s.index.LoadSnapshot(data, func(info search.SnapshotInfo) error {
		switch age := now.Sub(info.WrittenAt); {
		case info.Store != self:
			return fmt.Errorf("%w: it was taken from another database (%q, this is %q)", errStale, info.Store, self)
		case age > s.maxAge:
			return fmt.Errorf("%w: written %s ago, the limit is %s", errStale, age.Round(time.Second), s.maxAge)
		case age < -time.Minute:
			return fmt.Errorf("%w: written %s in the future", errStale, (-age).Round(time.Second))
		case info.Seq > newest:
			return fmt.Errorf("%w: it reflects change %d but the store's newest is %d (another or a restored database)", errStale, info.Seq, newest)
		case info.Seq < oldest && info.Seq < newest:
			// Pruning deletes the oldest entries first: with one at or
			// before the snapshot still there, none after it has gone.
			return fmt.Errorf("%w: changes after %d may have been pruned from the feed (oldest kept: %d)", errStale, info.Seq, oldest)
		}
		return nil
	})
	switch {
	case errors.Is(err, search.ErrSnapshotCorrupt):
		s.log.Error("index snapshot is corrupt: discarded, building the index from the store", "snapshot", s.path, "err", err)
		if rmErr := os.Remove(s.path); rmErr != nil {
			s.log.Warn("cannot remove the corrupt index snapshot", "err", rmErr)
		}
		return false
	case err != nil:
		s.log.Warn("index snapshot not used: building the index from the store", "snapshot", s.path, "err", err)
		return false
	}
	s.log.Info("search index loaded from snapshot", "snapshot", s.path, "public_profiles", info.Profiles, "seq", info.Seq,
		"written_at", info.WrittenAt.Format(time.RFC3339), "bytes", len(data), "seconds", time.Since(start).Seconds())
	s.written, s.writtenAt = s.index.Version(), info.WrittenAt
	return true
}

// write replaces the snapshot file with the index as it is now, unless
// nothing has changed since the last one and that one is not yet half
// way to the age at which a start would refuse it (a quiet directory
// must still start fast tomorrow). The new file is written beside
// the old and renamed over it, so a crash or a concurrent reader never
// sees half a snapshot, and replicas sharing the path may race harmlessly.
func (s *snapshots) write(ctx context.Context) error {
	if s.catchUp != nil {
		if _, err := s.catchUp(ctx); err != nil {
			s.log.Warn("index snapshot: cannot read the change feed first; the next start replays more", "err", err)
		}
	}
	v := s.index.Version()
	if !s.index.Built() || (v == s.written && s.now().Sub(s.writtenAt) < s.maxAge/2) {
		return nil
	}
	self, err := s.feed.Identity(ctx)
	if err != nil {
		return fmt.Errorf("index snapshot: %w", err)
	}
	start := time.Now()
	dir := filepath.Dir(s.path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".*")
	if err != nil {
		return fmt.Errorf("index snapshot: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	info, err := s.index.WriteSnapshot(f, self, s.now())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		return fmt.Errorf("index snapshot: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename itself durable where the OS allows
		d.Close()
	}
	s.written, s.writtenAt = v, info.WrittenAt
	st, _ := os.Stat(s.path)
	var size int64
	if st != nil {
		size = st.Size()
	}
	s.log.Info("index snapshot written", "snapshot", s.path, "public_profiles", info.Profiles, "seq", info.Seq, "bytes", size,
		"seconds", time.Since(start).Seconds())
	return nil
}

// run writes a snapshot every interval (the first soon after start, if
// the index was built rather than loaded) until ctx ends.
func (s *snapshots) run(ctx context.Context, every time.Duration) {
	first := time.NewTimer(min(every, 30*time.Second))
	defer first.Stop()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-first.C:
		case <-t.C:
		}
		if err := s.write(ctx); err != nil {
			s.log.Error("write index snapshot", "err", err)
		}
	}
}
