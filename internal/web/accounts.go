package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/httpx"
)

type authPage struct {
	layout
	Form  formState
	Next  string
	Token string
	// Purpose of a new-password form: "reset" or "setup".
	Purpose string
	Action  string
}

type noticePage struct {
	layout
	Heading string
	Lines   []string
	Link    tagLink
}

func (h *Handler) notice(w http.ResponseWriter, r *http.Request, status int, heading string, link tagLink, lines ...string) error {
	return h.render(w, r, status, "notice", noticePage{layout: h.layout(r, heading, ""), Heading: heading, Lines: lines, Link: link})
}

func (h *Handler) showSignUp(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "signup", authPage{layout: h.layout(r, "Create a therapist account", "")})
}

// createAccount answers the same way whether or not the address already
// has an account.
func (h *Handler) createAccount(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(r.Context(), h.limits.signupIP, ipKey(h.clientIP(r))); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	page := authPage{layout: h.layout(r, "Create a therapist account", ""), Form: formState{Values: url.Values{"email": {r.PostForm.Get("email")}, "terms": {r.PostForm.Get("terms")}}}}
	if r.PostForm.Get("terms") != "yes" {
		page.Form.add("terms", "Confirm that you are a qualified counsellor or psychotherapist who belongs to a professional body")
	}
	if len(page.Form.Errors) == 0 {
		err := h.Accounts.SignUp(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"))
		if err := fromErr(&page.Form, err, nil); err != nil {
			return err
		}
	}
	if len(page.Form.Errors) > 0 {
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "signup", page)
	}
	return h.notice(w, r, http.StatusOK, "Check your email", tagLink{},
		"If you can create an account with that address, we have sent it a link to confirm it. The link works for 48 hours.",
		"If you already have an account, the email tells you how to sign in instead.",
		"Nothing arrived after a few minutes? Check your spam folder, then try again.")
}

func (h *Handler) showConfirm(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "token", authPage{layout: h.layout(r, "Confirm your email address", ""), Token: r.URL.Query().Get("token"), Action: "/confirm"})
}

// confirmEmail consumes the emailed link. The link itself only shows a
// button: a GET never changes anything (mail scanners follow links).
func (h *Handler) confirmEmail(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	_, err := h.Accounts.Confirm(r.Context(), r.PostForm.Get("token"))
	if errors.Is(err, account.ErrTokenInvalid) {
		return h.notice(w, r, http.StatusBadRequest, "This link has expired or was already used", tagLink{"Sign in", "/signin"},
			"If you have already confirmed your address, sign in. Otherwise sign in with your email and password and we will send a new link.")
	} else if err != nil {
		return err
	}
	return h.notice(w, r, http.StatusOK, "Email address confirmed", tagLink{"Sign in", "/signin"}, "Thank you. You can now sign in and build your profile.")
}

func (h *Handler) showSignIn(w http.ResponseWriter, r *http.Request) error {
	if currentUser(r.Context()) != nil {
		http.Redirect(w, r, homeFor(currentUser(r.Context())), http.StatusSeeOther)
		return nil
	}
	return h.render(w, r, http.StatusOK, "signin", authPage{layout: h.layout(r, "Sign in", "signin"), Next: safeNext(r.URL.Query().Get("next"))})
}

func homeFor(u *account.User) string {
	switch {
	case u.Has(account.Therapist):
		return "/dashboard"
	case u.IsStaff():
		return "/staff"
	}
	return "/account"
}

