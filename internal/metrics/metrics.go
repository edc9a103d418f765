// Package metrics defines Confide's Prometheus metrics and serves them. It
// is an adapter: domain packages never import Prometheus, they report
// through small interfaces of their own (httpx.RequestMetrics,
// jobs.Observer) that Metrics implements, and scrape-time gauges read the
// index and the store through the State given to RegisterState. Every
// metric lives on a registry the application creates and passes in, never
// the global default one, so tests and several apps in one process never
// share counters.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/confide-org/confide/internal/search"
)

// Metrics holds the metrics that are updated as things happen: requests,
// searches and job runs.
type Metrics struct {
	requests    *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	searches    *prometheus.HistogramVec
	jobRuns     *prometheus.CounterVec
	jobFailures *prometheus.CounterVec
	suggestions *prometheus.CounterVec
}

// searchBuckets span a filter over a few thousand profiles (tens of
// microseconds) to a text search over a million (tens of milliseconds).
var searchBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "confide_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" when no route served it) and status code.",
		}, []string{"route", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "confide_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		searches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "confide_search_duration_seconds",
			Help:    "Time the index takes to answer a search, by surface (api or page) and kind (text: with keywords, ranked by relevance; filter: filters and distance only).",
			Buckets: searchBuckets,
		}, []string{"surface", "kind"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "confide_job_runs_total",
			Help: "Runs of scheduled jobs, by job name, whether they succeeded or not.",
		}, []string{"job"}),
		jobFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "confide_job_failures_total",
			Help: "Runs of scheduled jobs that returned an error, by job name.",
		}, []string{"job"}),
		suggestions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "confide_guided_suggestions_total",
			Help: "Suggestions the guided path made, by approach (only when the operator turned --count-suggestions on; 0 otherwise).",
		}, []string{"approach"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.durations, m.searches, m.jobRuns, m.jobFailures, m.suggestions} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Suggested counts one suggestion of approach by the guided path, on the
// page or through the API. It is the whole of what Confide keeps about
// the path when the operator turns counts on: a total per approach, with
// no answers, time of day or person attached, so no count can be traced
// back to someone.
func (m *Metrics) Suggested(approach string) {
	m.suggestions.WithLabelValues(approach).Inc()
}

// ObserveRequest implements httpx.RequestMetrics.
func (m *Metrics) ObserveRequest(route string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.durations.WithLabelValues(route).Observe(took.Seconds())
}

// JobRan implements jobs.Observer. A success still touches the failure
// counter, so that every job has a failure series (at 0) to alert on from
// its first run.
func (m *Metrics) JobRan(name string, _ time.Duration, err error) {
	m.jobRuns.WithLabelValues(name).Inc()
	failures := m.jobFailures.WithLabelValues(name)
	if err != nil {
		failures.Inc()
	}
}

// The surfaces a search is timed on.
const (
	SurfaceAPI  = "api"  // the JSON API, /api/v1/therapists
	SurfacePage = "page" // the HTML pages: /search and the home page's browse list
)

// TimedIndex is the search index with every search timed; it has all of
// *search.Index's methods, so it stands in for it wherever a handler takes
// a searcher.
type TimedIndex struct {
	*search.Index
	text, filter prometheus.Observer
}

// TimeSearches wraps ix so that its searches are timed for surface. The
// two observers are looked up once here, so a search pays only for two
// clock readings and one histogram update.
func (m *Metrics) TimeSearches(ix *search.Index, surface string) *TimedIndex {
	return &TimedIndex{Index: ix,
		text:   m.searches.WithLabelValues(surface, "text"),
		filter: m.searches.WithLabelValues(surface, "filter"),
	}
}

// Search answers q and records how long it took, as a text search when q
// has keywords and a filter search otherwise.
func (t *TimedIndex) Search(q search.Query) search.Result {
	start := time.Now()
	res := t.Index.Search(q)
	o := t.filter
	if !q.Terms.Empty() {
		o = t.text
	}
	o.Observe(time.Since(start).Seconds())
	return res
}

// Handler serves the metrics on reg in Prometheus's text format. A gauge
// that cannot be read (the database is down) is logged and left out; the
// rest are still served.
func Handler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	})
}
