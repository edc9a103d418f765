// Package fields holds the one error type domains use to report problems
// with what someone typed, field by field, so every form can show them
// all at once and link each message to its field.
package fields

import (
	"slices"
	"strings"
)

// Errors maps a field name to a message worded for the person filling in
// the form.
type Errors map[string]string

// Error lists the fields at fault, never what was typed (errors are
// logged; what was typed may be private).
func (e Errors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return "invalid input: " + strings.Join(keys, ", ")
}
