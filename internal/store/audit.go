package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/errs"
)

// auditColumns are an entry's columns in the order scanAudit reads them.
const auditColumns = `seq, at, actor, action, object, ip, request_id, prev_hash, hash, mac_version`

// scanAudit reads one row selected with auditColumns.
func scanAudit(row interface{ Scan(...any) error }) (audit.Entry, error) {
	var e audit.Entry
	err := row.Scan(&e.Seq, nullTime{&e.At}, &e.Actor, &e.Action, &e.Object, &e.IP, &e.RequestID, &e.PrevHash, &e.Hash, &e.MACVersion)
	return e, err
}

// AppendAudit appends e to the audit chain. Inside a unit of work (InTx)
// it joins that transaction, so the entry commits with the change it
// records or not at all. Entries are sealed and written at the very end
// of the transaction under the audit lock (a transaction-scoped advisory
// lock on PostgreSQL, the single writer on SQLite), held from reading the
// last entry until commit: with any number of writers each entry links to
// the one committed just before it and the chain stays one line.
func (db *DB) AppendAudit(ctx context.Context, e *audit.Entry) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		tx.audits = append(tx.audits, e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: append audit: %w", err)
	}
	return nil
}

// appendAudits seals and writes the transaction's audit entries; finish
// calls it last.
func (t *Tx) appendAudits(ctx context.Context) error {
	if len(t.audits) == 0 {
		return nil
	}
	if err := t.lock(ctx, lockAudit); err != nil {
		return err
	}
	var last *audit.Entry
	var prev audit.Entry
	err := t.queryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&prev.Seq, &prev.Hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("audit: %w", err)
	default:
		last = &prev
	}
	for _, e := range t.audits {
		if err := audit.Seal(e, last); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.At.UTC().Format(timeLayout), e.Actor, e.Action, e.Object, e.IP, e.RequestID, e.PrevHash, e.Hash, e.MACVersion); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		last = e
	}
	return nil
}

// RekeyAudit implements audit.Rekeyer: when the newest entry is unkeyed,
// it passes every entry, a batch at a time, to relink and writes back the
// new link and version (the one update the append-only guard allows),
// then appends note's entry, all in one transaction under the audit lock,
// so that replicas starting together re-key the chain once.
func (db *DB) RekeyAudit(ctx context.Context, relink func(*audit.Entry) error, note func() *audit.Entry) (int, error) {
	var n int
	err := db.Transact(ctx, func(tx *Tx) error {
		n = 0
		if err := tx.lock(ctx, lockAudit); err != nil {
			return err
		}
		var version int
		err := tx.queryRow(ctx, `SELECT mac_version FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && version != audit.Unkeyed) {
			return nil
		} else if err != nil {
			return err
		}
		const batch = 500
		for after := int64(0); ; {
			entries, err := tx.auditBatch(ctx, after, batch)
			if err != nil {
				return err
			}
			for i := range entries {
				e := &entries[i]
				if err := relink(e); err != nil {
					return err
				}
				if _, err := tx.exec(ctx, `UPDATE audit_log SET prev_hash = ?, hash = ?, mac_version = ? WHERE seq = ?`, e.PrevHash, e.Hash, e.MACVersion, e.Seq); err != nil {
					return err
				}
				after = e.Seq
			}
			n += len(entries)
			if len(entries) < batch {
				break
			}
		}
		tx.audits = append(tx.audits, note())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: re-key audit: %w", err)
	}
	return n, nil
}

// auditBatch reads up to limit entries after seq, in order.
func (t *Tx) auditBatch(ctx context.Context, after int64, limit int) ([]audit.Entry, error) {
	return collectAudit(t.tx.QueryContext(ctx, t.dialect.rebind(`SELECT `+auditColumns+` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`), after, limit))
}

// collectAudit reads every row a query selected with auditColumns.
func collectAudit(rows *sql.Rows, err error) ([]audit.Entry, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EachAudit calls fn for every audit entry in sequence order.
func (db *DB) EachAudit(ctx context.Context, fn func(audit.Entry) error) error {
	return db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("store: read audit: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// AuditHead returns the newest audit entry, or nil when there is none.
func (db *DB) AuditHead(ctx context.Context) (*audit.Entry, error) {
	e, err := scanAudit(db.read.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: audit head: %w", err)
	}
	return &e, nil
}

// AuditEntry returns entry seq, or an error wrapping errs.NotFound.
func (db *DB) AuditEntry(ctx context.Context, seq int64) (*audit.Entry, error) {
	e, err := scanAudit(db.read.QueryRowContext(ctx, db.dialect.rebind(`SELECT `+auditColumns+` FROM audit_log WHERE seq = ?`), seq))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("audit entry %d: %w", seq, errs.NotFound)
	} else if err != nil {
		return nil, fmt.Errorf("store: audit entry %d: %w", seq, err)
	}
	return &e, nil
}

// RecentAudit returns the newest entries, newest first, for the admin page.
func (db *DB) RecentAudit(ctx context.Context, limit int) ([]audit.Entry, error) {
	out, err := collectAudit(db.read.QueryContext(ctx, db.dialect.rebind(`SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT ?`), limit))
	if err != nil {
		return nil, fmt.Errorf("store: recent audit: %w", err)
	}
	return out, nil
}
