// Package api is Confide's public JSON API (version 1): therapist search
// with the same parameters and rules as the search page, public profiles,
// the taxonomy, and place autocompletion. It returns public fields only —
// never a contact email or a full postcode.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Searcher answers search queries; *search.Index is one.
type Searcher interface {
	Search(q search.Query) search.Result
	Len() int
	Seq() int64
}

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are what the API needs.
type Deps struct {
	Log      *slog.Logger
	Parser   *search.Parser
	Index    Searcher
	Profiles directory.SlugReader
	DB       Pinger
	Tax      *taxonomy.Taxonomy
	Gaz      *geo.Gazetteer
	Markup   *markup.Renderer
	Now      func() time.Time
}

// Handler serves the JSON API.
type Handler struct {
	Deps
}

// New returns an API handler.
func New(d Deps) *Handler { return &Handler{Deps: d} }

// handlerFunc is an API handler that returns its error instead of writing
// it; serve turns errors into JSON responses in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// paramErrorBody is the 400 answer: it always names the parameter and
// always carries a (possibly empty) list of suggestions.
type paramErrorBody struct {
	Error paramErrorDetail `json:"error"`
}

type paramErrorDetail struct {
	Code        string   `json:"code"`
	Param       string   `json:"param"`
	Message     string   `json:"message"`
	Suggestions []string `json:"suggestions"`
}

// errNotFound answers a request for something that does not exist.
var errNotFound = errors.New("not found")

func (h *Handler) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		if pe, ok := search.AsParamErrors(err); ok && len(pe) > 0 {
			first := pe[0]
			writeJSON(w, http.StatusBadRequest, paramErrorBody{paramErrorDetail{Code: "invalid_parameter", Param: first.Param, Message: first.Message, Suggestions: nonNil(first.Suggestions)}})
			return
		}
		if errors.Is(err, directory.ErrNotFound) || errors.Is(err, errNotFound) {
			writeJSON(w, http.StatusNotFound, errorBody{errorDetail{Code: "not_found", Message: "There is nothing at this address."}})
			return
		}
		id := httpx.RequestID(r.Context())
		h.Log.ErrorContext(r.Context(), "api error", "request_id", id, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{errorDetail{Code: "internal_error", Message: "Something went wrong on our side. Please try again.", RequestID: id}})
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeJSON encodes v fully before writing, so a failure never leaves half
// a document on the wire.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal_error","message":"encoding failed"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
