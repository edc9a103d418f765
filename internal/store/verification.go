package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/verify"
)

const requestColumns = `id, profile_id, name, body, membership_number, level, insurer, insurance_expires, qualification,
	status, submitted_at, decided_at, COALESCE(decided_by, 0), reason`

// insertRequest is the statement that stores a new request.
const insertRequest = `INSERT INTO verification_requests (profile_id, name, body, membership_number, level, insurer, insurance_expires, qualification, status, submitted_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func requestArgs(r *verify.Request) []any {
	return []any{r.ProfileID, r.Name, r.Body, r.Number, r.Level, r.Insurer, dateArg(r.InsuranceExpires), r.Qualification, string(r.Status), timeArg(r.SubmittedAt)}
}

// SubmitRequest withdraws the profile's pending requests and stores r.
func (db *DB) SubmitRequest(ctx context.Context, r *verify.Request) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		if err := withdraw(ctx, tx, r.ProfileID, r.SubmittedAt); err != nil {
			return err
		}
		id, err := tx.insertID(ctx, insertRequest, requestArgs(r)...)
		r.ID = id
		return err
	})
	if err != nil {
		return fmt.Errorf("store: submit verification: %w", err)
	}
	return nil
}

// WithdrawRequests withdraws the profile's pending requests: what they
// asked a verifier to check no longer needs checking.
func (db *DB) WithdrawRequests(ctx context.Context, profileID int64, now time.Time) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		return withdraw(ctx, tx, profileID, now)
	})
	if err != nil {
		return fmt.Errorf("store: withdraw verification: %w", err)
	}
	return nil
}

// InsertRequests stores many requests in one transaction, as they are,
// for demo data; each gets its ID set. Unlike SubmitRequest it withdraws
// nothing.
func (db *DB) InsertRequests(ctx context.Context, rs []verify.Request) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		for i := range rs {
			id, err := tx.insertID(ctx, insertRequest, requestArgs(&rs[i])...)
			if err != nil {
				return err
			}
			rs[i].ID = id
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: insert verification requests: %w", err)
	}
	return nil
}

func withdraw(ctx context.Context, tx *Tx, profileID int64, now time.Time) error {
	_, err := tx.exec(ctx, `UPDATE verification_requests SET status = 'withdrawn', decided_at = ? WHERE profile_id = ? AND status = 'pending'`,
		timeArg(now), profileID)
	return err
}

func scanRequests(rows *sql.Rows) ([]verify.Request, error) {
	defer rows.Close()
	var out []verify.Request
	for rows.Next() {
		var r verify.Request
		var status string
		if err := rows.Scan(&r.ID, &r.ProfileID, &r.Name, &r.Body, &r.Number, &r.Level, &r.Insurer, nullTime{&r.InsuranceExpires}, &r.Qualification,
			&status, nullTime{&r.SubmittedAt}, nullTime{&r.DecidedAt}, &r.DecidedBy, &r.Reason); err != nil {
			return nil, err
		}
		r.Status = verify.Status(status)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (db *DB) oneRequest(ctx context.Context, where string, arg any) (*verify.Request, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT `+requestColumns+` FROM verification_requests WHERE `+where+` ORDER BY id DESC LIMIT 1`), arg)
	if err != nil {
		return nil, fmt.Errorf("store: read verification: %w", err)
	}
	rs, err := scanRequests(rows)
	if err != nil {
		return nil, fmt.Errorf("store: read verification: %w", err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("verification request %v: %w", arg, directory.ErrNotFound)
	}
	return &rs[0], nil
}

// RequestByID reads one verification request.
func (db *DB) RequestByID(ctx context.Context, id int64) (*verify.Request, error) {
	return db.oneRequest(ctx, "id = ?", id)
}

// LatestRequest reads a profile's newest verification request.
func (db *DB) LatestRequest(ctx context.Context, profileID int64) (*verify.Request, error) {
	return db.oneRequest(ctx, "profile_id = ?", profileID)
}

// Requests lists requests with a status, oldest first (the queue order).
func (db *DB) Requests(ctx context.Context, status verify.Status, limit int) ([]verify.Request, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT `+requestColumns+` FROM verification_requests WHERE status = ? ORDER BY submitted_at, id LIMIT ?`), string(status), limit)
	if err != nil {
		return nil, fmt.Errorf("store: list verifications: %w", err)
	}
	rs, err := scanRequests(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list verifications: %w", err)
	}
	return rs, nil
}

// DecideRequest moves a pending request to its decided status.
func (db *DB) DecideRequest(ctx context.Context, id int64, status verify.Status, by int64, reason string, now time.Time) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE verification_requests SET status = ?, decided_by = ?, reason = ?, decided_at = ? WHERE id = ? AND status = 'pending'`,
			string(status), nullID(by), reason, timeArg(now), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("request %d is no longer pending: %w", id, directory.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: decide verification: %w", err)
	}
	return nil
}

// VerifiedDueBy lists verified profiles whose next check is on or before date.
func (db *DB) VerifiedDueBy(ctx context.Context, date time.Time) ([]verify.Due, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT id, next_check_due FROM profiles
		WHERE verification_state = 'verified' AND next_check_due <= ? ORDER BY next_check_due, id`), dateArg(date))
	if err != nil {
		return nil, fmt.Errorf("store: due checks: %w", err)
	}
	defer rows.Close()
	var out []verify.Due
	for rows.Next() {
		var d verify.Due
		if err := rows.Scan(&d.ProfileID, nullTime{&d.Due}); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ClaimReminder records a reminder; false if it was recorded before.
func (db *DB) ClaimReminder(ctx context.Context, profileID int64, due time.Time, kind string, now time.Time) (bool, error) {
	return db.claim(ctx, "claim reminder", `INSERT INTO verification_reminders (profile_id, due, kind, sent_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (profile_id, due, kind) DO NOTHING`, profileID, dateArg(due), kind, timeArg(now))
}

// claim runs an INSERT … ON CONFLICT DO NOTHING and reports whether the
// row went in: the primary key, on either engine, lets exactly one of
// several replicas claim a reminder or a job's tick.
func (db *DB) claim(ctx context.Context, op, insert string, args ...any) (bool, error) {
	var claimed bool
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, insert, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: %s: %w", op, err)
	}
	return claimed, nil
}

// ReleaseReminder forgets a claim whose work failed, so the next run retries.
func (db *DB) ReleaseReminder(ctx context.Context, profileID int64, due time.Time, kind string) error {
	return db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM verification_reminders WHERE profile_id = ? AND due = ? AND kind = ?`, profileID, dateArg(due), kind)
		return err
	})
}

// ProfileByOwner reads the profile kept by an account.
func (db *DB) ProfileByOwner(ctx context.Context, userID int64) (*directory.Profile, error) {
	return db.profileWhere(ctx, "owner_id = ?", userID)
}

// RemindersSent lists the reminder kinds recorded for a profile, for tests
// and the staff page.
func (db *DB) RemindersSent(ctx context.Context, profileID int64) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT kind FROM verification_reminders WHERE profile_id = ? ORDER BY sent_at`), profileID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// CountPendingRequests counts the verification requests waiting for a
// verifier, for the staff header and home page.
func (db *DB) CountPendingRequests(ctx context.Context) (int, error) {
	return db.count(ctx, `SELECT COUNT(*) FROM verification_requests WHERE status = 'pending'`)
}
