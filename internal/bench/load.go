package bench

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Latency summarises a set of latencies in microseconds.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_us"`
	P90 float64 `json:"p90_us"`
	P99 float64 `json:"p99_us"`
	Max float64 `json:"max_us"`
}

// Summarize sorts us in place and returns its percentiles.
func Summarize(us []float64) Latency {
	if len(us) == 0 {
		return Latency{}
	}
	sort.Float64s(us)
	return Latency{N: len(us), P50: percentile(us, 0.5), P90: percentile(us, 0.9), P99: percentile(us, 0.99), Max: us[len(us)-1]}
}

// String is the summary for people.
func (l Latency) String() string {
	return fmt.Sprintf("n=%d p50=%.0fµs p90=%.0fµs p99=%.0fµs max=%.0fµs", l.N, l.P50, l.P90, l.P99, l.Max)
}

// Closed is the result of a closed-loop run: every worker sends its next
// case as soon as the previous one is answered.
type Closed struct {
	Answers int
	Seconds float64
	// Latencies of every answer, in microseconds, in no particular order.
	Latencies []float64
}

// QPS is answers per second of wall time.
func (c Closed) QPS() float64 { return float64(c.Answers) / c.Seconds }

// RunClosed sends cases through sys from workers goroutines, taking cases
// round-robin, until d has passed or ctx ends. It is the in-process
// counterpart of an HTTP load test with the same number of connections
// busy at once.
func RunClosed(ctx context.Context, sys System, cases []Case, workers int, d time.Duration) (Closed, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	fail := firstError{cancel: cancel}
	var next atomic.Int64
	var mu sync.Mutex
	var out Closed
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []float64
			for ctx.Err() == nil {
				c := cases[int(next.Add(1)-1)%len(cases)]
				t := time.Now()
				if _, err := sys.Answer(ctx, c); err != nil {
					if ctx.Err() != nil {
						break
					}
					fail.set(fmt.Errorf("%s %s: %w", c.Class, c.Values.Encode(), err))
					break
				}
				lat = append(lat, float64(time.Since(t).Nanoseconds())/1000)
			}
			mu.Lock()
			out.Latencies = append(out.Latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.Seconds = time.Since(start).Seconds()
	out.Answers = len(out.Latencies)
	return out, fail.get()
}

// firstError keeps the first error of several goroutines and stops the
// others.
type firstError struct {
	mu     sync.Mutex
	err    error
	cancel context.CancelFunc
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	f.cancel()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// RunPaced calls fn for k = 0, 1, 2, … at rate calls a second, from
// workers goroutines, until d has passed or ctx ends: call k is due at
// start + k/rate and starts then, or at once when the workers are behind,
// so a slow call does not lower the rate asked for (open loop). It returns
// how many calls were made and how many were due.
func RunPaced(ctx context.Context, rate float64, workers int, d time.Duration, fn func(ctx context.Context, k int) error) (done, due int, err error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	fail := firstError{cancel: cancel}
	var next, made atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				at := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
				if at.Sub(start) >= d {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(at)):
				}
				if err := fn(ctx, k); err != nil {
					if ctx.Err() != nil {
						return
					}
					fail.set(err)
					return
				}
				made.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(made.Load()), int(math.Ceil(d.Seconds() * rate)), fail.get()
}
