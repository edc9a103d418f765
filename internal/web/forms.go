package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/fields"
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

// parseForm reads a POST body of at most maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errBadForm
	}
	return nil
}

// fromErr turns a domain validation error into form messages, mapping
// domain field names to form field ids; other errors come back as they
// are.
func fromErr(f *formState, err error, ids map[string]string) error {
	var fe *account.FormError
	var ve *directory.ValidationError
	var fs fields.Errors
	switch {
	case errors.As(err, &fs):
		addFields(f, fs, ids)
	case errors.As(err, &fe):
		addFields(f, fe.Fields, ids)
	case errors.As(err, &ve):
		for _, e := range ve.Fields {
			f.add(mapID(e.Field, ids), e.Message)
		}
	default:
		return err
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

// addFields adds field messages in a stable (sorted) order.
func addFields(f *formState, fields map[string]string, ids map[string]string) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f.add(mapID(k, ids), fields[k])
	}
}