// createSession signs in. Every failure gets the same message, and an
// unknown address costs the same hashing time as a known one. Failed
// tries are counted by the account service, which slows the addresses
// that keep failing; the attempt limit here only bounds the hashing one
// address can ask for.
func (h *Handler) createSession(w http.ResponseWriter, r *http.Request) error {
	source := ipKey(h.clientIP(r))
	if err := h.limit(r.Context(), h.limits.signinIP, source); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	email, _ := account.NormalizeEmail(r.PostForm.Get("email"))
	page := authPage{layout: h.layout(r, "Sign in", "signin"), Form: formState{Values: url.Values{"email": {r.PostForm.Get("email")}}}, Next: safeNext(r.PostForm.Get("next"))}
	u, err := h.Accounts.SignIn(r.Context(), email, r.PostForm.Get("password"), source)
	var limited *errs.LimitError
	switch {
	case errors.As(err, &limited):
		// The form again, with what was typed: waiting is all it takes.
		page.Form.add("email", "There have been too many failed attempts to sign in from this network. Wait "+waitText(limited.RetryAfter)+
			" and try again, or reset your password. The account has not been locked: the right password from elsewhere still works.")
		page.Title = "Error: Sign in"
		httpx.SetRetryAfter(w.Header(), err)
		return h.render(w, r, http.StatusTooManyRequests, "signin", page)
	case errors.Is(err, account.ErrBadCredentials):
		page.Form.add("email", "Enter the email address and password of your account. If you have forgotten your password, reset it.")
		page.Title = "Error: Sign in"
		return h.render(w, r, http.StatusUnauthorized, "signin", page)
	case errors.Is(err, account.ErrUnconfirmed):
		return h.notice(w, r, http.StatusForbidden, "Confirm your email address first", tagLink{},
			"We have sent you a new link to confirm your email address. Open it, then sign in again.")
	case err != nil:
		return err
	}
	if err := h.startSession(r.Context(), u); err != nil {
		return err
	}
	dest := page.Next
	if dest == "" {
		dest = homeFor(u)
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
	return nil
}

// deleteSession signs out of every device: the issue of a shared or lost
// device is exactly when someone signs out.
func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r.Context())
	if err := h.Accounts.SignOutEverywhere(r.Context(), u.ID); err != nil {
		return err
	}
	if err := h.Sessions.Destroy(r.Context()); err != nil {
		return err
	}
	return h.notice(w, r, http.StatusOK, "You have signed out", tagLink{"Sign in again", "/signin"}, "You have been signed out on every device.")
}

func (h *Handler) showReset(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "reset", authPage{layout: h.layout(r, "Reset your password", "")})
}

func (h *Handler) requestReset(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(r.Context(), h.limits.resetIP, ipKey(h.clientIP(r))); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	page := authPage{layout: h.layout(r, "Reset your password", ""), Form: formState{Values: r.PostForm}}
	if err := fromErr(&page.Form, h.Accounts.RequestReset(r.Context(), r.PostForm.Get("email")), nil); err != nil {
		return err
	}
	if len(page.Form.Errors) > 0 {
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "reset", page)
	}
	return h.notice(w, r, http.StatusOK, "Check your email", tagLink{},
		"If there is an account with that address, we have sent it a link to choose a new password. The link works for 1 hour.",
		"Nothing arrived after a few minutes? Check your spam folder, then try again.")
}

func (h *Handler) newPasswordForm(w http.ResponseWriter, r *http.Request, p account.Purpose) error {
	title, action := "Choose a new password", "/reset/new"
	if p == account.PurposeSetup {
		title, action = "Set up your account", "/setup"
	}
	tok := r.URL.Query().Get("token")
	if err := h.Accounts.CheckToken(r.Context(), tok, p); errors.Is(err, account.ErrTokenInvalid) {
		return h.notice(w, r, http.StatusBadRequest, "This link has expired or was already used", tagLink{"Ask for a new link", "/reset"},
			"Links to set a password work once and for a limited time.")
	} else if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "new-password", authPage{layout: h.layout(r, title, ""), Token: tok, Purpose: string(p), Action: action})
}

func (h *Handler) showNewPassword(w http.ResponseWriter, r *http.Request) error {
	return h.newPasswordForm(w, r, account.PurposeReset)
}

func (h *Handler) showSetup(w http.ResponseWriter, r *http.Request) error {
	return h.newPasswordForm(w, r, account.PurposeSetup)
}

func (h *Handler) setNewPassword(w http.ResponseWriter, r *http.Request, p account.Purpose) error {
	if err := h.limit(r.Context(), h.limits.resetIP, ipKey(h.clientIP(r))); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	title, action := "Choose a new password", "/reset/new"
	if p == account.PurposeSetup {
		title, action = "Set up your account", "/setup"
	}
	page := authPage{layout: h.layout(r, title, ""), Token: r.PostForm.Get("token"), Purpose: string(p), Action: action, Form: formState{Values: url.Values{}}}
	if r.PostForm.Get("password") != r.PostForm.Get("confirm") {
		page.Form.add("confirm", "The two passwords do not match")
	} else {
		u, err := h.Accounts.ResetPassword(r.Context(), page.Token, p, r.PostForm.Get("password"))
		if errors.Is(err, account.ErrTokenInvalid) {
			return h.notice(w, r, http.StatusBadRequest, "This link has expired or was already used", tagLink{"Ask for a new link", "/reset"})
		}
		if err := fromErr(&page.Form, err, nil); err != nil {
			return err
		}
		if len(page.Form.Errors) == 0 {
			if err := h.startSession(r.Context(), u); err != nil {
				return err
			}
			h.flash(r.Context(), "Your password has been set and you are signed in.")
			http.Redirect(w, r, homeFor(u), http.StatusSeeOther)
			return nil
		}
	}
	page.Title = "Error: " + page.Title
	return h.render(w, r, http.StatusBadRequest, "new-password", page)
}

