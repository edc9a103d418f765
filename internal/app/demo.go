package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/store"
)

// demoTherapistEmail is the demo site's therapist account.
const demoTherapistEmail = "demo.therapist@example.org"

// demoStaffEmail is the demo site's staff account.
const demoStaffEmail = "demo.staff@example.org"

// demoReviewer is the demo panel member the staff account reviews as.
const demoReviewer = "priya-raman"

// demoAccounts makes a demo site one where every journey can be tried at
// once: therapist accounts for most public profiles (so they accept
// enquiries) and for every profile waiting for its first check, the demo
// therapist with enquiries already in its inbox, and the staff account,
// which holds every staff role and sits on the expert panel. All of them
// share one password, derived from the key file (demo mode only), which
// the walkthrough logged at every start prints with what to try.
func demoAccounts(ctx context.Context, a *App, dir *directory.Service, log *slog.Logger, now func() time.Time, filled bool) error {
	password, err := a.Keys.DemoPassword()
	if err != nil {
		return err
	}
	var hash string
	hashed := func() (string, error) {
		if hash == "" {
			hash, err = a.Accounts.Hasher().Hash(ctx, password)
		}
		return hash, err
	}
	if filled {
		if err := demoOwners(ctx, a, now, hashed); err != nil {
			return err
		}
	}
	if err := demoTherapist(ctx, a, dir, now, hashed); err != nil {
		return err
	}
	if err := demoStaff(ctx, a, hashed); err != nil {
		return err
	}
	return demoWalkthrough(ctx, a, log, now, password)
}

// demoOwners gives the demo profiles demo.Owners picks a therapist
// account each, in one transaction, right after they were generated.
func demoOwners(ctx context.Context, a *App, now func() time.Time, hashed func() (string, error)) error {
	var ps []*directory.Profile
	if _, err := a.DB.EachProfile(ctx, func(p *directory.Profile) error {
		ps = append(ps, p)
		return nil
	}); err != nil {
		return err
	}
	owners := demo.Owners(ps, now())
	if len(owners) == 0 {
		return nil
	}
	hash, err := hashed()
	if err != nil {
		return err
	}
	t := now().UTC()
	rows := make([]store.ProfileOwner, len(owners))
	for i, o := range owners {
		rows[i] = store.ProfileOwner{ProfileID: o.ProfileID, User: &account.User{Email: o.Email, PasswordHash: hash, Roles: []account.Role{account.Therapist},
			EmailConfirmedAt: t, CreatedAt: t, UpdatedAt: t}}
	}
	return a.DB.InsertOwners(ctx, rows)
}

// setDemoPassword gives a demo account the shared demo password.
func setDemoPassword(ctx context.Context, a *App, u *account.User, hashed func() (string, error)) error {
	hash, err := hashed()
	if err != nil {
		return err
	}
	return a.DB.SetPassword(ctx, u.ID, hash, false, time.Now())
}

// demoStaff gives a fresh demo site one account holding every staff role
// (verifier, editor, reviewer, admin), linked to a demo panel member so
// that it can review the article waiting for review, so that the
// verification queue, the editorial workflow and the admin pages can be
// tried from the first command, without `confide admin create`.
func demoStaff(ctx context.Context, a *App, hashed func() (string, error)) error {
	if _, err := a.DB.UserByEmail(ctx, demoStaffEmail); err == nil {
		return nil
	} else if !errors.Is(err, account.ErrNotFound) {
		return err
	}
	u, _, err := a.Accounts.Invite(ctx, demoStaffEmail, account.StaffRoles()...)
	if err != nil {
		return err
	}
	if err := setDemoPassword(ctx, a, u, hashed); err != nil {
		return err
	}
	cs, err := a.DB.Contributors(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Slug == demoReviewer && c.UserID == 0 {
			c.UserID = u.ID
			return a.DB.SaveContributor(ctx, &c)
		}
	}
	return nil
}

// demoTherapist gives a fresh demo site one therapist account that owns a
// public profile, with a few enquiries already waiting in its inbox, so
// that reading and replying can be tried before sending one.
func demoTherapist(ctx context.Context, a *App, dir *directory.Service, now func() time.Time, hashed func() (string, error)) error {
	if _, err := a.DB.UserByEmail(ctx, demoTherapistEmail); err == nil {
		return nil
	} else if !errors.Is(err, account.ErrNotFound) {
		return err
	}
	var target *directory.Profile
	if _, err := a.DB.EachProfile(ctx, func(p *directory.Profile) error {
		if target == nil && p.OwnerID == 0 && p.IsPublic(now()) && len(p.Locations) > 0 {
			target = p
		}
		return nil
	}); err != nil || target == nil {
		return err
	}
	u, _, err := a.Accounts.Invite(ctx, demoTherapistEmail, account.Therapist)
	if err != nil {
		return err
	}
	if err := setDemoPassword(ctx, a, u, hashed); err != nil {
		return err
	}
	target.OwnerID = u.ID
	target.ContactEmail = demoTherapistEmail
	if err := dir.Update(ctx, target); err != nil {
		return err
	}
	return demoEnquiries(ctx, a, target, now)
}

