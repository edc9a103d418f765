package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFlagsWinOverEnvironment(t *testing.T) {
	env := map[string]string{"CONFIDE_ADDR": "127.0.0.1:9999", "CONFIDE_DB": "/env.db", "CONFIDE_DEMO": "true"}
	tests := []struct {
		name     string
		args     []string
		addr, db string
		demo     bool
	}{
		{"environment only", nil, "127.0.0.1:9999", "/env.db", true},
		{"flag wins", []string{"--db", "/flag.db", "--demo=false"}, "127.0.0.1:9999", "/flag.db", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg config
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			cfg.serveFlags(fs)
			if err := parseFlags(fs, tt.args, func(k string) string { return env[k] }); err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != tt.addr || cfg.DB != tt.db || cfg.Demo != tt.demo {
				t.Fatalf("got addr %q db %q demo %v", cfg.Addr, cfg.DB, cfg.Demo)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	var cfg config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.serveFlags(fs)
	if err := parseFlags(fs, nil, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.DB != "./confide.db" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestCommandLineErrors(t *testing.T) {
	noEnv := func(string) string { return "" }
	emptyDB := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(emptyDB, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "Usage:"},
		{[]string{"bogus"}, 2, "unknown command"},
		{[]string{"serve", "--help"}, 0, "CONFIDE_ADDR"},
		{[]string{"demo", "--help"}, 0, "--therapists"},
		{[]string{"version", "--help"}, 0, "Prints the version"},
		{[]string{"serve", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"demo", "--therapists", "many"}, 2, "invalid value"},
		{[]string{"serve", "extra"}, 2, "unexpected argument"},
		{[]string{"demo", "--as-of", "yesterday", "--db", filepath.Join(t.TempDir(), "x.db")}, 1, "--as-of"},
		{[]string{"serve", "--database-url", "mysql://db/confide"}, 2, "--database-url must start with postgres://"},
		{[]string{"serve", "--outbox-lease", "1s"}, 2, "--outbox-lease must be at least 2s"},
		{[]string{"serve", "--index-snapshot-max-age", "30h"}, 2, "--index-snapshot-max-age must be from 0 to 20h"},
		{[]string{"serve", "--index-snapshot-interval", "-1m"}, 2, "--index-snapshot-interval must not be negative"},
		{[]string{"migrate-store", "--to", "postgres://127.0.0.1:1/x"}, 1, "--from and --to are required"},
		{[]string{"migrate-store", "--from", "a.db", "--to", "a.db"}, 1, "the same database"},
		{[]string{"migrate-store", "--from", "/no/such/confide.db", "--to", "postgres://127.0.0.1:1/x"}, 1, "--from: stat /no/such/confide.db: no such file"},
		// A database that is not there is named, not a panic or a hang.
		{[]string{"migrate-store", "--from", emptyDB, "--to", "postgres://confide@127.0.0.1:1/confide?connect_timeout=2"}, 1, "--to: open database postgres://confide@127.0.0.1:1/confide"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), tt.args, noEnv, strings.NewReader(""), &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.out) {
				t.Fatalf("exit %d, output %q; want %d and %q", code, out.String(), tt.code, tt.out)
			}
		})
	}
	var env bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, func(k string) string {
		if k == "CONFIDE_SYNC_INTERVAL" {
			return "soon"
		}
		return ""
	}, strings.NewReader(""), &env, &env); code != 2 || !strings.Contains(env.String(), "CONFIDE_SYNC_INTERVAL") {
		t.Fatalf("bad environment value: exit %d, %q", code, env.String())
	}
}

// TestServeDemo runs the quick start's first command for real: serve
// --demo on an empty database answers with 2,000 demo profiles, then shuts
// down cleanly when told to stop.
func TestServeDemo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() {
		dir := t.TempDir()
		done <- run(ctx, []string{"serve", "--demo", "--addr", addr, "--db", filepath.Join(dir, "confide.db"), "--key-file", filepath.Join(dir, "confide.key"), "--log-format", "json"},
			func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &syncBuffer{buf: &logs})
	}()
	var health struct {
		Status  string `json:"status"`
		Indexed int    `json:"indexed"`
	}
	wait := 30 * time.Second
	if raceDetector {
		wait = 3 * time.Minute // the demo's 2,000 profiles and their accounts, under -race
	}
	deadline := time.Now().Add(wait)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&health)
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var total struct {
		Total int `json:"total"`
	}
	res, err := http.Get("http://" + addr + "/api/v1/therapists?per_page=1")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&total)
	res.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
	// About 85 % of 2,000 demo profiles are verified, and a few of those
	// are unpublished: the public count sits well inside these bounds.
	if health.Status != "ok" || health.Indexed < 1500 || health.Indexed > 1800 || total.Total != health.Indexed {
		t.Fatalf("health %+v, search total %d", health, total.Total)
	}
	// The walkthrough names both demo accounts and their password (the
	// journeys themselves are TestDemoStaffQueues').
	for _, want := range []string{`"password":"`, `"email":"demo.therapist@example.org"`, `"email":"demo.staff@example.org"`} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("the demo walkthrough lacks %s", want)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Fatal("no clean shutdown in the logs")
	}
}

// syncBuffer lets the server's goroutines log while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

// String returns what was written so far.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}
