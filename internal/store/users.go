package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/account"
)

const userColumns = `id, email, password_hash, email_confirmed_at, disabled_at, session_epoch, notice_sent_at, created_at, updated_at`

// CreateUser stores u, its roles and (when tok is not nil) a token for it
// in one transaction.
func (db *DB) CreateUser(ctx context.Context, u *account.User, tok *account.Token) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		id, err := tx.insertID(ctx, `INSERT INTO users (email, password_hash, email_confirmed_at, session_epoch, created_at, updated_at)
			VALUES (?, ?, ?, 1, ?, ?)`, u.Email, u.PasswordHash, timeArg(u.EmailConfirmedAt), timeArg(u.CreatedAt), timeArg(u.UpdatedAt))
		if err != nil {
			if tx.dialect.isUniqueViolation(err) {
				return fmt.Errorf("email taken: %w", account.ErrConflict)
			}
			return err
		}
		u.ID = id
		u.SessionEpoch = 1
		for _, r := range u.Roles {
			if _, err := tx.exec(ctx, `INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?)`, u.ID, string(r), timeArg(u.CreatedAt)); err != nil {
				return err
			}
		}
		if tok != nil {
			tok.UserID = u.ID
			return insertToken(ctx, tx, tok)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

func insertToken(ctx context.Context, tx *Tx, t *account.Token) error {
	_, err := tx.exec(ctx, `INSERT INTO account_tokens (hash, user_id, purpose, new_email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.UserID, string(t.Purpose), t.NewEmail, timeArg(t.CreatedAt), timeArg(t.ExpiresAt))
	return err
}

// CreateToken stores a one-time token.
func (db *DB) CreateToken(ctx context.Context, t *account.Token) error {
	if err := db.Transact(ctx, func(tx *Tx) error { return insertToken(ctx, tx, t) }); err != nil {
		return fmt.Errorf("store: create token: %w", err)
	}
	return nil
}

// TokenByHash returns an unused, unexpired token of the given purpose.
func (db *DB) TokenByHash(ctx context.Context, hash string, p account.Purpose, now time.Time) (*account.Token, error) {
	var t account.Token
	var purpose string
	err := db.read.QueryRowContext(ctx, db.dialect.rebind(`SELECT hash, user_id, purpose, new_email, created_at, expires_at
		FROM account_tokens WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`), hash, string(p), timeArg(now)).
		Scan(&t.Hash, &t.UserID, &purpose, &t.NewEmail, nullTime{&t.CreatedAt}, nullTime{&t.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("token: %w", account.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("store: read token: %w", err)
	}
	t.Purpose = account.Purpose(purpose)
	return &t, nil
}

// UseToken marks a token used, and every other token of the same account
// and purpose with it, so an older link cannot be used after a newer one.
func (db *DB) UseToken(ctx context.Context, hash string, now time.Time) error {
	return db.Transact(ctx, func(tx *Tx) error {
		var userID int64
		var purpose string
		err := tx.queryRow(ctx, `SELECT user_id, purpose FROM account_tokens WHERE hash = ? AND used_at IS NULL`, hash).Scan(&userID, &purpose)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("token: %w", account.ErrNotFound)
		} else if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE account_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL`, timeArg(now), userID, purpose)
		return err
	})
}

// UserByID reads an account with its roles.
func (db *DB) UserByID(ctx context.Context, id int64) (*account.User, error) {
	return db.userWhere(ctx, "id = ?", id)
}

// UserByEmail reads an account by its (lower-case) email.
func (db *DB) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	return db.userWhere(ctx, "email = ?", email)
}

func (db *DB) userWhere(ctx context.Context, where string, arg any) (*account.User, error) {
	var u *account.User
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.dialect.rebind(`SELECT `+userColumns+` FROM users WHERE `+where), arg)
		if err != nil {
			return err
		}
		users, err := scanUsers(rows)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return fmt.Errorf("user %v: %w", arg, account.ErrNotFound)
		}
		u = &users[0]
		return fillRoles(ctx, tx, db.dialect, users)
	})
	if err != nil {
		return nil, fmt.Errorf("store: read user: %w", err)
	}
	return u, nil
}

