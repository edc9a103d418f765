package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/errs"
)

// Store is what the directory needs from persistence. internal/store
// implements it; the directory never sees SQL.
type Store interface {
	CreateProfile(ctx context.Context, p *Profile) error
	UpdateProfile(ctx context.Context, p *Profile) error
	DeleteProfile(ctx context.Context, id int64) error
	ProfileByID(ctx context.Context, id int64) (*Profile, error)
}

// Listener hears about every saved change, after it is committed. The
// search index is one, so that an edit reaches search at once.
type Listener interface {
	ProfileSaved(p *Profile)
	ProfileDeleted(id int64)
}

// Service is the single way profiles are written, so that every write is
// normalised, validated and announced to listeners.
type Service struct {
	store     Store
	validator Validator
	listeners []Listener
	now       func() time.Time
	log       *slog.Logger
}

// NewService wires a Service. now is the clock (time.Now in production).
func NewService(store Store, v Validator, now func() time.Time, log *slog.Logger, listeners ...Listener) *Service {
	return &Service{store: store, validator: v, listeners: listeners, now: now, log: log}
}

// maxSlugAttempts bounds the search for a free slug ("anna-smith-2", …).
const maxSlugAttempts = 50

// Create validates and stores a new profile, choosing a free slug from the
// display name when none is given, and sets p.ID.
func (s *Service) Create(ctx context.Context, p *Profile) error {
	if err := s.Prepare(p); err != nil {
		return err
	}
	now := s.now().UTC()
	p.CreatedAt, p.UpdatedAt = now, now
	explicit := p.Slug != ""
	base := p.Slug
	if !explicit {
		base = Slugify(p.DisplayName)
	}
	for attempt := 1; ; attempt++ {
		p.Slug = base
		if attempt > 1 {
			p.Slug = fmt.Sprintf("%s-%d", base, attempt)
		}
		err := s.store.CreateProfile(ctx, p)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrConflict) || explicit || attempt >= maxSlugAttempts {
			return fmt.Errorf("create profile: %w", err)
		}
	}
	s.announce(ctx, p)
	return nil
}

// Prepare normalises p and validates it without storing anything, for
// callers that must compare the tidied profile with the stored one before
// deciding what to save. Create and Update do the same again.
func (s *Service) Prepare(p *Profile) error {
	s.validator.Normalize(p)
	return s.validator.Validate(p, s.now())
}

// Update validates and stores changes to an existing profile.
func (s *Service) Update(ctx context.Context, p *Profile) error {
	if err := s.Prepare(p); err != nil {
		return err
	}
	if p.Slug == "" {
		return errs.Fields{"slug": "Web address is required"}
	}
	p.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateProfile(ctx, p); err != nil {
		return fmt.Errorf("update profile %d: %w", p.ID, err)
	}
	s.announce(ctx, p)
	return nil
}

// Delete removes a profile for good.
func (s *Service) Delete(ctx context.Context, id int64) error {
	if err := s.store.DeleteProfile(ctx, id); err != nil {
		return fmt.Errorf("delete profile %d: %w", id, err)
	}
	commit.After(ctx, func() {
		for _, l := range s.listeners {
			l.ProfileDeleted(id)
		}
	})
	return nil
}

// announce tells the listeners once the change is committed (at once,
// unless the caller is inside a larger unit of work).
func (s *Service) announce(ctx context.Context, p *Profile) {
	commit.After(ctx, func() {
		for _, l := range s.listeners {
			l.ProfileSaved(p)
		}
	})
}

// SlugReader reads a stored profile by its web address.
type SlugReader interface {
	ProfileBySlug(ctx context.Context, slug string) (*Profile, error)
}

// PublicBySlug returns the profile at slug only if it may be shown to the
// public now. A profile that exists but is unverified, unpublished or
// overdue gives ErrNotFound too, so its state never leaks.
func PublicBySlug(ctx context.Context, r SlugReader, slug string, now time.Time) (*Profile, error) {
	p, err := r.ProfileBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !p.IsPublic(now) {
		return nil, fmt.Errorf("profile %q is not public: %w", slug, ErrNotFound)
	}
	return p, nil
}
