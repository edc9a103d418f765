package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/testworld"
)

// TestPublicContactPanel: a profile whose therapist published a website,
// a phone number and an email address shows each as a link a browser or
// phone can follow (tel: from the digits only); a profile with none shows
// no contact panel at all; the private enquiry address is never shown.
func TestPublicContactPanel(t *testing.T) {
	srv, w := newServer(t)
	var all, none *directory.Profile
	if _, err := w.DB.EachProfile(context.Background(), func(p *directory.Profile) error {
		if !p.IsPublic(testworld.Now) {
			return nil
		}
		c := p.PublicContact
		if all == nil && c.Website != "" && c.Phone != "" && c.Email != "" {
			all = p
		}
		if none == nil && c.IsZero() {
			none = p
		}
		return nil
	}); err != nil || all == nil || none == nil {
		t.Fatalf("test world lacks a public profile with every contact detail (%v) or with none (%v): %v", all != nil, none != nil, err)
	}
	digits := strings.NewReplacer(" ", "").Replace(all.PublicContact.Phone)
	for _, tt := range []struct {
		name      string
		p         *directory.Profile
		want, not []string
	}{
		{"every detail", all, []string{"Contact " + firstWord(all.DisplayName) + " directly",
			`href="` + all.PublicContact.Website + `" rel="nofollow noopener noreferrer">` + strings.TrimPrefix(all.PublicContact.Website, "https://") + `</a>`,
			`href="tel:` + digits + `">` + all.PublicContact.Phone + `</a>`,
			`href="mailto:` + all.PublicContact.Email + `">`}, []string{"ZgotmplZ", all.ContactEmail}},
		{"none", none, nil, []string{"directly</h2>", "contact-heading", none.ContactEmail}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := fetch(t, srv.URL+"/therapists/"+tt.p.Slug)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
}

func firstWord(name string) string {
	if f := strings.Fields(name); len(f) > 1 && f[0] != "Dr" {
		return f[0]
	}
	return name
}
