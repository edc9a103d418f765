package demo

import (
	"fmt"

	"github.com/confide-org/confide/internal/directory"
)

// publicContact gives some demo profiles contact details to publish, so
// that the profile page's "Contact … directly" panel can be seen: about a
// third a website, a third a phone number and a fifth an email address to
// show, chosen independently. Like credentials, the choice comes from
// spread, not the random stream, so every other generated value stayed as
// it was. Every value is reserved for fiction: example.org addresses and
// Ofcom's drama numbers (01632 960xxx, 07700 900xxx).
func publicContact(slug string) directory.PublicContact {
	var c directory.PublicContact
	host := slug + ".example.org"
	if spread("website "+slug, 3) == 0 {
		c.Website = "https://" + host
	}
	switch n := spread("phone "+slug, 1000); {
	case n%3 == 0 && n%2 == 0:
		c.Phone = fmt.Sprintf("07700 900%03d", n)
	case n%3 == 0:
		c.Phone = fmt.Sprintf("01632 960%03d", n)
	}
	if spread("email "+slug, 5) == 0 {
		c.Email = "hello@" + host
	}
	return c
}
