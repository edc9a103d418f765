package api

import (
	"context"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
)

func (h *Handler) showTaxonomy(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, r, http.StatusOK, h.Tax)
	return nil
}

// maxPlaceSuggestions bounds an autocompletion answer.
const maxPlaceSuggestions = 10

func (h *Handler) listPlaces(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r, "q", "limit"); err != nil {
		return err
	}
	v := r.URL.Query()
	q := v.Get("q")
	switch {
	case q == "":
		return errs.Fields{"q": "Type the start of a town or postcode"}
	case utf8.RuneCountInString(q) > 100 || !utf8.ValidString(q):
		return errs.Fields{"q": "Place text must be 100 characters or fewer"}
	}
	limit := maxPlaceSuggestions
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPlaceSuggestions {
			return errs.Fields{"limit": "limit must be a whole number from 1 to 10"}
		}
		limit = n
	}
	results := h.Gaz.Complete(q, limit)
	if results == nil {
		results = []geo.Suggestion{}
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	writeJSON(w, r, http.StatusOK, map[string]any{"results": results})
	return nil
}

type healthJSON struct {
	Status   string `json:"status"`
	Indexed  int    `json:"indexed"`
	IndexSeq int64  `json:"index_seq"`
	Database string `json:"database"`
}

func (h *Handler) showHealth(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	out := healthJSON{Status: "ok", Indexed: h.Index.Len(), IndexSeq: h.Index.Seq(), Database: "ok"}
	status := http.StatusOK
	if err := h.DB.Ping(ctx); err != nil {
		h.Log.ErrorContext(ctx, "health check: database", "err", err)
		out.Status, out.Database, status = "unavailable", "unavailable", http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, r, status, out)
	return nil
}
