package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/confide-org/confide/internal/app"
	"github.com/confide-org/confide/internal/search"
)

// HTTPOptions are what `confide bench http` is told, beyond the common
// Options: how long and how hard to load the server, and which store it
// serves from.
type HTTPOptions struct {
	Options
	// DatabaseURL, when set, serves from this PostgreSQL database instead
	// of the generated SQLite file, generating the profiles into it when
	// it has none (--database-url).
	DatabaseURL string
	// Duration is how long each load runs: in-process, the mix over
	// HTTP, /healthz (--duration).
	Duration time.Duration
	// Connections is how many HTTP connections wrk keeps busy
	// (--connections).
	Connections int
	// Wrk is the wrk program; empty means "wrk" on the PATH (--wrk).
	Wrk string
}

// httpReport is the JSON `confide bench http` writes.
type httpReport struct {
	Therapists  int             `json:"therapists"`
	Public      int             `json:"public"`
	Queries     int             `json:"queries"`
	Connections int             `json:"connections"`
	Seconds     float64         `json:"seconds_per_run"`
	InProcess   inProcessReport `json:"in_process"`
	HTTP        WrkResult       `json:"http_search"`
	Healthz     WrkResult       `json:"http_healthz"`
	// Ratio is HTTP requests per second over in-process answers per
	// second for the same mix.
	Ratio   float64 `json:"http_over_in_process"`
	Machine string  `json:"machine"`
}

type inProcessReport struct {
	Workers int     `json:"workers"`
	Answers int     `json:"answers"`
	QPS     float64 `json:"qps"`
	Latency Latency `json:"latency"`
}

// AppConfig is the configuration the HTTP benchmark serves with: the
// defaults of `confide serve`, with the store at dsn, the built-in mail
// catcher, a throwaway key file in dir and a port of the system's
// choosing on 127.0.0.1. It is exported so that cmd/confide's tests can
// hold it to serve's flag defaults.
func AppConfig(dsn, dir string) app.Config {
	return app.Config{
		Site: app.SiteConfig{Name: "Confide", DemoTherapists: 2000, CrisisLines: []string{
			"In an emergency call 999.", "For urgent help call NHS 111.", "Samaritans: 116 123 (free, 24 hours)."}},
		Server: app.ServerConfig{Addr: "127.0.0.1:0", ShutdownTimeout: 15 * time.Second},
		Store:  app.StoreConfig{DSN: dsn},
		Mail: app.MailConfig{SMTPPort: 587, SMTPTLS: "starttls", From: "Confide <no-reply@localhost>", Catcher: true,
			OutboxPoll: time.Second, OutboxLease: time.Minute},
		Accounts:  app.AccountsConfig{SessionIdle: time.Hour, SessionLifetime: 12 * time.Hour, Argon2MemoryKiB: 19456, Argon2Time: 2},
		Enquiries: app.EnquiriesConfig{KeyFile: filepath.Join(dir, "confide.key"), MinFill: 3 * time.Second, Retention: 365 * 24 * time.Hour, PerTherapistDay: 20, PerSenderDay: 3},
		Search: app.SearchConfig{SyncInterval: syncInterval, SnapshotPath: app.DefaultSnapshotPath(dsn),
			SnapshotInterval: app.DefaultSnapshotInterval, SnapshotMaxAge: app.DefaultSnapshotMaxAge},
		Jobs:  app.JobsConfig{Interval: 15 * time.Minute},
		Audit: app.AuditConfig{AnchorInterval: time.Hour},
	}
}

// RunHTTP is `confide bench http`: the query mix in-process on as many
// goroutines as there are cores, then the same mix through the real
// application's handler over HTTP with wrk, then /healthz. A request that
// fails or is not answered with 2xx makes it return an error after the
// report is written.
func RunHTTP(ctx context.Context, opts HTTPOptions, stdout, stderr io.Writer) error {
	return opts.profiled(func() error { return runHTTP(ctx, opts, stdout, stderr) })
}

