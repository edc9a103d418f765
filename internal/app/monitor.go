package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/metrics"
	"github.com/confide-org/confide/internal/store"
)

// Monitoring is what operators watch: Prometheus metrics on a registry
// this app owns, and the readiness probe.
type Monitoring struct {
	Metrics *metrics.Metrics
	Scrape  http.Handler // /metrics in Prometheus's text format
	Ready   http.Handler // /readyz
}

// newMonitoring creates the app's metrics, with gauges that read a's index,
// syncer and database when scraped. It runs once those exist and before
// the handlers that report to it are built.
func newMonitoring(a *App, log *slog.Logger, now func() time.Time) (*Monitoring, error) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		return nil, err
	}
	err = metrics.RegisterState(reg, metrics.State{Index: a.Index, Applied: a.Syncer.Applied, Store: a.DB, Now: now, Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	return &Monitoring{Metrics: m, Scrape: metrics.Handler(reg, log), Ready: Readiness(a.Index, a.DB, log)}, nil
}

// register adds /readyz and /metrics to the main server's routes. /metrics
// answers only requests bearing token, and is 404 when token is empty.
func (m *Monitoring) register(mux httpx.Router, token string) {
	mux.Handle("GET /readyz", m.Ready)
	mux.Handle("GET /metrics", httpx.RequireBearer(token, m.Scrape))
}

// Builder is the search index as readiness sees it.
type Builder interface{ Built() bool }

// Readiness is /readyz: ready once the search index is built, the
// database answers and its schema has every migration this binary embeds.
// The index check reads the index itself, so a process that serves before
// building its index reports 503 until the build is done.
func Readiness(ix Builder, db *store.DB, log *slog.Logger) http.Handler {
	return httpx.Ready(log, 2*time.Second,
		httpx.Check{Name: "index", Reason: "search index not built yet", Run: func(context.Context) error {
			if !ix.Built() {
				return errors.New("search index not built yet")
			}
			return nil
		}},
		httpx.Check{Name: "database", Reason: "database not answering", Run: db.Ping},
		httpx.Check{Name: "migrations", Reason: "database schema not current", Run: func(ctx context.Context) error {
			pending, err := db.MigrationsPending(ctx)
			if err == nil && pending {
				err = errors.New("migrations pending")
			}
			return err
		}},
	)
}

// serveMetrics serves /metrics alone on addr (--metrics-addr), a listener
// meant for a private network or 127.0.0.1, so Prometheus scrapes without
// a token. It returns the address listened on and a function that stops
// the listener, giving a scrape in progress a few seconds to finish.
func serveMetrics(addr string, scrape http.Handler, log *slog.Logger) (net.Addr, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", scrape)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("metrics listener shutdown", "err", err)
		}
	}
	return ln.Addr(), stop, nil
}
