package store

import (
	"context"
	"database/sql"
	"fmt"
)

// stream reads the rows of one query in order, scanning each into a T,
// while other streams of the same read transaction are open too: the
// profile loader merges a profile query with three child queries, all
// ordered by profile id, in one pass.
//
// SQLite lets one connection step several statements at once, so there a
// stream is just *sql.Rows. PostgreSQL's wire protocol runs one query at a
// time per connection, so there each stream is a server-side cursor
// (DECLARE … CURSOR inside the read transaction, which keeps its one
// snapshot) read in batches with FETCH, each batch scanned and closed
// before any other stream asks for more.
type stream[T any] struct {
	ctx   context.Context
	tx    *sql.Tx
	scan  func(*sql.Rows, *T) (int64, error)
	rows  *sql.Rows // SQLite: the live result
	name  string    // PostgreSQL: the cursor's name
	batch int
	buf   []keyed[T]
	pos   int
	done  bool
	cur   keyed[T]
	err   error
}

type keyed[T any] struct {
	id  int64
	val T
}

// streamBatch is how many rows one FETCH brings.
const streamBatch = 1000

// openStream starts query (with "?" placeholders) in tx. n names the
// cursor uniquely within the transaction.
func openStream[T any](ctx context.Context, tx *sql.Tx, d dialect, n int, query string, args []any, scan func(*sql.Rows, *T) (int64, error)) (*stream[T], error) {
	s := &stream[T]{ctx: ctx, tx: tx, scan: scan, batch: streamBatch}
	if d.name != postgresDialect.name {
		rows, err := tx.QueryContext(ctx, d.rebind(query), args...)
		if err != nil {
			return nil, err
		}
		s.rows = rows
		return s, nil
	}
	if len(args) > 0 {
		// A filtered query (one profile's rows) is small: read it whole
		// now, in one round trip, rather than through a cursor.
		rows, err := tx.QueryContext(ctx, d.rebind(query), args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var k keyed[T]
			if k.id, err = scan(rows, &k.val); err != nil {
				return nil, err
			}
			s.buf = append(s.buf, k)
		}
		s.done = true
		return s, rows.Err()
	}
	s.name = fmt.Sprintf("confide_stream_%d", n)
	if _, err := tx.ExecContext(ctx, `DECLARE `+s.name+` NO SCROLL CURSOR FOR `+d.rebind(query), args...); err != nil {
		return nil, err
	}
	return s, nil
}

// Next moves to the next row; false at the end or on an error (see Err).
func (s *stream[T]) Next() bool {
	if s.err != nil {
		return false
	}
	if s.rows != nil {
		if !s.rows.Next() {
			s.err = s.rows.Err()
			return false
		}
		s.cur = keyed[T]{}
		s.cur.id, s.err = s.scan(s.rows, &s.cur.val)
		return s.err == nil
	}
	if s.pos == len(s.buf) {
		if s.done || !s.fetch() {
			return false
		}
	}
	s.cur = s.buf[s.pos]
	s.pos++
	return true
}

// fetch reads the next batch from the cursor into buf.
func (s *stream[T]) fetch() bool {
	rows, err := s.tx.QueryContext(s.ctx, fmt.Sprintf(`FETCH FORWARD %d FROM %s`, s.batch, s.name))
	if err != nil {
		s.err = err
		return false
	}
	defer rows.Close()
	s.buf, s.pos = s.buf[:0], 0
	for rows.Next() {
		var k keyed[T]
		if k.id, err = s.scan(rows, &k.val); err != nil {
			s.err = err
			return false
		}
		s.buf = append(s.buf, k)
	}
	if s.err = rows.Err(); s.err != nil {
		return false
	}
	s.done = len(s.buf) < s.batch
	return len(s.buf) > 0
}

// Row returns the current row's profile id and value.
func (s *stream[T]) Row() (int64, T) { return s.cur.id, s.cur.val }

// Err is the error that stopped the stream, if any.
func (s *stream[T]) Err() error { return s.err }

// Close releases the stream; a cursor ends with its transaction anyway.
func (s *stream[T]) Close() {
	if s != nil && s.rows != nil {
		s.rows.Close()
	}
}
