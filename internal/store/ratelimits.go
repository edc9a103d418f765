package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// TakeToken takes one token from the bucket named key, which holds up to
// burst tokens and refills at burst per window; when it is empty, ok is
// false and wait says how long until a token is back. The bucket lives in
// the database and is read FOR UPDATE (PostgreSQL) or under the single
// writer (SQLite), so replicas share one count and two of them can never
// both take the last token.
func (db *DB) TakeToken(ctx context.Context, key string, burst int, window time.Duration, now time.Time) (ok bool, wait time.Duration, err error) {
	k := digest(key)
	rate := float64(burst) / window.Seconds() // tokens per second
	t := unixSeconds(now)
	err = db.Transact(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `INSERT INTO rate_limits (key, tokens, updated, full_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			k, float64(burst), t, t); err != nil {
			return err
		}
		var tokens, updated float64
		if err := tx.queryRow(ctx, `SELECT tokens, updated FROM rate_limits WHERE key = ?`+tx.dialect.forUpdate, k).Scan(&tokens, &updated); err != nil {
			return err
		}
		tokens = math.Min(float64(burst), tokens+math.Max(0, t-updated)*rate)
		if tokens >= 1 {
			tokens--
			ok = true
		} else {
			wait = time.Duration((1 - tokens) / rate * float64(time.Second))
		}
		_, err := tx.exec(ctx, `UPDATE rate_limits SET tokens = ?, updated = ?, full_at = ? WHERE key = ?`,
			tokens, math.Max(t, updated), t+(float64(burst)-tokens)/rate, k)
		return err
	})
	if err != nil {
		return false, 0, fmt.Errorf("store: rate limit: %w", err)
	}
	return ok, wait, nil
}

// Tokens is how many tokens the bucket named key holds now, without
// taking any (burst for a bucket never used). Limits that count failures
// rather than attempts look first and take a token only when the attempt
// fails.
func (db *DB) Tokens(ctx context.Context, key string, burst int, window time.Duration, now time.Time) (float64, error) {
	var tokens, updated float64
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, db.dialect.rebind(`SELECT tokens, updated FROM rate_limits WHERE key = ?`), digest(key)).Scan(&tokens, &updated)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return float64(burst), nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: rate limit: %w", err)
	}
	rate := float64(burst) / window.Seconds()
	return math.Min(float64(burst), tokens+math.Max(0, unixSeconds(now)-updated)*rate), nil
}

// PruneRateLimits deletes buckets that have refilled by now: they hold no
// state.
func (db *DB) PruneRateLimits(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM rate_limits WHERE full_at <= ?`, unixSeconds(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune rate limits: %w", err)
	}
	return n, nil
}
