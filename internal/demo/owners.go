package demo

import (
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// ownedShare is how many demo profiles in ten have a therapist account,
// among the public ones: a newcomer trying the demo should find most
// therapists can be sent an enquiry, as on a real directory where
// therapists sign up themselves, while some still cannot (imported or
// staff-loaded profiles), so that case can be seen too.
const ownedShare = 6

// Owner is a demo therapist account to create for a stored profile.
type Owner struct {
	ProfileID int64
	// Email is the profile's (fictional, example.org) contact address,
	// where the site's notices of new enquiries go.
	Email string
}

// Owners picks the stored demo profiles (IDs set) that get a therapist
// account, so that they accept enquiries: about six in ten public
// profiles, spread over the whole directory by a hash of the slug (so
// every town, approach and fee band has some), and every profile waiting
// for its first check, whose therapist would have signed up to send the
// evidence. Profiles that already have an owner are left alone, and an
// address already used is given to one profile only.
func Owners(ps []*directory.Profile, now time.Time) []Owner {
	used := map[string]bool{}
	var out []Owner
	for _, p := range ps {
		if p.OwnerID != 0 || p.ContactEmail == "" || used[p.ContactEmail] {
			continue
		}
		public := p.IsPublic(now) && spread("owner "+p.Slug, 10) < ownedShare
		if public || p.Verification.State == directory.Pending {
			used[p.ContactEmail] = true
			out = append(out, Owner{ProfileID: p.ID, Email: p.ContactEmail})
		}
	}
	return out
}
