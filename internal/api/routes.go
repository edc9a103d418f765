package api

import "net/http"

// Routes lists the API's route patterns, all public and read-only, so
// that the role-by-route test covers them too.
func (h *Handler) Routes() []string {
	return []string{"GET /api/v1/therapists", "GET /api/v1/therapists/{slug}", "GET /api/v1/taxonomy", "GET /api/v1/places", "GET /healthz", "/api/"}
}

// Register adds the API's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	handlers := map[string]handlerFunc{
		"GET /api/v1/therapists":        h.listTherapists,
		"GET /api/v1/therapists/{slug}": h.showTherapist,
		"GET /api/v1/taxonomy":          h.showTaxonomy,
		"GET /api/v1/places":            h.listPlaces,
		"GET /healthz":                  h.showHealth,
		// Anything else under /api/ answers in JSON, not with the HTML 404 page.
		"/api/": func(http.ResponseWriter, *http.Request) error { return errNotFound },
	}
	for _, p := range h.Routes() {
		mux.Handle(p, h.serve(handlers[p]))
	}
}
