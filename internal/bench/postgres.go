package bench

import (
	"context"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

//go:embed peers/postgres_schema.sql
var postgresSchema string

//go:embed peers/postgres_indexes.sql
var postgresIndexes string

// Postgres is the PostgreSQL/PostGIS peer: a GiST index on geography
// points, GIN indexes on the multi-valued fields and on a tsvector, and
// prepared statements (pgx caches them per connection).
type Postgres struct {
	pool   *pgxpool.Pool
	parser *search.Parser
	now    time.Time
}

// NewPostgres loads the public profiles into the database at url (its
// tables are replaced) with COPY, then indexes and analyses them.
func NewPostgres(ctx context.Context, url string, src ProfileSource, tax *taxonomy.Taxonomy, an *search.Analyzer, parser *search.Parser, now time.Time) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, postgresSchema+pgFacetColumns()); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres peer schema: %w", err)
	}
	day := uint64(dayNumber(now))
	var profs, locs, tfs [][]any
	var facetCols []string
	for _, f := range search.Facets() {
		facetCols = append(facetCols, pgColumn(f.Name))
	}
	flush := func() error {
		for _, b := range []struct {
			table string
			cols  []string
			rows  *[][]any
		}{
			{"prof", slices.Concat([]string{"id", "due", "fee_min", "concessions", "availability", "confirmed_at", "doc_len", "rot", "body"}, facetCols), &profs},
			{"loc", []string{"id", "lat", "lon", "wheelchair"}, &locs},
			{"tf", []string{"term", "id", "tf"}, &tfs},
		} {
			if len(*b.rows) == 0 {
				continue
			}
			if _, err := pool.CopyFrom(ctx, pgx.Identifier{b.table}, b.cols, pgx.CopyFromRows(*b.rows)); err != nil {
				return fmt.Errorf("copy %s: %w", b.table, err)
			}
			*b.rows = (*b.rows)[:0]
		}
		return nil
	}
	_, err = src.EachProfile(ctx, func(p *directory.Profile) error {
		if !p.Published || p.Verification.State != directory.Verified || p.Verification.NextCheckDue.IsZero() {
			return nil
		}
		card := search.NewCard(p)
		tf := map[string]int{}
		length := 0
		for _, f := range search.DocumentText(p, tax) {
			an.Terms(f.Text, func(t string) { tf[t] += f.Weight; length += f.Weight })
		}
		terms := make([]string, 0, len(tf))
		for t, n := range tf {
			terms = append(terms, t)
			tfs = append(tfs, []any{t, p.ID, n})
		}
		row := []any{p.ID, p.Verification.NextCheckDue.UTC(), p.FeeMinPence, p.Concessions, string(p.Availability),
			p.AvailabilityConfirmedAt.UTC(), length, rotKey(day, p.ID), strings.Join(terms, " ")}
		for _, f := range search.Facets() {
			row = append(row, nonNil(f.CardValues(card)))
		}
		profs = append(profs, row)
		for _, l := range card.Locations {
			locs = append(locs, []any{p.ID, l.Lat, l.Lon, l.Wheelchair})
		}
		if len(profs) >= 5000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres peer load: %w", err)
	}
	if _, err := pool.Exec(ctx, pgFacetIndexes()+postgresIndexes); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres peer indexes: %w", err)
	}
	return &Postgres{pool: pool, parser: parser, now: now}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Close releases the pool.
func (p *Postgres) Close() error { p.pool.Close(); return nil }

// Name is "postgres".
func (p *Postgres) Name() string { return "postgres" }

// Version reports PostgreSQL's and PostGIS's versions.
func (p *Postgres) Version() string {
	var v, g string
	p.pool.QueryRow(context.Background(), `SELECT version(), postgis_lib_version()`).Scan(&v, &g)
	return v + "; PostGIS " + g
}

// pgBuilt is one query as PostgreSQL SQL.
type pgBuilt struct {
	filters
	args []any
}

func (b *pgBuilt) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// pgColumn is the prof column holding a facet's values: f_<facet>, one
// per facet of the search package's table.
func pgColumn(facet string) string { return "f_" + facet }

// pgFacetColumns adds the facet columns to the prof table of the schema.
func pgFacetColumns() string {
	var b strings.Builder
	for _, f := range search.Facets() {
		fmt.Fprintf(&b, "ALTER TABLE prof ADD COLUMN %s text[] NOT NULL;\n", pgColumn(f.Name))
	}
	return b.String()
}

// pgFacetIndexes indexes every facet column for && and @>.
func pgFacetIndexes() string {
	var b strings.Builder
	for _, f := range search.Facets() {
		fmt.Fprintf(&b, "CREATE INDEX prof_%s ON prof USING gin (%s);\n", pgColumn(f.Name), pgColumn(f.Name))
	}
	return b.String()
}

