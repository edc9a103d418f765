package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/jobs"
	"github.com/confide-org/confide/internal/store/storetest"
)

// TestOncePerTickAcrossReplicas: three runners (replicas) share one
// ledger; over several ticks each tick of the job runs exactly once.
func TestOncePerTickAcrossReplicas(t *testing.T) {
	db := storetest.Open(t)
	const every = 200 * time.Millisecond
	var mu sync.Mutex
	runs := map[int64]int{}
	var total atomic.Int32
	job := jobs.Job{Name: "count", Every: every, Run: func(ctx context.Context) error {
		// The tick it was claimed for: a run can start just after its
		// tick ends when the machine is busy (seen on a loaded 2-core
		// run, where the clock named the next tick, run by another).
		tick, ok := jobs.TickOf(ctx)
		if !ok {
			t.Error("a run without its tick")
		}
		mu.Lock()
		runs[tick]++
		mu.Unlock()
		total.Add(1)
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*every+every/2)
	defer cancel()
	var wg sync.WaitGroup
	for _, owner := range []string{"a", "b", "c"} {
		r := &jobs.Runner{Ledger: db, Owner: owner, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		wg.Go(func() { r.Run(ctx, job) })
	}
	wg.Wait()
	recorded, err := db.JobRuns(context.Background(), "count")
	if err != nil {
		t.Fatal(err)
	}
	// A claim can land just as the test stops the runners, before the
	// run starts: at most one such per runner.
	if total.Load() < 4 || len(recorded) < int(total.Load()) || len(recorded) > int(total.Load())+3 {
		t.Fatalf("%d runs, %d recorded in the ledger; want one per tick over ~5 ticks", total.Load(), len(recorded))
	}
	for tick, n := range runs {
		if n != 1 {
			t.Errorf("tick %d ran %d times", tick, n)
		}
	}
	for _, r := range recorded {
		if r.Finished.IsZero() || r.Error != "" {
			t.Errorf("run %+v not recorded as finished", r)
		}
	}
}

// TestWithoutLedgerRunsEveryTick: a single process with no ledger runs
// each tick itself.
func TestWithoutLedgerRunsEveryTick(t *testing.T) {
	var n atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
	defer cancel()
	r := &jobs.Runner{Owner: "solo", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r.Run(ctx, jobs.Job{Name: "solo", Every: 100 * time.Millisecond, Run: func(context.Context) error { n.Add(1); return nil }})
	if n.Load() < 3 {
		t.Fatalf("%d runs in 3.5 ticks", n.Load())
	}
}
