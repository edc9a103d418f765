package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/photo"
)

// photoView is a photo as a page shows it: the smallest size that fills
// Width CSS pixels, and twice that for high-density screens.
type photoView struct {
	Src, Src2x, Alt string
	Width           int
}

// photoURL names one size of one version of a photo: a new upload gets a
// new address, so each can be cached for a year.
func photoURL(profileID int64, digest string, size int) string {
	return fmt.Sprintf("/photos/%d/%s-%d.jpg", profileID, digest, size)
}

// photoOf is the photo view of a profile at width (96 or 320 CSS
// pixels), or nil when it has none.
func (h *Handler) photoOf(ctx context.Context, profileID int64, width int) *photoView {
	if h.Photos == nil {
		return nil
	}
	m, err := h.Photos.Store.Photo(ctx, profileID)
	if err != nil {
		if !errors.Is(err, errs.NotFound) {
			h.Log.WarnContext(ctx, "photo lookup", "profile", profileID, "err", err)
		}
		return nil
	}
	return &photoView{Src: photoURL(profileID, m.Digest, sizeFor(width)), Src2x: photoURL(profileID, m.Digest, sizeFor(2*width)), Alt: m.Alt, Width: width}
}

// sizeFor is the smallest stored size at least px wide (the largest when
// none is).
func sizeFor(px int) int {
	for _, s := range photo.Sizes {
		if s >= px {
			return s
		}
	}
	return photo.Sizes[len(photo.Sizes)-1]
}

// showPhoto serves one size of a photo: to anyone while the profile is
// public, otherwise only to its therapist and to verifiers and admins
// (who review photos of profiles not yet public).
func (h *Handler) showPhoto(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.NotFound
	}
	name, ok := strings.CutSuffix(r.PathValue("file"), ".jpg")
	digest, sizeText, ok2 := strings.Cut(name, "-")
	size, err := strconv.Atoi(sizeText)
	if !ok || !ok2 || err != nil || len(digest) != 16 {
		return errs.NotFound
	}
	p, err := h.Records.ProfileByID(r.Context(), id)
	if err != nil {
		return err
	}
	public := p.IsPublic(h.Now())
	if !public {
		u := currentUser(r.Context())
		if u == nil || (u.ID != p.OwnerID && !u.Has(account.Verifier) && !u.Has(account.Admin)) {
			return errs.NotFound
		}
	}
	b, err := h.Photos.Store.PhotoImage(r.Context(), id, digest, size)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/jpeg")
	if public {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	_, err = w.Write(b)
	return err
}

type photoPage struct {
	layout
	Form    formState
	Current *photoView
	MaxMB   int
}

func (h *Handler) photoPage(r *http.Request, p *directory.Profile, f formState) photoPage {
	return photoPage{layout: h.layout(r, "Your photo", "dashboard"), Form: f, Current: h.photoOf(r.Context(), p.ID, 160), MaxMB: photo.MaxBytes >> 20}
}

func (h *Handler) editPhoto(w http.ResponseWriter, r *http.Request) error {
	p, err := h.existingProfile(w, r)
	if err != nil || p == nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "photo", h.photoPage(r, p, formState{}))
}

// uploadPhoto makes an uploaded picture the therapist's photo. Whatever
// is wrong with the file is said on the form, with the description kept.
func (h *Handler) uploadPhoto(w http.ResponseWriter, r *http.Request) error {
	p, err := h.existingProfile(w, r)
	if err != nil || p == nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, photo.MaxBytes+1<<20)
	f := formState{}
	fail := func(status int) error {
		page := h.photoPage(r, p, f)
		page.Title = "Error: " + page.Title
		return h.render(w, r, status, "photo", page)
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			f.add("photo", "The photo is larger than 10 MB: choose a smaller one, or save it at a lower quality")
		} else {
			f.add("photo", "Choose a photo to upload")
		}
		return fail(http.StatusBadRequest)
	}
	defer r.MultipartForm.RemoveAll()
	f.Values = r.MultipartForm.Value
	file, _, err := r.FormFile("photo")
	if err != nil {
		f.add("photo", "Choose a photo to upload")
		if strings.TrimSpace(r.FormValue("alt")) == "" {
			f.add("alt", "Describe the photo in a few words for people who cannot see it, like \"Sam smiling, in a garden\"")
		}
		return fail(http.StatusBadRequest)
	}
	defer file.Close()
	_, err = h.Photos.Upload(r.Context(), p.ID, file, r.FormValue("alt"))
	if ferr := fromErr(&f, err, nil); ferr != nil {
		return ferr
	}
	if len(f.Errors) > 0 {
		return fail(http.StatusBadRequest)
	}
	h.flash(r.Context(), "Photo saved: it is on your profile now. Our verification team looks at every new photo.")
	http.Redirect(w, r, "/dashboard/photo", http.StatusSeeOther)
	return nil
}