func (h *Handler) resetPassword(w http.ResponseWriter, r *http.Request) error {
	return h.setNewPassword(w, r, account.PurposeReset)
}

func (h *Handler) setupPassword(w http.ResponseWriter, r *http.Request) error {
	return h.setNewPassword(w, r, account.PurposeSetup)
}

type accountPage struct {
	layout
	PasswordForm, EmailForm formState
	Roles                   []string
}

func (h *Handler) accountPage(r *http.Request) accountPage {
	u := currentUser(r.Context())
	p := accountPage{layout: h.layout(r, "Your account", "account")}
	for _, role := range u.Roles {
		p.Roles = append(p.Roles, roleLabel(role))
	}
	return p
}

func roleLabel(r account.Role) string {
	switch r {
	case account.Therapist:
		return "Therapist"
	case account.Verifier:
		return "Verifier"
	case account.Editor:
		return "Editor"
	case account.Reviewer:
		return "Expert reviewer"
	case account.Admin:
		return "Administrator"
	}
	return string(r)
}

func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "account", h.accountPage(r))
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	page := h.accountPage(r)
	u := currentUser(r.Context())
	if r.PostForm.Get("password") != r.PostForm.Get("confirm") {
		page.PasswordForm.add("confirm", "The two new passwords do not match")
	} else {
		nu, err := h.Accounts.ChangePassword(r.Context(), u.ID, r.PostForm.Get("current_password"), r.PostForm.Get("password"))
		if err := fromErr(&page.PasswordForm, err, nil); err != nil {
			return err
		}
		if len(page.PasswordForm.Errors) == 0 {
			// Every other session was revoked; this one continues on a
			// new id with the new epoch.
			if err := h.startSession(r.Context(), nu); err != nil {
				return err
			}
			h.flash(r.Context(), "Your password has been changed. Other devices have been signed out.")
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return nil
		}
	}
	page.Title = "Error: " + page.Title
	return h.render(w, r, http.StatusBadRequest, "account", page)
}

func (h *Handler) changeEmail(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	page := h.accountPage(r)
	page.EmailForm.Values = url.Values{"email": {r.PostForm.Get("email")}}
	u := currentUser(r.Context())
	err := h.Accounts.RequestEmailChange(r.Context(), u.ID, r.PostForm.Get("current_password"), r.PostForm.Get("email"))
	if err := fromErr(&page.EmailForm, err, map[string]string{"current_password": "email_current_password", "email": "new_email"}); err != nil {
		return err
	}
	if len(page.EmailForm.Errors) > 0 {
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "account", page)
	}
	h.flash(r.Context(), "We have sent a link to "+strings.TrimSpace(r.PostForm.Get("email"))+". Your address changes when you open it.")
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

func (h *Handler) showEmailConfirm(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "token", authPage{layout: h.layout(r, "Confirm your new email address", ""), Token: r.URL.Query().Get("token"), Action: "/account/email/confirm"})
}

func (h *Handler) confirmEmailChange(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	_, err := h.Accounts.ConfirmEmailChange(r.Context(), r.PostForm.Get("token"))
	_, taken := errs.FieldsOf(err)
	switch {
	case errors.Is(err, account.ErrTokenInvalid):
		return h.notice(w, r, http.StatusBadRequest, "This link has expired or was already used", tagLink{"Your account", "/account"})
	case taken:
		return h.notice(w, r, http.StatusConflict, "That address belongs to another account", tagLink{"Your account", "/account"})
	case err != nil:
		return err
	}
	return h.notice(w, r, http.StatusOK, "Email address changed", tagLink{"Your account", "/account"}, "From now on, sign in with your new address.")
}

type mailboxPage struct {
	layout
	Messages []mailView
}

type mailView struct {
	To, Subject, Body, At string
}

// showMailbox lists the emails a demo site has sent, newest first, so
// that someone trying the demo can follow confirmation links.
// Only visitors on this machine see it: the emails hold sign-in links.
func (h *Handler) showMailbox(w http.ResponseWriter, r *http.Request) error {
	if ip := net.ParseIP(h.clientIP(r)); ip == nil || !ip.IsLoopback() {
		return errs.NotFound
	}
	page := mailboxPage{layout: h.layout(r, "Demo mailbox", "")}
	msgs := h.Mailbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		page.Messages = append(page.Messages, mailView{To: m.To, Subject: m.Subject, Body: m.Body, At: m.At.UTC().Format("2 January 2006 15:04 MST")})
	}
	w.Header().Set("Cache-Control", "no-store")
	return h.render(w, r, http.StatusOK, "mailbox", page)
}
