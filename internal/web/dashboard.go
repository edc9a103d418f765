package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
)

// maxFormLocations is how many practice postcodes the form offers.
const maxFormLocations = 3

// ownProfile returns the signed-in therapist's profile, or nil if they
// have not made one yet. The profile is always found by its owner, never
// by an id from the request, so nobody can reach another's profile.
func (h *Handler) ownProfile(r *http.Request) (*directory.Profile, error) {
	u := currentUser(r.Context())
	p, err := h.Records.ProfileByOwner(r.Context(), u.ID)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// existingProfile is ownProfile for pages that need a profile: without
// one, the therapist is sent to create it (p is nil, and so is err unless
// reading failed).
func (h *Handler) existingProfile(w http.ResponseWriter, r *http.Request) (*directory.Profile, error) {
	p, err := h.ownProfile(r)
	if err != nil || p != nil {
		return p, err
	}
	h.flash(r.Context(), "Create your profile first.")
	http.Redirect(w, r, "/dashboard/profile", http.StatusSeeOther)
	return nil, nil
}

type todo struct {
	Text string
	Link tagLink
}

type dashboardPage struct {
	layout
	Profile      *directory.Profile
	Public       bool
	State        string
	Request      *verify.Request
	RequestState string
	Todo         []todo
	Availability string
	Fresh        bool
	NextCheckDue time.Time
	DueSoon      bool
}

func (h *Handler) showDashboard(w http.ResponseWriter, r *http.Request) error {
	p, err := h.ownProfile(r)
	if err != nil {
		return err
	}
	now := h.Now()
	page := dashboardPage{layout: h.layout(r, "Your profile", "dashboard"), Profile: p}
	if p == nil {
		page.Todo = append(page.Todo, todo{"Build your profile: what you offer, where and for whom.", tagLink{"Create your profile", "/dashboard/profile"}})
		return h.render(w, r, http.StatusOK, "dashboard", page)
	}
	page.Public = p.IsPublic(now)
	page.Availability = availabilityText(p.Availability, p.AvailabilityConfirmedAt, now)
	page.Fresh = directory.ConfirmedRecently(p.AvailabilityConfirmedAt, now)
	page.NextCheckDue = p.Verification.NextCheckDue
	if req, err := h.Records.LatestRequest(r.Context(), p.ID); err == nil {
		page.Request = req
		page.RequestState = requestStateText(req.Status)
	} else if !errors.Is(err, directory.ErrNotFound) {
		return err
	}
	v := p.Verification
	switch v.State {
	case directory.Verified:
		if directory.CheckOverdue(v.NextCheckDue, now) {
			page.State = "Your credentials check was due on " + formatDate(v.NextCheckDue) + ". Your profile is out of search until it is re-verified."
			page.Todo = append(page.Todo, todo{"Submit up-to-date evidence so a verifier can check you again.", tagLink{"Submit evidence", "/dashboard/verification"}})
		} else {
			page.State = "Verified on " + formatDate(v.VerifiedAt) + ". Next check due " + formatDate(v.NextCheckDue) + "."
			if v.Rechecking() {
				page.State = "Re-verification needed: on " + formatDate(v.DetailsChangedAt) + " you changed details a verifier had checked." +
					" Your public profile shows the details verified on " + formatDate(v.VerifiedAt) + ", marked \"details changed, re-checking\", until a verifier approves the new ones."
				if page.Request != nil && page.Request.Status == verify.StatusPending && page.Request.Name != p.DisplayName {
					page.State += " Waiting to be checked: your new name, " + page.Request.Name + "."
				}
			}
			if v.NextCheckDue.Sub(now) < 30*24*time.Hour {
				page.DueSoon = true
				page.Todo = append(page.Todo, todo{"Your next credentials check is due on " + formatDate(v.NextCheckDue) + ". Submit up-to-date evidence before then to stay in search.", tagLink{"Submit evidence", "/dashboard/verification"}})
			}
		}
	case directory.Pending:
		page.State = "Waiting for a verifier to check your evidence. This usually takes a few working days."
	case directory.Expired:
		page.State = "Your last check has expired, or your professional body's member list no longer shows your membership as current, so your profile is out of search."
		page.Todo = append(page.Todo, todo{"Submit up-to-date evidence to be re-verified.", tagLink{"Submit evidence", "/dashboard/verification"}})
	case directory.Suspended:
		page.State = "Your profile has been suspended by our staff and is out of search. We will have written to you about why."
	default:
		page.State = "Not verified yet."
		text := "Submit evidence of your professional membership and insurance. A verifier checks it against your body's register."
		if page.Request != nil && (page.Request.Status == verify.StatusChanges || page.Request.Status == verify.StatusRejected) {
			text = "A verifier could not approve your last evidence. Read their message below, then submit again."
		}
		page.Todo = append(page.Todo, todo{text, tagLink{"Submit evidence", "/dashboard/verification"}})
	}
	if !p.Published {
		page.Todo = append(page.Todo, todo{"Your profile is not published. Publish it when you are happy with the preview; it appears in search once you are verified.", tagLink{"Preview your profile", "/dashboard/preview"}})
	}
	if !page.Fresh {
		page.Todo = append(page.Todo, todo{"Confirm your availability so people know whether you are taking new clients.", tagLink{}})
	}
	return h.render(w, r, http.StatusOK, "dashboard", page)
}

func requestStateText(s verify.Status) string {
	switch s {
	case verify.StatusPending:
		return "waiting for a verifier"
	case verify.StatusApproved:
		return "approved"
	case verify.StatusRejected:
		return "not approved"
	case verify.StatusChanges:
		return "changes needed"
	case verify.StatusWithdrawn:
		return "replaced by newer evidence"
	}
	return string(s)
}

type choice struct {
	Value, Label string
	Checked      bool
}

type profileForm struct {
	layout
	Form                                 formState
	New                                  bool
	Approaches, Issues, Clients, Formats []choice
	SessionTimes                         []choice
	Availabilities                       []choice
	Locations                            []int
}

// profileFieldIDs maps domain field names to form field ids.
var profileFieldIDs = map[string]string{
	"approaches": "approaches", "issues": "issues", "client_groups": "client_groups", "formats": "formats",
	"session_times": "session_times", "languages": "languages", "availability": "availability", "fee_min": "fee_min", "fee_max": "fee_max",
	"locations": "postcode_1", "availability_confirmed_at": "availability",
	"locations[0].postcode": "postcode_1", "locations[1].postcode": "postcode_2", "locations[2].postcode": "postcode_3",
}

// profileFieldOrder is the profile form's fields in page order, for its
// error summary.
var profileFieldOrder = []string{"display_name", "slug", "headline", "statement", "approaches", "issues", "client_groups", "formats",
	"session_times", "postcode_1", "postcode_2", "postcode_3", "languages", "fee_min", "fee_max", "availability", "gender", "contact_email",
	"website", "phone", "public_email"}

// valuesOf fills a form from a stored profile.
func (h *Handler) valuesOf(p *directory.Profile) url.Values {
	v := url.Values{
		"display_name": {p.DisplayName}, "headline": {p.Headline}, "statement": {p.Statement}, "gender": {p.Gender},
		"contact_email": {p.ContactEmail}, "approach": p.Approaches, "issue": p.Issues, "client": p.ClientGroups,
		"session_time": p.SessionTimes, "availability": {string(p.Availability)},
		"website": {p.PublicContact.Website}, "phone": {p.PublicContact.Phone}, "public_email": {p.PublicContact.Email},
	}
	for _, f := range p.Formats {
		if f != taxonomy.FormatInPerson {
			v.Add("format", f)
		}
	}
	names := make([]string, len(p.Languages))
	for i, l := range p.Languages {
		names[i] = h.Tax.LanguageName(l)
	}
	v.Set("languages", strings.Join(names, ", "))
	if p.FeeMaxPence > 0 || p.FeeMinPence > 0 {
		v.Set("fee_min", penceText(p.FeeMinPence))
		v.Set("fee_max", penceText(p.FeeMaxPence))
	}
	if p.Concessions {
		v.Set("concessions", "yes")
	}
	for i, l := range p.Locations {
		if i >= maxFormLocations {
			break
		}
		n := strconv.Itoa(i + 1)
		v.Set("postcode_"+n, l.Postcode)
		if l.Wheelchair {
			v.Set("wheelchair_"+n, "yes")
		}
	}
	return v
}

func penceText(p int) string {
	if p%100 == 0 {
		return strconv.Itoa(p / 100)
	}
	return fmt.Sprintf("%d.%02d", p/100, p%100)
}

// parsePounds reads "45", "45.50" or "£45" as pence.
func parsePounds(s string) (int, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "£")
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 100000 || strings.ContainsAny(s, "eE+-") {
		return 0, false
	}
	return int(f*100 + 0.5), true
}

