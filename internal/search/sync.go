package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// ChangeFeed is the store's record of changed profiles.
type ChangeFeed interface {
	ChangesSince(ctx context.Context, seq int64, limit int) ([]directory.Change, error)
	// FeedProfile reads a profile with its Version, so the index can
	// refuse a read older than a copy it already holds.
	FeedProfile(ctx context.Context, id int64) (*directory.Profile, error)
}

// Syncer keeps an index current with changes made by other processes (a
// `confide demo` run against a live database, or another replica), and
// sweeps out profiles whose checks fall overdue. Changes made through this
// process's directory.Service reach the index at once; the syncer is the
// safety net that makes every process converge.
type Syncer struct {
	Index    *Index
	Feed     ChangeFeed
	Interval time.Duration
	Log      *slog.Logger
	Now      func() time.Time
	// Prune, if set, drops change-feed entries older than a cut-off; the
	// syncer calls it hourly with a cut-off a day back, long after every
	// process has applied them.
	Prune func(ctx context.Context, before time.Time) (int64, error)
	// Wake, if set, signals that another process has probably committed
	// a change (PostgreSQL NOTIFY); the syncer then reads the feed at
	// once instead of waiting for its next tick. The tick stays as the
	// fallback, so a lost signal only delays a change.
	Wake <-chan struct{}
}

// Applied is the last change-feed sequence number applied to the index,
// read without locks, so that monitoring can compare it with the newest
// committed change (the difference is how far this process lags).
func (s *Syncer) Applied() int64 { return s.Index.Seq() }

// syncBatch bounds one read of the change feed.
const syncBatch = 1000

// Run polls until ctx is cancelled.
func (s *Syncer) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	var lastSweep, lastPrune time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Wake:
			if _, err := s.Step(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("search index sync", "err", err)
			}
			continue
		case <-t.C:
		}
		if n, err := s.Step(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("search index sync", "err", err)
		} else if n > 0 {
			s.Log.Info("search index synced", "changes", n, "seq", s.Index.Seq())
		}
		if n := s.Index.Merge(); n > 0 {
			s.Log.Debug("search index merged recent changes", "profiles", n)
		}
		if now := s.Now(); now.Sub(lastSweep) >= time.Minute {
			lastSweep = now
			if n := s.Index.Sweep(now); n > 0 {
				s.Log.Info("search index swept overdue profiles", "removed", n)
			}
		}
		if now := s.Now(); s.Prune != nil && now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			if n, err := s.Prune(ctx, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				s.Log.Error("prune change feed", "err", err)
			} else if n > 0 {
				s.Log.Info("pruned change feed", "entries", n)
			}
		}
	}
}

// Step applies every pending change and returns how many it applied.
func (s *Syncer) Step(ctx context.Context) (int, error) {
	applied := 0
	for {
		changes, err := s.Feed.ChangesSince(ctx, s.Index.Seq(), syncBatch)
		if err != nil {
			return applied, err
		}
		if len(changes) == 0 {
			return applied, nil
		}
		for _, c := range changes {
			// This loop can run for a while; a fresh time slice per
			// change keeps it from being preempted inside the index's
			// lock.
			runtime.Gosched()
			p, err := s.Feed.FeedProfile(ctx, c.ProfileID)
			switch {
			case errors.Is(err, directory.ErrNotFound):
				s.Index.ProfileDeleted(c.ProfileID)
			case err != nil:
				return applied, fmt.Errorf("sync profile %d: %w", c.ProfileID, err)
			default:
				s.Index.ProfileSaved(p)
			}
			s.Index.advance(c.Seq)
			applied++
		}
	}
}
