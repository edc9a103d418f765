package store

// The change feed: every write to a profile appends its id to
// profile_changes in the same transaction, and every replica's search
// index follows the feed by reading "changes with seq > the last I
// applied", in seq order.
//
// Why no change is ever skipped, with any number of concurrent writers:
// on PostgreSQL a sequence hands out numbers at INSERT time, not at commit,
// so without care a transaction could take seq 10, another take seq 11 and
// commit first; a reader would apply 11, remember 11, and never see 10.
// Here a transaction appends its change rows only at the very end, just
// before COMMIT, while holding a transaction-scoped advisory lock
// (pg_advisory_xact_lock(lockFeed)). The lock is released only after the
// commit has become visible to new snapshots, so the next writer can take
// its sequence numbers only after every smaller number is committed and
// visible: seq order is commit order, and a reader that sees seq N sees
// every seq below it. Appending last keeps the lock held only for a few
// inserts and the commit, and after taking it the transaction writes
// nothing another transaction could be holding, so it cannot deadlock.
// SQLite needs no lock: its single writer commits one transaction at a
// time, which gives the same guarantee with the same code path.
//
// Replicas wake on NOTIFY (sent by the committing transaction, delivered
// only on commit) and poll as well, so a lost notification or connection
// delays a change by at most one poll interval and loses nothing.

import (
	"context"
	"fmt"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/jackc/pgx/v5"
)

// feedPosition is the newest committed change-feed number: all changes
// up to it, and none after, are in the snapshot it is read in.
const feedPosition = `SELECT COALESCE(MAX(seq), 0) FROM profile_changes`

// pendingChange is a change-feed row written when its transaction commits.
type pendingChange struct {
	profileID int64
	at        time.Time
	// p, when set, learns its new Version (the row's seq).
	p *directory.Profile
}

// changed records that profile id changed; the feed row is written just
// before commit (see the file comment for why).
func (t *Tx) changed(id int64, at time.Time, p *directory.Profile) {
	if at.IsZero() {
		at = time.Now()
	}
	t.changes = append(t.changes, pendingChange{id, at, p})
}

// identityUsed notes that rows were inserted into table with explicit ids,
// so PostgreSQL's identity sequence must be moved past them before commit.
func (t *Tx) identityUsed(table string) {
	if t.dialect.name != postgresDialect.name {
		return
	}
	if t.identities == nil {
		t.identities = map[string]bool{}
	}
	t.identities[table] = true
}

// finish writes what a transaction defers to its end: identity sequence
// fixes, then the change-feed rows under the feed lock and the wake-up,
// then the audit entries under the audit lock.
func (t *Tx) finish(ctx context.Context) error {
	for table := range t.identities {
		if _, err := t.exec(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'), GREATEST((SELECT MAX(id) FROM `+table+`), 1))`); err != nil {
			return fmt.Errorf("identity of %s: %w", table, err)
		}
	}
	if len(t.changes) == 0 {
		return t.appendAudits(ctx)
	}
	if err := t.lock(ctx, lockFeed); err != nil {
		return err
	}
	stmt, err := t.prepare(ctx, `INSERT INTO profile_changes (profile_id, changed_at) VALUES (?, ?) RETURNING seq`)
	if err != nil {
		return fmt.Errorf("change feed: %w", err)
	}
	defer stmt.Close()
	for _, c := range t.changes {
		var seq int64
		if err := stmt.QueryRowContext(ctx, c.profileID, timeArg(c.at)).Scan(&seq); err != nil {
			return fmt.Errorf("change feed: %w", err)
		}
		if c.p != nil {
			c.p.Version = seq
		}
	}
	if t.dialect.notify != "" {
		if _, err := t.exec(ctx, t.dialect.notify); err != nil {
			return fmt.Errorf("change feed notify: %w", err)
		}
	}
	// The audit lock is always taken after the feed lock, so two
	// transactions can never wait for each other's.
	return t.appendAudits(ctx)
}

// Wakeups returns a channel that receives soon after another process
// commits a change-feed entry, so a replica's index need not wait for its
// next poll. On PostgreSQL a goroutine holds a connection of its own
// LISTENing on the feed's channel, reconnecting (with backoff, up to
// maxBackoff) whenever the connection is lost; it stops when ctx ends. On
// SQLite there is no such signal and the channel never fires: polling
// alone picks up other processes' changes. Wake-ups are hints — the feed
// itself, read by sequence number, is the truth — so a missed one delays a
// change by at most one poll.
func (db *DB) Wakeups(ctx context.Context) <-chan struct{} {
	if db.dialect.name != postgresDialect.name {
		return nil
	}
	ch := make(chan struct{}, 1)
	go db.listen(ctx, ch)
	return ch
}

const maxBackoff = 5 * time.Second

func (db *DB) listen(ctx context.Context, ch chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, ch, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		db.log.Warn("change feed listener lost its connection; polling until it is back", "err", err, "retry_in", backoff.String())
		// Whatever was committed while we were away is picked up by the
		// poll this wake-up triggers.
		wake(ch)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (db *DB) listenOnce(ctx context.Context, ch chan<- struct{}, connected func()) error {
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+feedChannel); err != nil {
		return err
	}
	connected()
	wake(ch) // catch up on anything committed before LISTEN took effect
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake(ch)
	}
}

func wake(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
