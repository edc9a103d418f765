package main

import (
	"flag"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/confide-org/confide/internal/bench"
)

// TestBenchServeDefaults: `confide bench http` serves with `confide
// serve`'s defaults (mail catcher, throwaway key file, any free port), so
// a changed serve default cannot leave the benchmark measuring another
// configuration.
func TestBenchServeDefaults(t *testing.T) {
	for _, tt := range []struct {
		name     string
		file, pg string
	}{
		{name: "sqlite", file: "/tmp/confide-bench-1/confide.db"},
		{name: "postgres", file: "/tmp/confide-bench-1/confide.db", pg: "postgres://bench@127.0.0.1:55432/bench"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c config
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			c.serveFlags(fs)
			if err := fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			c.DB, c.DatabaseURL, c.MailCatcher, c.KeyFile, c.Addr = tt.file, tt.pg, true, filepath.Join(dir, "confide.key"), "127.0.0.1:0"
			want := c.appConfig()
			if got := bench.AppConfig(c.storeDSN(), dir); !reflect.DeepEqual(got, want) {
				t.Errorf("bench serves with\n%+v\nserve's defaults are\n%+v", got, want)
			}
		})
	}
}
