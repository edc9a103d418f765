// Package account is the domain of people who sign in: therapists keeping
// their profiles and staff (verifiers, editors, reviewers, admins). It owns
// password policy and hashing, one-time email tokens and the rules of
// sign-up, sign-in, reset and role changes. It knows nothing of HTTP,
// cookies or SQL.
package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/errs"
)

// Role is what a person may do. A person may hold several.
type Role string

// The roles.
const (
	Therapist Role = "therapist"
	Verifier  Role = "verifier"
	Editor    Role = "editor"
	Reviewer  Role = "reviewer" // member of the expert panel
	Admin     Role = "admin"
)

// Roles lists every role, in the order forms show them.
var Roles = []Role{Therapist, Verifier, Editor, Reviewer, Admin}

// Staff roles see the staff area.
func (r Role) Staff() bool { return r != Therapist }

// StaffRoles lists every staff role, in the order forms show them. The
// first admin of a site is given all of them, so that one person can run
// a new directory (verify, edit, review) without granting themself each
// role first.
func StaffRoles() []Role { return []Role{Verifier, Editor, Reviewer, Admin} }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, slices.Contains(Roles, r)
}

// User is an account.
type User struct {
	ID               int64
	Email            string
	PasswordHash     string
	EmailConfirmedAt time.Time
	DisabledAt       time.Time
	// SessionEpoch is stored in every session at sign-in; raising it
	// revokes all of the account's sessions at once.
	SessionEpoch int64
	NoticeSentAt time.Time
	Roles        []Role
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Has reports whether u holds role r.
func (u *User) Has(r Role) bool { return u != nil && slices.Contains(u.Roles, r) }

// IsStaff reports whether u holds any staff role.
func (u *User) IsStaff() bool {
	return u != nil && slices.ContainsFunc(u.Roles, Role.Staff)
}

// Disabled reports whether an admin has disabled the account.
func (u *User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Purpose says what a one-time token is for.
type Purpose string

// The token purposes.
const (
	PurposeConfirm Purpose = "confirm" // confirm the email address after sign-up
	PurposeReset   Purpose = "reset"   // choose a new password
	PurposeSetup   Purpose = "setup"   // first password of an account made by `confide admin create`
	PurposeEmail   Purpose = "email"   // confirm a new email address
)

// Token is a one-time token as stored: only its SHA-256.
type Token struct {
	Hash      string
	UserID    int64
	Purpose   Purpose
	NewEmail  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// newToken returns a random token to send and its stored form.
func newToken(userID int64, purpose Purpose, now time.Time, ttl time.Duration) (string, *Token, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	plain := base64.RawURLEncoding.EncodeToString(b[:])
	return plain, &Token{Hash: HashToken(plain), UserID: userID, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(ttl)}, nil
}

// HashToken is the stored form of a token sent by email.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// Errors of the shared kinds in package errs, under the names the store
// and callers already use.
const (
	ErrNotFound = errs.NotFound
	// ErrConflict is wrapped when an email address is already taken.
	ErrConflict = errs.Conflict
	// ErrForbidden is an action the actor may not take.
	ErrForbidden = errs.Forbidden
)

// Errors particular to accounts, each of a shared kind so that an
// unhandled one is still answered sensibly; the sign-in and link pages
// word each one themselves.
var (
	// ErrBadCredentials is the one answer to a failed sign-in, whether the
	// email is unknown, the password wrong or the account disabled.
	ErrBadCredentials = errs.New(errs.Invalid, "email or password is incorrect")
	// ErrUnconfirmed is returned for a correct password on an account
	// whose email has not been confirmed; a new link has been sent.
	ErrUnconfirmed = errs.New(errs.Forbidden, "email address not confirmed")
	// ErrTokenInvalid covers unknown, used and expired links alike.
	ErrTokenInvalid = errs.New(errs.Invalid, "link is invalid or has expired")
)

// MaxEmailLen is the longest email address accepted (RFC 5321 path limit).
const MaxEmailLen = 254

// NormalizeEmail lower-cases and trims an address and reports whether it
// is a plain address with a dotted domain.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > MaxEmailLen {
		return s, false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return s, false
	}
	at := strings.LastIndex(s, "@")
	return s, at > 0 && strings.Contains(s[at:], ".") && !strings.HasSuffix(s, ".")
}
