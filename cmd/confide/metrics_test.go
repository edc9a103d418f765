package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/confide-org/confide/internal/app"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/store/storetest"
	"github.com/confide-org/confide/internal/taxonomy"
)

const testMetricsToken = "test-metrics-token-0123456789"

// scrapeMetrics reads /metrics from url with the test token and parses
// it with Prometheus's own text parser.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: status %d: %s", url, res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// metricValue finds the sample of family name whose labels include
// labels (name=value pairs), and returns its value: a counter's or
// gauge's value, or a histogram's count. ok is false when there is none.
func metricValue(families map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := families[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetrics scrapes /metrics, makes an API search, a search page and a
// profile page, scrapes again and checks that the right series moved and
// that the scrape-time gauges agree with the index and the store.
func TestMetrics(t *testing.T) {
	h := newHarness(t, 60, func(c *config) { c.MetricsToken = testMetricsToken })
	// The demo's staff account is an editor, so the first job run queues
	// review reminders: let the outbox send them before the gauges are
	// expected at rest.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := h.app.DB.OutboxStats(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still pending", st.Pending)
		}
	}
	before := scrapeMetrics(t, h.srv.URL+"/metrics")

	anon := h.client()
	for _, path := range []string{"/api/v1/therapists?per_page=5", "/search?q=anxiety", "/search?q=anxiety", "/therapists/no-such-therapist"} {
		if res := anon.get(path); res.status >= 500 {
			t.Fatalf("GET %s: status %d", path, res.status)
		}
	}
	after := scrapeMetrics(t, h.srv.URL+"/metrics")

	t.Run("counters and histograms moved", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"confide_http_requests_total", []string{"route", "GET /api/v1/therapists", "code", "200"}, 1},
			{"confide_http_requests_total", []string{"route", "GET /search", "code", "200"}, 2},
			{"confide_http_requests_total", []string{"route", "GET /therapists/{slug}", "code", "404"}, 1},
			{"confide_http_request_duration_seconds", []string{"route", "GET /search"}, 2},
			{"confide_search_duration_seconds", []string{"surface", "api", "kind", "filter"}, 1},
			{"confide_search_duration_seconds", []string{"surface", "page", "kind", "text"}, 2},
		} {
			t.Run(tc.name+strings.Join(tc.labels, ","), func(t *testing.T) {
				was, _ := metricValue(before, tc.name, tc.labels...)
				now, ok := metricValue(after, tc.name, tc.labels...)
				if !ok || now-was != tc.want {
					t.Fatalf("%s%v went from %v to %v (present %v), want +%v", tc.name, tc.labels, was, now, ok, tc.want)
				}
			})
		}
	})

	t.Run("no raw paths as routes", func(t *testing.T) {
		for _, m := range after["confide_http_requests_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && strings.Contains(l.GetValue(), "no-such-therapist") {
					t.Fatalf("route label holds a raw path: %q", l.GetValue())
				}
			}
		}
	})

	t.Run("scrape-time gauges", func(t *testing.T) {
		latest, err := h.app.DB.LatestChangeSeq(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"confide_search_index_profiles", nil, float64(h.app.Index.Len())},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if v, ok := metricValue(after, tc.name, tc.labels...); !ok || v != tc.want {
					t.Fatalf("%s = %v (present %v), want %v", tc.name, v, ok, tc.want)
				}
			})
		}
		// The outbox gauges say what the table says at the scrape. Jobs
		// may queue mail at any moment (review reminders to the demo's
		// editor), so a scrape and a count taken just after it must agree
		// within a few tries.
		for try := 1; ; try++ {
			m := scrapeMetrics(t, h.srv.URL+"/metrics")
			st, err := h.app.DB.OutboxStats(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			pending, ok1 := metricValue(m, "confide_outbox_pending_messages")
			dead, ok2 := metricValue(m, "confide_outbox_dead_messages")
			age, ok3 := metricValue(m, "confide_outbox_oldest_pending_age_seconds")
			if ok1 && ok2 && ok3 && pending == float64(st.Pending) && dead == float64(st.Dead) && (age > 0) == (st.Pending > 0) && age >= 0 {
				break
			}
			if try == 50 {
				t.Fatalf("outbox gauges pending %v, dead %v, oldest %vs; the table: %+v", pending, dead, age, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		pool, conns := "write", 1.0
		if storetest.Engine() == "postgres" {
			pool, conns = "pool", float64(h.app.DB.PoolStats()[0].Stats.MaxOpenConnections)
		}
		if v, ok := metricValue(after, "go_sql_max_open_connections", "db_name", pool); !ok || v != conns {
			t.Fatalf("go_sql_max_open_connections{db_name=%q} = %v (present %v), want %v", pool, v, ok, conns)
		}
		// The syncer runs as in serve, so the lag is whatever it was at
		// the scrape: never negative, never more than what is committed.
		if v, ok := metricValue(after, "confide_search_index_lag_changes"); !ok || v < 0 || v > float64(latest) {
			t.Fatalf("confide_search_index_lag_changes = %v (present %v), latest change %d", v, ok, latest)
		}
		if v, _ := metricValue(after, "confide_search_index_profiles"); v < 30 {
			t.Fatalf("index holds %v profiles; the demo has 60", v)
		}
		for _, name := range []string{"go_goroutines", "go_sql_open_connections", "process_cpu_seconds_total"} {
			if _, ok := metricValue(after, name); !ok {
				t.Errorf("no %s", name)
			}
		}
	})

	t.Run("lag falls to zero once the syncer has run", func(t *testing.T) {
		if _, err := h.app.Syncer.Step(h.ctx); err != nil {
			t.Fatal(err)
		}
		if v, ok := metricValue(scrapeMetrics(t, h.srv.URL+"/metrics"), "confide_search_index_lag_changes"); !ok || v != 0 {
			t.Fatalf("lag %v (present %v) after a sync step", v, ok)
		}
	})
}

// TestMetricsToken checks who may read /metrics on the main server.
func TestMetricsToken(t *testing.T) {
	protected := newHarness(t, 0, func(c *config) { c.MetricsToken = testMetricsToken })
	disabled := newHarness(t, 0, nil)
	for _, tc := range []struct {
		name   string
		h      *harness
		header string
		want   int
	}{
		{"no token", protected, "", http.StatusUnauthorized},
		{"wrong token", protected, "Bearer " + strings.ToUpper(testMetricsToken), http.StatusUnauthorized},
		{"right token", protected, "Bearer " + testMetricsToken, http.StatusOK},
		{"not configured", disabled, "Bearer " + testMetricsToken, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.h.client()
			if tc.header != "" {
				c.header.Set("Authorization", tc.header)
			}
			res := c.get("/metrics")
			if res.status != tc.want {
				t.Fatalf("status %d, want %d", res.status, tc.want)
			}
			if has := strings.Contains(res.body, "confide_http_requests_total"); has != (tc.want == http.StatusOK) {
				t.Fatalf("metrics in body: %v (status %d)", has, res.status)
			}
		})
	}
}