// havPG is the same haversine as Confide, in SQL.
func havPG(lat, lon float64) string {
	return fmt.Sprintf(`(2 * %g * asin(least(1, sqrt(power(sin(radians(l.lat - %v) / 2), 2) + cos(radians(%v)) * cos(radians(l.lat)) * power(sin(radians(l.lon - %v) / 2), 2)))))`,
		geo.EarthRadiusKm, lat, lat, lon)
}

func tsQuote(t string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", "''") + "'"
}

func (p *Postgres) build(q search.Query) *pgBuilt {
	b := &pgBuilt{filters: filters{q: q, anyOf: map[string]string{}}}
	conds := []string{"p.due >= " + b.arg(q.Now.UTC().Format(time.DateOnly)) + "::date"}
	if !q.Terms.Empty() {
		var parts []string
		for _, t := range q.Terms.Exact {
			parts = append(parts, tsQuote(t))
		}
		last := tsQuote(q.Terms.Last)
		if len(q.Terms.LastRaw) >= search.MinPrefixLen {
			last = "(" + last + " | " + tsQuote(q.Terms.LastRaw) + ":*)"
		}
		parts = append(parts, last)
		conds = append(conds, "p.tsv @@ to_tsquery('simple', "+b.arg(strings.Join(parts, " & "))+")")
	}
	for _, f := range search.Facets() {
		if vals := f.Selected(&q); f.Match == search.AllOf && len(vals) > 0 {
			conds = append(conds, "p."+pgColumn(f.Name)+" @> "+b.arg(vals)+"::text[]")
		}
	}
	if q.Concessions {
		conds = append(conds, "p.concessions")
	}
	if q.Accepting {
		conds = append(conds, "p.availability = 'accepting' AND p.confirmed_at >= "+b.arg(q.Now.Add(-directory.AvailabilityFreshFor).UTC()))
	}
	if q.MaxFeePence >= 0 {
		conds = append(conds, "p.fee_min <= "+b.arg(q.MaxFeePence))
	}
	if q.Point != nil {
		lat, lon := q.Point.Lat, q.Point.Lon
		dist := havPG(lat, lon)
		// ST_DWithin on the sphere finds candidates through the GiST
		// index; the haversine then decides exactly as Confide does.
		within := fmt.Sprintf("ST_DWithin(l.geog, ST_SetSRID(ST_MakePoint(%v, %v), 4326)::geography, %v, false) AND %s <= %v", lon, lat, q.RadiusKm*1000*1.001+10, dist, q.RadiusKm)
		b.ctes = append(b.ctes, "near AS MATERIALIZED (SELECT l.id, min("+dist+") AS d FROM loc l WHERE "+within+" GROUP BY l.id)",
			"nearacc AS MATERIALIZED (SELECT DISTINCT l.id FROM loc l WHERE l.wheelchair AND "+within+")")
		if q.Wheelchair {
			conds = append(conds, "p.id IN (SELECT id FROM nearacc)")
		}
		b.rng = func(formats []string) string {
			parts := []string{"p.id IN (SELECT id FROM near)"}
			var remote []string
			for _, f := range formats {
				if f == taxonomy.FormatOnline || f == taxonomy.FormatPhone {
					remote = append(remote, "'"+f+"'")
				}
			}
			if len(remote) > 0 {
				parts = append(parts, "p."+pgColumn(search.FacetFormat)+" && ARRAY["+strings.Join(remote, ", ")+"]")
			}
			return "(" + strings.Join(parts, " OR ") + ")"
		}
	} else if q.Wheelchair {
		conds = append(conds, "EXISTS (SELECT 1 FROM loc l WHERE l.id = p.id AND l.wheelchair)")
	}
	b.common = strings.Join(conds, " AND ")
	for _, f := range search.Facets() {
		if vals := f.Selected(&q); f.Match == search.AnyOf && len(vals) > 0 {
			b.anyOf[f.Name] = "p." + pgColumn(f.Name) + " && " + b.arg(vals) + "::text[]"
		}
	}
	return b
}

