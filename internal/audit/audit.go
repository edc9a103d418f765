// Package audit keeps an append-only, hash-chained record of the actions
// that matter for trust and security: sign-ins, role changes, verification
// decisions, suspensions, publishing. Each entry names who did what to
// which object, when, from which address and in which request; it never
// holds content (no profile text, no passwords, no enquiries). Each hash
// covers the previous entry's hash, so a changed or deleted row breaks the
// chain from that point on and Verify names it.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Genesis is the previous-hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

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
}

// Sum is the hash of e chained to e.PrevHash. Fields are length-prefixed
// so that no two different entries can share an encoding.
func (e *Entry) Sum() string {
	h := sha256.New()
	for _, f := range []string{e.PrevHash, strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano),
		e.Actor, e.Action, e.Object, e.IP, e.RequestID} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets e's sequence number, previous hash and hash, given the last
// entry of the chain (nil for the first). Stores call it inside the write
// transaction that appends e, so that two writers can never fork the chain.
func Seal(e *Entry, last *Entry) {
	// Stores keep microseconds; the hash must cover what is stored.
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Seq, e.PrevHash = 1, Genesis
	if last != nil {
		e.Seq, e.PrevHash = last.Seq+1, last.Hash
	}
	e.Hash = e.Sum()
}

// Store persists entries.
type Store interface {
	// AppendAudit seals e against the current last entry and stores it.
	AppendAudit(ctx context.Context, e *Entry) error
	// EachAudit calls fn for every entry in sequence order.
	EachAudit(ctx context.Context, fn func(Entry) error) error
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

// Log records entries through a Store.
type Log struct {
	store Store
	now   func() time.Time
}

// NewLog returns a Log writing to s with clock now.
func NewLog(s Store, now func() time.Time) *Log { return &Log{store: s, now: now} }

// Record appends action on object by the actor in ctx.
func (l *Log) Record(ctx context.Context, action, object string) error {
	a := ActorFrom(ctx)
	e := &Entry{At: l.now().UTC(), Actor: a.Who, Action: action, Object: object, IP: a.IP, RequestID: a.RequestID}
	if err := l.store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, object, err)
	}
	return nil
}

// BrokenLinkError names the first entry whose hash does not follow from
// the chain before it.
type BrokenLinkError struct {
	Seq    int64
	Reason string
}

// Error names the entry, for the CLI and the admin page.
func (e *BrokenLinkError) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d: %s", e.Seq, e.Reason)
}

// Verify walks the whole chain and returns how many entries it checked, or
// a *BrokenLinkError for the first bad link.
func Verify(ctx context.Context, s Store) (int, error) {
	var n int
	var prev *Entry
	err := s.EachAudit(ctx, func(e Entry) error {
		wantSeq, wantPrev := int64(1), Genesis
		if prev != nil {
			wantSeq, wantPrev = prev.Seq+1, prev.Hash
		}
		switch {
		case e.Seq != wantSeq:
			return &BrokenLinkError{Seq: e.Seq, Reason: fmt.Sprintf("expected entry %d here (a row was removed or inserted)", wantSeq)}
		case e.PrevHash != wantPrev:
			return &BrokenLinkError{Seq: e.Seq, Reason: "previous-hash does not match the entry before it"}
		case e.Hash != e.Sum():
			return &BrokenLinkError{Seq: e.Seq, Reason: "contents do not match the stored hash (the row was edited)"}
		}
		n++
		prev = &e
		return nil
	})
	return n, err
}

// Describe is a short human line for an entry, for the staff audit page.
func Describe(e Entry) string {
	return strings.Join([]string{e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Object}, " ")
}
