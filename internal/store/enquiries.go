package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/confide-org/confide/internal/enquiry"
)

const enquiryColumns = `id, profile_id, idem_key, sender_hash, key_id, wrapped_key, ciphertext, consent_version, consent_at, status,
	created_at, read_at, replied_at, archived_at, last_activity_at, reminder_sent_at, idem_digest`

func scanEnquiry(row interface{ Scan(...any) error }) (*enquiry.Enquiry, error) {
	var e enquiry.Enquiry
	var status string
	err := row.Scan(&e.ID, &e.ProfileID, &e.IdemKey, &e.SenderHash, &e.Sealed.KeyID, &e.Sealed.WrappedKey, &e.Sealed.Ciphertext,
		&e.ConsentVersion, nullTime{&e.ConsentAt}, &status, nullTime{&e.CreatedAt}, nullTime{&e.ReadAt}, nullTime{&e.RepliedAt},
		nullTime{&e.ArchivedAt}, nullTime{&e.LastActivityAt}, nullTime{&e.ReminderSentAt}, &e.IdemDigest)
	if err != nil {
		return nil, err
	}
	e.Status = enquiry.Status(status)
	return &e, nil
}

func insertOutbox(ctx context.Context, tx *Tx, o enquiry.Outbox) error {
	_, err := tx.exec(ctx, `INSERT INTO outbox (id, enquiry_id, kind, status, attempts, next_attempt, created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?)`,
		o.ID, o.EnquiryID, o.Kind, timeArg(o.NextAttempt), timeArg(o.CreatedAt))
	return err
}

// errRaced marks an insert that lost a race on a unique key to a
// concurrent transaction.
var errRaced = errors.New("lost a race on a unique key")

