package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/httpx"
)

// SessionConfig says how sign-in sessions behave.
type SessionConfig struct {
	// Secure marks the cookie Secure and gives it the __Host- prefix. Set
	// it whenever the site is reached over HTTPS (directly or through a
	// proxy); browsers refuse both on plain HTTP.
	Secure bool
	// IdleTimeout ends a session nobody has used for this long;
	// Lifetime ends every session this long after sign-in.
	IdleTimeout, Lifetime time.Duration
}

// Session keys.
const (
	sessUserID = "uid"
	sessEpoch  = "epoch"
	sessFlash  = "flash"
)

// NewSessions returns a session manager storing sessions in store.
func NewSessions(store scs.Store, cfg SessionConfig) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = cfg.IdleTimeout
	sm.Lifetime = cfg.Lifetime
	sm.Cookie.Name = "confide_session"
	if cfg.Secure {
		sm.Cookie.Name = "__Host-confide_session"
	}
	sm.Cookie.Secure = cfg.Secure
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.Cookie.Domain = ""
	sm.Cookie.Persist = false // gone when the browser closes
	return sm
}

type userKey struct{}

// currentUser returns the signed-in account, or nil.
func currentUser(ctx context.Context) *account.User {
	u, _ := ctx.Value(userKey{}).(*account.User)
	return u
}

// clientIP is the address the request came from; behind a trusted proxy,
// the last address the proxy added to X-Forwarded-For.
func (h *Handler) clientIP(r *http.Request) string {
	if h.Config.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// withUser loads the signed-in account (if any) into the context, ends
// sessions that were revoked, marks signed-in responses no-store, and
// names the actor for the audit log.
func (h *Handler) withUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		actor := audit.Actor{Who: "anonymous", IP: h.clientIP(r), RequestID: httpx.RequestID(ctx)}
		if uid := h.Sessions.GetInt64(ctx, sessUserID); uid != 0 {
			u, err := h.Accounts.Current(ctx, uid, h.Sessions.GetInt64(ctx, sessEpoch))
			switch {
			case err == nil:
				ctx = context.WithValue(ctx, userKey{}, u)
				actor.Who = audit.User(u.ID)
			case errors.Is(err, account.ErrNotFound):
				_ = h.Sessions.Destroy(ctx)
			default:
				h.Log.ErrorContext(ctx, "load session user", "err", err)
				_ = h.Sessions.Destroy(ctx)
			}
		}
		if h.Sessions.Exists(ctx, sessUserID) || currentUser(ctx) != nil {
			w.Header().Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r.WithContext(audit.WithActor(ctx, actor)))
	})
}

// startSession signs u in on a fresh session id, so that an id planted
// before sign-in (session fixation) is worthless afterwards.
func (h *Handler) startSession(ctx context.Context, u *account.User) error {
	if err := h.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	h.Sessions.Put(ctx, sessUserID, u.ID)
	h.Sessions.Put(ctx, sessEpoch, u.SessionEpoch)
	return nil
}

// keepSession follows a change an account made to itself that ended all
// of its sessions without a new sign-in (an admin changing their own
// roles): this session goes on, on a fresh id carrying the new epoch,
// with the deadline it had, so the change cannot stretch its lifetime.
func (h *Handler) keepSession(ctx context.Context, userID int64) error {
	u, err := h.Accounts.User(ctx, userID)
	if err != nil {
		return err
	}
	if u.SessionEpoch == h.Sessions.GetInt64(ctx, sessEpoch) {
		return nil
	}
	deadline := h.Sessions.Deadline(ctx)
	if err := h.startSession(ctx, u); err != nil {
		return err
	}
	h.Sessions.SetDeadline(ctx, deadline)
	return nil
}

// flash leaves a one-line confirmation for the next page.
func (h *Handler) flash(ctx context.Context, msg string) { h.Sessions.Put(ctx, sessFlash, msg) }

func (h *Handler) popFlash(ctx context.Context) string { return h.Sessions.PopString(ctx, sessFlash) }

// access is who may use a route.
type access struct {
	signedIn bool
	roles    []account.Role // any one of them; empty means any signed-in account
}

var (
	public   = access{}
	signedIn = access{signedIn: true}
)

func roles(rs ...account.Role) access { return access{signedIn: true, roles: rs} }

func (a access) String() string {
	if !a.signedIn {
		return "public"
	}
	if len(a.roles) == 0 {
		return "signed-in"
	}
	names := make([]string, len(a.roles))
	for i, r := range a.roles {
		names[i] = string(r)
	}
	return "role:" + strings.Join(names, "|")
}

// allows reports whether u may use a route with access a.
func (a access) allows(u *account.User) bool {
	if !a.signedIn {
		return true
	}
	if u == nil {
		return false
	}
	if len(a.roles) == 0 {
		return true
	}
	for _, r := range a.roles {
		if u.Has(r) {
			return true
		}
	}
	return false
}

// guard enforces a: anonymous visitors are sent to sign in (and brought
// back afterwards), signed-in accounts without the role get 403.
func (h *Handler) guard(a access, next handlerFunc) handlerFunc {
	if !a.signedIn {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		u := currentUser(r.Context())
		if u == nil {
			dest := "/signin"
			if r.Method == http.MethodGet {
				dest += "?" + url.Values{"next": {r.URL.RequestURI()}}.Encode()
			}
			http.Redirect(w, r, dest, http.StatusSeeOther)
			return nil
		}
		if !a.allows(u) {
			return errs.Forbidden
		}
		w.Header().Set("Cache-Control", "no-store")
		return next(w, r)
	}
}

// safeNext returns a local path to go to after sign-in, never another site.
func safeNext(next string) string {
	if !localPath(next) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	// Browsers forgive a lot (a tab or newline is dropped, a backslash is
	// a slash, %2F may be decoded by a proxy), so the decoded path must
	// pass the same test.
	if p, err := url.PathUnescape(u.EscapedPath()); err != nil || !localPath(p) {
		return ""
	}
	return next
}

// localPath accepts "/…" but not "//…", with no backslash and no control
// character anywhere.
func localPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.Contains(s, "\\") {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) })
}
