package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/photo"
)

// TestPhotos: a photo and its sizes are stored and read back, a new one
// replaces it (the old digest's sizes are gone), it waits in the queue
// until reviewed, a review of a replaced photo is a conflict, and a
// deleted one is not found. On both engines.
func TestPhotos(t *testing.T) {
	t.Parallel()
	db := openTemp(t)
	ctx := context.Background()
	p := sample()
	if err := db.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Photo(ctx, p.ID); !errors.Is(err, errs.NotFound) {
		t.Fatalf("no photo yet: %v", err)
	}
	images := func(tag byte) []photo.Image {
		var out []photo.Image
		for _, s := range photo.Sizes {
			out = append(out, photo.Image{Size: s, JPEG: bytes.Repeat([]byte{tag}, s)})
		}
		return out
	}
	first := photo.Meta{ProfileID: p.ID, Digest: "aaaa", Alt: "Anna in a garden", UploadedAt: now}
	if err := db.PutPhoto(ctx, first, images(1)); err != nil {
		t.Fatal(err)
	}
	m, err := db.Photo(ctx, p.ID)
	if err != nil || m.Digest != "aaaa" || m.Alt != "Anna in a garden" || !m.UploadedAt.Equal(now) || !m.ReviewedAt.IsZero() {
		t.Fatalf("photo: %+v %v", m, err)
	}
	if b, err := db.PhotoImage(ctx, p.ID, "aaaa", 320); err != nil || len(b) != 320 || b[0] != 1 {
		t.Fatalf("image: %d bytes %v", len(b), err)
	}
	if _, err := db.PhotoImage(ctx, p.ID, "aaaa", 321); !errors.Is(err, errs.NotFound) {
		t.Fatalf("a size not made: %v", err)
	}
	pending, err := db.PendingPhotos(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].Slug != p.Slug || pending[0].Name != p.DisplayName {
		t.Fatalf("pending: %+v %v", pending, err)
	}
	second := photo.Meta{ProfileID: p.ID, Digest: "bbbb", Alt: "Anna at her desk", UploadedAt: now.Add(time.Minute)}
	if err := db.PutPhoto(ctx, second, images(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PhotoImage(ctx, p.ID, "aaaa", 320); !errors.Is(err, errs.NotFound) {
		t.Fatalf("the replaced photo is still served: %v", err)
	}
	if err := db.MarkPhotoReviewed(ctx, p.ID, "aaaa", 7, now); !errors.Is(err, errs.Conflict) {
		t.Fatalf("reviewing a replaced photo: %v", err)
	}
	if err := db.MarkPhotoReviewed(ctx, p.ID, "bbbb", 7, now); err != nil {
		t.Fatal(err)
	}
	if pending, _ := db.PendingPhotos(ctx, 10); len(pending) != 0 {
		t.Fatalf("a reviewed photo is still pending: %+v", pending)
	}
	if err := db.DeletePhoto(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PhotoImage(ctx, p.ID, "bbbb", 96); !errors.Is(err, errs.NotFound) {
		t.Fatalf("a deleted photo is still served: %v", err)
	}
	if err := db.DeletePhoto(ctx, p.ID); !errors.Is(err, errs.NotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}
