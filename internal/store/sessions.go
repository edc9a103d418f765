package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// SessionStore keeps alexedwards/scs sessions in the database, so that
// every replica sees the same sessions and a restart signs nobody out. It
// implements scs.Store and scs.CtxStore. Rows are keyed by the digest of
// the token, never the token: the token is the cookie, and whoever reads
// the table (a stolen backup, a copied file) must not be able to sign in
// with what they read. Every token scs hands over is 32 random bytes, so
// a plain SHA-256 is as hard to reverse as the token is to guess.
type SessionStore struct{ db *DB }

// Sessions returns the session store of db.
func (db *DB) Sessions() *SessionStore { return &SessionStore{db: db} }

// digest is the stored form of a value the database must match but must
// not reveal: session tokens, and rate-limit bucket names (which hold
// email and IP addresses). SHA-256, in hex.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// FindCtx returns the data of an unexpired session.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.db.read.QueryRowContext(ctx, s.db.dialect.rebind(`SELECT data FROM sessions WHERE hash = ? AND expiry > ?`), digest(token), unixSeconds(time.Now())).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	return b, true, nil
}

// CommitCtx stores a session, replacing any with the same token.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return s.db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO sessions (hash, data, expiry) VALUES (?, ?, ?)
			ON CONFLICT (hash) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, digest(token), b, unixSeconds(expiry))
		return err
	})
}

// DeleteCtx removes a session.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.db.Transact(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, digest(token))
		return err
	})
}

// Find implements scs.Store.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (s *SessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// DeleteExpiredSessions removes sessions that have expired by now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM sessions WHERE expiry <= ?`, unixSeconds(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}
