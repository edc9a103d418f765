package store

import (
	"context"
	"fmt"
)

// ExecForTest runs one statement on the writer. It exists for tests that
// play an attacker with access to the database file (tampering with the
// audit log) and for operators' break-glass scripts; application code
// never calls it.
func (db *DB) ExecForTest(ctx context.Context, query string) error {
	_, err := db.write.ExecContext(ctx, query)
	return err
}

// QueryForTest runs one query on a reader and returns every value of every
// row as text (bytes as they are, other values formatted with %v). Like
// ExecForTest it is for tests that play someone holding a copy of the
// database, who reads whatever is there.
func (db *DB) QueryForTest(ctx context.Context, query string) ([][]string, error) {
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				row[i] = string(b)
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
