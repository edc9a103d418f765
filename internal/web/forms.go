package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/confide-org/confide/internal/errs"
)

// maxFormBytes bounds a form body; the longest (a profile) is well under.
const maxFormBytes = 64 << 10

// fieldMsg is one problem, linked from the error summary to its field.
type fieldMsg struct{ ID, Message string }

// formState is a submitted form redisplayed with its problems.
type formState struct {
	Values url.Values
	Errors []fieldMsg
}

// Get returns the submitted value of a field.
func (f formState) Get(name string) string { return f.Values.Get(name) }

// Has reports whether a multi-valued field includes v.
func (f formState) Has(name, v string) bool {
	for _, x := range f.Values[name] {
		if x == v {
			return true
		}
	}
	return false
}

// Err returns the message for a field, or "".
func (f formState) Err(id string) string {
	for _, e := range f.Errors {
		if e.ID == id {
			return e.Message
		}
	}
	return ""
}

func (f *formState) add(id, msg string) {
	if f.Err(id) == "" {
		f.Errors = append(f.Errors, fieldMsg{ID: id, Message: msg})
	}
}

// inPageOrder lists the problems in the order their fields appear on the
// page, ids, as the error summary should; field errors have no order of
// their own. Ids not listed keep their place after the others.
func (f *formState) inPageOrder(ids []string) {
	rank := func(id string) int {
		if i := slices.Index(ids, id); i >= 0 {
			return i
		}
		return len(ids)
	}
	slices.SortStableFunc(f.Errors, func(a, b fieldMsg) int { return rank(a.ID) - rank(b.ID) })
}

// parseForm reads a POST body of at most maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errs.Invalid
	}
	return nil
}

// fromErr turns the field errors a domain returned (errs.Fields, kind
// Invalid) into form messages, mapping domain field names to form field
// ids, in a stable (sorted) order; other errors come back as they are.
func fromErr(f *formState, err error, ids map[string]string) error {
	fe, ok := errs.FieldsOf(err)
	if !ok {
		return err
	}
	for _, k := range fe.Names() {
		f.add(mapID(k, ids), fe[k])
	}
	return nil
}

func mapID(field string, ids map[string]string) string {
	if id, ok := ids[field]; ok {
		return id
	}
	if i := strings.IndexAny(field, ".["); i > 0 {
		if id, ok := ids[field[:i]]; ok {
			return id
		}
	}
	return strings.NewReplacer(".", "-", "[", "-", "]", "").Replace(field)
}
