package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/search"
)

// LiveOptions are what `confide bench live` is told, beyond the common
// Options: how long each phase runs, how many query workers there are and
// how fast edits are committed.
type LiveOptions struct {
	Options
	// Duration is how long each phase runs: queries alone, then queries
	// with edits (--duration).
	Duration time.Duration
	// EditsPerSecond is the rate profile edits are committed at in the
	// second phase (--edits-per-second).
	EditsPerSecond int
	// Workers is how many goroutines send queries back to back
	// (--workers).
	Workers int
}

// RunLive is `confide bench live`: the query mix on opts.Workers
// goroutines, first alone, then while profile edits (headline and
// availability) are committed through directory.Service at
// opts.EditsPerSecond; every edit is then looked up by search. It
// commits real edits to the database it is given.
func RunLive(ctx context.Context, opts LiveOptions, stdout, stderr io.Writer) error {
	return opts.profiled(func() error { return runLive(ctx, opts, stdout, stderr) })
}

// liveReport is the JSON `confide bench live` writes.
type liveReport struct {
	Therapists int     `json:"therapists"`
	Public     int     `json:"public"`
	Workers    int     `json:"query_workers"`
	Seconds    float64 `json:"seconds_per_phase"`
	// Queries alone, then the same workers while edits are committed.
	Baseline  Latency `json:"queries_alone"`
	WithEdits Latency `json:"queries_with_edits"`
	P99Growth float64 `json:"p99_growth"`
	QPSAlone  float64 `json:"qps_alone"`
	QPSEdits  float64 `json:"qps_with_edits"`
	// Edits: asked-for rate, edits committed, and for each, the time from
	// its commit to the index showing it, and the commit itself.
	RateAsked    int     `json:"edits_per_second_asked"`
	RateAchieved float64 `json:"edits_per_second_achieved"`
	Edits        int     `json:"edits"`
	Visible      Latency `json:"commit_to_visible"`
	Within10ms   float64 `json:"share_visible_within_10ms"`
	Commit       Latency `json:"commit"`
	Checked      int     `json:"edits_found_by_search"`
	Machine      string  `json:"machine"`
}

// timedIndex is the index as a directory listener that times how long
// applying each saved profile takes. directory.Service calls it right
// after the commit, so that time is the edit's commit-to-visible delay:
// searches that start after it returns see the edit.
type timedIndex struct {
	*search.Index
	mu   sync.Mutex
	took map[int64]time.Duration
}

// ProfileSaved implements directory.Listener.
func (t *timedIndex) ProfileSaved(p *directory.Profile) {
	start := time.Now()
	t.Index.ProfileSaved(p)
	d := time.Since(start)
	t.mu.Lock()
	t.took[p.ID] = d
	t.mu.Unlock()
}

func (t *timedIndex) taken(id int64) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.took[id]
	delete(t.took, id)
	return d, ok
}

// editToken is a word no profile has, different for every edit, so a
// search for it finds exactly the edited profile.
func editToken(k int) string {
	b := []byte("zqx")
	for i := 0; i < 6; i++ {
		b = append(b, byte('a'+k%26))
		k /= 26
	}
	return string(b)
}