// language reads a language typed as a code ("pl") or an English name
// ("Polish"); unknown input is passed on for the validator to explain.
func (h *Handler) language(s string) string {
	s = strings.TrimSpace(s)
	if _, ok := h.Tax.Language(strings.ToLower(s)); ok {
		return strings.ToLower(s)
	}
	for _, l := range h.Tax.Languages {
		if strings.EqualFold(l.Name, s) || strings.EqualFold(strings.SplitN(l.Name, ";", 2)[0], s) || strings.EqualFold(strings.SplitN(l.Name, ",", 2)[0], s) {
			return l.Code
		}
	}
	return s
}

func (h *Handler) profileFormPage(r *http.Request, f formState, isNew bool) profileForm {
	title := "Edit your profile"
	if isNew {
		title = "Create your profile"
	}
	page := profileForm{layout: h.layout(r, title, "dashboard"), Form: f, New: isNew, Locations: []int{1, 2, 3}}
	mk := func(kind taxonomy.Kind, field string) []choice {
		var out []choice
		for _, t := range h.Tax.Terms(kind) {
			if kind == taxonomy.Format && t.Slug == taxonomy.FormatInPerson {
				continue
			}
			out = append(out, choice{Value: t.Slug, Label: t.Label, Checked: f.Has(field, t.Slug)})
		}
		return out
	}
	page.Approaches = mk(taxonomy.Approach, "approach")
	page.Issues = mk(taxonomy.Issue, "issue")
	page.Clients = mk(taxonomy.Client, "client")
	page.Formats = mk(taxonomy.Format, "format")
	for _, t := range directory.SessionTimes() {
		page.SessionTimes = append(page.SessionTimes, choice{Value: t.Slug, Label: t.Label, Checked: f.Has("session_time", t.Slug)})
	}
	for _, a := range []struct{ v, l string }{{"accepting", "Accepting new clients"}, {"waitlist", "Taking names for a waiting list"}, {"full", "Not taking new clients"}} {
		page.Availabilities = append(page.Availabilities, choice{Value: a.v, Label: a.l, Checked: f.Get("availability") == a.v})
	}
	return page
}

