package web

import "net/http"

// Register adds the pages' routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", h.serve(h.showHome))
	mux.Handle("GET /search", h.serve(h.showSearch))
	mux.Handle("GET /therapists/{slug}", h.serve(h.showTherapist))
	mux.Handle("GET /therapies", h.serve(h.listTherapies))
	mux.Handle("GET /issues", h.serve(h.listIssues))
	mux.Handle("GET /about", h.serve(h.showAbout))
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	mux.Handle("/", h.serve(h.showNotFound))
}
