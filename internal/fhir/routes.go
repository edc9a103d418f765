package fhir

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/httpx"
)

// Routes lists the FHIR routes, all public and read-only, so that the
// role-by-route test covers them too.
func (h *Handler) Routes() []string {
	return []string{
		"GET " + Prefix + "/metadata",
		"GET " + Prefix + "/Practitioner", "GET " + Prefix + "/Practitioner/{id}",
		"GET " + Prefix + "/PractitionerRole", "GET " + Prefix + "/PractitionerRole/{id}",
		"GET " + Prefix + "/Location", "GET " + Prefix + "/Location/{id}",
		"GET " + Prefix + "/Organization", "GET " + Prefix + "/Organization/{id}",
		"/fhir/",
	}
}

// Register adds the FHIR routes to mux.
func (h *Handler) Register(mux httpx.Router) {
	handlers := map[string]handlerFunc{
		"GET " + Prefix + "/metadata":              h.capabilities,
		"GET " + Prefix + "/Practitioner":          h.searchPractitioners,
		"GET " + Prefix + "/Practitioner/{id}":     h.readPractitioner,
		"GET " + Prefix + "/PractitionerRole":      h.searchRoles,
		"GET " + Prefix + "/PractitionerRole/{id}": h.readRole,
		"GET " + Prefix + "/Location":              h.searchLocations,
		"GET " + Prefix + "/Location/{id}":         h.readLocation,
		"GET " + Prefix + "/Organization":          h.searchOrganizations,
		"GET " + Prefix + "/Organization/{id}":     h.readOrganization,
		// Anything else under /fhir/ (another resource type, another
		// release) answers with an OperationOutcome, not the HTML 404 page.
		"/fhir/": h.unknown,
	}
	for _, p := range h.Routes() {
		mux.Handle(p, h.serve(handlers[p]))
		if path, ok := strings.CutPrefix(p, "GET "); ok {
			mux.Handle("OPTIONS "+path, h.serve(handlers[p]))
		}
	}
}

func (h *Handler) unknown(_ http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return &outcomeError{status: http.StatusMethodNotAllowed, code: "not-supported",
			msg: "This server is read-only: only GET (read and search) is supported."}
	}
	return &outcomeError{status: http.StatusNotFound, code: "not-supported",
		msg: fmt.Sprintf("%s is not served here: see %s/metadata for what is.", r.URL.Path, Prefix)}
}

// public reads a profile that may be shown to the public now; any other
// gives ErrNotFound, so its state never leaks.
func (h *Handler) public(r *http.Request, slug string) (*directory.Profile, error) {
	return directory.PublicBySlug(r.Context(), h.Profiles, slug, h.Now())
}

func (h *Handler) readPractitioner(w http.ResponseWriter, r *http.Request) error {
	p, err := h.public(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	write(w, r, http.StatusOK, h.practitioner(p))
	return nil
}

func (h *Handler) readRole(w http.ResponseWriter, r *http.Request) error {
	p, err := h.public(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	write(w, r, http.StatusOK, h.practitionerRole(p, h.Now()))
	return nil
}

func (h *Handler) readLocation(w http.ResponseWriter, r *http.Request) error {
	slug, n, ok := splitLocationID(r.PathValue("id"))
	if !ok {
		return fmt.Errorf("location id %q: %w", r.PathValue("id"), errs.NotFound)
	}
	p, err := h.public(r, slug)
	if err != nil {
		return err
	}
	if n >= len(p.Locations) {
		return fmt.Errorf("profile %q has no practice %d: %w", slug, n+1, errs.NotFound)
	}
	write(w, r, http.StatusOK, h.location(p, n))
	return nil
}

func (h *Handler) readOrganization(w http.ResponseWriter, r *http.Request) error {
	b, ok := h.Tax.Body(r.PathValue("id"))
	if !ok {
		return fmt.Errorf("organization %q: %w", r.PathValue("id"), errs.NotFound)
	}
	write(w, r, http.StatusOK, organizationOf(b))
	return nil
}
