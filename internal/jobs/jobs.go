// Package jobs runs Confide's scheduled work (verification reminders and
// expiry, session clean-up) on an interval inside the server process. Each
// job is written to be safe when several replicas run it at once; the
// database decides who does what.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Job is one piece of periodic work.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Run starts every job (each runs once at start, then every Every) and
// returns when ctx ends and the running jobs have finished.
func Run(ctx context.Context, log *slog.Logger, jobs ...Job) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(j.Every)
			defer t.Stop()
			for {
				start := time.Now()
				if err := j.Run(ctx); err != nil && ctx.Err() == nil {
					log.Error("job failed", "job", j.Name, "err", err)
				} else {
					log.Debug("job ran", "job", j.Name, "seconds", time.Since(start).Seconds())
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
}
