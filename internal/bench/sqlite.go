package bench

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

//go:embed peers/sqlite_schema.sql
var sqliteSchema string

//go:embed peers/sqlite_indexes.sql
var sqliteIndexes string

// ProfileSource streams profiles (the store).
type ProfileSource interface {
	EachProfile(ctx context.Context, fn func(*directory.Profile) error) (int64, error)
}

// SQLite is the SQLite peer: R*Tree for places, FTS5 for words, SQL for
// everything else, in one database file.
type SQLite struct {
	db     *sql.DB
	parser *search.Parser
	now    time.Time
	path   string
}

// rotKey stores a rotation key so that SQLite's signed order is the
// unsigned order.
func rotKey(day uint64, id int64) int64 { return int64(search.RotationKey(day, id) ^ (1 << 63)) }

// NewSQLite builds the peer's database at path from src.
func NewSQLite(ctx context.Context, path string, src ProfileSource, tax *taxonomy.Taxonomy, an *search.Analyzer, parser *search.Parser, now time.Time) (*SQLite, error) {
	_ = os.Remove(path)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	for _, stmt := range splitSQL(sqliteSchema) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlite peer schema: %w", err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	prep := func(q string) *sql.Stmt {
		s, e := tx.PrepareContext(ctx, q)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	insProf := prep(`INSERT INTO prof (id, due, fee_min, concessions, availability, confirmed_at, doc_len, rot) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	insFacet := prep(`INSERT OR IGNORE INTO facet (f, v, id) VALUES (?, ?, ?)`)
	insLoc := prep(`INSERT INTO loc (id, lat, lon, wheelchair) VALUES (?, ?, ?, ?)`)
	insRT := prep(`INSERT INTO loc_rt (lid, min_lat, max_lat, min_lon, max_lon) VALUES (?, ?, ?, ?, ?)`)
	insFTS := prep(`INSERT INTO fts (rowid, body) VALUES (?, ?)`)
	insTF := prep(`INSERT INTO tf (term, id, tf) VALUES (?, ?, ?)`)
	if err != nil {
		tx.Rollback()
		db.Close()
		return nil, err
	}
	day := uint64(dayNumber(now))
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
		if _, err := insProf.ExecContext(ctx, p.ID, p.Verification.NextCheckDue.UTC().Format(time.DateOnly), p.FeeMinPence, p.Concessions,
			string(p.Availability), p.AvailabilityConfirmedAt.UTC().Format(fixedTime), length, rotKey(day, p.ID)); err != nil {
			return err
		}
		for _, f := range search.Facets() {
			for _, v := range f.CardValues(card) {
				if _, err := insFacet.ExecContext(ctx, f.Name, v, p.ID); err != nil {
					return err
				}
			}
		}
		for _, l := range card.Locations {
			res, err := insLoc.ExecContext(ctx, p.ID, l.Lat, l.Lon, l.Wheelchair)
			if err != nil {
				return err
			}
			lid, _ := res.LastInsertId()
			if _, err := insRT.ExecContext(ctx, lid, l.Lat, l.Lat, l.Lon, l.Lon); err != nil {
				return err
			}
		}
		terms := make([]string, 0, len(tf))
		for t, n := range tf {
			terms = append(terms, t)
			if _, err := insTF.ExecContext(ctx, t, p.ID, n); err != nil {
				return err
			}
		}
		sort.Strings(terms)
		_, err := insFTS.ExecContext(ctx, p.ID, strings.Join(terms, " "))
		return err
	})
	if err != nil {
		tx.Rollback()
		db.Close()
		return nil, fmt.Errorf("sqlite peer load: %w", err)
	}
	if err := tx.Commit(); err != nil {
		db.Close()
		return nil, err
	}
	for _, stmt := range splitSQL(sqliteIndexes) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlite peer indexes: %w", err)
		}
	}
	db.SetMaxOpenConns(4)
	return &SQLite{db: db, parser: parser, now: now, path: path}, nil
}

// fixedTime is a fixed-width UTC layout, so that times compare as text.
const fixedTime = "2006-01-02T15:04:05.000000000Z"

func dayNumber(t time.Time) int64 { return int64(math.Floor(float64(t.Unix()) / 86400)) }

func splitSQL(s string) []string {
	var out []string
	for _, stmt := range strings.Split(s, ";") {
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			out = append(out, strings.Join(lines, "\n"))
		}
	}
	return out
}

// Close removes the peer's database.
func (s *SQLite) Close() error {
	err := s.db.Close()
	os.Remove(s.path)
	return err
}

// Name is "sqlite".
func (s *SQLite) Name() string { return "sqlite" }

// Version is SQLite's version.
func (s *SQLite) Version() string {
	var v string
	s.db.QueryRow(`SELECT sqlite_version()`).Scan(&v)
	return "SQLite " + v + " (modernc.org/sqlite)"
}

// haversine in SQL, with the same earth radius as Confide.
const havSQL = `2 * %[3]g * asin(min(1, sqrt(power(sin(radians(l.lat - %[1]s) / 2), 2) + cos(radians(%[1]s)) * cos(radians(l.lat)) * power(sin(radians(l.lon - %[2]s) / 2), 2))))`

// built is one query turned into SQL pieces.
type built struct {
	filters
	args []any
}

// arg binds v as a numbered parameter, so that a condition repeated in
// several parts of one statement reuses its value.
func (b *built) arg(v any) string { b.args = append(b.args, v); return fmt.Sprintf("?%d", len(b.args)) }

func quoteFTS(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` }

// build translates a parsed query into SQL that reproduces Confide's
// semantics exactly: public as of now, all-of issues, any-of other facets
// (each facet counted without its own filter), radius by R*Tree then
// haversine, remote formats in range, fresh availability, fee, text by
// FTS5 with Confide's BM25.
func (s *SQLite) build(q search.Query) *built {
	b := &built{filters: filters{q: q, anyOf: map[string]string{}}}
	today := q.Now.UTC().Format(time.DateOnly)
	conds := []string{"p.due >= " + b.arg(today)}
	if !q.Terms.Empty() {
		var parts []string
		for _, t := range q.Terms.Exact {
			parts = append(parts, quoteFTS(t))
		}
		last := quoteFTS(q.Terms.Last)
		if len(q.Terms.LastRaw) >= search.MinPrefixLen {
			last = "(" + last + " OR " + quoteFTS(q.Terms.LastRaw) + "*)"
		}
		parts = append(parts, last)
		conds = append(conds, "p.id IN (SELECT rowid FROM fts WHERE fts MATCH "+b.arg(strings.Join(parts, " AND "))+")")
	}
	for _, f := range search.Facets() {
		if f.Match == search.AllOf {
			for _, v := range f.Selected(&q) {
				conds = append(conds, "p.id IN (SELECT id FROM facet WHERE f = "+sqlString(f.Name)+" AND v = "+b.arg(v)+")")
			}
		}
	}
	if q.Concessions {
		conds = append(conds, "p.concessions = 1")
	}
	if q.Accepting {
		cutoff := q.Now.Add(-directory.AvailabilityFreshFor).UTC().Format(fixedTime)
		conds = append(conds, "p.availability = 'accepting' AND p.confirmed_at >= "+b.arg(cutoff))
	}
	if q.MaxFeePence >= 0 {
		conds = append(conds, "p.fee_min <= "+b.arg(q.MaxFeePence))
	}
	if q.Point != nil {
		lat, lon := q.Point.Lat, q.Point.Lon
		dLat := q.RadiusKm / (math.Pi / 180 * geo.EarthRadiusKm)
		maxLat := math.Min(89.9, math.Abs(lat)+dLat)
		dLon := math.Min(180, dLat/math.Cos(maxLat*math.Pi/180))
		dist := fmt.Sprintf(havSQL, fmt.Sprint(lat), fmt.Sprint(lon), geo.EarthRadiusKm)
		b.ctes = append(b.ctes, fmt.Sprintf(`near AS MATERIALIZED (SELECT l.id, MIN(%s) AS d, MAX(l.wheelchair) AS acc_any FROM loc_rt r JOIN loc l ON l.lid = r.lid
			WHERE r.min_lat >= %g AND r.max_lat <= %g AND r.min_lon >= %g AND r.max_lon <= %g AND %s <= %g GROUP BY l.id)`,
			dist, lat-dLat, lat+dLat, lon-dLon, lon+dLon, dist, q.RadiusKm))
		b.ctes = append(b.ctes, fmt.Sprintf(`nearacc AS MATERIALIZED (SELECT DISTINCT l.id FROM loc_rt r JOIN loc l ON l.lid = r.lid
			WHERE l.wheelchair = 1 AND r.min_lat >= %g AND r.max_lat <= %g AND r.min_lon >= %g AND r.max_lon <= %g AND %s <= %g)`,
			lat-dLat, lat+dLat, lon-dLon, lon+dLon, dist, q.RadiusKm))
		if q.Wheelchair {
			conds = append(conds, "p.id IN (SELECT id FROM nearacc)")
		}
		b.rng = func(formats []string) string {
			parts := []string{"p.id IN (SELECT id FROM near)"}
			for _, f := range formats {
				if f == taxonomy.FormatOnline || f == taxonomy.FormatPhone {
					parts = append(parts, "p.id IN (SELECT id FROM facet WHERE f = 'format' AND v = '"+f+"')")
				}
			}
			return "(" + strings.Join(parts, " OR ") + ")"
		}
	} else if q.Wheelchair {
		conds = append(conds, "p.id IN (SELECT id FROM loc WHERE wheelchair = 1)")
	}
	b.common = strings.Join(conds, " AND ")
	for _, f := range search.Facets() {
		if vals := f.Selected(&q); f.Match == search.AnyOf && len(vals) > 0 {
			b.anyOf[f.Name] = "p.id IN (SELECT id FROM facet WHERE f = " + sqlString(f.Name) + " AND v IN (" + sqlList(vals) + "))"
		}
	}
	return b
}

// countsSQL is one statement for the total and every facet's counts.
func (b *built) countsSQL() string {
	parts := []string{"SELECT 'total' AS f, '' AS v, COUNT(*) AS n FROM prof p WHERE " + b.where("")}
	parts = append(parts, b.facetCounts(func(facet, where string) string {
		return fmt.Sprintf("SELECT fc.f, fc.v, COUNT(*) FROM prof p JOIN facet fc ON fc.id = p.id AND fc.f = %s WHERE %s GROUP BY fc.v", sqlString(facet), where)
	})...)
	fmtCond := ""
	if b.rng != nil {
		fmtCond = " AND (p.id IN (SELECT id FROM near) OR fc.v IN ('online', 'phone'))"
	}
	parts = append(parts, "SELECT fc.f, fc.v, COUNT(*) FROM prof p JOIN facet fc ON fc.id = p.id AND fc.f = 'format' WHERE "+b.where(search.FacetFormat)+fmtCond+" GROUP BY fc.v")
	return with(b.ctes) + strings.Join(parts, "\nUNION ALL\n")
}

// pageSQL selects the requested page in Confide's order: every order's
// ties go to the day's rotation (p.rot), never to the id.
func (b *built) pageSQL(offset, limit int) string {
	q := b.q
	ctes := append([]string(nil), b.ctes...)
	today := sqlString(q.Now.UTC().Format(time.DateOnly))
	toReal := func(x string) string { return "CAST(" + x + " AS REAL)" }
	// Distance to the nearest practice (all practices, not only those in
	// the radius), NULL for remote-only profiles.
	distSQL := func() string {
		dist := fmt.Sprintf(havSQL, fmt.Sprint(q.Point.Lat), fmt.Sprint(q.Point.Lon), geo.EarthRadiusKm)
		return "(SELECT MIN(" + dist + ") FROM loc l WHERE l.id = p.id)"
	}
	keyExpr, order := "NULL", "p.rot, p.id"
	switch q.Sort {
	case search.SortDistance:
		keyExpr = distSQL()
		order = "key IS NULL, key, p.rot, p.id"
	case search.SortFee:
		keyExpr, order = "p.fee_min", "p.fee_min, p.rot, p.id"
	case search.SortRelevance:
		keyExpr = bm25SQL(q, today, toReal, "", &ctes)
		order = "key DESC, p.rot, p.id"
	case search.SortRecommended:
		parts := recommendParts{covered: "0", bm25: "0.0", dist: "NULL",
			fresh: "(CASE WHEN p.availability = 'accepting' AND p.confirmed_at >= " + sqlString(q.Now.Add(-directory.AvailabilityFreshFor).UTC().Format(fixedTime)) + " THEN 1.0 ELSE 0.0 END)"}
		if len(q.Approaches) > 0 {
			parts.covered = "(SELECT COUNT(*) FROM facet fa WHERE fa.f = 'approach' AND fa.id = p.id AND fa.v IN (" + sqlList(q.Approaches) + "))"
		}
		if !q.Terms.Empty() {
			parts.bm25 = bm25SQL(q, today, toReal, "", &ctes)
		}
		if q.Point != nil {
			parts.dist = distSQL()
		}
		return fmt.Sprintf("%sSELECT x.id, %s AS key FROM (SELECT p.id, p.rot, %s AS c, %s AS s, %s AS d, %s AS fr FROM prof p WHERE %s) x ORDER BY key DESC, x.rot, x.id LIMIT %d OFFSET %d",
			with(ctes), recommendSQL(q, floatLit), parts.covered, parts.bm25, parts.dist, parts.fresh, b.where(""), limit, offset)
	}
	return fmt.Sprintf("%sSELECT p.id, %s AS key FROM prof p WHERE %s ORDER BY %s LIMIT %d OFFSET %d", with(ctes), keyExpr, b.where(""), order, limit, offset)
}

// sqlList renders strings as an SQL list of literals.
func sqlList(vals []string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = sqlString(v)
	}
	return strings.Join(out, ", ")
}

// Answer runs one case: a statement for the total and every facet, and
// one for the page.
func (s *SQLite) Answer(ctx context.Context, c Case) (Answer, error) {
	q, err := s.parser.Parse(c.Values, s.now)
	if err != nil {
		return Answer{}, err
	}
	b := s.build(q)
	return peerAnswer(ctx, q, b, b.args, s.query)
}

// query runs one statement for peerAnswer.
func (s *SQLite) query(ctx context.Context, sql string, args ...any) (rowSet, func(), error) {
	rows, err := s.db.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, nil, err
	}
	return rows, func() { rows.Close() }, nil
}

// Explain returns SQLite's query plans for a case's statements.
func (s *SQLite) Explain(ctx context.Context, c Case) (string, error) {
	q, err := s.parser.Parse(c.Values, s.now)
	if err != nil {
		return "", err
	}
	b := s.build(q)
	var out strings.Builder
	for _, stmt := range []string{b.countsSQL(), b.pageSQL(0, q.PerPage)} {
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+stmt, b.args...)
		if err != nil {
			return "", err
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				rows.Close()
				return "", err
			}
			fmt.Fprintf(&out, "%s\n", detail)
		}
		rows.Close()
		out.WriteString("--\n")
	}
	return out.String(), nil
}
