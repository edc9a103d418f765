package api

import (
	"net/http"
	"strings"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/httpx"
)

// Routes lists the API's route patterns, all public and without
// credentials, so that the role-by-route test covers them too. All read,
// except POST /api/v1/guided, which computes suggestions from answers
// and keeps nothing.
func (h *Handler) Routes() []string {
	return []string{"GET /api/v1/therapists", "GET /api/v1/therapists/{slug}", "GET /api/v1/taxonomy", "GET /api/v1/places", "POST /api/v1/guided", "GET /healthz", "GET /api/openapi.json", "/api/"}
}

// Register adds the API's routes to mux (an *http.ServeMux, or an
// httpx.Mux that labels request metrics by route).
func (h *Handler) Register(mux httpx.Router) {
	handlers := map[string]handlerFunc{
		"GET /api/v1/therapists":        h.listTherapists,
		"GET /api/v1/therapists/{slug}": h.showTherapist,
		"GET /api/v1/taxonomy":          h.showTaxonomy,
		"GET /api/v1/places":            h.listPlaces,
		"POST /api/v1/guided":           h.suggest,
		"GET /healthz":                  h.showHealth,
		"GET /api/openapi.json":         h.showOpenAPI,
		// Anything else under /api/ answers in JSON, not with the HTML 404 page.
		"/api/": func(http.ResponseWriter, *http.Request) error { return errs.NotFound },
	}
	for _, p := range h.Routes() {
		mux.Handle(p, h.serve(handlers[p]))
		if path, ok := strings.CutPrefix(p, "GET "); ok {
			// CORS preflights; answered by serve before the handler.
			mux.Handle("OPTIONS "+path, h.serve(handlers[p]))
		}
	}
}
