package web

import (
	"html/template"
	"net/url"
	"strings"

	"github.com/confide-org/confide/internal/directory"
)

// contactView is the "Contact … directly" panel of a profile page
// (templates/partials/contact.html): what the therapist chose to publish,
// each as a link a phone or browser can follow.
type contactView struct {
	FirstName, SiteName   string
	Website, Phone, Email *contactLink
}

// contactLink is one published detail. URL is a string, which html/template
// checks is an http, https or mailto address, except for a phone number's
// tel: link, which the template would refuse as a string: it is a
// template.URL built from digits alone.
type contactLink struct {
	Label string
	URL   any
}

// Any reports whether there is anything to show.
func (c contactView) Any() bool { return c.Website != nil || c.Phone != nil || c.Email != nil }

// publicContact builds the panel from a profile's published details.
func publicContact(c directory.PublicContact, firstName, siteName string) contactView {
	v := contactView{FirstName: firstName, SiteName: siteName}
	if c.Website != "" {
		label := c.Website
		if u, err := url.Parse(c.Website); err == nil && u.Host != "" {
			label = strings.TrimSuffix(strings.TrimPrefix(u.Host, "www.")+u.EscapedPath(), "/")
		}
		v.Website = &contactLink{Label: label, URL: c.Website}
	}
	if c.Phone != "" {
		v.Phone = &contactLink{Label: c.Phone, URL: template.URL("tel:" + telDigits(c.Phone))}
	}
	if c.Email != "" {
		v.Email = &contactLink{Label: c.Email, URL: "mailto:" + c.Email}
	}
	return v
}

// telDigits is a number as a tel: link wants it: a leading + and digits
// only. A UK number written "+44 (0)113 …" drops the bracketed 0, which
// is never dialled after the country code.
func telDigits(phone string) string {
	phone = strings.Replace(phone, "(0)", "", 1)
	var b strings.Builder
	for i, r := range phone {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
