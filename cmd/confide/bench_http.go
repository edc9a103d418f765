package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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

	"github.com/confide-org/confide/internal/bench"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// httpReport is the JSON `confide bench http` writes.
type httpReport struct {
	Therapists  int             `json:"therapists"`
	Public      int             `json:"public"`
	Queries     int             `json:"queries"`
	Connections int             `json:"connections"`
	Seconds     float64         `json:"seconds_per_run"`
	InProcess   inProcessReport `json:"in_process"`
	HTTP        bench.WrkResult `json:"http_search"`
	Healthz     bench.WrkResult `json:"http_healthz"`
	// Ratio is HTTP requests per second over in-process answers per
	// second for the same mix.
	Ratio   float64 `json:"http_over_in_process"`
	Machine string  `json:"machine"`
}

type inProcessReport struct {
	Workers int           `json:"workers"`
	Answers int           `json:"answers"`
	QPS     float64       `json:"qps"`
	Latency bench.Latency `json:"latency"`
}

// benchApp opens the generated directory as `serve` would, with the bench
// clock, the mail catcher and a throwaway key file; request logs are
// formatted as in production and discarded.
func benchApp(ctx context.Context, cfg config, dir string) (*app, error) {
	var scfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	scfg.serveFlags(fs)
	if err := fs.Parse(nil); err != nil {
		return nil, err
	}
	scfg.DB, scfg.MailCatcher, scfg.KeyFile, scfg.Addr = cfg.BenchDB, true, filepath.Join(dir, "confide.key"), "127.0.0.1:0"
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return newApp(ctx, scfg, log, func() time.Time { return benchNow })
}

// benchConfide is the in-process system over an app's index.
func benchConfide(ix *search.Index) (*bench.Confide, *taxonomy.Taxonomy, *geo.Gazetteer, error) {
	tax, err := taxonomy.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	gaz, err := geo.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	parser := &search.Parser{Tax: tax, Gaz: gaz, Analyzer: search.NewAnalyzer()}
	return &bench.Confide{Parser: parser, Index: ix, Now: benchNow}, tax, gaz, nil
}

// benchHTTP is `confide bench http`: the query mix in-process on as many
// goroutines as there are cores, then the same mix through the real
// server stack over HTTP with wrk, then /healthz.
func benchHTTP(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.Therapists < 100 || cfg.Queries < len(bench.Classes) || cfg.BenchDuration < time.Second || cfg.Connections < 1 {
		return errors.New("--therapists must be at least 100, --queries at least 7, --duration at least 1s and --connections at least 1")
	}
	if _, err := exec.LookPath(cfg.WrkBinary); err != nil {
		return fmt.Errorf("wrk is needed (apt-get install wrk): %w", err)
	}
	log := newLogger(cfg, stderr)
	cleanup, err := benchDatabase(ctx, &cfg, log, stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	dir, err := os.MkdirTemp("", "confide-bench-http-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a, err := benchApp(ctx, cfg, dir)
	if err != nil {
		return err
	}
	defer a.close()
	sys, tax, gaz, err := benchConfide(a.index)
	if err != nil {
		return err
	}
	cases := bench.Mix(gaz, tax, cfg.Queries, cfg.Seed)
	rep := httpReport{Therapists: cfg.Therapists, Public: a.index.Len(), Queries: len(cases), Connections: cfg.Connections,
		Seconds: cfg.BenchDuration.Seconds(), Machine: machine()}

	cores := runtime.GOMAXPROCS(0)
	if _, err := bench.RunClosed(ctx, sys, cases, cores, min(cfg.BenchDuration, 5*time.Second)); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	in, err := bench.RunClosed(ctx, sys, cases, cores, cfg.BenchDuration)
	if err != nil {
		return err
	}
	rep.InProcess = inProcessReport{Workers: cores, Answers: in.Answers, QPS: in.QPS(), Latency: bench.Summarize(in.Latencies)}
	fmt.Fprintf(stderr, "in-process: %d workers, %.0f answers/s, %s\n", cores, rep.InProcess.QPS, rep.InProcess.Latency)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	paths := make([]string, len(cases))
	for i, c := range cases {
		paths[i] = "/api/v1/therapists?" + c.Values.Encode()
	}
	w := bench.Wrk{Binary: cfg.WrkBinary, BaseURL: base, Paths: paths, Connections: cfg.Connections, Threads: cores,
		Duration: cfg.BenchDuration, Dir: dir}
	if rep.HTTP, err = w.Run(ctx); err != nil {
		return err
	}
	w.Paths = []string{"/healthz"}
	if rep.Healthz, err = w.Run(ctx); err != nil {
		return err
	}
	rep.Ratio = rep.HTTP.RPS / rep.InProcess.QPS
	fmt.Fprintf(stdout, "%d profiles (%d public), %d queries in the mix, %d cores, %s per run\n", rep.Therapists, rep.Public, rep.Queries, cores, cfg.BenchDuration)
	fmt.Fprintf(stdout, "in-process search:  %8.0f answers/s  %s\n", rep.InProcess.QPS, rep.InProcess.Latency)
	fmt.Fprintf(stdout, "HTTP search (wrk):  %8.0f requests/s %s, %d connections, non-2xx %d, socket errors %d\n",
		rep.HTTP.RPS, rep.HTTP.Latency, cfg.Connections, rep.HTTP.Non2xx, rep.HTTP.SockErrors)
	fmt.Fprintf(stdout, "HTTP /healthz:      %8.0f requests/s %s, non-2xx %d\n", rep.Healthz.RPS, rep.Healthz.Latency, rep.Healthz.Non2xx)
	fmt.Fprintf(stdout, "HTTP over in-process: %.1f%%\n", 100*rep.Ratio)
	if cfg.JSONOut != "" {
		if err := writeJSONFile(cfg.JSONOut, rep); err != nil {
			return err
		}
	}
	if bad := rep.HTTP.Non2xx + rep.HTTP.SockErrors + rep.Healthz.Non2xx + rep.Healthz.SockErrors; bad > 0 {
		return fmt.Errorf("%d HTTP requests failed or were not answered with 2xx", bad)
	}
	return nil
}

func machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
