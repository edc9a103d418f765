package web

import (
	"context"
	"time"

	"github.com/confide-org/confide/internal/errs"
)

// limiter allows n events per window for each key, refilling steadily, so
// someone over the limit is slowed down rather than locked out: one more
// attempt becomes possible every window/n. The buckets live in the
// database (RateLimits), so every replica counts against the same limit.
type limiter struct {
	name   string
	n      int
	window time.Duration
}

func newLimiter(name string, n int, window time.Duration) *limiter {
	return &limiter{name: name, n: n, window: window}
}

// limits are the site's rate limits on actions that guess or send email.
type limits struct {
	signinIP, signupIP, resetIP *limiter
	enquiryIP                   *limiter
}

func newLimits() *limits {
	return &limits{
		// Attempts, not failures: it bounds the password hashing one
		// address can ask for; failures are counted by account.Service.
		signinIP:  newLimiter("signin-ip", 30, time.Minute),
		signupIP:  newLimiter("signup-ip", 5, 30*time.Minute),
		resetIP:   newLimiter("reset-ip", 5, 30*time.Minute),
		enquiryIP: newLimiter("enquiry-ip", 5, time.Hour),
	}
}

// RateLimits keeps the token buckets behind the site's rate limits; the
// store implements it, shared by every replica.
type RateLimits interface {
	TakeToken(ctx context.Context, key string, burst int, window time.Duration, now time.Time) (ok bool, wait time.Duration, err error)
}

// limit takes one event for key from l, or returns a rate-limited error
// that names the limit and says how long to wait.
func (h *Handler) limit(ctx context.Context, l *limiter, key string) error {
	ok, wait, err := h.RateLimits.TakeToken(ctx, l.name+"\x00"+key, l.n, l.window, h.Now())
	if err != nil {
		return err
	}
	if !ok {
		return &errs.LimitError{Limit: l.name, RetryAfter: wait}
	}
	return nil
}
