package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/taxonomy"
)

// EnquiryDeps are what the enquiry pages need beyond the service.
type EnquiryDeps interface {
	DeadLetters(ctx context.Context) ([]enquiry.Outbox, error)
}

// enquiryForm is the form on a profile page.
type enquiryForm struct {
	Open           bool // the therapist can receive enquiries
	Token          string
	Form           formState
	Formats        []choice
	ConsentText    string
	ConsentVersion string
	Responsiveness string
}

// ipKey is the address a rate limit counts: the IPv4 address, or the /64
// of an IPv6 address (one household or device usually has a whole /64).
func ipKey(ip string) string {
	p := net.ParseIP(ip)
	if p == nil {
		return ip
	}
	if p.To4() != nil {
		return p.String()
	}
	return p.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func (h *Handler) enquiryFormFor(ctx context.Context, p *directory.Profile, f formState, token string) enquiryForm {
	ef := enquiryForm{Open: h.Enquiries != nil && p.OwnerID != 0, Form: f, ConsentText: enquiry.ConsentText, ConsentVersion: enquiry.ConsentVersion}
	if !ef.Open {
		return ef
	}
	ef.Token = token
	if ef.Token == "" {
		ef.Token = enquiry.IssueToken(h.Enquiries.Keys, h.Now())
	}
	for _, fm := range p.Formats {
		ef.Formats = append(ef.Formats, choice{Value: fm, Label: h.Tax.Label(taxonomy.Format, fm), Checked: f.Get("format") == fm})
	}
	if r, err := h.Enquiries.Responsiveness(ctx, p.ID); err == nil && r.Known {
		ef.Responsiveness = fmt.Sprintf("Usually replies within %s; replied to %d%% of enquiries in the last 90 days.", humanDuration(r.Median), int(r.Rate*100+0.5))
	}
	return ef
}

// humanDuration rounds a response time up, for "usually replies within".
func humanDuration(d time.Duration) string {
	switch {
	case d <= time.Hour:
		return "an hour"
	case d < 24*time.Hour:
		return fmt.Sprintf("%d hours", int((d+time.Hour-1)/time.Hour))
	case d <= 24*time.Hour:
		return "a day"
	}
	return fmt.Sprintf("%d days", int((d+24*time.Hour-1)/(24*time.Hour)))
}

var enquiryIDs = map[string]string{"name": "enquiry-name", "email": "enquiry-email", "phone": "enquiry-phone", "message": "enquiry-message",
	"format": "enquiry-format", "consent": "enquiry-consent", "form": "enquiry-message"}

// sendEnquiry stores an enquiry and only then tells the sender it was
// sent. Anything that stops it (a limit, a form already used, a field to
// fix) shows the profile again with everything typed still in the form
// and says plainly that the message has not been sent: nothing is ever
// silently dropped.
func (h *Handler) sendEnquiry(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	now := h.Now()
	p, err := directory.PublicBySlug(r.Context(), h.Profiles, r.PathValue("slug"), now)
	if err != nil {
		return err
	}
	form := r.PostForm
	if err := h.limit(r.Context(), h.limits.enquiryIP, ipKey(h.clientIP(r))); err != nil {
		var le *errs.LimitError
		if !errors.As(err, &le) {
			return err
		}
		httpx.SetRetryAfter(w.Header(), err)
		return h.enquiryAgain(w, r, p, http.StatusTooManyRequests, "form",
			"Several messages have been sent from this network in the last hour, which is our limit. Your message has not been sent: it is still in the box below. Please try again in "+waitText(le.RetryAfter)+".")
	}
	e, err := h.Enquiries.Submit(r.Context(), enquiry.Submission{ProfileID: p.ID, Token: form.Get("token"), Honeypot: form.Get("website"),
		Consent: form.Get("consent"), Content: enquiry.Content{Name: form.Get("name"), Email: form.Get("email"), Phone: form.Get("phone"),
			Message: form.Get("message"), Format: form.Get("format")}})
	var le *errs.LimitError
	switch {
	case errors.As(err, &le):
		msg := "This therapist has received a lot of enquiries today, so we are not sending more until tomorrow. Your message has not been sent: it is still in the box below. You could copy it to another therapist, or try again tomorrow."
		if le.Limit == "sender" {
			msg = "You have sent several enquiries today from this email address, which is our daily limit. Your message has not been sent: it is still in the box below. Please try again tomorrow."
		}
		httpx.SetRetryAfter(w.Header(), err)
		return h.enquiryAgain(w, r, p, http.StatusTooManyRequests, "form", msg)
	case errors.Is(err, enquiry.ErrFormUsed):
		return h.enquiryAgain(w, r, p, http.StatusConflict, "form",
			"This form was already used to send a message, so your new message has not been sent. It is still in the box below: check it and send it again.")
	case errors.Is(err, enquiry.ErrSpam):
		// Most often a person who typed fast or pasted a message: give
		// them the form back, filled in, with a fresh token, rather than
		// a page that sends them back to retype it.
		return h.enquiryAgain(w, r, p, http.StatusBadRequest, "form",
			"Please check your message and send it again. Our spam check stopped it because the form was sent very quickly, so it has not been sent yet: everything you wrote is still in the form below.")
	case err != nil:
		// A profile closed to enquiries (enquiry.ErrClosed) is not found;
		// only field errors come back to the form.
		if _, ok := errs.FieldsOf(err); !ok {
			return err
		}
		return h.enquiryAgain(w, r, p, http.StatusBadRequest, "", err)
	}
	h.rememberSent(w, r, e.Reference())
	http.Redirect(w, r, "/enquiries/sent?ref="+url.QueryEscape(e.Reference())+"&to="+url.QueryEscape(p.Slug), http.StatusSeeOther)
	return nil
}

// enquiryAgain shows the profile with the enquiry form as it was sent and
// the problem: either field errors (problem is an error) or one message
// about the whole form. The form gets a fresh token unless the problem is
// only with fields and the token is still good, so a form that was used
// or refused can be sent again.
func (h *Handler) enquiryAgain(w http.ResponseWriter, r *http.Request, p *directory.Profile, status int, id string, problem any) error {
	form := r.PostForm
	f := formState{Values: url.Values{"name": {form.Get("name")}, "email": {form.Get("email")}, "phone": {form.Get("phone")},
		"message": {form.Get("message")}, "format": {form.Get("format")}, "consent": {form.Get("consent")}}}
	token := ""
	switch pr := problem.(type) {
	case error:
		if ferr := fromErr(&f, pr, enquiryIDs); ferr != nil {
			return ferr
		}
		fe, _ := errs.FieldsOf(pr)
		if _, ok := enquiry.ParseToken(h.Enquiries.Keys, form.Get("token")); ok && fe["form"] == "" {
			token = form.Get("token")
		}
	case string:
		f.add(enquiryIDs[id], pr)
	}
	page := h.therapistView(r, p, h.Now())
	page.JSONLD = h.profileJSONLD(p)
	page.Title = "Error: " + page.Title
	page.Enquiry = h.enquiryFormFor(r.Context(), p, f, token)
	return h.render(w, r, status, "therapist", page)
}

// sentCookie remembers, signed, the references of the last few enquiries
// sent from this browser, so the "sent" page shows only for them: a
// reference in a link proves nothing.
const sentCookie = "confide_sent"

// rememberSent adds ref to this browser's sent references.
func (h *Handler) rememberSent(w http.ResponseWriter, r *http.Request, ref string) {
	refs := []string{ref}
	for _, old := range h.sentRefs(r) {
		if old != ref && len(refs) < 5 {
			refs = append(refs, old)
		}
	}
	v := strings.Join(refs, "~")
	http.SetCookie(w, &http.Cookie{Name: sentCookie, Value: v + "." + h.Enquiries.Keys.Sign("sent", v), Path: "/enquiries/sent",
		MaxAge: 24 * 60 * 60, HttpOnly: true, Secure: h.Sessions.Cookie.Secure, SameSite: http.SameSiteLaxMode})
}

// sentRefs returns the references this browser sent, if its cookie is
// genuine.
func (h *Handler) sentRefs(r *http.Request) []string {
	c, err := r.Cookie(sentCookie)
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(c.Value, '.')
	if i < 0 || !h.Enquiries.Keys.Verify("sent", c.Value[:i], c.Value[i+1:]) {
		return nil
	}
	return strings.Split(c.Value[:i], "~")
}

type sentPage struct {
	layout
	Reference, Therapist, Slug string
}

// showEnquirySent confirms an enquiry to the browser that sent it; to
// anyone else the page is not there.
func (h *Handler) showEnquirySent(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page := sentPage{layout: h.layout(r, "Your enquiry has been sent", ""), Reference: q.Get("ref")}
	if page.Reference == "" || !slices.Contains(h.sentRefs(r), page.Reference) {
		return fmt.Errorf("no enquiry %q sent from this browser: %w", page.Reference, errs.NotFound)
	}
	if p, err := directory.PublicBySlug(r.Context(), h.Profiles, q.Get("to"), h.Now()); err == nil {
		page.Therapist, page.Slug = p.DisplayName, p.Slug
	}
	w.Header().Set("Cache-Control", "no-store")
	return h.render(w, r, http.StatusOK, "enquiry-sent", page)
}

func (h *Handler) showErase(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return h.render(w, r, http.StatusOK, "enquiry-erase", authPage{layout: h.layout(r, "Delete your enquiry", ""), Token: q.Get("id"), Next: q.Get("sig")})
}

func (h *Handler) eraseEnquiry(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	err := h.Enquiries.Erase(r.Context(), r.PostForm.Get("id"), r.PostForm.Get("sig"))
	if errors.Is(err, enquiry.ErrNotFound) {
		return h.notice(w, r, http.StatusNotFound, "There is nothing to delete", tagLink{}, "This enquiry has already been deleted, or the link is not complete.")
	} else if err != nil {
		return err
	}
	return h.notice(w, r, http.StatusOK, "Your enquiry has been deleted", tagLink{}, "We have deleted your message and everything needed to read it. If the therapist already read it or replied by email, that email is theirs.")
}

type inboxItem struct {
	ID, From, Preview, Status string
	Received                  time.Time
	Unreadable                bool
}

type inboxPage struct {
	layout
	Items []inboxItem
}

func (h *Handler) listEnquiries(w http.ResponseWriter, r *http.Request) error {
	p, err := h.ownProfile(r)
	if err != nil {
		return err
	}
	page := inboxPage{layout: h.layout(r, "Enquiries", "dashboard")}
	if p != nil {
		es, err := h.Enquiries.Inbox(r.Context(), p.ID)
		if err != nil {
			return err
		}
		for _, e := range es {
			it := inboxItem{ID: e.ID, Status: string(e.Status), Received: e.CreatedAt, Unreadable: e.Content == nil}
			if e.Content != nil {
				it.From = e.Content.Name
				it.Preview = firstWords(e.Content.Message, 12)
			}
			page.Items = append(page.Items, it)
		}
	}
	return h.render(w, r, http.StatusOK, "inbox", page)
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) <= n {
		return strings.Join(f, " ")
	}
	return strings.Join(f[:n], " ") + "…"
}

