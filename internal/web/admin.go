package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/audit"
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

// changeRoles makes the account's roles exactly those ticked.
func (h *Handler) changeRoles(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	page, err := h.userPage(r, formState{Values: r.PostForm})
	if err != nil {
		return err
	}
	want := map[account.Role]bool{}
	for _, v := range r.PostForm["role"] {
		role, ok := account.ParseRole(v)
		if !ok {
			return errBadForm
		}
		want[role] = true
	}
	actor := currentUser(r.Context()).ID
	for _, role := range account.Roles {
		if want[role] == page.Account.Has(role) {
			continue
		}
		if err := fromErr(&page.Form, h.Accounts.SetRole(r.Context(), actor, page.Account.ID, role, want[role]), nil); err != nil {
			return err
		}
	}
	if len(page.Form.Errors) > 0 {
		page, _ = h.userPage(r, page.Form)
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "user", page)
	}
	h.flash(r.Context(), "Roles updated.")
	http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(page.Account.ID, 10), http.StatusSeeOther)
	return nil
}

func (h *Handler) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	err = h.Accounts.SetDisabled(r.Context(), currentUser(r.Context()).ID, id, disabled)
	var fe *account.FormError
	if errors.As(err, &fe) {
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
	Broken  string
}

func (h *Handler) showAudit(w http.ResponseWriter, r *http.Request) error {
	entries, err := h.Records.RecentAudit(r.Context(), 200)
	if err != nil {
		return err
	}
	page := auditPage{layout: h.layout(r, "Audit log", "staff"), Entries: entries}
	n, err := audit.Verify(context.WithoutCancel(r.Context()), h.Records)
	var broken *audit.BrokenLinkError
	switch {
	case errors.As(err, &broken):
		page.Broken = broken.Error()
	case err != nil:
		return err
	}
	page.Checked = n
	return h.render(w, r, http.StatusOK, "audit", page)
}
