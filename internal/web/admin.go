package web

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/errs"
)

type usersPage struct {
	layout
	Query string
	Users []account.User
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get("q")
	if len(q) > account.MaxEmailLen {
		q = q[:account.MaxEmailLen]
	}
	users, err := h.Accounts.Users(r.Context(), q, 200)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "users", usersPage{layout: h.layout(r, "Accounts", "staff"), Query: q, Users: users})
}

type userPage struct {
	layout
	Account *account.User
	Roles   []choice
	Form    formState
}

func (h *Handler) userPage(r *http.Request, f formState) (userPage, error) {
	id, err := pathID(r)
	if err != nil {
		return userPage{}, err
	}
	u, err := h.Accounts.User(r.Context(), id)
	if err != nil {
		return userPage{}, err
	}
	page := userPage{layout: h.layout(r, u.Email, "staff"), Account: u, Form: f}
	for _, role := range account.Roles {
		page.Roles = append(page.Roles, choice{Value: string(role), Label: roleLabel(role), Checked: u.Has(role)})
	}
	return page, nil
}

func (h *Handler) showUser(w http.ResponseWriter, r *http.Request) error {
	page, err := h.userPage(r, formState{})
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "user", page)
}

// changeRoles makes the account's roles exactly those ticked. Each change
// ends the account's sessions; an admin changing their own roles stays
// signed in here, on a new session id.
func (h *Handler) changeRoles(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	page, err := h.userPage(r, formState{Values: r.PostForm})
	if err != nil {
		return err
	}
	var want []account.Role
	for _, v := range r.PostForm["role"] {
		role, ok := account.ParseRole(v)
		if !ok {
			return errs.Invalid
		}
		want = append(want, role)
	}
	actor := currentUser(r.Context()).ID
	if err := fromErr(&page.Form, h.Accounts.SetRoles(r.Context(), actor, page.Account.ID, want), nil); err != nil {
		return err
	}
	if len(page.Form.Errors) > 0 {
		// Refused: nothing was applied, so no session ended either.
		page, _ = h.userPage(r, page.Form)
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "user", page)
	}
	if actor == page.Account.ID {
		if err := h.keepSession(r.Context(), actor); err != nil {
			return err
		}
	}
	msg := "Roles updated. The account has been signed out everywhere and will see the change when it signs in again."
	if actor == page.Account.ID {
		msg = "Your roles have been updated. Your other devices have been signed out."
	}
	h.flash(r.Context(), msg)
	http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(page.Account.ID, 10), http.StatusSeeOther)
	return nil
}

func (h *Handler) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	err = h.Accounts.SetDisabled(r.Context(), currentUser(r.Context()).ID, id, disabled)
	if _, ok := errs.FieldsOf(err); ok {
		page, perr := h.userPage(r, formState{})
		if perr != nil {
			return perr
		}
		_ = fromErr(&page.Form, err, nil)
		return h.render(w, r, http.StatusBadRequest, "user", page)
	} else if err != nil {
		return err
	}
	msg := "Account enabled."
	if disabled {
		msg = "Account disabled and signed out everywhere."
	}
	h.flash(r.Context(), msg)
	http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

func (h *Handler) disableUser(w http.ResponseWriter, r *http.Request) error {
	return h.setDisabled(w, r, true)
}

func (h *Handler) enableUser(w http.ResponseWriter, r *http.Request) error {
	return h.setDisabled(w, r, false)
}

type auditPage struct {
	layout
	Entries []audit.Entry
	Checked int
	// Anchored is the entry this server last anchored (0: no anchor yet).
	Anchored int64
	Broken   string
}

func (h *Handler) showAudit(w http.ResponseWriter, r *http.Request) error {
	entries, err := h.Records.RecentAudit(r.Context(), 200)
	if err != nil {
		return err
	}
	page := auditPage{layout: h.layout(r, "Audit log", "staff"), Entries: entries}
	anchor, err := audit.ReadAnchor(h.AuditAnchor)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	head, err := h.Audit.Verify(context.WithoutCancel(r.Context()), anchor)
	var broken *audit.BrokenLinkError
	switch {
	case errors.As(err, &broken):
		page.Broken = broken.Error()
	case err != nil:
		return err
	}
	page.Checked = int(head.Seq)
	if anchor != nil {
		page.Anchored = anchor.Seq
	}
	return h.render(w, r, http.StatusOK, "audit", page)
}
