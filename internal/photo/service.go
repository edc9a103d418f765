package photo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/errs"
)

// Meta is what is known of a profile's stored photo.
type Meta struct {
	ProfileID  int64
	Digest     string
	Alt        string
	UploadedAt time.Time
	// ReviewedAt is when a verifier looked at it and let it stand (zero
	// while it waits in the queue).
	ReviewedAt time.Time
}

// Pending is a new photo in the verifiers' queue, with the profile it
// belongs to.
type Pending struct {
	Meta
	Name, Slug string
}

// MaxAlt bounds the text alternative.
const MaxAlt = 200

// Store keeps photos.
type Store interface {
	PutPhoto(ctx context.Context, m Meta, images []Image) error
	Photo(ctx context.Context, profileID int64) (*Meta, error)
	PhotoImage(ctx context.Context, profileID int64, digest string, size int) ([]byte, error)
	DeletePhoto(ctx context.Context, profileID int64) error
	MarkPhotoReviewed(ctx context.Context, profileID int64, digest string, by int64, at time.Time) error
	PendingPhotos(ctx context.Context, limit int) ([]Pending, error)
}

// Mailer queues an email (through the outbox, in the unit of work).
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Auditor appends to the audit log.
type Auditor interface {
	Record(ctx context.Context, action, object string) error
}

// Service is what therapists and verifiers do with photos. A photo is
// public as soon as it is uploaded, on a verified therapist's profile;
// verifiers see each new one in their queue and either let it stand or
// reject it, which removes it and tells the therapist why.
type Service struct {
	Store Store
	Mail  Mailer
	Audit Auditor
	Tx    commit.Runner
	Now   func() time.Time
	// SiteName and BaseURL word the rejection email.
	SiteName, BaseURL string
}

// Upload processes r and makes it the profile's photo, replacing any
// before it. A file that cannot be used is an errs.Fields error on
// "photo" saying what to do; a missing text alternative one on "alt".
func (s *Service) Upload(ctx context.Context, profileID int64, r io.Reader, alt string) (*Meta, error) {
	alt = strings.TrimSpace(alt)
	fe := errs.Fields{}
	switch {
	case alt == "":
		fe.Add("alt", "Describe the photo in a few words for people who cannot see it, like \"Sam smiling, in a garden\"")
	case utf8.RuneCountInString(alt) > MaxAlt:
		fe.Add("alt", fmt.Sprintf("Keep the description under %d characters", MaxAlt))
	}
	p, err := Process(r)
	if err != nil {
		for _, known := range []error{ErrTooLarge, ErrNotAPicture, ErrDamaged, ErrTooManyPx, ErrTooSmall} {
			if errors.Is(err, known) {
				msg := err.Error()
				fe.Add("photo", strings.ToUpper(msg[:1])+msg[1:])
				return nil, fe
			}
		}
		return nil, err
	}
	if len(fe) > 0 {
		return nil, fe
	}
	m := Meta{ProfileID: profileID, Digest: p.Digest, Alt: alt, UploadedAt: s.Now().UTC()}
	err = commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		if err := s.Store.PutPhoto(ctx, m, p.Images); err != nil {
			return err
		}
		return s.Audit.Record(ctx, "photo.upload", fmt.Sprintf("profile:%d photo:%s", profileID, p.Digest))
	})
	if err != nil {
		return nil, fmt.Errorf("photo: upload: %w", err)
	}
	return &m, nil
}

// Remove takes the profile's photo down at its therapist's request.
func (s *Service) Remove(ctx context.Context, profileID int64) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		if err := s.Store.DeletePhoto(ctx, profileID); err != nil {
			return err
		}
		return s.Audit.Record(ctx, "photo.remove", fmt.Sprintf("profile:%d", profileID))
	})
}

// Accept records that a verifier looked at the photo digest and let it
// stand; a photo replaced meanwhile is not accepted by it (errs.Conflict).
func (s *Service) Accept(ctx context.Context, profileID int64, digest string, by int64) error {
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		if err := s.Store.MarkPhotoReviewed(ctx, profileID, digest, by, s.Now().UTC()); err != nil {
			return err
		}
		return s.Audit.Record(ctx, "photo.accept", fmt.Sprintf("profile:%d photo:%s", profileID, digest))
	})
}

// Reject removes the photo digest and emails the therapist (to, when not
// empty) the reason, which must be given.
func (s *Service) Reject(ctx context.Context, profileID int64, digest, reason, to string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return errs.Fields{"reason": "Say why, in words the therapist will read: they are emailed this"}
	}
	return commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		m, err := s.Store.Photo(ctx, profileID)
		if err != nil {
			return err
		}
		if m.Digest != digest {
			return fmt.Errorf("photo %s of profile %d was replaced: %w", digest, profileID, errs.Conflict)
		}
		if err := s.Store.DeletePhoto(ctx, profileID); err != nil {
			return err
		}
		if err := s.Audit.Record(ctx, "photo.reject", fmt.Sprintf("profile:%d photo:%s", profileID, digest)); err != nil {
			return err
		}
		if to == "" {
			return nil
		}
		body := fmt.Sprintf("Your photo on %s has been removed by our verification team.\n\nWhy: %s\n\nYou can upload another from your dashboard: %s/dashboard/photo\n",
			s.SiteName, reason, s.BaseURL)
		return s.Mail.Send(ctx, to, "Your profile photo was removed", body)
	})
}
