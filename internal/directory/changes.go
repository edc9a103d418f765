package directory

import (
	"slices"
)

// ChangedFields names the fields that differ between two copies of a
// profile, in a fixed order, using the field names of validation errors
// ("display_name", "locations", …). The audit log records these names for
// every edit: which fields changed, never what they hold.
func ChangedFields(before, after *Profile) []string {
	var out []string
	add := func(field string, changed bool) {
		if changed {
			out = append(out, field)
		}
	}
	add("display_name", before.DisplayName != after.DisplayName)
	add("slug", before.Slug != after.Slug)
	add("headline", before.Headline != after.Headline)
	add("statement", before.Statement != after.Statement)
	add("approaches", !slices.Equal(before.Approaches, after.Approaches))
	add("issues", !slices.Equal(before.Issues, after.Issues))
	add("client_groups", !slices.Equal(before.ClientGroups, after.ClientGroups))
	add("formats", !slices.Equal(before.Formats, after.Formats))
	add("locations", !slices.Equal(before.Locations, after.Locations))
	add("languages", !slices.Equal(before.Languages, after.Languages))
	add("session_times", !slices.Equal(before.SessionTimes, after.SessionTimes))
	add("fee_min", before.FeeMinPence != after.FeeMinPence)
	add("fee_max", before.FeeMaxPence != after.FeeMaxPence)
	add("concessions", before.Concessions != after.Concessions)
	add("availability", before.Availability != after.Availability)
	add("availability_confirmed_at", !before.AvailabilityConfirmedAt.Equal(after.AvailabilityConfirmedAt))
	add("gender", before.Gender != after.Gender)
	add("contact_email", before.ContactEmail != after.ContactEmail)
	add("website", before.PublicContact.Website != after.PublicContact.Website)
	add("phone", before.PublicContact.Phone != after.PublicContact.Phone)
	add("public_email", before.PublicContact.Email != after.PublicContact.Email)
	add("published", before.Published != after.Published)
	add("memberships", !slices.EqualFunc(before.Memberships, after.Memberships, sameMembership))
	add("insurance", !sameInsurance(before.Insurance, after.Insurance))
	add("verification", !sameVerification(before.Verification, after.Verification))
	add("owner", before.OwnerID != after.OwnerID)
	return out
}

func sameMembership(a, b Membership) bool {
	return a.Body == b.Body && a.Number == b.Number && a.Level == b.Level && a.CheckedAt.Equal(b.CheckedAt)
}

func sameInsurance(a, b Insurance) bool {
	return a.Insurer == b.Insurer && a.Until.Equal(b.Until) && a.CheckedAt.Equal(b.CheckedAt)
}

func sameVerification(a, b Verification) bool {
	return a.State == b.State && a.VerifiedAt.Equal(b.VerifiedAt) && a.NextCheckDue.Equal(b.NextCheckDue) &&
		a.DetailsChangedAt.Equal(b.DetailsChangedAt)
}

// MembershipOf returns the profile's membership of body, if it has one.
func (p *Profile) MembershipOf(body string) (Membership, bool) {
	i := slices.IndexFunc(p.Memberships, func(m Membership) bool { return m.Body == body })
	if i < 0 {
		return Membership{}, false
	}
	return p.Memberships[i], true
}
