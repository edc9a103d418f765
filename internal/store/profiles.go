package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

const profileColumns = `id, slug, display_name, headline, statement, gender, fee_min_pence, fee_max_pence,
	concessions, availability, availability_confirmed_at, verification_state, verified_at, next_check_due,
	contact_email, published, created_at, updated_at, owner_id, insurer, insurance_until, insurance_checked_at,
	details_changed_at, website, phone, public_email`

// Term kinds as stored in profile_terms.
const (
	termApproach = "approach"
	termIssue    = "issue"
	termClient   = "client"
	termFormat   = "format"
	termLanguage = "language"
	termTime     = "time"
)

// profileWriter holds the prepared statements for writing profiles inside
// one transaction, so bulk loads do not re-parse SQL for every row.
type profileWriter struct {
	tx                                        *Tx
	insert, insertAuto, update                *sql.Stmt
	membership, term, location                *sql.Stmt
	deleteMemberships, deleteTerms, deleteLoc *sql.Stmt
}

// profileWriter is the transaction's prepared profile statements, made on
// first use: a unit of work that saves hundreds of profiles (an import
// batch) prepares them once, not once a profile. database/sql closes
// them when the transaction ends.
func (t *Tx) profileWriter(ctx context.Context) (*profileWriter, error) {
	if t.profiles == nil {
		w, err := newProfileWriter(ctx, t)
		if err != nil {
			return nil, err
		}
		t.profiles = w
	}
	return t.profiles, nil
}

func newProfileWriter(ctx context.Context, tx *Tx) (*profileWriter, error) {
	w := &profileWriter{tx: tx}
	for _, s := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&w.insert, `INSERT INTO profiles (` + profileColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.insertAuto, `INSERT INTO profiles (` + profileColumns[len("id, "):] + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`},
		{&w.update, `UPDATE profiles SET slug = ?, display_name = ?, headline = ?, statement = ?, gender = ?,
			fee_min_pence = ?, fee_max_pence = ?, concessions = ?, availability = ?, availability_confirmed_at = ?,
			verification_state = ?, verified_at = ?, next_check_due = ?, contact_email = ?, published = ?, updated_at = ?, owner_id = ?,
			insurer = ?, insurance_until = ?, insurance_checked_at = ?, details_changed_at = ?,
			website = ?, phone = ?, public_email = ?
			WHERE id = ?`},
		{&w.membership, `INSERT INTO profile_memberships (profile_id, position, body, membership_number, level, checked_at) VALUES (?, ?, ?, ?, ?, ?)`},
		{&w.term, `INSERT INTO profile_terms (profile_id, kind, position, term) VALUES (?, ?, ?, ?)`},
		{&w.location, `INSERT INTO practice_locations (profile_id, position, postcode, outcode, area, lat, lon, wheelchair)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.deleteMemberships, `DELETE FROM profile_memberships WHERE profile_id = ?`},
		{&w.deleteTerms, `DELETE FROM profile_terms WHERE profile_id = ?`},
		{&w.deleteLoc, `DELETE FROM practice_locations WHERE profile_id = ?`},
	} {
		stmt, err := tx.prepare(ctx, s.query)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*s.dst = stmt
	}
	return w, nil
}

func (w *profileWriter) close() {
	for _, s := range []*sql.Stmt{w.insert, w.insertAuto, w.update, w.membership, w.term, w.location, w.deleteMemberships, w.deleteTerms, w.deleteLoc} {
		if s != nil {
			s.Close()
		}
	}
}

