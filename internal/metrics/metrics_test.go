package metrics

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/confide-org/confide/internal/store"
)

// fakeStore is the store as the scrape-time gauges see it.
type fakeStore struct {
	latest int64
	outbox store.OutboxStats
	err    error
}

func (f fakeStore) LatestChangeSeq(context.Context) (int64, error) { return f.latest, f.err }

func (f fakeStore) OutboxStats(context.Context) (store.OutboxStats, error) { return f.outbox, f.err }

func (f fakeStore) PoolStats() []store.PoolStats {
	var s store.PoolStats
	s.Name, s.Stats.MaxOpenConnections, s.Stats.InUse = "write", 1, 1
	return []store.PoolStats{s}
}

type fakeIndex int

func (n fakeIndex) Len() int { return int(n) }

func TestStateGauges(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	const (
		profiles = "confide_search_index_profiles"
		lag      = "confide_search_index_lag_changes"
		pending  = "confide_outbox_pending_messages"
		age      = "confide_outbox_oldest_pending_age_seconds"
		dead     = "confide_outbox_dead_messages"
	)
	for _, tc := range []struct {
		name    string
		applied int64
		store   fakeStore
		want    map[string]float64
	}{
		{"current and empty", 7, fakeStore{latest: 7},
			map[string]float64{profiles: 42, lag: 0, pending: 0, age: 0, dead: 0}},
		{"lagging with a backlog", 7, fakeStore{latest: 19, outbox: store.OutboxStats{Pending: 3, Dead: 2, OldestPending: now.Add(-90 * time.Second)}},
			map[string]float64{profiles: 42, lag: 12, pending: 3, age: 90, dead: 2}},
		{"index ahead of a pruned feed never lags below zero", 9, fakeStore{latest: 4},
			map[string]float64{profiles: 42, lag: 0, pending: 0, age: 0, dead: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(stateCollector{State{Index: fakeIndex(42), Applied: func() int64 { return tc.applied }, Store: tc.store,
				Now: func() time.Time { return now }, Timeout: time.Second}})
			families, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, f := range families {
				got[f.GetName()] = f.GetMetric()[0].GetGauge().GetValue()
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("gauges %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStateStoreDown checks that a store that cannot be read leaves its
// gauges out of the scrape while the index's size is still reported.
func TestStateStoreDown(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	err := RegisterState(reg, State{Index: fakeIndex(5), Applied: func() int64 { return 0 }, Store: fakeStore{err: errors.New("database is locked")},
		Now: time.Now, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("gather error %v, want the store's error", err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for name, want := range map[string]bool{
		"confide_search_index_profiles": true, "go_sql_in_use_connections": true, "go_goroutines": true,
		"confide_search_index_lag_changes": false, "confide_outbox_pending_messages": false,
	} {
		if got[name] != want {
			t.Errorf("%s present %v, want %v", name, got[name], want)
		}
	}
}

func TestJobRan(t *testing.T) {
	m, err := New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		job                string
		err                error
		wantRuns, wantFail float64
	}{
		{"session clean-up", nil, 1, 0},
		{"session clean-up", errors.New("locked"), 2, 1},
		{"verification checks", nil, 1, 0},
	} {
		t.Run(tc.job, func(t *testing.T) {
			m.JobRan(tc.job, time.Millisecond, tc.err)
			runs := testutil.ToFloat64(m.jobRuns.WithLabelValues(tc.job))
			fails := testutil.ToFloat64(m.jobFailures.WithLabelValues(tc.job))
			if runs != tc.wantRuns || fails != tc.wantFail {
				t.Fatalf("runs %v failures %v, want %v and %v", runs, fails, tc.wantRuns, tc.wantFail)
			}
		})
	}
}

// BenchmarkObserveRequest is what every request pays for its metrics.
func BenchmarkObserveRequest(b *testing.B) {
	m, err := New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("GET /api/v1/therapists", 200, 300*time.Microsecond)
	}
}
