package api

import "net/http"

// Register adds the API's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/therapists", h.serve(h.listTherapists))
	mux.Handle("GET /api/v1/therapists/{slug}", h.serve(h.showTherapist))
	mux.Handle("GET /api/v1/taxonomy", h.serve(h.showTaxonomy))
	mux.Handle("GET /api/v1/places", h.serve(h.listPlaces))
	mux.Handle("GET /healthz", h.serve(h.showHealth))
	// Anything else under /api/ answers in JSON, not with the HTML 404 page.
	mux.Handle("/api/", h.serve(func(http.ResponseWriter, *http.Request) error { return errNotFound }))
}
