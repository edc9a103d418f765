package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// Identity is this database's random name, made when it was created (and
// again when migrate-store replaces its contents). Caches kept outside the
// database, such as an index snapshot, record it so as never to be
// applied to a different database.
func (db *DB) Identity(ctx context.Context) (string, error) {
	var id string
	if err := db.read.QueryRowContext(ctx, `SELECT id FROM store_identity`).Scan(&id); err != nil {
		return "", fmt.Errorf("store: identity: %w", err)
	}
	return id, nil
}

// renewIdentity gives the database a new name: its contents are no
// longer what anything recorded under the old one described.
func renewIdentity(ctx context.Context, tx *Tx) error {
	var b [16]byte
	_, _ = rand.Read(b[:])
	if _, err := tx.exec(ctx, `UPDATE store_identity SET id = ?`, hex.EncodeToString(b[:])); err != nil {
		return fmt.Errorf("store: renew identity: %w", err)
	}
	return nil
}