// create inserts p, choosing its id when p.ID is zero.
func (w *profileWriter) create(ctx context.Context, p *directory.Profile) error {
	args := []any{p.Slug, p.DisplayName, p.Headline, p.Statement, p.Gender,
		p.FeeMinPence, p.FeeMaxPence, p.Concessions, string(p.Availability), timeArg(p.AvailabilityConfirmedAt),
		string(p.Verification.State), timeArg(p.Verification.VerifiedAt), dateArg(p.Verification.NextCheckDue),
		p.ContactEmail, p.Published, timeArg(p.CreatedAt), timeArg(p.UpdatedAt), nullID(p.OwnerID),
		p.Insurance.Insurer, dateArg(p.Insurance.Until), timeArg(p.Insurance.CheckedAt), timeArg(p.Verification.DetailsChangedAt),
		p.PublicContact.Website, p.PublicContact.Phone, p.PublicContact.Email}
	var err error
	if p.ID != 0 {
		_, err = w.insert.ExecContext(ctx, append([]any{p.ID}, args...)...)
		w.tx.identityUsed("profiles")
	} else {
		err = w.insertAuto.QueryRowContext(ctx, args...).Scan(&p.ID)
	}
	if err != nil {
		if w.tx.dialect.isUniqueViolation(err) {
			return fmt.Errorf("slug %q is taken: %w", p.Slug, directory.ErrConflict)
		}
		return err
	}
	return w.children(ctx, p)
}

func (w *profileWriter) replace(ctx context.Context, p *directory.Profile) error {
	res, err := w.update.ExecContext(ctx, p.Slug, p.DisplayName, p.Headline, p.Statement, p.Gender,
		p.FeeMinPence, p.FeeMaxPence, p.Concessions, string(p.Availability), timeArg(p.AvailabilityConfirmedAt),
		string(p.Verification.State), timeArg(p.Verification.VerifiedAt), dateArg(p.Verification.NextCheckDue),
		p.ContactEmail, p.Published, timeArg(p.UpdatedAt), nullID(p.OwnerID),
		p.Insurance.Insurer, dateArg(p.Insurance.Until), timeArg(p.Insurance.CheckedAt), timeArg(p.Verification.DetailsChangedAt),
		p.PublicContact.Website, p.PublicContact.Phone, p.PublicContact.Email, p.ID)
	if err != nil {
		if w.tx.dialect.isUniqueViolation(err) {
			return fmt.Errorf("slug %q is taken: %w", p.Slug, directory.ErrConflict)
		}
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("profile %d: %w", p.ID, directory.ErrNotFound)
	}
	for _, del := range []*sql.Stmt{w.deleteMemberships, w.deleteTerms, w.deleteLoc} {
		if _, err := del.ExecContext(ctx, p.ID); err != nil {
			return err
		}
	}
	return w.children(ctx, p)
}

func (w *profileWriter) children(ctx context.Context, p *directory.Profile) error {
	for i, m := range p.Memberships {
		if _, err := w.membership.ExecContext(ctx, p.ID, i, m.Body, m.Number, m.Level, timeArg(m.CheckedAt)); err != nil {
			return fmt.Errorf("membership: %w", err)
		}
	}
	for _, group := range []struct {
		kind  string
		terms []string
	}{
		{termApproach, p.Approaches}, {termIssue, p.Issues}, {termClient, p.ClientGroups},
		{termFormat, p.Formats}, {termLanguage, p.Languages}, {termTime, p.SessionTimes},
	} {
		for i, t := range group.terms {
			if _, err := w.term.ExecContext(ctx, p.ID, group.kind, i, t); err != nil {
				return fmt.Errorf("%s %q: %w", group.kind, t, err)
			}
		}
	}
	for i, l := range p.Locations {
		if _, err := w.location.ExecContext(ctx, p.ID, i, l.Postcode, l.Outcode, l.Area, l.Lat, l.Lon,
			l.Wheelchair); err != nil {
			return fmt.Errorf("location: %w", err)
		}
	}
	w.tx.changed(p.ID, p.UpdatedAt, p)
	return nil
}

// CreateProfile stores a new profile and sets p.ID. A taken slug gives an
// error wrapping directory.ErrConflict.
func (db *DB) CreateProfile(ctx context.Context, p *directory.Profile) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		w, err := tx.profileWriter(ctx)
		if err != nil {
			return err
		}
		return w.create(ctx, p)
	})
	if err != nil {
		p.ID = 0
		return fmt.Errorf("store: create profile: %w", err)
	}
	return nil
}