func (h *Handler) editProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := h.ownProfile(r)
	if err != nil {
		return err
	}
	f := formState{Values: url.Values{"contact_email": {currentUser(r.Context()).Email}, "languages": {"English"}, "availability": {"accepting"}}}
	if p != nil {
		f.Values = h.valuesOf(p)
		name, err := h.Verify.WantedName(r.Context(), p)
		if err != nil {
			return err
		}
		f.Values.Set("display_name", name)
	}
	return h.render(w, r, http.StatusOK, "profile-form", h.profileFormPage(r, f, p == nil))
}

// saveProfile copies only the fields a therapist may edit onto their own
// stored profile. Verification, memberships, publication, ownership and
// the web address are never read from the form, whatever it contains.
func (h *Handler) saveProfile(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	stored, err := h.ownProfile(r)
	if err != nil {
		return err
	}
	f := formState{Values: r.PostForm}
	p := &directory.Profile{OwnerID: currentUser(r.Context()).ID, Verification: directory.Verification{State: directory.Unverified}}
	if stored != nil {
		cp := *stored
		p = &cp
	}
	form := r.PostForm
	p.DisplayName, p.Headline, p.Statement = form.Get("display_name"), form.Get("headline"), form.Get("statement")
	p.Gender, p.ContactEmail = form.Get("gender"), form.Get("contact_email")
	p.PublicContact = directory.PublicContact{Website: form.Get("website"), Phone: form.Get("phone"), Email: form.Get("public_email")}
	p.Approaches, p.Issues, p.ClientGroups = form["approach"], form["issue"], form["client"]
	p.Formats = form["format"]
	p.SessionTimes = form["session_time"]
	p.Languages = nil
	for _, l := range strings.Split(form.Get("languages"), ",") {
		if strings.TrimSpace(l) != "" {
			p.Languages = append(p.Languages, h.language(l))
		}
	}
	var ok bool
	if p.FeeMinPence, ok = parsePounds(form.Get("fee_min")); !ok {
		f.add("fee_min", "Enter your lowest fee per session in pounds, like 45")
	}
	if p.FeeMaxPence, ok = parsePounds(form.Get("fee_max")); !ok {
		f.add("fee_max", "Enter your highest fee per session in pounds, like 60")
	}
	p.Concessions = form.Get("concessions") == "yes"
	newAvail := directory.Availability(form.Get("availability"))
	if newAvail != p.Availability {
		p.AvailabilityConfirmedAt = h.Now().UTC()
	}
	p.Availability = newAvail
	p.Locations = nil
	for i := 1; i <= maxFormLocations; i++ {
		n := strconv.Itoa(i)
		pc := strings.TrimSpace(form.Get("postcode_" + n))
		if pc == "" {
			continue
		}
		p.Locations = append(p.Locations, directory.Location{Postcode: pc, Wheelchair: form.Get("wheelchair_"+n) == "yes"})
	}
	var edited verify.Edited
	if len(f.Errors) == 0 {
		edited, err = h.Verify.Edit(r.Context(), stored, p)
		if err := fromErr(&f, err, profileFieldIDs); err != nil {
			return err
		}
	}
	if len(f.Errors) > 0 {
		f.inPageOrder(profileFieldOrder)
		page := h.profileFormPage(r, f, stored == nil)
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "profile-form", page)
	}
	if edited.NameHeld {
		h.flash(r.Context(), "Your profile has been saved. A verifier will check your new name on your professional body's register; until then your public profile shows the name we verified, marked \"details changed, re-checking\".")
	} else {
		h.flash(r.Context(), "Your profile has been saved.")
	}
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	return nil
}