func scanUsers(rows *sql.Rows) ([]account.User, error) {
	defer rows.Close()
	var out []account.User
	for rows.Next() {
		var u account.User
		if err := rows.Scan(&u.ID, &u.Email, &u.PasswordHash, nullTime{&u.EmailConfirmedAt}, nullTime{&u.DisabledAt},
			&u.SessionEpoch, nullTime{&u.NoticeSentAt}, nullTime{&u.CreatedAt}, nullTime{&u.UpdatedAt}); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func fillRoles(ctx context.Context, tx *sql.Tx, d dialect, users []account.User) error {
	for i := range users {
		rows, err := tx.QueryContext(ctx, d.rebind(`SELECT role FROM user_roles WHERE user_id = ? ORDER BY role`), users[i].ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				rows.Close()
				return err
			}
			users[i].Roles = append(users[i].Roles, account.Role(r))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Users lists up to limit accounts whose email contains q, newest first.
func (db *DB) Users(ctx context.Context, q string, limit int) ([]account.User, error) {
	var out []account.User
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
		rows, err := tx.QueryContext(ctx, db.dialect.rebind(`SELECT `+userColumns+` FROM users WHERE email LIKE ? ESCAPE '\' ORDER BY id DESC LIMIT ?`), like, limit)
		if err != nil {
			return err
		}
		if out, err = scanUsers(rows); err != nil {
			return err
		}
		return fillRoles(ctx, tx, db.dialect, out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// userUpdate runs one UPDATE on users and reports a missing account.
func (db *DB) userUpdate(ctx context.Context, op string, query string, args ...any) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, query, args...)
		if err != nil {
			if tx.dialect.isUniqueViolation(err) {
				return account.ErrConflict
			}
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return account.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}

// SetPassword replaces an account's password hash; revoke also ends every
// session.
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string, revoke bool, now time.Time) error {
	bump := 0
	if revoke {
		bump = 1
	}
	return db.userUpdate(ctx, "set password", `UPDATE users SET password_hash = ?, session_epoch = session_epoch + ?, updated_at = ? WHERE id = ?`, hash, bump, timeArg(now), userID)
}

// NoteNotice records when an "account exists" notice was last sent.
func (db *DB) NoteNotice(ctx context.Context, userID int64, at time.Time) error {
	return db.userUpdate(ctx, "note notice", `UPDATE users SET notice_sent_at = ? WHERE id = ?`, timeArg(at), userID)
}

// ConfirmEmail marks the address confirmed (keeping an earlier date).
func (db *DB) ConfirmEmail(ctx context.Context, userID int64, now time.Time) error {
	return db.userUpdate(ctx, "confirm email", `UPDATE users SET email_confirmed_at = COALESCE(email_confirmed_at, ?), updated_at = ? WHERE id = ?`, timeArg(now), timeArg(now), userID)
}

// ChangeEmail sets a new, confirmed address; a taken one gives ErrConflict.
func (db *DB) ChangeEmail(ctx context.Context, userID int64, email string, now time.Time) error {
	return db.userUpdate(ctx, "change email", `UPDATE users SET email = ?, email_confirmed_at = ?, updated_at = ? WHERE id = ?`, email, timeArg(now), timeArg(now), userID)
}

// SetRole grants or revokes one role.
func (db *DB) SetRole(ctx context.Context, userID int64, r account.Role, grant bool, by int64, now time.Time) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		if grant {
			_, err := tx.exec(ctx, `INSERT INTO user_roles (user_id, role, granted_at, granted_by) VALUES (?, ?, ?, ?)
				ON CONFLICT (user_id, role) DO NOTHING`, userID, string(r), timeArg(now), nullID(by))
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM user_roles WHERE user_id = ? AND role = ?`, userID, string(r))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set role: %w", err)
	}
	return nil
}

// SetDisabled disables or re-enables an account and revokes its sessions.
func (db *DB) SetDisabled(ctx context.Context, userID int64, disabled bool, now time.Time) error {
	var at any
	if disabled {
		at = timeArg(now)
	}
	return db.userUpdate(ctx, "disable user", `UPDATE users SET disabled_at = ?, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?`, at, timeArg(now), userID)
}

// RevokeSessions ends every session of an account.
func (db *DB) RevokeSessions(ctx context.Context, userID int64, now time.Time) error {
	return db.userUpdate(ctx, "revoke sessions", `UPDATE users SET session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?`, timeArg(now), userID)
}

// CountWithRole counts the accounts holding role r.
func (db *DB) CountWithRole(ctx context.Context, r account.Role) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, db.dialect.rebind(`SELECT COUNT(*) FROM user_roles WHERE role = ?`), string(r)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s accounts: %w", r, err)
	}
	return n, nil
}

// ProfileOwner is a new account for a stored profile without an owner.
type ProfileOwner struct {
	ProfileID int64
	User      *account.User
}

// InsertOwners creates each account (with its roles, its password hash
// and a confirmed address) and makes it the keeper of its profile, in
// one transaction: the demo's therapists, who can then be sent
// enquiries and sign in. A profile that already has an owner, or an
// address already taken, fails the whole call.
func (db *DB) InsertOwners(ctx context.Context, owners []ProfileOwner) error {
	err := db.Transact(ctx, func(tx *Tx) error {
		for _, o := range owners {
			u := o.User
			id, err := tx.insertID(ctx, `INSERT INTO users (email, password_hash, email_confirmed_at, session_epoch, created_at, updated_at)
				VALUES (?, ?, ?, 1, ?, ?)`, u.Email, u.PasswordHash, timeArg(u.EmailConfirmedAt), timeArg(u.CreatedAt), timeArg(u.UpdatedAt))
			if err != nil {
				if tx.dialect.isUniqueViolation(err) {
					return fmt.Errorf("%s: email taken: %w", u.Email, account.ErrConflict)
				}
				return err
			}
			u.ID, u.SessionEpoch = id, 1
			for _, r := range u.Roles {
				if _, err := tx.exec(ctx, `INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?)`, u.ID, string(r), timeArg(u.CreatedAt)); err != nil {
					return err
				}
			}
			res, err := tx.exec(ctx, `UPDATE profiles SET owner_id = ?, updated_at = ? WHERE id = ? AND owner_id IS NULL`, u.ID, timeArg(u.CreatedAt), o.ProfileID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("profile %d: missing or already owned: %w", o.ProfileID, account.ErrConflict)
			}
			tx.changed(o.ProfileID, u.CreatedAt, nil)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: insert profile owners: %w", err)
	}
	return nil
}
