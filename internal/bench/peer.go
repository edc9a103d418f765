package bench

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/confide-org/confide/internal/search"
)

// filters is a query's conditions as SQL, shared by both peers' builders:
// the filters every count shares, the any-of facet filters, and the range
// condition (a practice within the radius, or a requested remote format).
type filters struct {
	q      search.Query
	common string
	anyOf  map[string]string // facet → condition
	rng    func(formats []string) string
	ctes   []string
}

// where is the result set's condition without facet skip's own filter
// ("" for none), which is how each facet is counted.
func (f *filters) where(skip string) string {
	conds := []string{f.common}
	for name, c := range f.anyOf {
		if name != skip {
			conds = append(conds, c)
		}
	}
	if f.rng != nil && skip != search.FacetFormat {
		conds = append(conds, f.rng(f.q.Formats))
	}
	return strings.Join(conds, " AND ")
}

// facetCounts renders, with one, the counting statement of every facet
// but formats (which each peer counts with its range rule): an any-of
// facet is counted without its own filter, an all-of one within the
// results.
func (f *filters) facetCounts(one func(facet, where string) string) []string {
	var out []string
	for _, fc := range search.Facets() {
		skip := fc.Name
		switch {
		case fc.Name == search.FacetFormat:
			continue
		case fc.Match == search.AllOf:
			skip = ""
		}
		out = append(out, one(fc.Name, f.where(skip)))
	}
	return out
}

// with renders common table expressions.
func with(ctes []string) string {
	if len(ctes) == 0 {
		return ""
	}
	return "WITH " + strings.Join(ctes, ",\n") + "\n"
}

// rowSet is what both drivers' results offer (database/sql and pgx).
type rowSet interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// statements are a peer's SQL for one query: totals and facet counts in
// one statement, the page in another.
type statements interface {
	countsSQL() string
	pageSQL(offset, limit int) string
}

// peerAnswer runs a peer's counts statement, then its page statement
// unless the page lies past the end, and assembles the Answer. query runs
// one statement and returns its rows and how to close them.
func peerAnswer(ctx context.Context, q search.Query, st statements, args []any,
	query func(ctx context.Context, sql string, args ...any) (rowSet, func(), error)) (Answer, error) {
	a := Answer{Facets: map[string]map[string]int{}}
	rows, done, err := query(ctx, st.countsSQL(), args...)
	if err != nil {
		return a, fmt.Errorf("counts: %w", err)
	}
	for rows.Next() {
		var f, v string
		var n int64
		if err := rows.Scan(&f, &v, &n); err != nil {
			done()
			return a, err
		}
		a.addCount(f, v, int(n))
	}
	done()
	if err := rows.Err(); err != nil {
		return a, err
	}
	offset := (q.Page - 1) * q.PerPage
	if offset >= a.Total {
		return a, nil
	}
	if rows, done, err = query(ctx, st.pageSQL(offset, q.PerPage), args...); err != nil {
		return a, fmt.Errorf("page: %w", err)
	}
	defer done()
	for rows.Next() {
		var id int64
		var key *float64
		if err := rows.Scan(&id, &key); err != nil {
			return a, err
		}
		a.addHit(q, id, key)
	}
	return a, rows.Err()
}

// addCount records one row of a peer's counts statement.
func (a *Answer) addCount(f, v string, n int) {
	if f == "total" {
		a.Total = n
		return
	}
	if a.Facets[f] == nil {
		a.Facets[f] = map[string]int{}
	}
	if n > 0 {
		a.Facets[f][v] = n
	}
}

// addHit records one row of a peer's page, keeping the sort key where the
// order has one (distance, relevance or the recommended score).
func (a *Answer) addHit(q search.Query, id int64, key *float64) {
	k := math.NaN()
	if key != nil && (q.Sort == search.SortDistance || q.Sort == search.SortRelevance || q.Sort == search.SortRecommended) {
		k = *key
	}
	a.IDs = append(a.IDs, id)
	a.Keys = append(a.Keys, k)
}

