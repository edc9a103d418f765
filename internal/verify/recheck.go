package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/directory"
)

// Details are what a verifier checks for one membership: that the
// register lists this person under this number and level, and that this
// insurance is in force. The verification page sets the details last
// checked beside those in a request, so the verifier sees what changed.
type Details struct {
	Name, Body, Number, Level, Insurer string
	InsuranceUntil                     time.Time
}

// Details are what r asks a verifier to check.
func (r *Request) Details() Details {
	return Details{Name: r.Name, Body: r.Body, Number: r.Number, Level: r.Level, Insurer: r.Insurer, InsuranceUntil: r.InsuranceExpires}
}

// LastChecked returns the details a verifier last approved for p as they
// bear on body: the verified name and insurance, and the membership of
// body if p holds one (otherwise Body, Number and Level are empty). ok is
// false for a profile no verifier has approved.
func LastChecked(p *directory.Profile, body string) (d Details, ok bool) {
	if p.Verification.VerifiedAt.IsZero() {
		return Details{}, false
	}
	d = Details{Name: p.DisplayName, Insurer: p.Insurance.Insurer, InsuranceUntil: p.Insurance.Until}
	if m, held := p.MembershipOf(body); held {
		d.Body, d.Number, d.Level = m.Body, m.Number, m.Level
	}
	return d, true
}

// HeldChanges names the checked details that r would change on p, in
// plain words ("name", "membership number", …): the changes the public
// must not see until a verifier approves them. A membership of a body p
// does not hold yet is an addition, not a change, and an insurance that
// runs longer than the checked one is a renewal.
func HeldChanges(p *directory.Profile, r *Request) []string {
	checked, ok := LastChecked(p, r.Body)
	if !ok {
		return nil
	}
	var out []string
	if r.Name != "" && r.Name != checked.Name {
		out = append(out, "name")
	}
	if checked.Body != "" {
		if r.Number != checked.Number {
			out = append(out, "membership number")
		}
		if r.Level != checked.Level {
			out = append(out, "membership level")
		}
	}
	if p.Insurance.Checked() {
		if r.Insurer != checked.Insurer {
			out = append(out, "insurer")
		}
		if r.InsuranceExpires.Before(checked.InsuranceUntil) {
			out = append(out, "insurance end date")
		}
	}
	return out
}

// nothingToCheck reports whether r only repeats what a verifier already
// approved for p, so that a queue item for it would waste their time.
func nothingToCheck(p *directory.Profile, r *Request) bool {
	_, held := p.MembershipOf(r.Body)
	return held && p.Insurance.Checked() && len(HeldChanges(p, r)) == 0 && r.InsuranceExpires.Equal(p.Insurance.Until)
}

// markHeld keeps p's "details changed, re-checking" mark in step with the
// pending request r (nil when none): set, from now, while r would change a
// checked detail of a profile that shows checked details; clear otherwise.
func markHeld(p *directory.Profile, r *Request, now time.Time) {
	v := &p.Verification
	switch {
	case r == nil || !v.HoldsCheckedDetails() || len(HeldChanges(p, r)) == 0:
		v.DetailsChangedAt = time.Time{}
	case v.DetailsChangedAt.IsZero():
		v.DetailsChangedAt = now
	}
}

// approve makes what r asked a verifier to check p's verified details:
// its name, the membership of r's body (checked now; the profile's other
// memberships keep their own dates) and its insurance. The next check
// falls due a year after the oldest membership check, or when the
// insurance ends if that is sooner.
func approve(p *directory.Profile, r *Request, now time.Time) {
	if r.Name != "" {
		p.DisplayName = r.Name
	}
	m := directory.Membership{Body: r.Body, Number: r.Number, Level: r.Level, CheckedAt: now}
	p.Memberships = slices.Clone(p.Memberships)
	if i := slices.IndexFunc(p.Memberships, func(x directory.Membership) bool { return x.Body == r.Body }); i >= 0 {
		p.Memberships[i] = m
	} else {
		p.Memberships = append(p.Memberships, m)
	}
	p.Insurance = directory.Insurance{Insurer: r.Insurer, Until: r.InsuranceExpires, CheckedAt: now}
	var due time.Time
	for _, m := range p.Memberships {
		if m.CheckedAt.IsZero() {
			continue
		}
		if d := NextCheckDue(m.CheckedAt, r.InsuranceExpires); due.IsZero() || d.Before(due) {
			due = d
		}
	}
	p.Verification = directory.Verification{State: directory.Verified, VerifiedAt: now, NextCheckDue: due}
}

