// Package jobs runs Confide's scheduled work (verification reminders and
// expiry, review reminders, enquiry retention, clean-ups) inside the
// server process. Time is cut into ticks of each job's interval, counted
// from the Unix epoch, so every replica agrees on which tick it is; before
// running a tick a replica claims it in a shared ledger (the database),
// and only the one whose claim lands runs it. Each job runs once per tick
// however many replicas there are; the jobs themselves are also written
// to be safe if run twice, so a crash mid-run costs nothing but a retry
// at the next tick.
package jobs

import (
	"context"
	"errors"
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

// Ledger records which process runs each tick of each job.
type Ledger interface {
	// ClaimJobRun reports whether owner won the tick.
	ClaimJobRun(ctx context.Context, job string, tick int64, owner string, now time.Time) (bool, error)
	// FinishJobRun records the outcome (errText empty on success).
	FinishJobRun(ctx context.Context, job string, tick int64, errText string, now time.Time) error
}

// Runner runs jobs on their ticks.
type Runner struct {
	// Ledger decides who runs a tick; nil runs every tick here (one
	// process, nothing to share).
	Ledger Ledger
	// Owner names this process in the ledger.
	Owner string
	Log   *slog.Logger
	// Observer, if set, hears about every run this process made.
	Observer Observer
}

// Observer is told how each run of a job went, so that internal/metrics
// can count runs and failures without this package importing Prometheus.
type Observer interface {
	// JobRan reports one finished run: err is nil when it succeeded. Runs
	// cut short because the process is stopping are not reported.
	JobRan(name string, took time.Duration, err error)
}

// tickKey carries the tick a run was claimed for.
type tickKey struct{}

// TickOf is the tick a job's run was claimed for (ok false outside a
// run). A run may start a little after its tick has ended, on a busy
// machine, so the clock at run time does not name it.
func TickOf(ctx context.Context) (tick int64, ok bool) {
	tick, ok = ctx.Value(tickKey{}).(int64)
	return tick, ok
}

// Tick is the number of the interval of length every that t falls in.
func Tick(t time.Time, every time.Duration) int64 { return t.UnixNano() / int64(every) }

// Run runs each job at every tick boundary (and once at start, for the
// tick in progress, unless another replica already ran it) until ctx
// ends, then waits for runs in progress to finish. Ticks follow the real
// clock, whatever clock the jobs themselves use.
func (r *Runner) Run(ctx context.Context, jobs ...Job) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.Every <= 0 {
			continue
		}
		wg.Go(func() {
			for {
				tick := Tick(time.Now(), j.Every)
				r.runTick(ctx, j, tick)
				next := time.Unix(0, (tick+1)*int64(j.Every))
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
			}
		})
	}
	wg.Wait()
}

func (r *Runner) runTick(ctx context.Context, j Job, tick int64) {
	if r.Ledger != nil {
		won, err := r.Ledger.ClaimJobRun(ctx, j.Name, tick, r.Owner, time.Now())
		// The ledger may be briefly unreachable (a database restart):
		// keep trying while the tick lasts, so a short outage costs no
		// run.
		for err != nil && ctx.Err() == nil && Tick(time.Now(), j.Every) == tick {
			r.Log.Warn("job claim failed; retrying", "job", j.Name, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(min(j.Every/4, time.Second)):
			}
			won, err = r.Ledger.ClaimJobRun(ctx, j.Name, tick, r.Owner, time.Now())
		}
		if err != nil {
			if ctx.Err() == nil {
				r.Log.Error("job claim failed", "job", j.Name, "err", err)
			}
			return
		}
		if !won {
			r.Log.Debug("job tick run by another replica", "job", j.Name, "tick", tick)
			return
		}
	}
	start := time.Now()
	err := j.Run(context.WithValue(ctx, tickKey{}, tick))
	took := time.Since(start)
	if r.Observer != nil && ctx.Err() == nil {
		r.Observer.JobRan(j.Name, took, err)
	}
	errText := ""
	if err != nil {
		errText = "failed"
		if ctx.Err() == nil {
			r.Log.Error("job failed", "job", j.Name, "err", err)
		}
	} else {
		r.Log.Debug("job ran", "job", j.Name, "seconds", took.Seconds())
	}
	if r.Ledger != nil {
		if ferr := r.Ledger.FinishJobRun(context.WithoutCancel(ctx), j.Name, tick, errText, time.Now()); ferr != nil && !errors.Is(ferr, context.Canceled) {
			r.Log.Error("job ledger", "job", j.Name, "err", ferr)
		}
	}
}
