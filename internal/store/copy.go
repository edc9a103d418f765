package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// copyTables lists every table of the schema in an order that satisfies
// foreign keys, with what a copy between engines must know of it: which
// columns are flags (INTEGER in SQLite, boolean in PostgreSQL) or
// calendar dates, and which column, if any, is an identity whose sequence
// must be moved past the copied rows.
var copyTables = []struct {
	name, order, identity string
	bools, dates          []string
}{
	{name: "users", order: "id", identity: "id"},
	{name: "user_roles", order: "user_id, role"},
	{name: "account_tokens", order: "hash"},
	{name: "sessions", order: "hash"},
	{name: "profiles", order: "id", identity: "id", bools: []string{"concessions", "published"}, dates: []string{"next_check_due", "insurance_until"}},
	{name: "profile_memberships", order: "profile_id, position"},
	{name: "profile_terms", order: "profile_id, kind, position"},
	{name: "practice_locations", order: "profile_id, position", bools: []string{"wheelchair"}},
	{name: "profile_changes", order: "seq", identity: "seq"},
	{name: "register_entries", order: "body, number"},
	{name: "verification_requests", order: "id", identity: "id", dates: []string{"insurance_expires"}},
	{name: "verification_reminders", order: "profile_id, due, kind", dates: []string{"due"}},
	{name: "register_lapses", order: "body, number"},
	{name: "profile_photos", order: "profile_id"},
	{name: "profile_photo_images", order: "profile_id, size"},
	{name: "audit_log", order: "seq"},
	{name: "contributors", order: "id", identity: "id", bools: []string{"panel"}},
	{name: "articles", order: "id", identity: "id"},
	{name: "article_revisions", order: "id", identity: "id", dates: []string{"next_review_due"}},
	{name: "article_review_reminders", order: "article_id, due, kind", dates: []string{"due"}},
	{name: "enquiries", order: "id"},
	{name: "outbox", order: "id"},
	{name: "rate_limits", order: "key"},
	{name: "job_runs", order: "job, tick"},
}

// TableCount is one table's row count.
type TableCount struct {
	Table string
	Rows  int64
}

// Counts counts the rows of every table, in copy order.
func (db *DB) Counts(ctx context.Context) ([]TableCount, error) {
	var out []TableCount
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = countTables(ctx, tx)
		return err
	})
	return out, err
}

func countTables(ctx context.Context, tx *sql.Tx) ([]TableCount, error) {
	out := make([]TableCount, 0, len(copyTables))
	for _, t := range copyTables {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.name).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.name, err)
		}
		out = append(out, TableCount{t.name, n})
	}
	return out, nil
}

// ErrTargetNotEmpty is CopyTo's refusal to mix two directories.
var ErrTargetNotEmpty = fmt.Errorf("the target database already holds data")

// CopyTo copies every row of every table of db into dst, byte for byte
// where the engines agree (sealed enquiries stay sealed, audit hashes are
// carried unchanged) and converting flags and times where they differ,
// from one consistent snapshot of db and in one transaction on dst. dst
// must be empty unless replace is set, in which case (PostgreSQL only)
// everything in it is removed first, inside the same transaction.
//
// It returns each table's row count in the snapshot it copied: a source
// still being written to (a job, a replica left running) has moved on by
// the time a later count is taken, and the check must compare the copy
// with what was copied.
func (db *DB) CopyTo(ctx context.Context, dst *DB, replace bool) ([]TableCount, error) {
	counts, err := dst.Counts(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	empty := true
	for _, c := range counts {
		if c.Rows > 0 {
			empty = false
		}
	}
	if !empty && !replace {
		return nil, ErrTargetNotEmpty
	}
	if !empty && dst.dialect.name != postgresDialect.name {
		return nil, fmt.Errorf("copy: replacing a SQLite target is not supported: remove the file instead")
	}
	var copied []TableCount
	err = db.readTx(ctx, func(src *sql.Tx) error {
		var err error
		if copied, err = countTables(ctx, src); err != nil {
			return err
		}
		return dst.Transact(ctx, func(tx *Tx) error {
			if !empty {
				names := make([]string, len(copyTables))
				for i, t := range copyTables {
					names[i] = t.name
				}
				for _, q := range []string{
					`ALTER TABLE audit_log DISABLE TRIGGER USER`,
					`TRUNCATE ` + strings.Join(names, ", ") + ` RESTART IDENTITY`,
					`ALTER TABLE audit_log ENABLE TRIGGER USER`,
				} {
					if _, err := tx.exec(ctx, q); err != nil {
						return fmt.Errorf("empty the target: %w", err)
					}
				}
			}
			for _, t := range copyTables {
				if err := copyTable(ctx, src, db.dialect, tx, t.name, t.order, t.bools, t.dates); err != nil {
					return fmt.Errorf("copy %s: %w", t.name, err)
				}
				if t.identity != "" && tx.dialect.name == postgresDialect.name {
					if _, err := tx.exec(ctx, `SELECT setval(pg_get_serial_sequence('`+t.name+`', '`+t.identity+`'), GREATEST((SELECT MAX(`+t.identity+`) FROM `+t.name+`), 1))`); err != nil {
						return fmt.Errorf("identity of %s: %w", t.name, err)
					}
				}
			}
			// New contents under an old name would let a cache of the
			// old contents (an index snapshot) pass for current.
			return renewIdentity(ctx, tx)
		})
	})
	if err != nil {
		return nil, err
	}
	return copied, nil
}

func copyTable(ctx context.Context, src *sql.Tx, from dialect, tx *Tx, table, order string, bools, dates []string) error {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY `+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	isBool, isDate := make([]bool, len(cols)), make([]bool, len(cols))
	for i, c := range cols {
		for _, b := range bools {
			isBool[i] = isBool[i] || b == c
		}
		for _, d := range dates {
			isDate[i] = isDate[i] || d == c
		}
	}
	stmt, err := tx.prepare(ctx, `INSERT INTO `+table+` (`+strings.Join(cols, ", ")+`) VALUES (`+strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+`)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			vals[i] = convertValue(v, isBool[i], isDate[i], tx.dialect)
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// convertValue turns a value read from one engine into what the other
// stores: flags become booleans (or 0/1), times the fixed-width UTC text
// SQLite keeps (or stay time.Time for PostgreSQL).
func convertValue(v any, isBool, isDate bool, to dialect) any {
	switch x := v.(type) {
	case int64:
		if isBool && to.name == postgresDialect.name {
			return x != 0
		}
	case time.Time:
		if to.name == postgresDialect.name {
			return x
		}
		if isDate {
			return x.UTC().Format(dateLayout)
		}
		return x.UTC().Format(timeLayout)
	}
	return v
}
