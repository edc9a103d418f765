package verify

import (
	"slices"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// Lapse takes the membership of body off p because the body's register no
// longer shows it as current: p.Memberships are only ever memberships a
// verifier found on a register, so one the register has dropped cannot
// stay among them. held reports whether p had it; delisted whether that
// was the only membership of a verified profile, which then leaves search
// (Expired: it was verified once, and the dashboard asks for new
// evidence). A suspended profile stays suspended, and lifting the
// suspension no longer finds the lapsed membership to verify it by. The
// next check date is left as it was: it is the earliest that any
// membership or the insurance called for, so keeping it is never later
// than what the remaining memberships alone would call for.
func Lapse(p *directory.Profile, body string) (held, delisted bool) {
	i := slices.IndexFunc(p.Memberships, func(m directory.Membership) bool { return m.Body == body })
	if i < 0 {
		return false, false
	}
	p.Memberships = slices.Delete(slices.Clone(p.Memberships), i, i+1)
	if len(p.Memberships) > 0 || p.Verification.State != directory.Verified {
		return true, false
	}
	p.Verification.State = directory.Expired
	p.Verification.DetailsChangedAt = time.Time{}
	return true, true
}

// Requeue is the request that puts a membership a register had dropped,
// and now shows as current again, back in front of a verifier: the body,
// number and level that were checked before, the name the therapist now
// asks to be known by, and the insurance and qualification last seen.
// latest is the profile's newest request, or nil. Re-appearing on a list
// proves the membership again, not the rest, so a person decides; the
// profile waits as pending unless it is verified (by another membership)
// or suspended.
func Requeue(p *directory.Profile, latest *Request, body, number, level string, now time.Time) *Request {
	r := &Request{ProfileID: p.ID, Name: wantedName(p, latest), Body: body, Number: number, Level: level,
		Insurer: p.Insurance.Insurer, InsuranceExpires: p.Insurance.Until, Status: StatusPending, SubmittedAt: now}
	if r.InsuranceExpires.IsZero() {
		r.InsuranceExpires = p.Verification.NextCheckDue
	}
	if latest != nil {
		r.Qualification = latest.Qualification
		if r.Insurer == "" {
			r.Insurer, r.InsuranceExpires = latest.Insurer, latest.InsuranceExpires
		}
	}
	switch p.Verification.State {
	case directory.Unverified, directory.Expired:
		p.Verification.State = directory.Pending
	}
	return r
}
