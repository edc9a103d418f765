package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/confide-org/confide/internal/jobs"
)

// Start runs the background work: the change-feed syncer (woken by
// PostgreSQL NOTIFY, polling as the fallback), the scheduled jobs (each
// tick claimed in the shared ledger), the outbox worker and, when asked,
// the metrics listener. Each can be turned off by its setting (a zero sync
// interval or jobs interval, a negative outbox poll). Close stops them.
func (a *App) Start(ctx context.Context) error {
	if a.stopBackground != nil {
		return errors.New("app: already started")
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var stopMetrics func()
	if addr := a.cfg.Server.MetricsAddr; addr != "" {
		var err error
		if a.MetricsAddr, stopMetrics, err = serveMetrics(addr, a.Monitor.Scrape, a.Log); err != nil {
			cancel()
			return err
		}
	}
	if a.cfg.Search.SyncInterval > 0 {
		a.Syncer.Wake = a.DB.Wakeups(bg)
		wg.Go(func() { a.Syncer.Run(bg) })
	}
	if every := a.cfg.Search.SnapshotInterval; a.snapshots != nil && every > 0 {
		wg.Go(func() { a.snapshots.run(bg, every) })
	}
	if a.cfg.Jobs.Interval > 0 {
		runner := &jobs.Runner{Ledger: a.DB, Owner: a.Outbox.Owner, Log: a.Log, Observer: a.Monitor.Metrics}
		wg.Go(func() { runner.Run(bg, a.Jobs...) })
	}
	if every := a.cfg.Audit.AnchorInterval; every > 0 {
		// Every replica anchors to its own file: no shared ledger.
		local := &jobs.Runner{Owner: a.Outbox.Owner, Log: a.Log, Observer: a.Monitor.Metrics}
		wg.Go(func() { local.Run(bg, jobs.Job{Name: "audit anchor", Every: every, Run: a.anchorAudit}) })
	}
	if a.cfg.Mail.OutboxPoll > 0 {
		wg.Go(func() { a.Outbox.Run(bg) })
	}
	a.stopBackground = func() {
		cancel()
		wg.Wait()
		if stopMetrics != nil {
			stopMetrics()
		}
	}
	return nil
}

// Close stops what Start started (waiting for a job or an email in
// progress; an email cut off is retried by any replica once its lease
// runs out), waits for account mail being queued, writes the index
// snapshot (when one is kept and the index changed), anchors the audit
// chain's head, and closes the mail catcher and the store: the reverse of
// the order New and Start made them in.
func (a *App) Close() {
	if a.closed {
		return
	}
	a.closed = true
	if a.stopBackground != nil {
		a.stopBackground()
		a.stopBackground = nil
	}
	if a.Accounts != nil {
		a.Accounts.Wait()
	}
	// A snapshot of the index as it stops makes the next start quick.
	if a.snapshots != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := a.snapshots.write(ctx)
		cancel()
		if err != nil {
			a.Log.Error("index snapshot on shutdown", "err", err)
		}
	}
	if a.Audit != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.anchorAudit(ctx); err != nil {
			a.Log.Error("audit anchor on shutdown", "err", err)
		}
		cancel()
	}
	a.closeParts()
}

// Run is `confide serve`: Start, then serve HTTP on ln until ctx ends;
// then stop accepting connections, give requests in flight until the
// shutdown timeout to finish, and Close.
func (a *App) Run(ctx context.Context, ln net.Listener, version string) error {
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	a.Log.Info("serving", "url", "http://"+ln.Addr().String(), "version", version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	timeout := a.cfg.Server.ShutdownTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	a.Log.Info("shutting down", "timeout", timeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.Log.Info("stopped")
	return nil
}
