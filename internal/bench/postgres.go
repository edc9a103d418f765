package bench

import (
	"context"
	"errors"
	"time"

	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Postgres is the PostgreSQL/PostGIS peer.
type Postgres struct{}

// ErrNoPostgres is returned until the PostgreSQL peer is built.
var ErrNoPostgres = errors.New("the PostgreSQL/PostGIS peer is not implemented yet")

// NewPostgres builds the PostgreSQL peer.
func NewPostgres(ctx context.Context, url string, src ProfileSource, tax *taxonomy.Taxonomy, an *search.Analyzer, parser *search.Parser, now time.Time) (*Postgres, error) {
	return nil, ErrNoPostgres
}

// Name is "postgres".
func (p *Postgres) Name() string { return "postgres" }

// Answer is not available yet.
func (p *Postgres) Answer(context.Context, Case) (Answer, error) { return Answer{}, ErrNoPostgres }

// Close does nothing yet.
func (p *Postgres) Close() error { return nil }

// Version is unknown yet.
func (p *Postgres) Version() string { return "" }

// Explain is not available yet.
func (p *Postgres) Explain(context.Context, Case) (string, error) { return "", ErrNoPostgres }
