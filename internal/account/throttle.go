package account

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/errs"
)

// Throttle holds the token buckets that slow password guessing. The store
// implements it with a table every replica shares, so the counts hold
// across replicas and restarts.
type Throttle interface {
	// Tokens is how many tokens the bucket named key holds now (burst
	// when it has never been used).
	Tokens(ctx context.Context, key string, burst int, window time.Duration, now time.Time) (float64, error)
	// TakeToken takes one token; ok is false when the bucket was empty.
	TakeToken(ctx context.Context, key string, burst int, window time.Duration, now time.Time) (ok bool, wait time.Duration, err error)
}

// bucket is one token bucket: burst tokens, refilled at burst per window.
type bucket struct {
	name   string
	burst  int
	window time.Duration
}

// The sign-in limits count failures, never attempts: typing someone's
// email address must not be a way to lock them out. A failure costs a
// token from the address it came from, from that address's tokens for
// that account, and from the account's own bucket; only the first two
// ever refuse a try, so whoever knows the password and is not the one
// failing always gets in. When the account's bucket is empty (it is
// being guessed at from many places) each address that has failed on it
// recently must wait for its tokens for that account to refill in full,
// which slows every guessing address to one try per refill.
var (
	// failSource: failures from one address (an IPv6 /64) across accounts.
	failSource = bucket{"signin-fail-source", 20, time.Hour}
	// failPair: failures from one address on one account.
	failPair = bucket{"signin-fail-pair", 5, 15 * time.Minute}
	// failAccount: failures on one account from anywhere; an empty
	// bucket tightens failPair and tells the owner.
	failAccount = bucket{"signin-fail-account", 20, time.Hour}
	// alertAccount: at most one "failed sign-ins" email a day.
	alertAccount = bucket{"signin-alert", 1, 24 * time.Hour}
	// failCurrent: wrong current passwords from a signed-in session
	// (changing email or password), per account: a stolen session must
	// not become a way to guess the password.
	failCurrent = bucket{"current-password-fail", 5, 15 * time.Minute}
)

func (b bucket) key(parts ...string) string {
	k := b.name
	for _, p := range parts {
		k += "\x00" + p
	}
	return k
}

// wait is how long until a bucket holding have tokens holds need.
func (b bucket) wait(have, need float64) time.Duration {
	rate := float64(b.burst) / b.window.Seconds()
	return time.Duration(math.Ceil((need - have) / rate * float64(time.Second)))
}

// check refuses with a LimitError unless the bucket holds need tokens.
func (s *Service) check(ctx context.Context, b bucket, need float64, parts ...string) error {
	have, err := s.Throttle.Tokens(ctx, b.key(parts...), b.burst, b.window, s.now())
	if err != nil {
		return fmt.Errorf("sign-in limits: %w", err)
	}
	if have < need {
		return &errs.LimitError{Limit: b.name, RetryAfter: b.wait(have, need)}
	}
	return nil
}

func (s *Service) take(ctx context.Context, b bucket, parts ...string) (bool, error) {
	ok, _, err := s.Throttle.TakeToken(ctx, b.key(parts...), b.burst, b.window, s.now())
	if err != nil {
		return false, fmt.Errorf("sign-in limits: %w", err)
	}
	return ok, nil
}

// signInAllowed refuses a try from source at email's account while that
// address has been failing too often; it never looks at failures from
// other addresses except to tighten the limit on this one when it has
// been failing too.
func (s *Service) signInAllowed(ctx context.Context, email, source string) error {
	if s.Throttle == nil || source == "" {
		return nil
	}
	if err := s.check(ctx, failSource, 1, source); err != nil {
		return err
	}
	need := 1.0
	acct, err := s.Throttle.Tokens(ctx, failAccount.key(email), failAccount.burst, failAccount.window, s.now())
	if err != nil {
		return fmt.Errorf("sign-in limits: %w", err)
	}
	if acct < 1 {
		need = float64(failPair.burst)
	}
	return s.check(ctx, failPair, need, email, source)
}

// signInFailed counts a failure and, the first time in a day that the
// account's failures run past its bucket, emails its owner.
func (s *Service) signInFailed(ctx context.Context, email, source string, u *User) {
	if s.Throttle == nil || source == "" {
		return
	}
	var err error
	defer func() {
		if err != nil {
			s.log.ErrorContext(ctx, "count a failed sign-in", "err", err)
		}
	}()
	if _, err = s.take(ctx, failSource, source); err != nil {
		return
	}
	if _, err = s.take(ctx, failPair, email, source); err != nil {
		return
	}
	var ok bool
	if ok, err = s.take(ctx, failAccount, email); err != nil || ok || u == nil || u.Disabled() {
		return
	}
	if ok, err = s.take(ctx, alertAccount, email); err != nil || !ok {
		return
	}
	s.record(ctx, "signin.alert", audit.User(u.ID))
	s.send(ctx, u.Email, "Failed attempts to sign in to your account",
		fmt.Sprintf("There have been more than %d failed attempts to sign in to your %s account in the last %s.\n\n"+
			"Your account has not been locked and you can sign in as usual: the places the attempts come from are being slowed down.\n\n"+
			"If they were not you, make sure your password is long and not used anywhere else. You can choose a new one here: %s/reset\n\n"+
			"We send this email at most once a day.",
			failAccount.burst, s.cfg.SiteName, humanTTL(failAccount.window), s.cfg.BaseURL))
}

// checkCurrentAllowed refuses a current-password check on an account
// whose recent checks have failed too often.
func (s *Service) checkCurrentAllowed(ctx context.Context, userID int64) error {
	if s.Throttle == nil {
		return nil
	}
	return s.check(ctx, failCurrent, 1, audit.User(userID))
}

func (s *Service) currentFailed(ctx context.Context, userID int64) {
	if s.Throttle == nil {
		return
	}
	if _, err := s.take(ctx, failCurrent, audit.User(userID)); err != nil {
		s.log.ErrorContext(ctx, "count a failed password check", "err", err)
	}
}
