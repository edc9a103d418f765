package store

import (
	"context"
	"fmt"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/importer"
)

// RegisterEntries reads every imported register membership, for an
// import to tell new rows from changed and unchanged ones.
func (db *DB) RegisterEntries(ctx context.Context) (map[importer.Key]importer.Existing, error) {
	// Claimed: the owner has chosen a password (an invited account that
	// never did is still the import's to change).
	rows, err := db.read.QueryContext(ctx, `SELECT r.body, r.number, r.profile_id, r.digest,
		CASE WHEN u.password_hash IS NOT NULL AND u.password_hash <> '' THEN 1 ELSE 0 END
		FROM register_entries r JOIN profiles p ON p.id = r.profile_id LEFT JOIN users u ON u.id = p.owner_id`)
	if err != nil {
		return nil, fmt.Errorf("store: register entries: %w", err)
	}
	defer rows.Close()
	out := map[importer.Key]importer.Existing{}
	for rows.Next() {
		var k importer.Key
		var e importer.Existing
		var claimed int
		if err := rows.Scan(&k.Body, &k.Number, &e.ProfileID, &e.Digest, &claimed); err != nil {
			return nil, fmt.Errorf("store: register entries: %w", err)
		}
		e.Claimed = claimed == 1
		out[k] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: register entries: %w", err)
	}
	return out, nil
}

// PutRegisterEntry records (or moves on) the import row behind a profile.
func (db *DB) PutRegisterEntry(ctx context.Context, k importer.Key, profileID int64, digest string, now time.Time) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO register_entries (body, number, profile_id, digest, imported_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (body, number) DO UPDATE SET profile_id = excluded.profile_id, digest = excluded.digest, imported_at = excluded.imported_at`,
			k.Body, k.Number, profileID, digest, timeArg(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put register entry: %w", err)
	}
	return nil
}

// HeldMemberships lists every profile's membership of body (memberships
// are only those a verifier approved), with what a register sync needs to
// plan: the profile's state and how many memberships it holds, and where
// to write to its therapist (their account's address, else the profile's
// contact address).
func (db *DB) HeldMemberships(ctx context.Context, body string) ([]importer.Held, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT m.profile_id, p.slug, m.membership_number, m.level, p.verification_state,
		(SELECT COUNT(*) FROM profile_memberships o WHERE o.profile_id = m.profile_id),
		COALESCE(NULLIF(u.email, ''), p.contact_email)
		FROM profile_memberships m JOIN profiles p ON p.id = m.profile_id LEFT JOIN users u ON u.id = p.owner_id
		WHERE m.body = ? ORDER BY m.profile_id`), body)
	if err != nil {
		return nil, fmt.Errorf("store: held memberships: %w", err)
	}
	defer rows.Close()
	var out []importer.Held
	for rows.Next() {
		var h importer.Held
		var state string
		if err := rows.Scan(&h.ProfileID, &h.Slug, &h.Number, &h.Level, &state, &h.Memberships, &h.Email); err != nil {
			return nil, fmt.Errorf("store: held memberships: %w", err)
		}
		h.State = directory.VerificationState(state)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: held memberships: %w", err)
	}
	return out, nil
}

// RegisterLapses lists the memberships of body that a register sync took
// off their profiles.
func (db *DB) RegisterLapses(ctx context.Context, body string) ([]importer.Lapsed, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT number, profile_id, level, status, lapsed_at, requeued_at
		FROM register_lapses WHERE body = ? ORDER BY number`), body)
	if err != nil {
		return nil, fmt.Errorf("store: register lapses: %w", err)
	}
	defer rows.Close()
	var out []importer.Lapsed
	for rows.Next() {
		var l importer.Lapsed
		var status string
		var requeued time.Time
		if err := rows.Scan(&l.Number, &l.ProfileID, &l.Level, &status, nullTime{&l.LapsedAt}, nullTime{&requeued}); err != nil {
			return nil, fmt.Errorf("store: register lapses: %w", err)
		}
		l.Standing, l.Requeued = importer.Standing(status), !requeued.IsZero()
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: register lapses: %w", err)
	}
	return out, nil
}

// PutRegisterLapse records that a sync took body's membership l.Number
// off its profile; a membership that lapsed before starts over, not yet
// requeued.
func (db *DB) PutRegisterLapse(ctx context.Context, body string, l importer.Lapsed) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO register_lapses (body, number, profile_id, level, status, lapsed_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (body, number) DO UPDATE SET profile_id = excluded.profile_id, level = excluded.level, status = excluded.status,
			lapsed_at = excluded.lapsed_at, requeued_at = NULL, request_id = NULL`,
			body, l.Number, l.ProfileID, l.Level, string(l.Standing), timeArg(l.LapsedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put register lapse: %w", err)
	}
	return nil
}

// MarkRequeued records that body's lapsed membership number went back to
// the verification queue as request requestID (0 when none was needed).
func (db *DB) MarkRequeued(ctx context.Context, body, number string, requestID int64, now time.Time) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE register_lapses SET requeued_at = ?, request_id = ? WHERE body = ? AND number = ?`,
			timeArg(now), nullID(requestID), body, number)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("register lapse %s %s: %w", body, number, errs.NotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: mark requeued: %w", err)
	}
	return nil
}

// LockRegisterSync, inside a unit of work, holds every other register
// sync off until that unit commits or rolls back (an advisory lock on
// PostgreSQL; on SQLite the unit's transaction, begun here, is the one
// writer). A sync re-reads each profile after taking it, so two runs of
// the same list cannot both lapse a membership and send two notices.
func (db *DB) LockRegisterSync(ctx context.Context) error {
	err := db.Transact(ctx, func(tx *Tx) error { return tx.lock(ctx, lockRegisterSync) })
	if err != nil {
		return fmt.Errorf("store: lock register sync: %w", err)
	}
	return nil
}