func (h *Handler) previewProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := h.existingProfile(w, r)
	if p == nil {
		return err
	}
	page := h.therapistView(r, p, h.Now())
	page.Preview = true
	page.layout = h.layout(r, "Preview: "+p.DisplayName, "dashboard")
	return h.render(w, r, http.StatusOK, "therapist", page)
}

// changeOwn loads the therapist's profile, applies fn and saves it with
// an audit entry named action ("profile.edit" when empty).
func (h *Handler) changeOwn(w http.ResponseWriter, r *http.Request, action, flash string, fn func(p *directory.Profile)) error {
	stored, err := h.existingProfile(w, r)
	if stored == nil {
		return err
	}
	p := stored.Clone()
	fn(p)
	if err := h.Verify.Change(r.Context(), stored, p, action); err != nil {
		if fe, ok := errs.FieldsOf(err); ok && len(fe) > 0 {
			h.flash(r.Context(), "Your profile needs attention before this can be done: "+fe[fe.Names()[0]])
			http.Redirect(w, r, "/dashboard/profile", http.StatusSeeOther)
			return nil
		}
		return err
	}
	h.flash(r.Context(), flash)
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	return nil
}

func (h *Handler) publishProfile(w http.ResponseWriter, r *http.Request) error {
	return h.changeOwn(w, r, "profile.publish", "Your profile is published. It appears in search while your verification is current.", func(p *directory.Profile) { p.Published = true })
}

func (h *Handler) unpublishProfile(w http.ResponseWriter, r *http.Request) error {
	return h.changeOwn(w, r, "profile.unpublish", "Your profile is unpublished and no longer appears in search.", func(p *directory.Profile) { p.Published = false })
}

// confirmAvailability is the one-click "still accepting new clients"
// (or another availability), which also dates the confirmation.
func (h *Handler) confirmAvailability(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	a := directory.Availability(r.PostForm.Get("availability"))
	if a == "" {
		a = directory.Accepting
	}
	switch a {
	case directory.Accepting, directory.Waitlist, directory.Full:
	default:
		return errs.Invalid
	}
	return h.changeOwn(w, r, "", "Thank you: your availability is confirmed as of today.", func(p *directory.Profile) {
		p.Availability, p.AvailabilityConfirmedAt = a, h.Now().UTC()
	})
}

type evidencePage struct {
	layout
	Form      formState
	Registers []*verify.Register
	Request   *verify.Request
	State     string
	Profile   *directory.Profile
}

func (h *Handler) evidencePage(r *http.Request, p *directory.Profile, f formState) (evidencePage, error) {
	page := evidencePage{layout: h.layout(r, "Verify your credentials", "dashboard"), Form: f, Registers: h.Verify.Registers.All(), Profile: p}
	req, err := h.Records.LatestRequest(r.Context(), p.ID)
	if err == nil {
		page.Request, page.State = req, requestStateText(req.Status)
	} else if !errors.Is(err, directory.ErrNotFound) {
		return page, err
	}
	return page, nil
}

func (h *Handler) showEvidence(w http.ResponseWriter, r *http.Request) error {
	p, err := h.existingProfile(w, r)
	if p == nil {
		return err
	}
	f := formState{Values: url.Values{}}
	if m, ok := p.PrimaryMembership(); ok {
		f.Values = url.Values{"body": {m.Body}, "number": {m.Number}, "level": {m.Level}}
	}
	page, err := h.evidencePage(r, p, f)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "evidence", page)
}

func (h *Handler) submitEvidence(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	p, err := h.existingProfile(w, r)
	if p == nil {
		return err
	}
	f := formState{Values: r.PostForm}
	form := r.PostForm
	_, err = h.Verify.Submit(r.Context(), p, verify.Evidence{Body: form.Get("body"), Number: form.Get("number"), Level: form.Get("level"),
		Insurer: form.Get("insurer"), InsuranceExpires: form.Get("insurance_expires"), Qualification: form.Get("qualification")})
	if err := fromErr(&f, err, nil); err != nil {
		return err
	}
	if len(f.Errors) > 0 {
		page, err := h.evidencePage(r, p, f)
		if err != nil {
			return err
		}
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "evidence", page)
	}
	h.flash(r.Context(), "Thank you. Your evidence is with our verifiers; we will email you when it has been checked.")
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	return nil
}