type enquiryPage struct {
	layout
	Enquiry  *enquiry.Enquiry
	Format   string
	MailTo   string
	Received time.Time
}

func (h *Handler) showEnquiry(w http.ResponseWriter, r *http.Request) error {
	p, err := h.ownProfile(r)
	if err != nil {
		return err
	}
	if p == nil {
		return errs.NotFound
	}
	e, err := h.Enquiries.Read(r.Context(), p.ID, r.PathValue("id"))
	if errors.Is(err, enquiry.ErrOpen) {
		return explain(err, "This enquiry cannot be opened",
			"Its stored copy failed its integrity check, so we will not show something that may have been altered. The problem has been logged for our operators.")
	} else if err != nil {
		return err
	}
	page := enquiryPage{layout: h.layout(r, "Enquiry from "+e.Content.Name, "dashboard"), Enquiry: e, Received: e.CreatedAt}
	if e.Content.Format != "" {
		page.Format = h.Tax.Label(taxonomy.Format, e.Content.Format)
	}
	page.MailTo = "mailto:" + url.PathEscape(e.Content.Email) + "?subject=" + url.QueryEscape("Your enquiry on "+h.Config.SiteName)
	return h.render(w, r, http.StatusOK, "enquiry", page)
}

func (h *Handler) setEnquiryStatus(st enquiry.Status, done string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := h.ownProfile(r)
		if err != nil {
			return err
		}
		if p == nil {
			return errs.NotFound
		}
		if err := h.Enquiries.SetStatus(r.Context(), p.ID, r.PathValue("id"), st); err != nil {
			return err
		}
		h.flash(r.Context(), done)
		http.Redirect(w, r, "/dashboard/enquiries", http.StatusSeeOther)
		return nil
	}
}

