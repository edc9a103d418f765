// Package audit keeps an append-only, chained record of the actions that
// matter for trust and security: sign-ins, role changes, verification
// decisions, suspensions, publishing. Each entry names who did what to
// which object, when, from which address and in which request; it never
// holds content (no profile text, no passwords, no enquiries).
//
// Each entry's link is an HMAC under a key derived from the key file
// (never stored in the database) over the entry and the previous link, so
// that someone who can write to the database but does not hold the key
// cannot edit, insert or reorder entries and recompute the links after
// them (chain.go). What a MAC alone cannot show — entries deleted from the
// end — is caught by anchors: the head of the chain is written, at least
// hourly and on shutdown, both to the log and to a file beside the key
// file, and a chain shorter than its anchor, or disagreeing with it, fails
// verification (anchor.go).
package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Genesis is the previous link of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Link versions: how an entry's Hash was made.
const (
	// Unkeyed links are plain SHA-256, as written before links were MACs;
	// a chain holding them is re-keyed once (Rekey) and never verifies.
	Unkeyed = 0
	// HMACSHA256 links are HMAC-SHA256 under the chain's Key.
	HMACSHA256 = 1
)

// Actions the log writes about itself.
const (
	// ActionAnchor records the head of the chain as it was anchored; its
	// object names the entry it follows ("seq:N mac:…").
	ActionAnchor = "audit.anchor"
	// ActionRekeyed records that a chain of unkeyed links was re-keyed
	// from its first entry; its object names the entries re-keyed and the
	// unkeyed head they had.
	ActionRekeyed = "audit.rekeyed"
)

// Entry is one audited action.
type Entry struct {
	Seq       int64
	At        time.Time
	Actor     string // "user:12", "system", "cli", or "anonymous"
	Action    string // e.g. "signin.success", "role.grant"
	Object    string // e.g. "user:12", "profile:40", "user:12 role:admin"
	IP        string
	RequestID string
	PrevHash  string
	Hash      string
	// MACVersion says how Hash was made: Unkeyed or HMACSHA256.
	MACVersion int

	// key seals the entry; only a Log (or Rekey) gives an entry one, so
	// only entries made with the key reach the chain.
	key *Key
}

// Store persists entries.
type Store interface {
	// AppendAudit seals e against the current last entry and stores it.
	AppendAudit(ctx context.Context, e *Entry) error
	// EachAudit calls fn for every entry in sequence order.
	EachAudit(ctx context.Context, fn func(Entry) error) error
	// AuditHead returns the newest entry, or nil when the log is empty.
	AuditHead(ctx context.Context) (*Entry, error)
	// AuditEntry returns entry seq, or an error wrapping errs.NotFound.
	AuditEntry(ctx context.Context, seq int64) (*Entry, error)
}

// Actor identifies who is acting in a request; handlers put it in the
// context so that domain services can audit without knowing about HTTP.
type Actor struct {
	Who       string
	IP        string
	RequestID string
}

type ctxKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// ActorFrom returns the actor carried by ctx, or a "system" actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(ctxKey{}).(Actor); ok {
		return a
	}
	return Actor{Who: "system"}
}

// User is how accounts are named in entries.
func User(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// Profile is how profiles are named in entries.
func Profile(id int64) string { return "profile:" + strconv.FormatInt(id, 10) }

// Log records entries through a Store, sealed under its key.
type Log struct {
	store Store
	key   *Key
	now   func() time.Time
}

// NewLog returns a Log writing to s, linking entries under k, with clock
// now.
func NewLog(s Store, k *Key, now func() time.Time) *Log { return &Log{store: s, key: k, now: now} }

// Record appends action on object by the actor in ctx. Inside a store's
// unit of work the entry commits with the change it records.
func (l *Log) Record(ctx context.Context, action, object string) error {
	a := ActorFrom(ctx)
	e := &Entry{At: l.now().UTC(), Actor: a.Who, Action: action, Object: object, IP: a.IP, RequestID: a.RequestID, key: l.key}
	if err := l.store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, object, err)
	}
	return nil
}

// Verify checks the chain's links under the log's key and, when anchor is
// not nil, against that anchor (see Verify).
func (l *Log) Verify(ctx context.Context, anchor *Head) (Head, error) {
	return Verify(ctx, l.store, l.key, anchor)
}

// Describe is a short human line for an entry, for the staff audit page.
func Describe(e Entry) string {
	return strings.Join([]string{e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Object}, " ")
}
