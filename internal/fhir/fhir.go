// Package fhir serves the public directory as a read-only HL7 FHIR R4
// API at /fhir/r4/, so that health-care systems can read it with the
// tools they already have: therapists as Practitioner and
// PractitionerRole, their practices as Location, the professional bodies
// as Organization. It shows exactly what the public profile page shows —
// never a contact email or a full postcode — and searches through the
// same index as the search page.
package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/httpx"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Searcher answers search queries; *search.Index is one.
type Searcher interface {
	Search(q search.Query) search.Result
}

// Deps are what the FHIR surface needs.
type Deps struct {
	Log      *slog.Logger
	Index    Searcher
	Profiles directory.SlugReader
	Tax      *taxonomy.Taxonomy
	Gaz      *geo.Gazetteer
	Now      func() time.Time
	// BaseURL is the site's public address without a trailing slash:
	// every fullUrl, paging link and Confide code system is under it.
	BaseURL string
	// SiteName names the server in the CapabilityStatement.
	SiteName string
}

// Handler serves the FHIR API.
type Handler struct {
	Deps
}

// New returns a FHIR handler.
func New(d Deps) *Handler { return &Handler{Deps: d} }

// FHIRVersion is the FHIR release the CapabilityStatement names. R4's
// current technical correction is 4.0.1, but HL7's published R4 JSON
// schema, which every answer is tested against, allows only versions up
// to 4.0.0 there; the two differ in no element this server writes.
const FHIRVersion = "4.0.0"

// ContentType is the media type of every answer, errors included.
const ContentType = "application/fhir+json; fhirVersion=4.0"

// Prefix is where the API lives.
const Prefix = "/fhir/r4"

// handlerFunc is a FHIR handler that returns its error instead of writing
// it; serve turns errors into OperationOutcomes in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// outcomeError is an error with its FHIR issue type (the issue.code of
// the OperationOutcome) and HTTP status, for the failures that only FHIR
// has words for: an unsupported parameter or format.
type outcomeError struct {
	status int
	code   string
	msg    string
	param  string
}

func (e *outcomeError) Error() string { return e.msg }

func notSupported(param, msg string) error {
	return &outcomeError{status: http.StatusBadRequest, code: "not-supported", msg: msg, param: param}
}

func invalid(param, msg string) error {
	return &outcomeError{status: http.StatusBadRequest, code: "invalid", msg: msg, param: param}
}

type operationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []issue `json:"issue"`
}

type issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// outcome maps an error to a status and an OperationOutcome issue: the
// one place this surface turns errors into words safe to send. Internal
// error text never leaves the server.
func outcome(err error) (int, issue) {
	var oe *outcomeError
	if errors.As(err, &oe) {
		is := issue{Severity: "error", Code: oe.code, Diagnostics: oe.msg}
		if oe.param != "" {
			is.Expression = []string{oe.param}
		}
		return oe.status, is
	}
	status := httpx.Status(err)
	switch errs.KindOf(err) {
	case errs.NotFound:
		return status, issue{Severity: "error", Code: "not-found", Diagnostics: "There is no such resource."}
	case errs.Invalid:
		return status, issue{Severity: "error", Code: "invalid", Diagnostics: "The request is not in the form this endpoint expects."}
	case errs.Conflict:
		return status, issue{Severity: "error", Code: "conflict", Diagnostics: "This clashes with the current state of the resource."}
	case errs.Forbidden:
		return status, issue{Severity: "error", Code: "forbidden", Diagnostics: "You may not do this."}
	case errs.RateLimited:
		return status, issue{Severity: "error", Code: "throttled", Diagnostics: "Too many requests. Wait as long as the Retry-After header says."}
	case errs.Unavailable:
		return status, issue{Severity: "error", Code: "transient", Diagnostics: "This is not available just now. Please try again in a few minutes."}
	}
	return status, issue{Severity: "fatal", Code: "exception", Diagnostics: "Something went wrong on our side. Please try again."}
}

func (h *Handler) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpx.PublicRead(w, r) {
			return
		}
		err := checkFormat(r)
		if err == nil {
			err = fn(w, r)
		}
		if err == nil {
			return
		}
		status, is := outcome(err)
		if status == http.StatusInternalServerError {
			id := httpx.RequestID(r.Context())
			is.Diagnostics += " Quote request " + id + "."
			h.Log.ErrorContext(r.Context(), "fhir error", "request_id", id, "path", r.URL.Path, "err", err)
		}
		httpx.SetRetryAfter(w.Header(), err)
		write(w, r, status, operationOutcome{ResourceType: "OperationOutcome", Issue: []issue{is}})
	})
}

// checkFormat refuses a request for a format other than JSON, by _format
// or by an Accept header that names no JSON and no wildcard.
func checkFormat(r *http.Request) error {
	if f := r.URL.Query().Get("_format"); f != "" {
		switch f {
		case "json", "application/json", "application/fhir+json":
		default:
			return &outcomeError{status: http.StatusNotAcceptable, code: "not-supported", param: "_format",
				msg: fmt.Sprintf("Format %q is not supported: this server speaks FHIR JSON only (_format=json).", f)}
		}
	}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir":
			return nil
		}
	}
	return &outcomeError{status: http.StatusNotAcceptable, code: "not-supported",
		msg: "This server answers in FHIR JSON only (application/fhir+json)."}
}

// write encodes v fully before writing, so a failure never leaves half a
// resource on the wire.
func write(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		w.Header().Set("Content-Type", ContentType)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception"}]}`))
		return
	}
	httpx.WriteTagged(w, r, status, ContentType, buf.Bytes())
}