// exportData gives a therapist everything held about them, as JSON: the
// profile, their enquiries decrypted, and audit entries about them.
func (h *Handler) exportData(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r.Context())
	p, err := h.ownProfile(r)
	if err != nil {
		return err
	}
	type exportedEnquiry struct {
		ID, Status, ConsentVersion string
		Received                   time.Time
		Content                    *enquiry.Content `json:",omitempty"`
		Unreadable                 bool             `json:",omitempty"`
	}
	out := struct {
		ExportedAt time.Time
		Account    map[string]any
		Profile    *directory.Profile `json:",omitempty"`
		Enquiries  []exportedEnquiry
		Audit      []audit.Entry
	}{ExportedAt: h.Now().UTC(), Account: map[string]any{"email": u.Email, "roles": u.Roles, "created_at": u.CreatedAt}, Profile: p}
	objects := []string{audit.User(u.ID)}
	if p != nil {
		objects = append(objects, audit.Profile(p.ID))
		es, err := h.Enquiries.Inbox(r.Context(), p.ID)
		if err != nil {
			return err
		}
		for _, e := range es {
			out.Enquiries = append(out.Enquiries, exportedEnquiry{ID: e.ID, Status: string(e.Status), ConsentVersion: e.ConsentVersion, Received: e.CreatedAt,
				Content: e.Content, Unreadable: e.Content == nil})
			objects = append(objects, "enquiry:"+e.ID)
		}
	}
	if err := h.Records.EachAudit(r.Context(), func(e audit.Entry) error {
		for _, o := range objects {
			if e.Object == o || strings.HasPrefix(e.Object, o+" ") || strings.HasSuffix(e.Object, " "+o) || e.Actor == audit.User(u.ID) {
				out.Audit = append(out.Audit, e)
				break
			}
		}
		return nil
	}); err != nil {
		return err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="confide-export.json"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
	return nil
}

type deadPage struct {
	layout
	Items []enquiry.Outbox
}

func (h *Handler) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	items, err := h.Outbox.DeadLetters(r.Context())
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "dead-letters", deadPage{layout: h.layout(r, "Undelivered emails", "staff"), Items: items})
}
