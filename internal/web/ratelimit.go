package web

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter allows n events per window for each key, refilling steadily, so
// someone over the limit is slowed down rather than locked out: one more
// attempt becomes possible every window/n.
type limiter struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	keys  map[string]*rate.Limiter
}

const maxLimiterKeys = 50_000

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{every: rate.Limit(float64(n) / window.Seconds()), burst: n, keys: make(map[string]*rate.Limiter)}
}

// allow takes one event for key at now; when over the limit it returns
// how long until the next event would be allowed.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxLimiterKeys {
			l.prune(now)
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.keys[key] = lim
	}
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// prune forgets keys whose bucket has refilled: they hold no state.
func (l *limiter) prune(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
}

// limits are the site's rate limits on actions that guess or send email.
type limits struct {
	signinIP, signinAccount, signupIP, resetIP *limiter
	enquiryIP                                  *limiter
}

func newLimits() *limits {
	return &limits{
		signinIP:      newLimiter(10, time.Minute),
		signinAccount: newLimiter(25, time.Hour),
		signupIP:      newLimiter(5, 30*time.Minute),
		resetIP:       newLimiter(5, 30*time.Minute),
		enquiryIP:     newLimiter(5, time.Hour),
	}
}

// tooManyError carries how long to wait.
type tooManyError struct{ retryAfter time.Duration }

func (e *tooManyError) Error() string { return "rate limited" }

func (e *tooManyError) seconds() string {
	return strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds())))
}

func (h *Handler) limit(l *limiter, key string) error {
	if ok, wait := l.allow(key, h.Now()); !ok {
		return &tooManyError{retryAfter: wait}
	}
	return nil
}
