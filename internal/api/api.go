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
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/fuzzy"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/guided"
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
	// Rules is the guided path's rule set in force, for POST
	// /api/v1/guided (nil: that endpoint answers 404). Articles gives
	// its suggestions their article links, and CrisisLines are the
	// site's crisis lines, as on every page.
	Rules       *guided.Rules
	Articles    Articles
	CrisisLines []string
	// Counter, when the operator turned anonymous suggestion counts on,
	// counts each suggestion made; nil otherwise.
	Counter SuggestionCounter
}

// Handler serves the JSON API.
type Handler struct {
	Deps
	openapi []byte
}

// New returns an API handler. It panics only if the OpenAPI description
// cannot be built, a programming error that any test catches.
func New(d Deps) *Handler {
	h := &Handler{Deps: d}
	if d.Tax != nil {
		doc, err := OpenAPI(d.Tax, Version)
		if err != nil {
			panic(err)
		}
		h.openapi = doc
	}
	return h
}

// Version is the version of the /api/v1 description: it changes when the
// interface does.
const Version = "1.2.0"

// handlerFunc is an API handler that returns its error instead of writing
// it; serve turns errors into JSON responses in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errorBody is every error answer. An invalid parameter always names the
// parameter and always carries a (possibly empty) list of suggestions;
// a 500 carries the request id to quote.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code        string   `json:"code"`
	Param       string   `json:"param,omitempty"`
	Message     string   `json:"message"`
	Suggestions []string `json:"suggestions,omitzero"`
	RequestID   string   `json:"request_id,omitempty"`
}

// problem maps an error to the API's answer: the one place the JSON
// surface turns an error kind into a status and words safe to send.
// Internal error text never leaves the server; an error without a kind
// is a 500.
func problem(err error) (int, errorDetail) {
	status := httpx.Status(err)
	switch errs.KindOf(err) {
	case errs.NotFound:
		return status, errorDetail{Code: "not_found", Message: "There is nothing at this address."}
	case errs.Conflict:
		return status, errorDetail{Code: "conflict", Message: "This clashes with the current state of what you asked for. Fetch it again and retry."}
	case errs.Invalid:
		fe, _ := errs.FieldsOf(err)
		if params := search.ParamOrder(fe); len(params) > 0 {
			p := params[0]
			return status, errorDetail{Code: "invalid_parameter", Param: p, Message: fe[p], Suggestions: search.SuggestionsFor(err, p)}
		}
		return status, errorDetail{Code: "invalid_request", Message: "The request is not in the form this endpoint expects."}
	case errs.Forbidden:
		return status, errorDetail{Code: "forbidden", Message: "You may not do this."}
	case errs.RateLimited:
		return status, errorDetail{Code: "rate_limited", Message: "Too many requests. Wait as long as the Retry-After header says, then try again."}
	case errs.Unavailable:
		if r := (*refusal)(nil); errors.As(err, &r) {
			return status, errorDetail{Code: "rules_unavailable", Message: r.text}
		}
		return status, errorDetail{Code: "unavailable", Message: "This is not available just now. Please try again in a few minutes."}
	}
	return status, errorDetail{Code: "internal_error", Message: "Something went wrong on our side. Please try again."}
}

func (h *Handler) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpx.PublicRead(w, r) {
			return
		}
		err := fn(w, r)
		if err == nil {
			return
		}
		status, detail := problem(err)
		if status == http.StatusInternalServerError {
			detail.RequestID = httpx.RequestID(r.Context())
			h.Log.ErrorContext(r.Context(), "api error", "request_id", detail.RequestID, "path", r.URL.Path, "err", err)
		}
		httpx.SetRetryAfter(w.Header(), err)
		writeJSON(w, r, status, errorBody{detail})
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
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal_error","message":"encoding failed"}}`, http.StatusInternalServerError)
		return
	}
	writeBody(w, r, status, buf.Bytes())
}

// writeBody sends a JSON document, with an ETag when it is a success.
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	httpx.WriteTagged(w, r, status, "application/json; charset=utf-8", body)
}

// onlyParams refuses a query parameter the endpoint does not read: a
// misspelt name ("aproach=cbt") would otherwise be ignored, and the
// client would take an unfiltered answer for a filtered one. The error
// names the first unknown parameter (in sorted order, so the answer is
// stable) and lists those the endpoint takes, closest first.
func onlyParams(r *http.Request, known ...string) error {
	var unknown []string
	for name := range r.URL.Query() {
		// "?=x" or "&&" name nothing, and are no misspelt filter.
		if name != "" && !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	name := unknown[0]
	msg := fmt.Sprintf("This endpoint takes no parameter of that name. It takes: %s", strings.Join(known, ", "))
	if len(name) <= 40 && utf8.ValidString(name) {
		msg = fmt.Sprintf("%q is not a parameter of this endpoint. It takes: %s", name, strings.Join(known, ", "))
	} else {
		name = "(unknown)"
	}
	close := fuzzy.ClosestOf(name, known, 3, 3)
	return &search.QueryError{Params: errs.Fields{name: msg}, Suggestions: map[string][]string{name: nonNil(close)}}
}