// InsertEnquiry stores an enquiry with its outbox messages in one
// transaction on the writer connection (synchronous=FULL: on disk before
// the sender is told). A repeated idempotency key stores nothing and
// returns the first enquiry with enquiry.ErrDuplicate.
func (db *DB) InsertEnquiry(ctx context.Context, e *enquiry.Enquiry, out []enquiry.Outbox) (*enquiry.Enquiry, error) {
	var prior *enquiry.Enquiry
	err := db.Transact(ctx, func(tx *Tx) error {
		p, err := scanEnquiry(tx.queryRow(ctx, `SELECT `+enquiryColumns+` FROM enquiries WHERE idem_key = ?`, e.IdemKey))
		if err == nil {
			prior = p
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO enquiries (id, profile_id, idem_key, idem_digest, sender_hash, key_id, wrapped_key, ciphertext, consent_version,
			consent_at, status, created_at, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.ProfileID, e.IdemKey, e.IdemDigest, e.SenderHash, e.Sealed.KeyID, e.Sealed.WrappedKey, e.Sealed.Ciphertext, e.ConsentVersion,
			timeArg(e.ConsentAt), string(e.Status), timeArg(e.CreatedAt), timeArg(e.LastActivityAt)); err != nil {
			if tx.dialect.isUniqueViolation(err) {
				return errRaced
			}
			return err
		}
		for _, o := range out {
			if err := insertOutbox(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errRaced) {
		// The same form was submitted twice at once (two replicas, say)
		// and the other copy committed first: answer with that one.
		p, rerr := db.EnquiryByIdem(ctx, e.IdemKey)
		if rerr != nil {
			return nil, fmt.Errorf("store: insert enquiry: %w", rerr)
		}
		return p, enquiry.ErrDuplicate
	}
	if err != nil {
		return nil, fmt.Errorf("store: insert enquiry: %w", err)
	}
	if prior != nil {
		return prior, enquiry.ErrDuplicate
	}
	return e, nil
}

func (db *DB) oneEnquiry(ctx context.Context, where string, arg any) (*enquiry.Enquiry, error) {
	e, err := scanEnquiry(db.read.QueryRowContext(ctx, db.dialect.rebind(`SELECT `+enquiryColumns+` FROM enquiries WHERE `+where), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("enquiry: %w", enquiry.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("store: read enquiry: %w", err)
	}
	return e, nil
}

// EnquiryByID reads one enquiry (still sealed).
func (db *DB) EnquiryByID(ctx context.Context, id string) (*enquiry.Enquiry, error) {
	return db.oneEnquiry(ctx, "id = ?", id)
}

// EnquiryByIdem reads the enquiry a form's idempotency key created.
func (db *DB) EnquiryByIdem(ctx context.Context, key string) (*enquiry.Enquiry, error) {
	return db.oneEnquiry(ctx, "idem_key = ?", key)
}

func (db *DB) enquiriesWhere(ctx context.Context, where string, args ...any) ([]enquiry.Enquiry, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT `+enquiryColumns+` FROM enquiries WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("store: enquiries: %w", err)
	}
	defer rows.Close()
	var out []enquiry.Enquiry
	for rows.Next() {
		e, err := scanEnquiry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// EnquiriesFor lists a profile's enquiries, newest first.
func (db *DB) EnquiriesFor(ctx context.Context, profileID int64) ([]enquiry.Enquiry, error) {
	return db.enquiriesWhere(ctx, "profile_id = ? ORDER BY created_at DESC", profileID)
}

// SetEnquiryStatus records a status change and its time.
func (db *DB) SetEnquiryStatus(ctx context.Context, id string, s enquiry.Status, now time.Time) error {
	col := map[enquiry.Status]string{enquiry.Read: "read_at", enquiry.Replied: "replied_at", enquiry.Archived: "archived_at"}[s]
	if col == "" {
		return fmt.Errorf("store: status %q", s)
	}
	return db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE enquiries SET status = ?, `+col+` = COALESCE(`+col+`, ?), last_activity_at = ? WHERE id = ?`,
			string(s), timeArg(now), timeArg(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("enquiry %s: %w", id, enquiry.ErrNotFound)
		}
		return nil
	})
}

// DeleteEnquiry removes an enquiry, its data key and its outbox rows.
func (db *DB) DeleteEnquiry(ctx context.Context, id string) error {
	return db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM enquiries WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("enquiry %s: %w", id, enquiry.ErrNotFound)
		}
		return nil
	})
}

func (db *DB) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, db.dialect.rebind(query), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// CountToProfileSince counts a profile's enquiries since a time.
func (db *DB) CountToProfileSince(ctx context.Context, profileID int64, since time.Time) (int, error) {
	return db.count(ctx, `SELECT COUNT(*) FROM enquiries WHERE profile_id = ? AND created_at >= ?`, profileID, timeArg(since))
}

// CountUnread counts a profile's enquiries nobody has opened yet, for the
// therapist's header and dashboard.
func (db *DB) CountUnread(ctx context.Context, profileID int64) (int, error) {
	return db.count(ctx, `SELECT COUNT(*) FROM enquiries WHERE profile_id = ? AND status = 'new'`, profileID)
}

// CountFromSenderSince counts a sender's enquiries since a time.
func (db *DB) CountFromSenderSince(ctx context.Context, senderHash string, since time.Time) (int, error) {
	return db.count(ctx, `SELECT COUNT(*) FROM enquiries WHERE sender_hash = ? AND created_at >= ?`, senderHash, timeArg(since))
}

// DeleteInactiveBefore deletes enquiries whose last activity is older
// than cutoff.
func (db *DB) DeleteInactiveBefore(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM enquiries WHERE last_activity_at < ?`, timeArg(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: retention: %w", err)
	}
	return int(n), nil
}

// UnansweredBefore lists enquiries sent before cutoff, neither replied nor
// archived, not yet reminded about.
func (db *DB) UnansweredBefore(ctx context.Context, cutoff time.Time) ([]enquiry.Enquiry, error) {
	return db.enquiriesWhere(ctx, "status IN ('new', 'read') AND reminder_sent_at IS NULL AND created_at < ? ORDER BY created_at", timeArg(cutoff))
}

// MarkReminded records the reminder and queues its email together.
func (db *DB) MarkReminded(ctx context.Context, id string, out enquiry.Outbox, now time.Time) error {
	return db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE enquiries SET reminder_sent_at = ? WHERE id = ? AND reminder_sent_at IS NULL`, timeArg(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another replica did it
		}
		return insertOutbox(ctx, tx, out)
	})
}

// AllSealed calls fn for every enquiry's sealed data and stores what fn
// returns when it says so (for key rotation).
func (db *DB) AllSealed(ctx context.Context, fn func(id string, s enquiry.Sealed) (enquiry.Sealed, bool, error)) (int, error) {
	es, err := db.enquiriesWhere(ctx, "1 = 1 ORDER BY id")
	if err != nil {
		return 0, err
	}
	var n int
	for _, e := range es {
		s, changed, err := fn(e.ID, e.Sealed)
		if err != nil {
			return n, fmt.Errorf("enquiry %s: %w", e.ID, err)
		}
		if !changed {
			continue
		}
		if err := db.Transact(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, `UPDATE enquiries SET key_id = ?, wrapped_key = ? WHERE id = ?`, s.KeyID, s.WrappedKey, e.ID)
			return err
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// ResponseStats counts a profile's enquiries since a time and their first
// response times.
func (db *DB) ResponseStats(ctx context.Context, profileID int64, since time.Time) (enquiry.Stats, error) {
	var st enquiry.Stats
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT created_at, replied_at FROM enquiries WHERE profile_id = ? AND created_at >= ?`), profileID, timeArg(since))
	if err != nil {
		return st, fmt.Errorf("store: response stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var created, replied time.Time
		if err := rows.Scan(nullTime{&created}, nullTime{&replied}); err != nil {
			return st, err
		}
		st.Enquiries++
		if !replied.IsZero() {
			st.Replied++
			st.FirstResponses = append(st.FirstResponses, replied.Sub(created))
		}
	}
	return st, rows.Err()
}

// ClaimOutbox leases the next due message to owner until leaseUntil. On
// PostgreSQL the row is locked FOR UPDATE SKIP LOCKED, so workers on
// several replicas claim different messages without waiting on each other;
// the lease lets another worker take the message over if this one dies.
func (db *DB) ClaimOutbox(ctx context.Context, owner string, now, leaseUntil time.Time) (*enquiry.Outbox, error) {
	var o enquiry.Outbox
	err := db.Transact(ctx, func(tx *Tx) error {
		err := tx.queryRow(ctx, `SELECT id, COALESCE(enquiry_id, ''), kind, attempts, next_attempt, status, last_error, created_at,
			key_id, COALESCE(wrapped_key, ''), COALESCE(ciphertext, '') FROM outbox
			WHERE status = 'pending' AND next_attempt <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt LIMIT 1`+tx.dialect.skipLocked,
			timeArg(now), timeArg(now)).Scan(&o.ID, &o.EnquiryID, &o.Kind, &o.Attempts, nullTime{&o.NextAttempt}, &o.Status, &o.LastError, nullTime{&o.CreatedAt},
			&o.Sealed.KeyID, &o.Sealed.WrappedKey, &o.Sealed.Ciphertext)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("outbox: %w", enquiry.ErrNotFound)
		} else if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?`, owner, timeArg(leaseUntil), o.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

func (db *DB) outboxUpdate(ctx context.Context, query string, args ...any) error {
	return db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, query, args...)
		return err
	})
}

// FinishOutbox marks a message sent and wipes a sealed message's
// content: once delivered, a one-time link has no business at rest.
func (db *DB) FinishOutbox(ctx context.Context, id string, now time.Time) error {
	return db.outboxUpdate(ctx, `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, lease_owner = NULL, lease_until = NULL,
		wrapped_key = NULL, ciphertext = NULL WHERE id = ?`, timeArg(now), id)
}

// InsertMail puts one sealed email (account, verification or editorial
// mail: not about an enquiry) in the outbox.
func (db *DB) InsertMail(ctx context.Context, o enquiry.Outbox) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO outbox (id, kind, status, attempts, next_attempt, created_at, key_id, wrapped_key, ciphertext)
			VALUES (?, 'mail', 'pending', 0, ?, ?, ?, ?, ?)`,
			o.ID, timeArg(o.NextAttempt), timeArg(o.CreatedAt), o.Sealed.KeyID, o.Sealed.WrappedKey, o.Sealed.Ciphertext)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: queue mail: %w", err)
	}
	return nil
}

// RetryOutbox schedules another attempt.
func (db *DB) RetryOutbox(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	return db.outboxUpdate(ctx, `UPDATE outbox SET attempts = ?, next_attempt = ?, last_error = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 'pending'`,
		attempts, timeArg(next), lastErr, id)
}

// KillOutbox moves a message to the dead-letter list.
func (db *DB) KillOutbox(ctx context.Context, id string, attempts int, lastErr string, now time.Time) error {
	return db.outboxUpdate(ctx, `UPDATE outbox SET status = 'dead', attempts = ?, last_error = ?, sent_at = NULL, lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 'pending'`,
		attempts, lastErr, id)
}

// OutboxFor lists an enquiry's outbox messages.
func (db *DB) OutboxFor(ctx context.Context, enquiryID string) ([]enquiry.Outbox, error) {
	return db.outboxWhere(ctx, "enquiry_id = ? ORDER BY created_at, id", enquiryID)
}

// DeadLetters lists messages given up on, newest first.
func (db *DB) DeadLetters(ctx context.Context) ([]enquiry.Outbox, error) {
	return db.outboxWhere(ctx, "status = 'dead' ORDER BY created_at DESC")
}

func (db *DB) outboxWhere(ctx context.Context, where string, args ...any) ([]enquiry.Outbox, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT id, COALESCE(enquiry_id, ''), kind, attempts, next_attempt, status, last_error, created_at, sent_at FROM outbox WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	defer rows.Close()
	var out []enquiry.Outbox
	for rows.Next() {
		var o enquiry.Outbox
		if err := rows.Scan(&o.ID, &o.EnquiryID, &o.Kind, &o.Attempts, nullTime{&o.NextAttempt}, &o.Status, &o.LastError, nullTime{&o.CreatedAt}, nullTime{&o.SentAt}); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// OutboxIDs lists the ids (Message-IDs) of every sent message.
func (db *DB) OutboxIDs(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM outbox WHERE status = 'sent' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: outbox ids: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