// countsSQL is one statement for the total and every facet's counts.
func (b *pgBuilt) countsSQL() string {
	parts := []string{"SELECT 'total' AS f, '' AS v, count(*) AS n FROM prof p WHERE " + b.where("")}
	parts = append(parts, b.facetCounts(func(facet, where string) string {
		return fmt.Sprintf("SELECT %s, v, count(*) FROM prof p, unnest(p.%s) v WHERE %s GROUP BY v", sqlString(facet), pgColumn(facet), where)
	})...)
	fmtCond := ""
	if b.rng != nil {
		fmtCond = " AND (p.id IN (SELECT id FROM near) OR v IN ('online', 'phone'))"
	}
	parts = append(parts, "SELECT 'format', v, count(*) FROM prof p, unnest(p."+pgColumn(search.FacetFormat)+") v WHERE "+b.where(search.FacetFormat)+fmtCond+" GROUP BY v")
	return with(b.ctes) + strings.Join(parts, "\nUNION ALL\n")
}

// pageSQL selects the page in Confide's order: every order's ties go to
// the day's rotation (rot), never to the id.
func (b *pgBuilt) pageSQL(offset, limit int) string {
	q := b.q
	ctes := append([]string(nil), b.ctes...)
	today := sqlString(q.Now.UTC().Format(time.DateOnly)) + "::date"
	toFloat := func(x string) string { return x + "::float8" }
	keyExpr, order := "NULL::float8", "rot, id"
	switch q.Sort {
	case search.SortDistance:
		keyExpr = "(SELECT min(" + havPG(q.Point.Lat, q.Point.Lon) + ") FROM loc l WHERE l.id = p.id)"
		order = "key IS NULL, key, rot, id"
	case search.SortFee:
		keyExpr, order = "p.fee_min::float8", "key, rot, id"
	case search.SortRelevance:
		keyExpr = bm25SQL(q, today, toFloat, `::text COLLATE "C"`, &ctes)
		order = "key DESC, rot, id"
	case search.SortRecommended:
		covered, bm25, dist := "0", "0::float8", "NULL::float8"
		if len(q.Approaches) > 0 {
			covered = "(SELECT count(*) FROM unnest(p." + pgColumn(search.FacetApproach) + ") a WHERE a IN (" + sqlList(q.Approaches) + "))"
		}
		if !q.Terms.Empty() {
			bm25 = bm25SQL(q, today, toFloat, `::text COLLATE "C"`, &ctes)
		}
		if q.Point != nil {
			dist = "(SELECT min(" + havPG(q.Point.Lat, q.Point.Lon) + ") FROM loc l WHERE l.id = p.id)"
		}
		cutoff := sqlString(q.Now.Add(-directory.AvailabilityFreshFor).UTC().Format(time.RFC3339Nano)) + "::timestamptz"
		fresh := "(CASE WHEN p.availability = 'accepting' AND p.confirmed_at >= " + cutoff + " THEN 1::float8 ELSE 0::float8 END)"
		pgFloat := func(f float64) string { return "(" + floatLit(f) + ")::float8" }
		keyExpr = recommendSQL(q, pgFloat)
		return fmt.Sprintf("%sSELECT id, key FROM (SELECT x.id, x.rot, %s AS key FROM (SELECT p.id, p.rot, %s AS c, %s AS s, %s AS d, %s AS fr FROM prof p WHERE %s) x) s ORDER BY key DESC, rot, id LIMIT %d OFFSET %d",
			with(ctes), keyExpr, covered, bm25, dist, fresh, b.where(""), limit, offset)
	}
	return fmt.Sprintf("%sSELECT id, key FROM (SELECT p.id, p.rot, %s AS key FROM prof p WHERE %s) s ORDER BY %s LIMIT %d OFFSET %d",
		with(ctes), keyExpr, b.where(""), order, limit, offset)
}

// Answer runs one case: one statement for the total and the facets, one
// for the page.
func (p *Postgres) Answer(ctx context.Context, c Case) (Answer, error) {
	q, err := p.parser.Parse(c.Values, p.now)
	if err != nil {
		return Answer{}, err
	}
	b := p.build(q)
	return peerAnswer(ctx, q, b, b.args, p.query)
}

// query runs one statement for peerAnswer.
func (p *Postgres) query(ctx context.Context, sql string, args ...any) (rowSet, func(), error) {
	rows, err := p.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, err
	}
	return rows, rows.Close, nil
}

// Explain returns PostgreSQL's plans for a case's statements.
func (p *Postgres) Explain(ctx context.Context, c Case) (string, error) {
	q, err := p.parser.Parse(c.Values, p.now)
	if err != nil {
		return "", err
	}
	b := p.build(q)
	var out strings.Builder
	for _, stmt := range []string{b.countsSQL(), b.pageSQL(0, q.PerPage)} {
		rows, err := p.pool.Query(ctx, "EXPLAIN "+stmt, b.args...)
		if err != nil {
			return "", err
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return "", err
			}
			out.WriteString(line + "\n")
		}
		rows.Close()
		out.WriteString("--\n")
	}
	return out.String(), nil
}
