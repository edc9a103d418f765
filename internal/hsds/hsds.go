// Package hsds publishes the public directory in Open Referral's Human
// Services Data Specification (HSDS) 3.0, the form community directories
// and referral tools exchange services in: as the read-only API at
// /api/hsds/ and as the records the tabular data package export is made
// of. A therapist in private practice is an organization (their
// practice) delivering one service, offered at each of their practices
// and, for sessions by video, at a virtual location; approaches, issues,
// client groups and formats are terms of one published Confide taxonomy,
// with the SNOMED CT concepts the taxonomy names as a second. Like the
// FHIR API it shows exactly what the public profile page shows — never a
// contact email or a full postcode — and reads profiles the same way.
package hsds

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Searcher answers search queries and says when its contents change;
// *search.Index is one.
type Searcher interface {
	Search(q search.Query) search.Result
	Version() uint64
}

// Deps are what the HSDS API needs.
type Deps struct {
	Log      *slog.Logger
	Index    Searcher
	Profiles directory.SlugReader
	Tax      *taxonomy.Taxonomy
	Gaz      *geo.Gazetteer
	Now      func() time.Time
	// BaseURL is the site's public address without a trailing slash.
	BaseURL  string
	SiteName string
}

// Handler serves the HSDS API.
type Handler struct {
	Deps
	mapper *Mapper

	// The catalogue of public profiles by HSDS id, rebuilt when the
	// index changes or the day does (a profile's check can fall due).
	mu      sync.Mutex
	cat     *catalog
	catVer  uint64
	catDate string
}

// New returns an HSDS handler.
func New(d Deps) *Handler {
	return &Handler{Deps: d, mapper: NewMapper(d.Tax, d.BaseURL, d.SiteName)}
}

// Prefix is where the API lives.
const Prefix = "/api/hsds"

// ContentType is the media type of every answer.
const ContentType = "application/json"

// Profile and OpenAPIURL are what the API's root says it follows: HSDS
// 3.0 itself, with no narrower profile, described by Open Referral's own
// OpenAPI document.
const (
	ProfileURL = "https://docs.openreferral.org/en/v3.0/hsds/"
	OpenAPIURL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errorBody is every error answer, in the shape /api/v1 uses: HSDS
// defines none.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Param     string `json:"param,omitempty"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// errMethod is a request other than GET or HEAD.
var errMethod = errors.New("method not allowed")

// problem maps an error to a status and words safe to send: the one place
// this surface does. Internal error text never leaves the server.
func problem(err error) (int, errorDetail) {
	if errors.Is(err, errMethod) {
		return http.StatusMethodNotAllowed, errorDetail{Code: "method_not_allowed", Message: "This API is read-only: only GET is supported."}
	}
	status := httpx.Status(err)
	switch errs.KindOf(err) {
	case errs.NotFound:
		return status, errorDetail{Code: "not_found", Message: "There is nothing with this id here."}
	case errs.Invalid:
		if fe, ok := errs.FieldsOf(err); ok && len(fe) > 0 {
			p := fe.Names()[0]
			return status, errorDetail{Code: "invalid_parameter", Param: p, Message: fe[p]}
		}
		return status, errorDetail{Code: "invalid_request", Message: "The request is not in the form this endpoint expects."}
	case errs.RateLimited:
		return status, errorDetail{Code: "rate_limited", Message: "Too many requests. Wait as long as the Retry-After header says, then try again."}
	case errs.Unavailable:
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
			h.Log.ErrorContext(r.Context(), "hsds error", "request_id", detail.RequestID, "path", r.URL.Path, "err", err)
		}
		httpx.SetRetryAfter(w.Header(), err)
		write(w, r, status, errorBody{detail})
	})
}

// write encodes v fully before writing, so a failure never leaves half a
// document on the wire.
func write(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		w.Header().Set("Content-Type", ContentType)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"code":"internal_error","message":"encoding failed"}}`))
		return
	}
	httpx.WriteTagged(w, r, status, ContentType, buf.Bytes())
}