func runLive(ctx context.Context, opts LiveOptions, stdout, stderr io.Writer) error {
	if opts.Therapists < 100 || opts.Queries < len(Classes) || opts.Duration < time.Second || opts.EditsPerSecond < 1 || opts.Workers < 1 {
		return errors.New("--therapists must be at least 100, --queries at least 7, --duration at least 1s, --edits-per-second and --workers at least 1")
	}
	g, err := opts.generate(ctx, "", stderr)
	if err != nil {
		return err
	}
	defer g.cleanup()
	log := opts.logger()
	db, err := g.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	tax, gaz, now := g.tax, g.gaz, fixedNow
	an := search.NewAnalyzer()
	ix := search.NewIndex(tax, an, now)
	if err := ix.Load(ctx, db); err != nil {
		return err
	}
	total, err := db.CountProfiles(ctx)
	if err != nil {
		return err
	}
	timed := &timedIndex{Index: ix, took: map[int64]time.Duration{}}
	dir := directory.NewService(db, directory.Validator{Tax: tax, Gaz: gaz}, now, log, timed)
	parser := &search.Parser{Tax: tax, Gaz: gaz, Analyzer: an}
	sys := &Confide{Parser: parser, Index: ix, Now: fixedNow()}
	cases := Mix(gaz, tax, opts.Queries, opts.Seed)
	rep := liveReport{Therapists: total, Public: ix.Len(), Workers: opts.Workers, Seconds: opts.Duration.Seconds(),
		RateAsked: opts.EditsPerSecond, Machine: machine()}

	if _, err := RunClosed(ctx, sys, cases, opts.Workers, min(opts.Duration, 5*time.Second)); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	alone, err := RunClosed(ctx, sys, cases, opts.Workers, opts.Duration)
	if err != nil {
		return err
	}
	rep.QPSAlone, rep.Baseline = alone.QPS(), Summarize(alone.Latencies)
	fmt.Fprintf(stderr, "queries alone: %.0f/s %s\n", rep.QPSAlone, rep.Baseline)

	var mu sync.Mutex
	var visible, commit []float64
	var inFlight sync.Map
	var checked atomic.Int64
	edit := func(ctx context.Context, k int) error {
		rng := rand.New(rand.NewPCG(uint64(k), 0xed17))
		var p *directory.Profile
		for attempt := 0; ; attempt++ {
			if attempt == 100 {
				return errors.New("found no public profile to edit in 100 tries")
			}
			id := 1 + rng.Int64N(int64(total))
			if _, busy := inFlight.LoadOrStore(id, true); busy {
				continue
			}
			got, err := db.ProfileByID(ctx, id)
			if err == nil && got.IsPublic(fixedNow()) {
				p = got
				break
			}
			inFlight.Delete(id)
			if err != nil && !errors.Is(err, directory.ErrNotFound) {
				return err
			}
		}
		defer inFlight.Delete(p.ID)
		token := editToken(k)
		head := p.Headline
		if first, rest, ok := strings.Cut(head, " "); ok && strings.HasPrefix(first, "zqx") {
			head = rest
		}
		p.Headline = token + " " + head
		if len(p.Headline) > directory.MaxHeadlineLen {
			p.Headline = strings.TrimSpace(p.Headline[:directory.MaxHeadlineLen])
		}
		// Availability stays public-neutral: confirm it again, sometimes
		// switching between accepting and a waiting list.
		if rng.IntN(2) == 0 {
			if p.Availability == directory.Accepting {
				p.Availability = directory.Waitlist
			} else {
				p.Availability = directory.Accepting
			}
		}
		p.AvailabilityConfirmedAt = fixedNow()
		start := time.Now()
		if err := dir.Update(ctx, p); err != nil {
			return fmt.Errorf("edit profile %d: %w", p.ID, err)
		}
		all := time.Since(start)
		took, ok := timed.taken(p.ID)
		if !ok {
			return fmt.Errorf("edit of profile %d never reached the index", p.ID)
		}
		// Search for the new word: the edited profile, and only it.
		q, err := parser.Parse(url.Values{"q": {token}}, fixedNow())
		if err != nil {
			return err
		}
		res := ix.Search(q)
		if res.Total != 1 || len(res.Hits) != 1 || res.Hits[0].Card.ID != p.ID {
			return fmt.Errorf("edit %d of profile %d: search for %q found %d profiles", k, p.ID, token, res.Total)
		}
		checked.Add(1)
		mu.Lock()
		visible = append(visible, float64(took.Nanoseconds())/1000)
		commit = append(commit, float64((all-took).Nanoseconds())/1000)
		mu.Unlock()
		return nil
	}
	// As in serve: a syncer picks up the change feed (here, these same
	// edits again) and merges the recent segment on every tick.
	syncCtx, stopSync := context.WithCancel(ctx)
	syncer := &search.Syncer{Index: ix, Feed: db, Interval: syncInterval, Log: log, Now: now}
	syncDone := make(chan struct{})
	go func() { defer close(syncDone); syncer.Run(syncCtx) }()
	defer func() { stopSync(); <-syncDone }()

	var withEdits Closed
	var qerr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		withEdits, qerr = RunClosed(ctx, sys, cases, opts.Workers, opts.Duration)
	}()
	start := time.Now()
	done, _, eerr := RunPaced(ctx, float64(opts.EditsPerSecond), 8, opts.Duration, edit)
	editSeconds := time.Since(start).Seconds()
	wg.Wait()
	if err := errors.Join(qerr, eerr); err != nil {
		return err
	}
	rep.QPSEdits, rep.WithEdits = withEdits.QPS(), Summarize(withEdits.Latencies)
	rep.P99Growth = rep.WithEdits.P99 / max(rep.Baseline.P99, 1e-9)
	rep.Edits, rep.RateAchieved, rep.Checked = done, float64(done)/editSeconds, int(checked.Load())
	within := 0
	for _, v := range visible {
		if v <= 10_000 {
			within++
		}
	}
	rep.Visible, rep.Commit = Summarize(visible), Summarize(commit)
	rep.Within10ms = float64(within) / float64(max(len(visible), 1))

	fmt.Fprintf(stdout, "%d profiles (%d public), %d query workers, %s per phase\n", rep.Therapists, rep.Public, rep.Workers, opts.Duration)
	fmt.Fprintf(stdout, "queries alone:       %6.0f/s %s\n", rep.QPSAlone, rep.Baseline)
	fmt.Fprintf(stdout, "queries with edits:  %6.0f/s %s (p99 ×%.2f)\n", rep.QPSEdits, rep.WithEdits, rep.P99Growth)
	fmt.Fprintf(stdout, "edits: %d committed (%.1f/s, %d asked), %d found by search\n", rep.Edits, rep.RateAchieved, rep.RateAsked, rep.Checked)
	fmt.Fprintf(stdout, "commit to visible:   %s; %.2f%% within 10 ms\n", rep.Visible, 100*rep.Within10ms)
	fmt.Fprintf(stdout, "commit (fsync):      %s\n", rep.Commit)
	return opts.writeJSON(rep)
}