// TestMetricsListener serves /metrics on a separate address with no
// token, as --metrics-addr does.
func TestMetricsListener(t *testing.T) {
	h := newHarness(t, 0, func(c *config) { c.MetricsAddr = "127.0.0.1:0" })
	addr := h.app.MetricsAddr
	h.client().get("/about")
	res, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `confide_http_requests_total{code="200",route="GET /about"} 1`) {
		t.Fatalf("status %d:\n%s", res.StatusCode, b)
	}
	if res, err := http.Get("http://" + addr.String() + "/"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("the metrics listener serves more than /metrics: %v %v", res, err)
	}
	h.app.Close()
	if _, err := http.Get("http://" + addr.String() + "/metrics"); err == nil {
		t.Fatal("metrics listener still answering after stop")
	}
}

// TestReadyz checks that readiness waits for the index to be built, and
// that the server answers /readyz and /healthz.
func TestReadyz(t *testing.T) {
	h := newHarness(t, 20, nil)
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	ix := search.NewIndex(tax, search.NewAnalyzer(), h.clock.Now)
	ready := app.Readiness(ix, h.app.DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
	probe := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		ready.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec
	}
	if rec := probe(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "search index not built") {
		t.Fatalf("before the index is built: %d %s", rec.Code, rec.Body.String())
	}
	if err := ix.Load(context.Background(), h.app.DB); err != nil {
		t.Fatal(err)
	}
	if rec := probe(); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ready"`) {
		t.Fatalf("after the index is built: %d %s", rec.Code, rec.Body.String())
	}
	for _, path := range []string{"/readyz", "/healthz"} {
		if res := h.client().get(path); res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
	}
	// A schema behind the code (here: the last migration's record gone)
	// is not ready, though the process is alive.
	if err := h.app.DB.ExecForTest(h.ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	if res := h.client().get("/readyz"); res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, "database schema not current") {
		t.Fatalf("readyz with a migration missing: %d %s", res.status, res.body)
	}
	if res := h.client().get("/healthz"); res.status != http.StatusOK {
		t.Fatalf("healthz with a migration missing: %d %s", res.status, res.body)
	}
}

// TestMetricsFlags checks that bad monitoring settings stop serve before
// it starts, from flags and from the environment.
func TestMetricsFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"address without port", []string{"serve", "--metrics-addr", "9090"}, nil, "--metrics-addr must be host:port"},
		{"short token", []string{"serve", "--metrics-token", "hunter2"}, nil, "--metrics-token must be at least 16"},
		{"token with a space", []string{"serve", "--metrics-token", "correct horse battery staple"}, nil, "--metrics-token must be at least 16"},
		{"short token from the environment", []string{"serve"}, map[string]string{"CONFIDE_METRICS_TOKEN": "hunter2"}, "--metrics-token must be at least 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			code := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, strings.NewReader(""), &out, &out)
			if code != 2 || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("exit %d, output %q; want 2 and %q", code, out.String(), tc.want)
			}
		})
	}
}

// TestSuggestionCounts: with --count-suggestions the guided path's
// suggestions, from the result page and the API, are counted per
// approach and nothing else; without it nothing is counted.
func TestSuggestionCounts(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("counts %v", on), func(t *testing.T) {
			h := newHarness(t, 30, func(c *config) { c.MetricsToken = testMetricsToken; c.CountSuggestions = on })
			c := h.client()
			if res := c.post("/find/guided", url.Values{"step": {"check"}, "go": {"results"}, "want": {"past"}}); res.status != http.StatusOK {
				t.Fatalf("results page: %d", res.status)
			}
			res, err := http.Post(h.srv.URL+"/api/v1/guided", "application/json", strings.NewReader(`{"wants":["past"]}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			fams := scrapeMetrics(t, h.srv.URL+"/metrics")
			n, _ := metricValue(fams, "confide_guided_suggestions_total", "approach", "psychodynamic")
			var labels []string
			if f := fams["confide_guided_suggestions_total"]; f != nil {
				for _, m := range f.GetMetric() {
					for _, l := range m.GetLabel() {
						labels = append(labels, l.GetName())
					}
				}
			}
			switch {
			case on && n != 2:
				t.Fatalf("psychodynamic suggested twice, counted %v", n)
			case !on && len(labels) > 0:
				t.Fatalf("counted with counts off: %v", labels)
			}
			for _, l := range labels {
				if l != "approach" {
					t.Errorf("a suggestion count carries the label %q: only the approach may be kept", l)
				}
			}
		})
	}
}
