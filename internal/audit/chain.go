package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"
)

// Key is the secret every link is an HMAC under. It is derived from the
// key file (enquiry.Keyring.AuditKey) and never stored in the database,
// so a database user cannot make a link that verifies.
type Key struct{ secret []byte }

// KeySize is the length of a Key's secret in bytes.
const KeySize = 32

// NewKey wraps a secret of KeySize bytes.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) != KeySize {
		return nil, fmt.Errorf("audit key: %d bytes, want %d", len(secret), KeySize)
	}
	return &Key{secret: append([]byte(nil), secret...)}, nil
}

// ErrNoKey is the refusal to write or check links without the key.
var ErrNoKey = errors.New("audit: no key to link entries with")

// write feeds e's fields and previous link to h. Fields are length-
// prefixed so that no two different entries share an encoding.
func (e *Entry) write(h hash.Hash) {
	for _, f := range []string{e.PrevHash, strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano),
		e.Actor, e.Action, e.Object, e.IP, e.RequestID} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
}

// Sum is e's unkeyed link: plain SHA-256 of e chained to e.PrevHash, as
// links were made before they were MACs. Anyone can compute it, which is
// why Rekey replaces it; it stays to check an old chain before re-keying.
func (e *Entry) Sum() string {
	h := sha256.New()
	e.write(h)
	return hex.EncodeToString(h.Sum(nil))
}

// link is e's keyed link: HMAC-SHA256 under k of e chained to e.PrevHash.
func (k *Key) link(e *Entry) string {
	m := hmac.New(sha256.New, k.secret)
	e.write(m)
	return hex.EncodeToString(m.Sum(nil))
}

// Seal sets e's sequence number, previous link and link, given the last
// entry of the chain (nil for the first), under the key of the Log that
// made e. Stores call it inside the write transaction that appends e,
// holding the audit lock from reading last until commit, so that two
// writers can never fork the chain. An anchor entry's object is set here
// to the head it follows, which only the sealer knows.
func Seal(e *Entry, last *Entry) error {
	if e.key == nil {
		return ErrNoKey
	}
	// Stores keep microseconds; the link must cover what is stored.
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Seq, e.PrevHash = 1, Genesis
	if last != nil {
		e.Seq, e.PrevHash = last.Seq+1, last.Hash
	}
	if e.Action == ActionAnchor {
		e.Object = fmt.Sprintf("seq:%d mac:%s", e.Seq-1, e.PrevHash)
	}
	e.MACVersion = HMACSHA256
	e.Hash = e.key.link(e)
	return nil
}

// BrokenLinkError names the first entry that does not follow from the
// chain before it, or from the anchor.
type BrokenLinkError struct {
	Seq    int64
	Reason string
}

// Error names the entry, for the CLI and the admin page.
func (e *BrokenLinkError) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d: %s", e.Seq, e.Reason)
}

// Verify walks the whole chain checking every link under k and, when
// anchor is not nil, that the chain reaches the anchored entry and holds
// the anchored link there. A chain longer than its anchor is fine: the
// anchor is a head that was committed, and the log has grown since. It
// returns the head it reached, or a *BrokenLinkError for the first bad
// entry: for a chain cut short, the first entry missing.
func Verify(ctx context.Context, s Store, k *Key, anchor *Head) (Head, error) {
	if k == nil {
		return Head{}, ErrNoKey
	}
	head := Head{MAC: Genesis}
	err := s.EachAudit(ctx, func(e Entry) error {
		if reason := k.check(&e, head, anchor); reason != "" {
			return &BrokenLinkError{Seq: e.Seq, Reason: reason}
		}
		head = Head{Seq: e.Seq, MAC: e.Hash, At: e.At}
		return nil
	})
	if err != nil {
		return head, err
	}
	if anchor != nil && head.Seq < anchor.Seq {
		return head, &BrokenLinkError{Seq: head.Seq + 1, Reason: fmt.Sprintf(
			"missing: the chain ends at entry %d but the anchor records entry %d (entries were removed from the end)", head.Seq, anchor.Seq)}
	}
	return head, nil
}

// check says what is wrong with e following prev, or "".
func (k *Key) check(e *Entry, prev Head, anchor *Head) string {
	switch {
	case e.Seq != prev.Seq+1:
		return fmt.Sprintf("expected entry %d here (a row was removed or inserted)", prev.Seq+1)
	case e.PrevHash != prev.MAC:
		return "previous link does not match the entry before it (rows were reordered, removed or inserted)"
	case e.MACVersion != HMACSHA256:
		return "unkeyed link (plain SHA-256): written before links were MACs and never re-keyed, or rewritten without the key"
	case !hmac.Equal([]byte(e.Hash), []byte(k.link(e))):
		return "contents do not match the MAC (the row was edited, or its link made without the key)"
	case anchor != nil && e.Seq == anchor.Seq && e.Hash != anchor.MAC:
		return "differs from the anchor (the chain was rewritten up to here)"
	}
	return ""
}

// Rekeyer is a store that can re-key a chain in one transaction.
type Rekeyer interface {
	// RekeyAudit, in one transaction under the audit lock and only when
	// the newest entry is unkeyed, passes every entry in order to relink,
	// writes back the link and version relink gave it, and appends the
	// entry note returns. It returns how many entries it re-linked: 0
	// when the log is empty or already keyed.
	RekeyAudit(ctx context.Context, relink func(*Entry) error, note func() *Entry) (int, error)
}

// Rekey migrates a chain of unkeyed links, written before links were
// MACs, to links under k: it checks the old chain from its first entry,
// recomputes every link as a MAC, and appends an ActionRekeyed entry
// naming the entries re-keyed and the old head, all in one transaction.
// A chain that is already keyed is left alone. It refuses to re-key an old
// chain that is broken (which would hide the break) and any unkeyed chain
// when anchor is not nil: an anchor exists only once a chain was keyed,
// so an unkeyed one then has been rewritten by someone without the key.
func Rekey(ctx context.Context, s Rekeyer, k *Key, anchor *Head, now time.Time) (int, error) {
	if k == nil {
		return 0, ErrNoKey
	}
	old := Head{MAC: Genesis}
	keyed := Genesis
	relink := func(e *Entry) error {
		reason := ""
		switch {
		case anchor != nil:
			reason = fmt.Sprintf("unkeyed, but an anchor (entry %d) exists, so the chain was keyed before and has been rewritten", anchor.Seq)
		case e.Seq != old.Seq+1:
			reason = fmt.Sprintf("expected entry %d here (a row was removed or inserted)", old.Seq+1)
		case e.MACVersion != Unkeyed:
			reason = "keyed, but a later entry is not"
		case e.PrevHash != old.MAC:
			reason = "previous hash does not match the entry before it"
		case e.Hash != e.Sum():
			reason = "contents do not match the stored hash (the row was edited)"
		}
		if reason != "" {
			return fmt.Errorf("not re-keying: %w", &BrokenLinkError{Seq: e.Seq, Reason: reason})
		}
		old = Head{Seq: e.Seq, MAC: e.Hash}
		e.PrevHash, e.MACVersion = keyed, HMACSHA256
		e.Hash = k.link(e)
		keyed = e.Hash
		return nil
	}
	note := func() *Entry {
		return &Entry{At: now.UTC(), Actor: "system", Action: ActionRekeyed,
			Object: fmt.Sprintf("entries:1-%d unkeyed-head:%s", old.Seq, old.MAC), key: k}
	}
	return s.RekeyAudit(ctx, relink, note)
}
