package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// TestExportCommand: `confide export` writes every public profile of a
// directory (as many as the search index holds), never a contact email,
// to standard output or a new private file, and refuses what it cannot do.
func TestExportCommand(t *testing.T) {
	h := newHarness(t, 120, nil)
	exp := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), append([]string{"export", "--db", h.app.DSN}, args...), noEnvironment, strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	// The command runs on the wall clock, not the harness's.
	public := 0
	if _, err := h.app.DB.EachProfile(h.ctx, func(p *directory.Profile) error {
		if p.IsPublic(time.Now()) {
			public++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	code, out := exp("--format", "jsonl")
	if lines := strings.Count(out, "\n"); code != 0 || lines != public || lines == 0 {
		t.Fatalf("jsonl: exit %d, %d lines for %d public profiles", code, lines, public)
	}
	if strings.Contains(out, "@example") || strings.Contains(out, "contact") {
		t.Fatal("the export carries an email address")
	}
	file := filepath.Join(t.TempDir(), "directory.csv")
	if code, out := exp("--format", "csv", "--out", file); code != 0 || !strings.Contains(out, "exported") {
		t.Fatalf("csv to a file: exit %d %s", code, out)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", st.Mode(), err)
	}
	b, _ := os.ReadFile(file)
	if rows := strings.Count(string(b), "\n"); rows != public+1 {
		t.Fatalf("%d CSV lines for %d profiles and a header", rows, public)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"an existing file", []string{"--out", file}, "exists"},
		{"an unknown format", []string{"--format", "xlsx"}, "csv, jsonl or hsds"},
	} {
		if code, out := exp(tc.args...); code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d %s", tc.name, code, out)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, b) {
		t.Fatal("a refused export changed the existing file")
	}

	// The HSDS data package: a new private directory, one service row per
	// public profile; never over an existing directory, never without
	// the site's address or a directory to write to.
	pkg := filepath.Join(t.TempDir(), "hsds")
	if code, out := exp("--format", "hsds", "--out", pkg, "--base-url", "https://confide.example/"); code != 0 || !strings.Contains(out, "HSDS 3.0") {
		t.Fatalf("hsds: exit %d %s", code, out)
	}
	if st, err := os.Stat(pkg); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("package directory: %v %v", st.Mode(), err)
	}
	services, err := os.ReadFile(filepath.Join(pkg, "services.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := csv.NewReader(bytes.NewReader(services)).ReadAll(); err != nil || len(rows) != public+1 {
		t.Fatalf("services.csv: %d rows for %d profiles and a header (%v)", len(rows), public, err)
	}
	if strings.Contains(string(services), "@example") || !strings.Contains(string(services), "https://confide.example/therapists/") {
		t.Fatal("services.csv carries an email address or no absolute profile links")
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"hsds over an existing directory", []string{"--format", "hsds", "--out", pkg, "--base-url", "https://confide.example"}, "exists"},
		{"hsds without --out", []string{"--format", "hsds", "--base-url", "https://confide.example"}, "--out"},
		{"hsds without --base-url", []string{"--format", "hsds", "--out", filepath.Join(t.TempDir(), "x")}, "base-url"},
	} {
		if code, out := exp(tc.args...); code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d %s", tc.name, code, out)
		}
	}
}
