package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
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
// sent. Limits get a plain 429 page; nothing is ever silently dropped.
func (h *Handler) sendEnquiry(w http.ResponseWriter, r *http.Request) error {
	if err := h.limit(h.limits.enquiryIP, ipKey(h.clientIP(r))); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	now := h.Now()
	p, err := directory.PublicBySlug(r.Context(), h.Profiles, r.PathValue("slug"), now)
	if err != nil {
		return err
	}
	form := r.PostForm
	e, err := h.Enquiries.Submit(r.Context(), enquiry.Submission{ProfileID: p.ID, Token: form.Get("token"), Honeypot: form.Get("website"),
		Consent: form.Get("consent"), Content: enquiry.Content{Name: form.Get("name"), Email: form.Get("email"), Phone: form.Get("phone"),
			Message: form.Get("message"), Format: form.Get("format")}})
	var le *enquiry.LimitError
	switch {
	case errors.As(err, &le):
		w.Header().Set("Retry-After", fmt.Sprint(int(le.RetryAfter.Seconds())))
		msg := "This therapist has received a lot of enquiries today, so we are not sending more until tomorrow. Your message has not been sent. You could write to another therapist, or try again tomorrow."
		if le.Limit == "sender" {
			msg = "You have sent several enquiries today from this email address, which is our daily limit. Your message has not been sent. Please try again tomorrow."
		}
		h.renderError(w, r, http.StatusTooManyRequests, "Your message has not been sent", msg)
		return nil
	case errors.Is(err, enquiry.ErrSpam):
		h.renderError(w, r, http.StatusBadRequest, "Your message has not been sent",
			"Our spam check stopped it: the form was sent too quickly or was incomplete. Go back, wait a few seconds and send it again. Nothing you wrote has been stored.")
		return nil
	case errors.Is(err, enquiry.ErrClosed):
		return fmt.Errorf("profile %d: %w", p.ID, directory.ErrNotFound)
	case err != nil:
		f := formState{Values: url.Values{"name": {form.Get("name")}, "email": {form.Get("email")}, "phone": {form.Get("phone")},
			"message": {form.Get("message")}, "format": {form.Get("format")}, "consent": {form.Get("consent")}}}
		if ferr := fromErr(&f, err, enquiryIDs); ferr != nil {
			return ferr
		}
		var fe enquiry.FieldErrors
		errors.As(err, &fe)
		page := h.therapistView(r, p, now)
		page.JSONLD = h.profileJSONLD(p)
		page.Title = "Error: " + page.Title
		token := form.Get("token")
		if _, ok := enquiry.ParseToken(h.Enquiries.Keys, token); !ok || fe["form"] != "" {
			token = ""
		}
		page.Enquiry = h.enquiryFormFor(r.Context(), p, f, token)
		return h.render(w, r, http.StatusBadRequest, "therapist", page)
	}
	http.Redirect(w, r, "/enquiries/sent?ref="+url.QueryEscape(e.Reference())+"&to="+url.QueryEscape(p.Slug), http.StatusSeeOther)
	return nil
}

type sentPage struct {
	layout
	Reference, Therapist, Slug string
}

func (h *Handler) showEnquirySent(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page := sentPage{layout: h.layout(r, "Your enquiry has been sent", ""), Reference: q.Get("ref")}
	if len(page.Reference) > 20 {
		return errBadForm
	}
	if p, err := directory.PublicBySlug(r.Context(), h.Profiles, q.Get("to"), h.Now()); err == nil {
		page.Therapist, page.Slug = p.DisplayName, p.Slug
	}
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
		return errPageNotFound
	}
	e, err := h.Enquiries.Read(r.Context(), p.ID, r.PathValue("id"))
	if errors.Is(err, enquiry.ErrNotFound) {
		return errPageNotFound
	} else if errors.Is(err, enquiry.ErrOpen) {
		h.Log.ErrorContext(r.Context(), "enquiry cannot be decrypted", "enquiry", r.PathValue("id"), "request_id", audit.ActorFrom(r.Context()).RequestID)
		h.renderError(w, r, http.StatusInternalServerError, "This enquiry cannot be opened",
			"Its stored copy failed its integrity check, so we will not show something that may have been altered. The problem has been logged for our operators.")
		return nil
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
			return errPageNotFound
		}
		if err := h.Enquiries.SetStatus(r.Context(), p.ID, r.PathValue("id"), st); errors.Is(err, enquiry.ErrNotFound) {
			return errPageNotFound
		} else if err != nil {
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