func (h *Handler) removePhoto(w http.ResponseWriter, r *http.Request) error {
	p, err := h.existingProfile(w, r)
	if err != nil || p == nil {
		return err
	}
	if err := h.Photos.Remove(r.Context(), p.ID); err != nil && !errors.Is(err, errs.NotFound) {
		return err
	}
	h.flash(r.Context(), "Photo removed.")
	http.Redirect(w, r, "/dashboard/photo", http.StatusSeeOther)
	return nil
}

type photoQueueItem struct {
	photo.Pending
	Thumb photoView
	// Form holds this item's errors after a refused decision.
	Form formState
}

type photoQueuePage struct {
	layout
	Items []photoQueueItem
}

func (h *Handler) photoQueue(r *http.Request, failed int64, f formState) (photoQueuePage, error) {
	pending, err := h.Photos.Store.PendingPhotos(r.Context(), 100)
	if err != nil {
		return photoQueuePage{}, err
	}
	page := photoQueuePage{layout: h.layout(r, "New photos", "staff")}
	for _, p := range pending {
		item := photoQueueItem{Pending: p, Thumb: photoView{Src: photoURL(p.ProfileID, p.Digest, sizeFor(192)), Src2x: photoURL(p.ProfileID, p.Digest, sizeFor(384)), Alt: p.Alt, Width: 192}}
		if p.ProfileID == failed {
			item.Form = f
		}
		page.Items = append(page.Items, item)
	}
	return page, nil
}

func (h *Handler) listPhotos(w http.ResponseWriter, r *http.Request) error {
	page, err := h.photoQueue(r, 0, formState{})
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "photos", page)
}

// decidePhoto keeps or removes a new photo. A reason is needed to remove
// one: the therapist is emailed it.
func (h *Handler) decidePhoto(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	digest := r.PostForm.Get("digest")
	to := ""
	switch r.PostForm.Get("decision") {
	case "keep":
		err = h.Photos.Accept(r.Context(), id, digest, currentUser(r.Context()).ID)
	case "remove":
		p, perr := h.Records.ProfileByID(r.Context(), id)
		if perr != nil {
			return perr
		}
		if p.OwnerID != 0 {
			if u, uerr := h.Accounts.User(r.Context(), p.OwnerID); uerr == nil {
				to = u.Email
			}
		}
		err = h.Photos.Reject(r.Context(), id, digest, r.PostForm.Get("reason"), to)
	default:
		return errs.Invalid
	}
	f := formState{Values: r.PostForm}
	if ferr := fromErr(&f, err, map[string]string{"reason": fmt.Sprintf("reason-%d", id)}); ferr != nil {
		if errors.Is(ferr, errs.Conflict) {
			h.flash(r.Context(), "That photo was replaced meanwhile: look at the new one.")
			http.Redirect(w, r, "/staff/photos", http.StatusSeeOther)
			return nil
		}
		return ferr
	}
	if len(f.Errors) > 0 {
		page, err := h.photoQueue(r, id, f)
		if err != nil {
			return err
		}
		page.Title = "Error: " + page.Title
		return h.render(w, r, http.StatusBadRequest, "photos", page)
	}
	switch {
	case r.PostForm.Get("decision") == "keep":
		h.flash(r.Context(), "Photo kept.")
	case to == "":
		h.flash(r.Context(), "Photo removed. The profile has no account, so nobody was emailed.")
	default:
		h.flash(r.Context(), "Photo removed. An email with your reason is queued for the therapist.")
	}
	http.Redirect(w, r, "/staff/photos", http.StatusSeeOther)
	return nil
}
