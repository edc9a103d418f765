package web

import (
	"cmp"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/verify"
)

type staffHome struct {
	layout
	// Pending is the verification queue's length, Reviews the articles
	// sent for review.
	Pending, Reviews int
}

func (h *Handler) showStaffHome(w http.ResponseWriter, r *http.Request) error {
	page := staffHome{layout: h.layout(r, "Staff", "staff")}
	u := currentUser(r.Context())
	if u.Has(account.Verifier) {
		if h.Counts != nil {
			n, err := h.Counts.CountPendingRequests(r.Context())
			if err != nil {
				return err
			}
			page.Pending = n
		} else {
			reqs, err := h.Records.Requests(r.Context(), verify.StatusPending, 1000)
			if err != nil {
				return err
			}
			page.Pending = len(reqs)
		}
	}
	if h.Counts != nil && (u.Has(account.Editor) || u.Has(account.Reviewer)) {
		n, err := h.Counts.CountArticles(r.Context(), content.InReview)
		if err != nil {
			return err
		}
		page.Reviews = n
	}
	return h.render(w, r, http.StatusOK, "staff", page)
}

type queueItem struct {
	verify.Request
	// Name is the name the profile shows; NewName the one the request
	// asks the verifier to find instead, if it differs.
	Name, NewName string
	// What says in a few words what the request asks: a first check, a
	// renewal, a new membership, or which checked details it changes.
	What string
}

// requestSummary is the queue's few words on what r asks of a verifier.
func requestSummary(p *directory.Profile, r *verify.Request) string {
	if _, ok := verify.LastChecked(p, r.Body); !ok {
		return "First check"
	}
	if changes := verify.HeldChanges(p, r); len(changes) > 0 {
		return "Changed: " + strings.Join(changes, ", ")
	}
	if _, held := p.MembershipOf(r.Body); !held {
		return "New membership"
	}
	return "Renewal"
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
			item.Name, item.What = p.DisplayName, requestSummary(p, &req)
			if req.Name != "" && req.Name != p.DisplayName {
				item.NewName = req.Name
			}
		}
		page.Items = append(page.Items, item)
	}
	return h.render(w, r, http.StatusOK, "queue", page)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFound
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
	// CheckName is the name to look for on the register.
	CheckName string
	// What and Diff set what was last verified beside what the request
	// asks to be checked; Diff is empty for a first check.
	What string
	Diff []diffRow
}

// diffRow is one checked detail, as last verified and as requested:
// Changed when the request changes it, New when it adds it (a membership
// of a body the profile does not list yet).
type diffRow struct {
	Label, Before, After string
	Changed, New         bool
}

// detailsDiff lines up the details last checked for p with those in r.
func (h *Handler) detailsDiff(p *directory.Profile, r *verify.Request) []diffRow {
	before, ok := verify.LastChecked(p, r.Body)
	if !ok {
		return nil
	}
	after := r.Details()
	if after.Name == "" {
		after.Name = p.DisplayName
	}
	body := func(slug string) string {
		if reg, ok := h.Verify.Registers.Get(slug); ok {
			return reg.Name
		}
		return slug
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return "Not recorded"
		}
		return formatDate(t)
	}
	rows := []diffRow{
		{Label: "Name", Before: before.Name, After: after.Name},
		{Label: "Professional body", Before: body(before.Body), After: body(after.Body)},
		{Label: "Membership number", Before: before.Number, After: after.Number},
		{Label: "Level", Before: before.Level, After: after.Level},
		{Label: "Insurer", Before: before.Insurer, After: after.Insurer},
		{Label: "Insurance ends", Before: date(before.InsuranceUntil), After: date(after.InsuranceUntil)},
	}
	for i := range rows {
		rows[i].Changed = rows[i].Before != rows[i].After
	}
	if before.Body == "" { // a body the profile does not list: an addition
		for i := range rows[1:4] {
			m := &rows[1+i]
			m.Before, m.Changed, m.New = "", false, true
		}
	}
	return rows
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
		Own: p.OwnerID != 0 && p.OwnerID == currentUser(r.Context()).ID, CheckName: cmp.Or(req.Name, p.DisplayName),
		What: requestSummary(p, req), Diff: h.detailsDiff(p, req)}
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
		return errs.Forbidden
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
