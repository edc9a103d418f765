package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/photo"
	"github.com/confide-org/confide/internal/photo/phototest"
)

// postPhoto uploads a photo from the dashboard as a browser does.
func (c *client) postPhoto(name string, data []byte, alt string) response {
	c.h.t.Helper()
	return c.postMultipart("/dashboard/photo", map[string]string{"alt": alt}, "photo", name, data)
}

var photoImg = regexp.MustCompile(`<img class="avatar-photo" src="(/photos/[0-9]+/[0-9a-f]{16}-[0-9]+\.jpg)" srcset="[^"]+" alt="([^"]*)"`)

// TestPhotoUpload: a therapist adds a phone photo carrying GPS data; the
// profile shows it with its description, and no size served holds the
// EXIF block or the location; bombs, damaged files and a missing
// description are refused on the form (never a 500), keeping what was
// typed; a verifier finds it among new photos, cannot remove it without
// a reason, removes it with one: the therapist is emailed the reason, the
// profile shows initials again and the photo is gone. Each step audited.
func TestPhotoUpload(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 20, nil)
	u, p := h.therapist("photo@example.org")
	th := h.client()
	th.signIn(u.Email, testPassword)
	if page := th.get("/dashboard/photo"); page.status != http.StatusOK || !strings.Contains(page.body, `enctype="multipart/form-data"`) {
		t.Fatalf("photo page: %d", page.status)
	}
	const gps = "GPS 53.8008N 1.5491W LS6 2AB"
	phone := phototest.WithExif(phototest.JPEG(phototest.Halves(800, 600)), 6, gps)

	for _, c := range []struct {
		name, file string
		data       []byte
		alt, want  string
	}{
		{"20,000 x 20,000 PNG bomb", "bomb.png", phototest.Bomb(20000), "A bomb", "too big to process"},
		{"truncated JPEG", "cut.jpg", phone[:len(phone)/2], "Half a photo", "could not be read"},
		{"not a picture", "notes.pdf", []byte("%PDF-1.4 not a picture"), "A document", "not a JPEG, PNG or WebP"},
		{"no description", "me.jpg", phone, "", "Describe the photo"},
		{"no file", "", nil, "Me in the garden", "Choose a photo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := th.postPhoto(c.file, c.data, c.alt)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, c.want) || !strings.Contains(res.body, `value="`+c.alt+`"`) {
				t.Fatalf("status %d, want 400 saying %q with the description kept:\n%s", res.status, c.want, excerpt(res.body))
			}
		})
	}
	if res := th.postPhoto("me.jpg", phone, "Therapist photo smiling, outdoors"); res.status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.status, excerpt(res.body))
	}
	profile := h.client().get("/therapists/" + p.Slug)
	m := photoImg.FindStringSubmatch(profile.body)
	if m == nil || m[2] != "Therapist photo smiling, outdoors" {
		t.Fatalf("the profile does not show the photo with its description:\n%s", excerpt(profile.body))
	}
	base := m[1][:strings.LastIndex(m[1], "-")]
	for _, size := range photo.Sizes {
		res := h.client().get(base + "-" + itoa(int64(size)) + ".jpg")
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/jpeg" || !strings.Contains(res.header.Get("Cache-Control"), "immutable") {
			t.Fatalf("size %d: %d %q %q", size, res.status, res.header.Get("Content-Type"), res.header.Get("Cache-Control"))
		}
		for _, bad := range []string{"Exif", gps, "53.8008"} {
			if strings.Contains(res.body, bad) {
				t.Errorf("size %d still holds %q", size, bad)
			}
		}
	}
	if res := h.client().get(base + "-100.jpg"); res.status != http.StatusNotFound {
		t.Errorf("a size never made: %d", res.status)
	}

	v := h.user("photo-verifier@example.org", testPassword, account.Verifier)
	vc := h.client()
	vc.signIn(v.Email, testPassword)
	queue := vc.get("/staff/photos")
	digest := regexp.MustCompile(`name="digest" value="([0-9a-f]{16})"`).FindStringSubmatch(queue.body)
	if queue.status != http.StatusOK || !strings.Contains(queue.body, p.DisplayName) || digest == nil {
		t.Fatalf("queue: %d\n%s", queue.status, excerpt(queue.body))
	}
	path := "/staff/photos/" + itoa(p.ID)
	if res := vc.post(path, url.Values{"digest": {digest[1]}, "decision": {"remove"}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "Say why") {
		t.Fatalf("remove without a reason: %d", res.status)
	}
	if res := vc.post(path, url.Values{"digest": {digest[1]}, "decision": {"remove"}, "reason": {"Please use a photo of your face without sunglasses."}}); res.status != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", res.status, excerpt(res.body))
	}
	if body := h.mail(u.Email, "Your profile photo was removed"); !strings.Contains(body, "without sunglasses") {
		t.Fatalf("the email does not give the reason:\n%s", body)
	}
	if profile := h.client().get("/therapists/" + p.Slug); photoImg.MatchString(profile.body) || !strings.Contains(profile.body, `class="avatar"`) {
		t.Fatal("the removed photo is still on the profile")
	}
	if res := h.client().get(m[1]); res.status != http.StatusNotFound {
		t.Fatalf("the removed photo is still served: %d", res.status)
	}
	actions := map[string]int{}
	for _, e := range h.auditEntries(p.ID) {
		actions[e.Action]++
	}
	if actions["photo.upload"] != 1 || actions["photo.reject"] != 1 {
		t.Errorf("audit: %v", actions)
	}
}
