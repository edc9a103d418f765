// Package httpx holds the HTTP plumbing every surface shares: request ids,
// access logs that never record query strings or bodies, panic recovery,
// security headers, the status and Retry-After each error kind gets (so
// the HTML and JSON surfaces, which each word errors their own way, always
// agree on the code), the route-aware mux that request metrics are counted
// by, readiness probes and bearer-token protection for operator endpoints.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/confide-org/confide/internal/errs"
)

type ctxKey int

const requestKey ctxKey = iota

// requestState is what Observe keeps about a request in its context, as
// one value so that the hot path looks up one key: its id, and the route
// pattern the Mux's handler records on the way in.
type requestState struct {
	id    string
	route string
}

// RequestID returns the id of the request carried by ctx, or "".
func RequestID(ctx context.Context) string {
	if s, ok := ctx.Value(requestKey).(*requestState); ok {
		return s.id
	}
	return ""
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status code and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// RequestMetrics is told how each request went, so that internal/metrics
// can count requests without this package importing Prometheus. It runs
// on every request and must be cheap.
type RequestMetrics interface {
	// ObserveRequest reports one finished request: the route pattern that
	// served it (Unmatched when no Mux route did), its status and how long
	// it took.
	ObserveRequest(route string, status int, took time.Duration)
}

// Unmatched is the route of a request that no Mux route served: refused
// before routing, redirected by the mux to a cleaned path, or answered
// 405 Method Not Allowed.
const Unmatched = "unmatched"

// Observe gives every request an id (echoed in X-Request-Id), recovers
// from panics with a plain 500, writes one structured log line per request
// and, when m is not nil, reports the request to m by route pattern. The
// line holds the method, the path (never the query string: searches can
// reveal what someone is struggling with), status, size and duration.
func Observe(log *slog.Logger, m RequestMetrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		state := &requestState{id: id}
		ctx := context.WithValue(r.Context(), requestKey, state)
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(ctx, "panic serving request", "request_id", id, "path", r.URL.Path, "panic", p)
				if rec.status == 0 {
					http.Error(rec, "Internal Server Error (reference "+id+")", http.StatusInternalServerError)
				}
			}
			took := time.Since(start)
			log.InfoContext(ctx, "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "bytes", rec.bytes, "duration_ms", float64(took.Microseconds())/1000)
			if m != nil {
				route, status := state.route, rec.status
				if route == "" {
					route = Unmatched
				}
				if status == 0 {
					status = http.StatusOK // what net/http sends for an empty response
				}
				m.ObserveRequest(route, status, took)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

const nonceKey ctxKey = iota + 1

// Nonce returns the CSP nonce of the request carried by ctx, or "".
func Nonce(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey).(string)
	return n
}

// SecureHeaders sets headers that keep pages private and self-contained:
// a Content-Security-Policy whose scripts and inline styles need this
// response's nonce, no plugins, no <base> rewriting, no framing, no
// referrer leaks, no MIME sniffing. hsts adds Strict-Transport-Security,
// for sites reached over HTTPS.
func SecureHeaders(hsts bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		nonce := hex.EncodeToString(b[:])
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'nonce-"+nonce+"'; script-src 'nonce-"+nonce+"' 'strict-dynamic'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "geolocation=(), camera=(), microphone=(), interest-cohort=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nonceKey, nonce)))
	})
}

// Status is the HTTP status for err, by its kind: the one table both
// surfaces use. An error without a kind is a 500.
func Status(err error) int {
	switch errs.KindOf(err) {
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.RateLimited:
		return http.StatusTooManyRequests
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// defaultRetryAfter is the wait a 429 asks for when its error names none.
const defaultRetryAfter = time.Minute

// unavailableRetryAfter is the wait suggested while something we depend
// on (the database, say) is briefly down: a restart takes seconds.
const unavailableRetryAfter = 5 * time.Second

// SetRetryAfter sets Retry-After, in whole seconds rounded up, when err
// says how long to wait, and on every rate-limited or unavailable answer,
// so a client told 429 or 503 is always told when to come back.
func SetRetryAfter(h http.Header, err error) {
	d, ok := errs.RetryAfter(err)
	kind := errs.KindOf(err)
	if !ok && kind != errs.RateLimited && kind != errs.Unavailable {
		return
	}
	if !ok || d <= 0 {
		d = defaultRetryAfter
		if kind == errs.Unavailable {
			d = unavailableRetryAfter
		}
	}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}