// latest is the profile's newest request, or nil when it has none.
func (s *Service) latest(ctx context.Context, profileID int64) (*Request, error) {
	r, err := s.Store.LatestRequest(ctx, profileID)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

// wantedName is the name the therapist asks to be known by: the one in
// their pending request, if any, which a verifier has yet to check, or
// the profile's own.
func wantedName(p *directory.Profile, latest *Request) string {
	if latest != nil && latest.Status == StatusPending && latest.Name != "" {
		return latest.Name
	}
	return p.DisplayName
}

// WantedName is the name the therapist's profile form shows: the one they
// last asked for, even while the public still sees their verified name.
func (s *Service) WantedName(ctx context.Context, p *directory.Profile) (string, error) {
	latest, err := s.latest(ctx, p.ID)
	if err != nil {
		return "", err
	}
	return wantedName(p, latest), nil
}

// Edited says what an edit changed.
type Edited struct {
	// Fields names the changed fields as validation errors name them.
	Fields []string
	// NameHeld is true when a new name went to the verification queue
	// instead of the public profile.
	NameHeld bool
}

// Edit saves a therapist's edit of their profile form as one unit of
// work with its audit entry, which names the fields that changed and
// never what they hold. before is the profile as stored (nil to create
// one); after is the profile to save, whose DisplayName is the name the
// therapist typed. A new name for a profile that shows checked details is
// not saved on the profile: it goes to the verification queue, and the
// profile keeps its verified name, marked as being re-checked, until a
// verifier approves the new one. Memberships and insurance change only by
// a verifier's approval; callers never take them from a form.
func (s *Service) Edit(ctx context.Context, before, after *directory.Profile) (Edited, error) {
	return s.save(ctx, before, after, "", true)
}

// Change saves a change to a stored profile that is not an edit of its
// form (publishing, confirming availability) as one unit of work with an
// audit entry named action ("profile.edit" when empty). A changed name is
// treated as Edit treats it.
func (s *Service) Change(ctx context.Context, before, after *directory.Profile, action string) error {
	_, err := s.save(ctx, before, after, action, after.DisplayName != before.DisplayName)
	return err
}

func (s *Service) save(ctx context.Context, before, after *directory.Profile, action string, typedName bool) (Edited, error) {
	var ed Edited
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		ed = Edited{}
		if before == nil {
			if err := s.Profiles.Create(ctx, after); err != nil {
				return err
			}
			s.record(ctx, "profile.create", audit.Profile(after.ID))
			return nil
		}
		if err := s.Profiles.Prepare(after); err != nil {
			return err
		}
		renamed := false
		if typedName {
			var err error
			if renamed, ed.NameHeld, err = s.rename(ctx, before, after); err != nil {
				return err
			}
		}
		ed.Fields = directory.ChangedFields(before, after)
		if renamed && !slices.Contains(ed.Fields, "display_name") {
			ed.Fields = append([]string{"display_name"}, ed.Fields...)
		}
		if len(ed.Fields) == 0 {
			return nil
		}
		if err := s.Profiles.Update(ctx, after); err != nil {
			return err
		}
		s.record(ctx, cmp.Or(action, "profile.edit"), audit.Profile(after.ID)+" fields:"+strings.Join(ed.Fields, ","))
		return nil
	})
	return ed, err
}

// rename handles the name in after, which the therapist typed. It reports
// whether it differs from the name they had asked for, and whether it
// waits for a verifier. A profile showing checked details keeps its
// verified name and sends the new one to the queue (or, when the therapist
// goes back to the verified name, takes it out again). Any other profile
// takes the new name at once, and its pending request, if any, asks the
// verifier to look for the new name.
func (s *Service) rename(ctx context.Context, before, after *directory.Profile) (renamed, held bool, err error) {
	latest, err := s.latest(ctx, before.ID)
	if err != nil {
		return false, false, err
	}
	var pending *Request
	if latest != nil && latest.Status == StatusPending {
		pending = latest
	}
	wanted := after.DisplayName
	if wanted == wantedName(before, latest) {
		after.DisplayName = before.DisplayName
		return false, before.Verification.HoldsCheckedDetails() && wanted != before.DisplayName, nil
	}
	now := s.Now().UTC()
	if !before.Verification.HoldsCheckedDetails() {
		if pending == nil {
			return true, false, nil
		}
		r := resubmission(pending, wanted, now)
		return true, false, s.submitRecheck(ctx, before, r)
	}
	after.DisplayName = before.DisplayName
	r := recheckRequest(before, pending, latest, wanted, now)
	if wanted == before.DisplayName && nothingToCheck(before, r) {
		if err := s.Store.WithdrawRequests(ctx, before.ID, now); err != nil {
			return false, false, err
		}
		s.record(ctx, "verification.withdraw", audit.Profile(before.ID))
		markHeld(after, nil, now)
		return true, false, nil
	}
	if err := s.submitRecheck(ctx, before, r); err != nil {
		return false, false, err
	}
	markHeld(after, r, now)
	return true, wanted != before.DisplayName, nil
}

// submitRecheck queues r, replacing any pending request of the profile.
func (s *Service) submitRecheck(ctx context.Context, p *directory.Profile, r *Request) error {
	if err := s.Store.SubmitRequest(ctx, r); err != nil {
		return err
	}
	s.record(ctx, "verification.recheck", audit.Profile(p.ID)+fmt.Sprintf(" request:%d", r.ID))
	return nil
}

// resubmission is a pending request again under a new name, so that a
// verifier who opened the old one cannot approve a name they never saw.
func resubmission(pending *Request, name string, now time.Time) *Request {
	r := *pending
	r.ID, r.Name, r.Status, r.SubmittedAt = 0, name, StatusPending, now
	r.DecidedAt, r.DecidedBy, r.Reason = time.Time{}, 0, ""
	return &r
}

// recheckRequest asks a verifier to look for p under a new name: with the
// evidence of the pending request when there is one, else with what was
// last checked (the first membership and the insurance; a profile from
// before insurance was recorded offers its next check date, which the
// insurance was checked to outlast).
func recheckRequest(p *directory.Profile, pending, latest *Request, name string, now time.Time) *Request {
	if pending != nil {
		return resubmission(pending, name, now)
	}
	m, _ := p.PrimaryMembership()
	r := &Request{ProfileID: p.ID, Name: name, Body: m.Body, Number: m.Number, Level: m.Level,
		Insurer: p.Insurance.Insurer, InsuranceExpires: p.Insurance.Until, Status: StatusPending, SubmittedAt: now}
	if r.InsuranceExpires.IsZero() {
		r.InsuranceExpires = p.Verification.NextCheckDue
	}
	if latest != nil {
		r.Qualification = latest.Qualification
	}
	return r
}
