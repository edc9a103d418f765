package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/confide-org/confide/internal/audit"
)

// AppendAudit seals e against the last entry and appends it, inside the
// single-writer transaction so that the chain cannot fork.
func (db *DB) AppendAudit(ctx context.Context, e *audit.Entry) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		var last audit.Entry
		err := tx.queryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&last.Seq, &last.Hash)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			audit.Seal(e, nil)
		case err != nil:
			return err
		default:
			audit.Seal(e, &last)
		}
		_, err = tx.exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, object, ip, request_id, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, e.At.UTC().Format(timeLayout), e.Actor, e.Action, e.Object, e.IP, e.RequestID, e.PrevHash, e.Hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: append audit: %w", err)
	}
	return nil
}

// EachAudit calls fn for every audit entry in sequence order.
func (db *DB) EachAudit(ctx context.Context, fn func(audit.Entry) error) error {
	return db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT seq, at, actor, action, object, ip, request_id, prev_hash, hash FROM audit_log ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("store: read audit: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e audit.Entry
			if err := rows.Scan(&e.Seq, nullTime{&e.At}, &e.Actor, &e.Action, &e.Object, &e.IP, &e.RequestID, &e.PrevHash, &e.Hash); err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// RecentAudit returns the newest entries, newest first, for the admin page.
func (db *DB) RecentAudit(ctx context.Context, limit int) ([]audit.Entry, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT seq, at, actor, action, object, ip, request_id, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent audit: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		if err := rows.Scan(&e.Seq, nullTime{&e.At}, &e.Actor, &e.Action, &e.Object, &e.IP, &e.RequestID, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