// demoInbox is what the demo therapist finds waiting: fictional people,
// reserved addresses, the kind of first message a therapist receives.
func demoInbox() []enquiry.Content {
	return []enquiry.Content{
		{Name: "Sam Okafor", Email: "sam.okafor@example.com", Format: "online",
			Message: "Hello, I have been feeling anxious at work for a few months and it has started to affect my sleep. I have not had therapy before. Do you have any evening appointments, and how does a first session work?\n\n(This is a fictional demo enquiry.)"},
		{Name: "Jo Whitfield", Email: "jo.whitfield@example.net", Phone: "07700 900123",
			Message: "My father died in the spring and I am finding it harder rather than easier. A friend suggested bereavement counselling. Are you taking new clients, and do you offer concessions?\n\n(This is a fictional demo enquiry.)"},
		{Name: "Alex Moreno", Email: "alex.moreno@example.com",
			Message: "Hi, I would like to understand why the same patterns keep coming up in my relationships. I am interested in psychodynamic therapy. Could we have a short call first?\n\n(This is a fictional demo enquiry.)"},
	}
}

// demoEnquiries sends the demo inbox's enquiries to p through the same
// service as the public form (sealed, audited, with their notice and
// receipt emails going to the mail catcher), on form tokens dated an hour
// earlier, as if each had been written and sent then.
func demoEnquiries(ctx context.Context, a *App, p *directory.Profile, now func() time.Time) error {
	formats := map[string]bool{}
	for _, f := range p.Formats {
		formats[f] = true
	}
	for _, c := range demoInbox() {
		if !formats[c.Format] {
			c.Format = "" // "no preference" when the therapist does not offer it
		}
		_, err := a.Enquiry.Submit(ctx, enquiry.Submission{ProfileID: p.ID, Token: enquiry.IssueToken(a.Keys, now().Add(-time.Hour)),
			Consent: enquiry.ConsentVersion, Content: c})
		if err != nil {
			return fmt.Errorf("demo enquiry: %w", err)
		}
	}
	return nil
}

// demoWalkthrough logs, at every start of a demo site, which accounts
// exist, how to sign in to each and what to try, with the work waiting
// in each queue as it stands.
func demoWalkthrough(ctx context.Context, a *App, log *slog.Logger, now func() time.Time, password string) error {
	base := a.cfg.PublicURL()
	log.Info("demo walkthrough: every demo account signs in at "+base+"/signin with the demo password below (demo mode only: never run a demo site in public)",
		"password", password, "mailbox", base+"/demo/mailbox")
	log.Info("demo 1, look for help: search by town or issue, open a profile, send an enquiry; the notice to the therapist and your receipt appear in the mailbox",
		"try", base+"/search?near=Leeds&issue=anxiety")
	if u, err := a.DB.UserByEmail(ctx, demoTherapistEmail); err == nil {
		if p, err := a.DB.ProfileByOwner(ctx, u.ID); err == nil {
			unread, err := a.DB.CountUnread(ctx, p.ID)
			if err != nil {
				return err
			}
			log.Info("demo 2, a therapist: sign in to read and reply to the enquiries in the inbox, edit the profile, confirm availability",
				"email", demoTherapistEmail, "unread_enquiries", unread, "profile", base+"/therapists/"+p.Slug, "inbox", base+"/dashboard/enquiries")
		}
	}
	owned, firstCheck, example, pending := 0, 0, "", ""
	if _, err := a.DB.EachProfile(ctx, func(p *directory.Profile) error {
		if p.OwnerID == 0 {
			return nil
		}
		switch {
		case p.IsPublic(now()):
			owned++
			if example == "" && p.ContactEmail != demoTherapistEmail {
				example = p.ContactEmail
			}
		case p.Verification.State == directory.Pending:
			firstCheck++
			if pending == "" {
				pending = p.ContactEmail
			}
		}
		return nil
	}); err != nil {
		return err
	}
	log.Info("demo 3, any demo therapist: public profiles that take enquiries each have an account; sign in with the address the enquiry notice went to (see the mailbox) and the demo password",
		"profiles_taking_enquiries", owned, "for_example", example)
	if pending != "" {
		log.Info("demo 4, a therapist waiting for verification: sign in to see what the dashboard says before a verifier approves",
			"accounts", firstCheck, "for_example", pending)
	}
	queue, err := a.DB.CountPendingRequests(ctx)
	if err != nil {
		return err
	}
	inReview, err := a.DB.CountArticles(ctx, content.InReview)
	if err != nil {
		return err
	}
	log.Info("demo 5, staff (verifier, editor, reviewer, admin; on the expert panel as Priya Raman): approve evidence, review and publish the article waiting, grant roles, read the audit log",
		"email", demoStaffEmail, "verification_queue", queue, "articles_in_review", inReview, "staff", base+"/staff")
	return nil
}
