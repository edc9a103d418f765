package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/photo"
)

// PutPhoto makes m (with its sizes) the profile's photo, replacing any
// before it, in one transaction.
func (db *DB) PutPhoto(ctx context.Context, m photo.Meta, images []photo.Image) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM profile_photos WHERE profile_id = ?`, m.ProfileID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO profile_photos (profile_id, digest, alt, uploaded_at) VALUES (?, ?, ?, ?)`,
			m.ProfileID, m.Digest, m.Alt, timeArg(m.UploadedAt)); err != nil {
			return err
		}
		for _, im := range images {
			if _, err := tx.exec(ctx, `INSERT INTO profile_photo_images (profile_id, size, jpeg) VALUES (?, ?, ?)`, m.ProfileID, im.Size, im.JPEG); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: put photo of profile %d: %w", m.ProfileID, err)
	}
	return nil
}

// Photo reads what is known of a profile's photo; none is errs.NotFound.
func (db *DB) Photo(ctx context.Context, profileID int64) (*photo.Meta, error) {
	m := photo.Meta{ProfileID: profileID}
	err := db.read.QueryRowContext(ctx, db.dialect.rebind(`SELECT digest, alt, uploaded_at, reviewed_at FROM profile_photos WHERE profile_id = ?`), profileID).
		Scan(&m.Digest, &m.Alt, nullTime{&m.UploadedAt}, nullTime{&m.ReviewedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: photo of profile %d: %w", profileID, errs.NotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: photo of profile %d: %w", profileID, err)
	}
	return &m, nil
}

// PhotoImage reads one size of the photo digest; a replaced photo or a
// size not made is errs.NotFound.
func (db *DB) PhotoImage(ctx context.Context, profileID int64, digest string, size int) ([]byte, error) {
	var b []byte
	err := db.read.QueryRowContext(ctx, db.dialect.rebind(`SELECT i.jpeg FROM profile_photo_images i JOIN profile_photos p ON p.profile_id = i.profile_id
		WHERE i.profile_id = ? AND p.digest = ? AND i.size = ?`), profileID, digest, size).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: photo %s of profile %d at %d: %w", digest, profileID, size, errs.NotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: photo of profile %d: %w", profileID, err)
	}
	return b, nil
}

// DeletePhoto removes a profile's photo and its sizes; none is
// errs.NotFound.
func (db *DB) DeletePhoto(ctx context.Context, profileID int64) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM profile_photo_images WHERE profile_id = ?`, profileID); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM profile_photos WHERE profile_id = ?`, profileID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete photo of profile %d: %w", profileID, err)
	}
	return nil
}

// MarkPhotoReviewed records a verifier letting the photo digest stand; a
// photo replaced since is errs.Conflict.
func (db *DB) MarkPhotoReviewed(ctx context.Context, profileID int64, digest string, by int64, at time.Time) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE profile_photos SET reviewed_at = ?, reviewed_by = ? WHERE profile_id = ? AND digest = ?`, timeArg(at), by, profileID, digest)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Conflict
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: review photo of profile %d: %w", profileID, err)
	}
	return nil
}

// PendingPhotos lists photos no verifier has looked at yet, oldest first.
func (db *DB) PendingPhotos(ctx context.Context, limit int) ([]photo.Pending, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(`SELECT ph.profile_id, ph.digest, ph.alt, ph.uploaded_at, p.display_name, p.slug
		FROM profile_photos ph JOIN profiles p ON p.id = ph.profile_id WHERE ph.reviewed_at IS NULL ORDER BY ph.uploaded_at, ph.profile_id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending photos: %w", err)
	}
	defer rows.Close()
	var out []photo.Pending
	for rows.Next() {
		var p photo.Pending
		if err := rows.Scan(&p.ProfileID, &p.Digest, &p.Alt, nullTime{&p.UploadedAt}, &p.Name, &p.Slug); err != nil {
			return nil, fmt.Errorf("store: pending photos: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
