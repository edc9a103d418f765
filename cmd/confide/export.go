package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/export"
	"github.com/confide-org/confide/internal/hsds"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/taxonomy"
)

// exportDirectory is `confide export`: the public directory as CSV or
// JSON lines, to --out (created 0600, never over an existing file) or to
// standard output, or as an HSDS 3.0 data package in a new directory
// --out (created 0700). A failed export removes what it wrote.
func exportDirectory(ctx context.Context, cfg config, stdout, stderr io.Writer) (err error) {
	if !slices.Contains(export.Formats, cfg.ExportFormat) && cfg.ExportFormat != export.HSDS {
		return fmt.Errorf("export: unknown format %q (use csv, jsonl or hsds)", cfg.ExportFormat)
	}
	if cfg.ExportFormat == export.HSDS && cfg.Out == "" {
		return errors.New("--format hsds writes a directory: give it with --out DIR")
	}
	db, err := store.Open(ctx, cfg.storeDSN(), newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.ExportFormat == export.HSDS {
		tax, err := taxonomy.Load()
		if err != nil {
			return err
		}
		base := strings.TrimRight(cfg.BaseURL, "/")
		n, err := export.WriteHSDS(ctx, cfg.Out, db, hsds.NewMapper(tax, base, cfg.SiteName), export.Package{Title: cfg.SiteName, BaseURL: base}, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "exported %d public profiles to %s (HSDS %s data package)\n", n, cfg.Out, hsds.Version)
		return nil
	}
	w := stdout
	if cfg.Out != "" {
		f, err := os.OpenFile(cfg.Out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(cfg.Out)
			}
		}()
		w = f
	}
	n, err := export.Write(ctx, w, cfg.ExportFormat, db, cfg.BaseURL, time.Now())
	if err != nil {
		return err
	}
	if cfg.Out != "" {
		fmt.Fprintf(stdout, "exported %d public profiles to %s (%s)\n", n, cfg.Out, cfg.ExportFormat)
	}
	return nil
}