// InsertProfiles stores many new profiles in one transaction, for demo data
// and bulk imports; each gets its ID set.
func (db *DB) InsertProfiles(ctx context.Context, ps []*directory.Profile) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		w, err := tx.profileWriter(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := w.create(ctx, p); err != nil {
				return fmt.Errorf("profile %q: %w", p.Slug, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: insert profiles: %w", err)
	}
	return nil
}

// UpdateProfile replaces a stored profile with p (matched by p.ID).
func (db *DB) UpdateProfile(ctx context.Context, p *directory.Profile) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		w, err := tx.profileWriter(ctx)
		if err != nil {
			return err
		}
		return w.replace(ctx, p)
	})
	if err != nil {
		return fmt.Errorf("store: update profile: %w", err)
	}
	return nil
}

// DeleteProfile removes a profile and everything attached to it.
func (db *DB) DeleteProfile(ctx context.Context, id int64) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM profiles WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("profile %d: %w", id, directory.ErrNotFound)
		}
		tx.changed(id, time.Now(), nil)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete profile: %w", err)
	}
	return nil
}

// ProfileByID reads one profile with everything attached.
func (db *DB) ProfileByID(ctx context.Context, id int64) (*directory.Profile, error) {
	return db.profileWhere(ctx, "id = ?", id)
}

// ProfileBySlug reads one profile by its web address.
func (db *DB) ProfileBySlug(ctx context.Context, slug string) (*directory.Profile, error) {
	return db.profileWhere(ctx, "slug = ?", slug)
}

// FeedProfile reads a profile for a search index following the change
// feed: with its Version (the snapshot's feed position), which costs one
// more query than the pages' reads and only the index needs.
func (db *DB) FeedProfile(ctx context.Context, id int64) (*directory.Profile, error) {
	return db.profileWhereVersioned(ctx, "id = ?", id, true)
}

func (db *DB) profileWhere(ctx context.Context, where string, arg any) (*directory.Profile, error) {
	return db.profileWhereVersioned(ctx, where, arg, false)
}

func (db *DB) profileWhereVersioned(ctx context.Context, where string, arg any, versioned bool) (*directory.Profile, error) {
	var out *directory.Profile
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.dialect.rebind(`SELECT `+profileColumns+` FROM profiles WHERE `+where), arg)
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return fmt.Errorf("profile %v: %w", arg, directory.ErrNotFound)
		}
		p, err := scanProfile(rows)
		if err != nil {
			return err
		}
		rows.Close()
		if versioned {
			// The same snapshot's feed position is this copy's version.
			if err := tx.QueryRowContext(ctx, feedPosition).Scan(&p.Version); err != nil {
				return err
			}
		}
		loader, err := newChildLoader(ctx, tx, db.dialect, "WHERE profile_id = ?", p.ID)
		if err != nil {
			return err
		}
		defer loader.close()
		if err := loader.fill(p); err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: read profile: %w", err)
	}
	return out, nil
}

// EachProfile calls fn for every profile, in id order, from one consistent
// snapshot, and returns the change-feed position of that snapshot: changes
// after it are not in what fn saw. It streams: memory does not grow with
// the number of profiles.
func (db *DB) EachProfile(ctx context.Context, fn func(*directory.Profile) error) (seq int64, err error) {
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		// The first statement fixes the snapshot (REPEATABLE READ on
		// PostgreSQL); feed.go explains why every change up to seq, and
		// none after it, is in that snapshot.
		if err := tx.QueryRowContext(ctx, feedPosition).Scan(&seq); err != nil {
			return err
		}
		profiles, err := openStream(ctx, tx, db.dialect, 0, `SELECT `+profileColumns+` FROM profiles ORDER BY id`, nil,
			func(r *sql.Rows, p **directory.Profile) (int64, error) {
				var err error
				*p, err = scanProfile(r)
				if err != nil {
					return 0, err
				}
				return (*p).ID, nil
			})
		if err != nil {
			return err
		}
		defer profiles.Close()
		loader, err := newChildLoader(ctx, tx, db.dialect, "", nil)
		if err != nil {
			return err
		}
		defer loader.close()
		for profiles.Next() {
			_, p := profiles.Row()
			p.Version = seq
			if err := loader.fill(p); err != nil {
				return err
			}
			if err := fn(p); err != nil {
				return err
			}
		}
		return profiles.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("store: read profiles: %w", err)
	}
	return seq, nil
}

