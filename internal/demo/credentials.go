package demo

import (
	"hash/fnv"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/verify"
)

// demoInsurers are fictional indemnity insurers.
var demoInsurers = []string{"Example Mutual Indemnity", "Fictional Practitioners' Cover", "Sample Professional Insurance"}

// recheckEvery picks the demo profiles whose therapist changed their
// name after being verified: every recheckEvery-th profile, when it is
// public, waits for a verifier with "details changed, re-checking".
const recheckEvery = 100

// spread is a number from 0 to n-1 derived from s. Credentials take their
// variety from it rather than from the generator's random stream, so
// adding them left every other drawn value, and every seed's profiles,
// as they were.
func spread(s string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int(h.Sum32() % uint32(n))
}

// credentials records what a verifier checked for a profile that has
// been verified: each membership with its own check date (a second one
// checked up to two months before the latest check, never so early that
// its year would end before the next check) and the insurance, which runs
// to the next check when that came early because of it, and beyond it
// otherwise.
func credentials(p *directory.Profile) {
	v := &p.Verification
	if v.VerifiedAt.IsZero() {
		return
	}
	slack := int(v.VerifiedAt.AddDate(1, 0, 0).Sub(v.NextCheckDue).Hours() / 24)
	for i := range p.Memberships {
		m := &p.Memberships[i]
		m.CheckedAt = v.VerifiedAt
		if i > 0 {
			m.CheckedAt = v.VerifiedAt.AddDate(0, 0, -min(1+spread(m.Number, 60), max(slack, 0)))
		}
	}
	until := v.NextCheckDue
	if slack <= 0 {
		until = until.AddDate(0, 0, 1+spread(p.Memberships[0].Number, 200))
	}
	p.Insurance = directory.Insurance{Insurer: demoInsurers[spread(p.Memberships[0].Number, len(demoInsurers))], Until: until, CheckedAt: v.VerifiedAt}
}

// markRechecks gives every recheckEvery-th public profile a change of
// name made halfway between its last check and day, waiting for a
// verifier (see Requests).
func markRechecks(ps []*directory.Profile, day time.Time) {
	for i, p := range ps {
		if i%recheckEvery == recheckEvery-1 && p.IsPublic(day) {
			v := &p.Verification
			v.DetailsChangedAt = v.VerifiedAt.Add(day.Sub(v.VerifiedAt) / 2)
		}
	}
}

// newName is the name a demo therapist changed to: their name with a
// second family name joined on.
func newName(p *directory.Profile) string {
	return p.DisplayName + "-" + familyNames[spread(p.Slug, len(familyNames))]
}

// Requests are the verification queue's items for stored demo profiles
// (IDs set): one per profile waiting for a re-check, asking a verifier
// to find the therapist's new name on the register, and one per profile
// waiting for its first check (state pending), with the evidence a new
// therapist sends: membership, insurance and qualification, sent within
// the fortnight before asOf.
func Requests(ps []*directory.Profile, asOf time.Time) []verify.Request {
	var out []verify.Request
	for _, p := range ps {
		m, _ := p.PrimaryMembership()
		switch {
		case p.Verification.Rechecking():
			out = append(out, verify.Request{ProfileID: p.ID, Name: newName(p), Body: m.Body, Number: m.Number, Level: m.Level,
				Insurer: p.Insurance.Insurer, InsuranceExpires: p.Insurance.Until, Qualification: "MA Counselling (fictional)",
				Status: verify.StatusPending, SubmittedAt: p.Verification.DetailsChangedAt})
		case p.Verification.State == directory.Pending:
			day := asOf.UTC()
			sent := day.Add(-time.Duration(1+spread("sent "+p.Slug, 14*24)) * time.Hour)
			y, mo, d := day.AddDate(0, 3+spread("insured "+p.Slug, 9), 0).Date()
			out = append(out, verify.Request{ProfileID: p.ID, Name: p.DisplayName, Body: m.Body, Number: m.Number, Level: m.Level,
				Insurer: demoInsurers[spread(m.Number, len(demoInsurers))], InsuranceExpires: time.Date(y, mo, d, 0, 0, 0, 0, time.UTC),
				Qualification: "PG Dip Counselling and Psychotherapy (fictional)", Status: verify.StatusPending, SubmittedAt: sent})
		}
	}
	return out
}
