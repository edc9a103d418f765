package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/verify"
)

type staffHome struct {
	layout
	Pending int
}

func (h *Handler) showStaffHome(w http.ResponseWriter, r *http.Request) error {
	page := staffHome{layout: h.layout(r, "Staff", "staff")}
	if currentUser(r.Context()).Has(account.Verifier) {
		reqs, err := h.Records.Requests(r.Context(), verify.StatusPending, 1000)
		if err != nil {
			return err
		}
		page.Pending = len(reqs)
	}
	return h.render(w, r, http.StatusOK, "staff", page)
}

type queueItem struct {
	verify.Request
	Name string
}

type queuePage struct {
	layout
	Items []queueItem
}

func (h *Handler) listVerifications(w http.ResponseWriter, r *http.Request) error {
	reqs, err := h.Records.Requests(r.Context(), verify.StatusPending, 200)
	if err != nil {
		return err
	}
	page := queuePage{layout: h.layout(r, "Verification queue", "staff")}
	for _, req := range reqs {
		item := queueItem{Request: req}
		if p, err := h.Records.ProfileByID(r.Context(), req.ProfileID); err == nil {
			item.Name = p.DisplayName
		}
		page.Items = append(page.Items, item)
	}
	return h.render(w, r, http.StatusOK, "queue", page)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errPageNotFound
	}
	return id, nil
}

type verificationPage struct {
	layout
	Request  *verify.Request
	Profile  *directory.Profile
	Register *verify.Register
	Link     string
	Form     formState
	Own      bool
}

func (h *Handler) verificationPage(r *http.Request, f formState) (verificationPage, error) {
	id, err := pathID(r)
	if err != nil {
		return verificationPage{}, err
	}
	req, err := h.Records.RequestByID(r.Context(), id)
	if err != nil {
		return verificationPage{}, err
	}
	p, err := h.Records.ProfileByID(r.Context(), req.ProfileID)
	if err != nil {
		return verificationPage{}, err
	}
	page := verificationPage{layout: h.layout(r, "Check "+p.DisplayName, "staff"), Request: req, Profile: p, Form: f,
		Own: p.OwnerID != 0 && p.OwnerID == currentUser(r.Context()).ID}
	if reg, ok := h.Verify.Registers.Get(req.Body); ok {
		page.Register, page.Link = reg, reg.Link(req.Number)
	}
	return page, nil
}

func (h *Handler) showVerification(w http.ResponseWriter, r *http.Request) error {
	page, err := h.verificationPage(r, formState{})
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "verification", page)
}

// decideVerification records a decision. Nobody may decide on evidence
// for their own profile.
func (h *Handler) decideVerification(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	page, err := h.verificationPage(r, formState{Values: r.PostForm})
	if err != nil {
		return err
	}
	if page.Own {
		return errForbidden
	}
	err = h.Verify.Decide(r.Context(), currentUser(r.Context()).ID, page.Request.ID, verify.Decision(r.PostForm.Get("decision")), r.PostForm.Get("reason"))
	if err := fromErr(&page.Form, err, nil); err != nil {
		return err
	}
	if len(page.Form.Errors) > 0 {
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "verification", page)
	}
	h.flash(r.Context(), "Decision recorded for "+page.Profile.DisplayName+".")
	http.Redirect(w, r, "/staff/verifications", http.StatusSeeOther)
	return nil
}

type staffProfilePage struct {
	layout
	Profile *directory.Profile
	Public  bool
}

func (h *Handler) showStaffProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := h.Records.ProfileByID(r.Context(), id)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "staff-profile", staffProfilePage{layout: h.layout(r, p.DisplayName, "staff"), Profile: p, Public: p.IsPublic(h.Now())})
}

func (h *Handler) suspendProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.Verify.Suspend(r.Context(), id); err != nil {
		return err
	}
	h.flash(r.Context(), "Profile suspended: it is out of search now.")
	http.Redirect(w, r, "/staff/profiles/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

func (h *Handler) reinstateProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.Verify.Reinstate(r.Context(), id); err != nil && !errors.Is(err, directory.ErrConflict) {
		return err
	}
	h.flash(r.Context(), "Suspension lifted.")
	http.Redirect(w, r, "/staff/profiles/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}