// CountProfiles counts every stored profile, public or not.
func (db *DB) CountProfiles(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM profiles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count profiles: %w", err)
	}
	return n, nil
}

// ChangesSince lists up to limit change-feed entries after seq, oldest
// first.
func (db *DB) ChangesSince(ctx context.Context, seq int64, limit int) ([]directory.Change, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(
		`SELECT seq, profile_id FROM profile_changes WHERE seq > ? ORDER BY seq LIMIT ?`), seq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: changes since %d: %w", seq, err)
	}
	defer rows.Close()
	var out []directory.Change
	for rows.Next() {
		var c directory.Change
		if err := rows.Scan(&c.Seq, &c.ProfileID); err != nil {
			return nil, fmt.Errorf("store: changes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FeedSpan is the oldest and newest change-feed positions still held (0
// and 0 for an empty feed). An index snapshot taken at a position before
// oldest may have missed changes that were pruned since, and one after
// newest was taken from another (or a restored) database.
func (db *DB) FeedSpan(ctx context.Context) (oldest, newest int64, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM profile_changes`).Scan(&oldest, &newest)
	if err != nil {
		return 0, 0, fmt.Errorf("store: change feed span: %w", err)
	}
	return oldest, newest, nil
}

// PruneChanges drops change-feed entries older than before; every live
// process has long applied them.
func (db *DB) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM profile_changes WHERE changed_at < ? AND seq < (SELECT MAX(seq) FROM profile_changes)`, timeArg(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune changes: %w", err)
	}
	return n, nil
}

func scanProfile(rows *sql.Rows) (*directory.Profile, error) {
	var p directory.Profile
	var availability, state string
	var owner sql.NullInt64
	err := rows.Scan(&p.ID, &p.Slug, &p.DisplayName, &p.Headline, &p.Statement, &p.Gender,
		&p.FeeMinPence, &p.FeeMaxPence, &p.Concessions, &availability, nullTime{&p.AvailabilityConfirmedAt},
		&state, nullTime{&p.Verification.VerifiedAt}, nullTime{&p.Verification.NextCheckDue},
		&p.ContactEmail, &p.Published, nullTime{&p.CreatedAt}, nullTime{&p.UpdatedAt}, &owner,
		&p.Insurance.Insurer, nullTime{&p.Insurance.Until}, nullTime{&p.Insurance.CheckedAt}, nullTime{&p.Verification.DetailsChangedAt},
		&p.PublicContact.Website, &p.PublicContact.Phone, &p.PublicContact.Email)
	if err != nil {
		return nil, fmt.Errorf("scan profile: %w", err)
	}
	p.OwnerID = owner.Int64
	p.Availability = directory.Availability(availability)
	p.Verification.State = directory.VerificationState(state)
	return &p, nil
}

// childLoader merges the three child tables into profiles read in id
// order: each child query is ordered by profile id too, so one forward
// pass over each fills every profile (a merge join), with no per-profile
// queries.
type childLoader struct {
	memberships *childCursor[directory.Membership]
	terms       *childCursor[termRow]
	locations   *childCursor[directory.Location]
}

type termRow struct{ kind, term string }

// childCursor walks one child table ordered by profile id, one row ahead.
type childCursor[T any] struct {
	s   *stream[T]
	row T
	id  int64 // profile id of the row in hand
	ok  bool  // a row is in hand
}

func openCursor[T any](ctx context.Context, tx *sql.Tx, d dialect, n int, query string, args []any, scan func(*sql.Rows, *T) (int64, error)) (*childCursor[T], error) {
	s, err := openStream(ctx, tx, d, n, query, args, scan)
	if err != nil {
		return nil, err
	}
	c := &childCursor[T]{s: s}
	c.advance()
	return c, nil
}

func (c *childCursor[T]) advance() {
	c.ok = c.s.Next()
	if c.ok {
		c.id, c.row = c.s.Row()
	}
}

// each applies fn to the cursor's rows for profile id, skipping rows of
// profiles that were not asked for.
func (c *childCursor[T]) each(id int64, fn func(T)) error {
	for c.ok && c.id < id {
		c.advance()
	}
	for c.ok && c.id == id {
		fn(c.row)
		c.advance()
	}
	return c.s.Err()
}

func (c *childCursor[T]) close() {
	if c != nil {
		c.s.Close()
	}
}

func newChildLoader(ctx context.Context, tx *sql.Tx, d dialect, where string, arg any) (l *childLoader, err error) {
	var args []any
	if where != "" {
		args = []any{arg}
	}
	l = &childLoader{}
	opened := l // the named result is nil by the time an error return defers run
	defer func() {
		if err != nil {
			opened.close()
		}
	}()
	l.memberships, err = openCursor(ctx, tx, d, 1, `SELECT profile_id, body, membership_number, level, checked_at FROM profile_memberships `+where+` ORDER BY profile_id, position`, args,
		func(r *sql.Rows, m *directory.Membership) (id int64, err error) {
			err = r.Scan(&id, &m.Body, &m.Number, &m.Level, nullTime{&m.CheckedAt})
			return
		})
	if err != nil {
		return nil, err
	}
	l.terms, err = openCursor(ctx, tx, d, 2, `SELECT profile_id, kind, term FROM profile_terms `+where+` ORDER BY profile_id, kind, position`, args,
		func(r *sql.Rows, t *termRow) (id int64, err error) {
			err = r.Scan(&id, &t.kind, &t.term)
			return
		})
	if err != nil {
		return nil, err
	}
	l.locations, err = openCursor(ctx, tx, d, 3, `SELECT profile_id, postcode, outcode, area, lat, lon, wheelchair FROM practice_locations `+where+` ORDER BY profile_id, position`, args,
		func(r *sql.Rows, loc *directory.Location) (id int64, err error) {
			err = r.Scan(&id, &loc.Postcode, &loc.Outcode, &loc.Area, &loc.Lat, &loc.Lon, &loc.Wheelchair)
			return
		})
	if err != nil {
		return nil, err
	}
	return l, nil
}
func (l *childLoader) fill(p *directory.Profile) error {
	if err := l.memberships.each(p.ID, func(m directory.Membership) { p.Memberships = append(p.Memberships, m) }); err != nil {
		return fmt.Errorf("memberships: %w", err)
	}
	err := l.terms.each(p.ID, func(t termRow) {
		switch t.kind {
		case termApproach:
			p.Approaches = append(p.Approaches, t.term)
		case termIssue:
			p.Issues = append(p.Issues, t.term)
		case termClient:
			p.ClientGroups = append(p.ClientGroups, t.term)
		case termFormat:
			p.Formats = append(p.Formats, t.term)
		case termLanguage:
			p.Languages = append(p.Languages, t.term)
		case termTime:
			p.SessionTimes = append(p.SessionTimes, t.term)
		}
	})
	if err != nil {
		return fmt.Errorf("terms: %w", err)
	}
	if err := l.locations.each(p.ID, func(loc directory.Location) { p.Locations = append(p.Locations, loc) }); err != nil {
		return fmt.Errorf("locations: %w", err)
	}
	return nil
}

func (l *childLoader) close() {
	if l == nil {
		return
	}
	if l.memberships != nil {
		l.memberships.close()
	}
	if l.terms != nil {
		l.terms.close()
	}
	if l.locations != nil {
		l.locations.close()
	}
}