// bm25SQL is Confide's BM25 as an SQL expression over prof p, adding its
// common table expressions to ctes: collection statistics over the public
// profiles, each exact term scored on its own, the last word's terms (its
// stem and every term it is a prefix of) scored together. today is a date
// literal, toReal casts an integer expression, and termCast makes the
// last-word literal compare as the tf table's terms do.
func bm25SQL(q search.Query, today string, toReal func(string) string, termCast string, ctes *[]string) string {
	n := "CASE WHEN COUNT(*) > 0 THEN COUNT(*) ELSE 1 END"
	*ctes = append(*ctes, "stats AS MATERIALIZED (SELECT "+toReal("COUNT(*)")+" AS n, "+toReal("SUM(doc_len)")+" / "+n+" AS avgdl FROM prof WHERE due >= "+today+")")
	lastTerms := "SELECT " + sqlString(q.Terms.Last) + termCast + " AS term"
	if len(q.Terms.LastRaw) >= search.MinPrefixLen {
		lastTerms += " UNION SELECT DISTINCT term FROM tf WHERE term >= " + sqlString(q.Terms.LastRaw) + " AND term < " + sqlString(q.Terms.LastRaw+"\U0010FFFF")
	}
	// Listing the last word's terms first lets every lookup below use the
	// (term, id) key.
	*ctes = append(*ctes, "lastterms AS MATERIALIZED ("+lastTerms+")")
	norm := "(1.2 * (1 - 0.75 + 0.75 * p.doc_len / (SELECT avgdl FROM stats)))"
	score := func(df, tf string) string {
		idf := "ln(1 + ((SELECT n FROM stats) - " + df + " + 0.5) / (" + df + " + 0.5))"
		return fmt.Sprintf("%s * %s * 2.2 / (%s + %s)", idf, tf, tf, norm)
	}
	var terms []string
	for i, t := range q.Terms.Exact {
		name := fmt.Sprintf("e%d", i)
		*ctes = append(*ctes, fmt.Sprintf("%s AS MATERIALIZED (SELECT %s AS df FROM tf t JOIN prof x ON x.id = t.id WHERE t.term = %s AND x.due >= %s)", name, toReal("COUNT(*)"), sqlString(t), today))
		terms = append(terms, score("(SELECT df FROM "+name+")", fmt.Sprintf("COALESCE((SELECT t.tf FROM tf t WHERE t.term = %s AND t.id = p.id), 0)", sqlString(t))))
	}
	*ctes = append(*ctes, "lastdf AS MATERIALIZED (SELECT "+toReal("COUNT(DISTINCT t.id)")+" AS df FROM tf t JOIN prof x ON x.id = t.id WHERE t.term IN (SELECT term FROM lastterms) AND x.due >= "+today+")")
	terms = append(terms, score("(SELECT df FROM lastdf)", "COALESCE((SELECT SUM(t.tf) FROM tf t WHERE t.term IN (SELECT term FROM lastterms) AND t.id = p.id), 0)"))
	return "(" + strings.Join(terms, " + ") + ")"
}

// floatLit renders f as a literal both engines read as a float (SQLite
// takes "3" as an integer, so a point is added).
func floatLit(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// recommendParts are the SQL expressions, over prof p, of the recommended
// order's inputs: the number of asked approaches the profile offers, its
// BM25 score (float 0 without words), the distance to its nearest practice
// (NULL without one or without a search point) and whether its
// availability is fresh (float 1 or 0).
type recommendParts struct {
	covered, bm25, dist, fresh string
}

// recommendSQL is Confide's recommended score (search.RecWeightMatch and
// the constants beside it) over a subquery x holding recommendParts as
// columns c, s, d and fr. float renders a float literal in the dialect.
// The steps are those of the index, in its order, so that each engine
// rounds exactly as Go does.
func recommendSQL(q search.Query, float func(float64) string) string {
	f := float
	asked := len(q.Issues) + len(q.Approaches)
	match := f(0)
	if asked > 0 {
		// Results have every asked issue: the filter requires them all.
		match = fmt.Sprintf("(%s + x.c) / %s", f(float64(len(q.Issues))), f(float64(asked)))
	}
	text := f(0)
	if !q.Terms.Empty() {
		text = fmt.Sprintf("(x.s / (x.s + %s))", f(search.RecTextHalf))
	}
	near := f(0)
	if q.Point != nil {
		near = fmt.Sprintf("(CASE WHEN x.d IS NULL THEN %s ELSE %s / (%s + x.d / %s) END)", f(0), f(1), f(1), f(search.RecNearHalfKm))
	}
	return fmt.Sprintf("(((%s * %s + %s * %s) + %s * %s) + %s * x.fr)",
		f(search.RecWeightMatch), match, f(search.RecWeightText), text, f(search.RecWeightNear), near, f(search.RecWeightFresh))
}
