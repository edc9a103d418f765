package httpx

import "net/http"

// Router is what route tables register their handlers on: an
// *http.ServeMux, or a Mux that also records which route served each
// request.
type Router interface {
	Handle(pattern string, handler http.Handler)
}

// Mux is an http.ServeMux whose handlers record their route pattern (such
// as "GET /therapists/{slug}") in the request state Observe keeps, so that
// request metrics are labelled by route, never by raw path: the set of
// label values stays as small as the route table. Recording is one
// context lookup and one assignment per request.
type Mux struct {
	mux http.ServeMux
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{} }

// Handle registers handler for pattern, as http.ServeMux.Handle does.
func (m *Mux) Handle(pattern string, handler http.Handler) {
	m.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := r.Context().Value(requestKey).(*requestState); ok {
			s.route = pattern
		}
		handler.ServeHTTP(w, r)
	}))
}

// ServeHTTP dispatches the request to the handler whose pattern matches.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mux.ServeHTTP(w, r)
}
