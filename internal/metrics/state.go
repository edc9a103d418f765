package metrics

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/confide-org/confide/internal/store"
)

// State is what the scrape-time gauges read. Each is read when Prometheus
// scrapes, never polled in the background, so an idle process does no work
// for its metrics.
type State struct {
	// Index is the search index; Len is the number of public profiles.
	Index interface{ Len() int }
	// Applied is the last change-feed sequence number the index has
	// applied (search.Syncer.Applied).
	Applied func() int64
	// Store reads the change feed's head, the outbox and the pools
	// (*store.DB).
	Store interface {
		LatestChangeSeq(ctx context.Context) (int64, error)
		OutboxStats(ctx context.Context) (store.OutboxStats, error)
		PoolStats() []store.PoolStats
	}
	// Now is the clock the outbox's age is measured with.
	Now func() time.Time
	// Timeout bounds the store's queries during one scrape.
	Timeout time.Duration
}

// RegisterState registers on reg the gauges read from st at scrape time
// (index size and lag, outbox backlog, database pools) and the Go runtime
// and process collectors.
func RegisterState(reg prometheus.Registerer, st State) error {
	for _, c := range []prometheus.Collector{
		stateCollector{st},
		poolCollector{st.Store.PoolStats},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

var (
	indexProfilesDesc = prometheus.NewDesc("confide_search_index_profiles",
		"Public profiles in this process's search index.", nil, nil)
	indexLagDesc = prometheus.NewDesc("confide_search_index_lag_changes",
		"Committed profile changes this process's search index has not applied yet (newest change-feed sequence number minus the last one applied).", nil, nil)
	outboxPendingDesc = prometheus.NewDesc("confide_outbox_pending_messages",
		"Emails in the outbox waiting to be sent, including those waiting to retry.", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("confide_outbox_oldest_pending_age_seconds",
		"Age of the oldest email waiting in the outbox; 0 when none is waiting.", nil, nil)
	outboxDeadDesc = prometheus.NewDesc("confide_outbox_dead_messages",
		"Emails the outbox gave up on (dead letters, listed at /admin/outbox).", nil, nil)
)

// stateCollector reads the index and the store at scrape time.
type stateCollector struct{ st State }

// Describe implements prometheus.Collector.
func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{indexProfilesDesc, indexLagDesc, outboxPendingDesc, outboxAgeDesc, outboxDeadDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A query that fails yields an
// invalid metric, which the handler logs and leaves out of the answer.
func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(indexProfilesDesc, float64(c.st.Index.Len()))

	ctx, cancel := context.WithTimeout(context.Background(), c.st.Timeout)
	defer cancel()
	applied := c.st.Applied()
	if latest, err := c.st.Store.LatestChangeSeq(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(indexLagDesc, err)
	} else {
		gauge(indexLagDesc, float64(max(0, latest-applied)))
	}
	ob, err := c.st.Store.OutboxStats(ctx)
	if err != nil {
		for _, d := range []*prometheus.Desc{outboxPendingDesc, outboxAgeDesc, outboxDeadDesc} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	age := 0.0
	if !ob.OldestPending.IsZero() {
		age = max(0, c.st.Now().Sub(ob.OldestPending).Seconds())
	}
	gauge(outboxPendingDesc, float64(ob.Pending))
	gauge(outboxAgeDesc, age)
	gauge(outboxDeadDesc, float64(ob.Dead))
}

// poolMetric is one database/sql pool statistic, named as client_golang's
// DBStatsCollector names it so that existing dashboards work; that
// collector needs the *sql.DB itself, which stays inside the store.
type poolMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(sql.DBStats) float64
}

func newPoolMetric(name, help string, kind prometheus.ValueType, value func(sql.DBStats) float64) poolMetric {
	return poolMetric{prometheus.NewDesc("go_sql_"+name, help, []string{"db_name"}, nil), kind, value}
}

var poolMetrics = []poolMetric{
	newPoolMetric("max_open_connections", "Maximum number of open connections to the database.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) }),
	newPoolMetric("open_connections", "The number of established connections both in use and idle.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.OpenConnections) }),
	newPoolMetric("in_use_connections", "The number of connections currently in use.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.InUse) }),
	newPoolMetric("idle_connections", "The number of idle connections.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.Idle) }),
	newPoolMetric("wait_count_total", "The total number of connections waited for.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.WaitCount) }),
	newPoolMetric("wait_duration_seconds_total", "The total time blocked waiting for a new connection.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() }),
	newPoolMetric("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxIdleClosed) }),
	newPoolMetric("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxIdleTimeClosed) }),
	newPoolMetric("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxLifetimeClosed) }),
}

// poolCollector reports the store's connection pools, labelled db_name
// "write" or "read".
type poolCollector struct{ stats func() []store.PoolStats }

// Describe implements prometheus.Collector.
func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range poolMetrics {
		ch <- m.desc
	}
}

// Collect implements prometheus.Collector.
func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.stats() {
		for _, m := range poolMetrics {
			ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(p.Stats), p.Name)
		}
	}
}