func runHTTP(ctx context.Context, opts HTTPOptions, stdout, stderr io.Writer) error {
	if opts.Therapists < 100 || opts.Queries < len(Classes) || opts.Duration < time.Second || opts.Connections < 1 {
		return errors.New("--therapists must be at least 100, --queries at least 7, --duration at least 1s and --connections at least 1")
	}
	wrk := cmp.Or(opts.Wrk, "wrk")
	if _, err := exec.LookPath(wrk); err != nil {
		return fmt.Errorf("wrk is needed (apt-get install wrk): %w", err)
	}
	g, err := opts.generate(ctx, opts.DatabaseURL, stderr)
	if err != nil {
		return err
	}
	defer g.cleanup()
	dir, err := os.MkdirTemp("", "confide-bench-http-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Request logs are formatted as in production, and discarded.
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(ctx, AppConfig(g.dsn, dir), log, fixedNow)
	if err != nil {
		return err
	}
	defer a.Close()
	parser := &search.Parser{Tax: g.tax, Gaz: g.gaz, Analyzer: search.NewAnalyzer()}
	sys := &Confide{Parser: parser, Index: a.Index, Now: fixedNow()}
	cases := Mix(g.gaz, g.tax, opts.Queries, opts.Seed)
	rep := httpReport{Therapists: opts.Therapists, Public: a.Index.Len(), Queries: len(cases), Connections: opts.Connections,
		Seconds: opts.Duration.Seconds(), Machine: machine()}

	cores := runtime.GOMAXPROCS(0)
	if _, err := RunClosed(ctx, sys, cases, cores, min(opts.Duration, 5*time.Second)); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	in, err := RunClosed(ctx, sys, cases, cores, opts.Duration)
	if err != nil {
		return err
	}
	rep.InProcess = inProcessReport{Workers: cores, Answers: in.Answers, QPS: in.QPS(), Latency: Summarize(in.Latencies)}
	fmt.Fprintf(stderr, "in-process: %d workers, %.0f answers/s, %s\n", cores, rep.InProcess.QPS, rep.InProcess.Latency)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	paths := make([]string, len(cases))
	for i, c := range cases {
		paths[i] = "/api/v1/therapists?" + c.Values.Encode()
	}
	w := Wrk{Binary: wrk, BaseURL: "http://" + ln.Addr().String(), Paths: paths, Connections: opts.Connections, Threads: cores,
		Duration: opts.Duration, Dir: dir}
	if rep.HTTP, err = w.Run(ctx); err != nil {
		return err
	}
	w.Paths = []string{"/healthz"}
	if rep.Healthz, err = w.Run(ctx); err != nil {
		return err
	}
	rep.Ratio = rep.HTTP.RPS / rep.InProcess.QPS
	fmt.Fprintf(stdout, "%d profiles (%d public), %d queries in the mix, %d cores, %s per run\n", rep.Therapists, rep.Public, rep.Queries, cores, opts.Duration)
	fmt.Fprintf(stdout, "in-process search:  %8.0f answers/s  %s\n", rep.InProcess.QPS, rep.InProcess.Latency)
	fmt.Fprintf(stdout, "HTTP search (wrk):  %8.0f requests/s %s, %d connections, non-2xx %d, socket errors %d\n",
		rep.HTTP.RPS, rep.HTTP.Latency, opts.Connections, rep.HTTP.Non2xx, rep.HTTP.SockErrors)
	fmt.Fprintf(stdout, "HTTP /healthz:      %8.0f requests/s %s, non-2xx %d\n", rep.Healthz.RPS, rep.Healthz.Latency, rep.Healthz.Non2xx)
	fmt.Fprintf(stdout, "HTTP over in-process: %.1f%%\n", 100*rep.Ratio)
	if err := opts.writeJSON(rep); err != nil {
		return err
	}
	if bad := rep.HTTP.Non2xx + rep.HTTP.SockErrors + rep.Healthz.Non2xx + rep.Healthz.SockErrors; bad > 0 {
		return fmt.Errorf("%d HTTP requests failed or were not answered with 2xx", bad)
	}
	return nil
}
