// Package testworld builds a small but real Confide for handler tests: a
// SQLite database in a temporary directory filled with demo profiles, and
// a search index loaded from it. Nothing is mocked.
package testworld

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Now is the fixed clock of every test world.
var Now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// World is a running directory without the HTTP server.
type World struct {
	DB        *store.DB
	Tax       *taxonomy.Taxonomy
	Gaz       *geo.Gazetteer
	Analyzer  *search.Analyzer
	Index     *search.Index
	Parser    *search.Parser
	Markup    *markup.Renderer
	Directory *directory.Service
	Log       *slog.Logger
}

// Clock returns the world's fixed time.
func (w *World) Clock() time.Time { return Now }

// New builds a world with n demo profiles (seed 1).
func New(t testing.TB, n int) *World {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &World{Tax: taxonomy.MustLoad(), Gaz: geo.MustLoad(), Analyzer: search.NewAnalyzer(), Markup: markup.New(), Log: log}
	db := storetest.Open(t)
	w.DB = db
	v := directory.Validator{Tax: w.Tax, Gaz: w.Gaz}
	gen, err := demo.NewGenerator(w.Tax, w.Gaz)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Load(ctx, db, v, n, 1, Now, nil); err != nil {
		t.Fatal(err)
	}
	w.Index = search.NewIndex(w.Tax, w.Analyzer, w.Clock)
	if err := w.Index.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	w.Parser = &search.Parser{Tax: w.Tax, Gaz: w.Gaz, Analyzer: w.Analyzer, Genders: w.Index, Vocabulary: w.Index}
	w.Directory = directory.NewService(db, v, w.Clock, log, w.Index)
	return w
}

// PublicProfile returns some public profile, for tests that need one.
func (w *World) PublicProfile(t testing.TB) *directory.Profile {
	t.Helper()
	var found *directory.Profile
	_, err := w.DB.EachProfile(context.Background(), func(p *directory.Profile) error {
		if found == nil && p.IsPublic(Now) && len(p.Locations) > 0 {
			found = p
		}
		return nil
	})
	if err != nil || found == nil {
		t.Fatalf("no public profile in the test world (%v)", err)
	}
	return found
}

// HiddenProfile returns a stored profile that must not be shown publicly.
func (w *World) HiddenProfile(t testing.TB) *directory.Profile {
	t.Helper()
	var found *directory.Profile
	_, err := w.DB.EachProfile(context.Background(), func(p *directory.Profile) error {
		if found == nil && !p.IsPublic(Now) {
			found = p
		}
		return nil
	})
	if err != nil || found == nil {
		t.Fatalf("no hidden profile in the test world (%v)", err)
	}
	return found
}
