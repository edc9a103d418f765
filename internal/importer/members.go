package importer

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/verify"
)

// Members is the schema of a professional body's member list for
// `confide import register`: the membership number is all a sync needs;
// status says whether the body counts the member as current; name, level
// and body are there so that an export as the body makes it can be read
// as it is, and body, when given, must be the body the list is for.
var Members = Schema{Columns: []string{"membership_number", "status", "name", "level", "body"}, Required: []string{"membership_number"}}

// Standing is what a member list says of a membership.
type Standing string

// The standings. Absent is a membership the list does not mention at all.
const (
	StandingCurrent   Standing = "current"
	StandingLapsed    Standing = "lapsed"
	StandingSuspended Standing = "suspended"
	StandingAbsent    Standing = "absent"
)

// statusWords are the status cells each standing is read from (lower
// case); an empty cell is current, as in a list of current members only.
var statusWords = map[string]Standing{
	"": StandingCurrent, "current": StandingCurrent, "active": StandingCurrent, "registered": StandingCurrent, "member": StandingCurrent,
	"lapsed": StandingLapsed, "expired": StandingLapsed, "resigned": StandingLapsed, "removed": StandingLapsed,
	"inactive": StandingLapsed, "struck off": StandingLapsed, "not renewed": StandingLapsed,
	"suspended": StandingSuspended,
}

// Listed is one membership on a member list.
type Listed struct {
	Line     int
	Number   string // normalised, as memberships are stored (verify.NormalizeNumber)
	Standing Standing
}

// List is a member list as read: each membership it names, by normalised
// number, and the problems of its rows.
type List struct {
	Body     taxonomy.Body
	Members  map[string]Listed
	Problems []Problem
	// Rows counts the records read, good and bad.
	Rows int
}

// ListReader reads a body's member list.
type ListReader struct {
	Tax  *taxonomy.Taxonomy
	Body taxonomy.Body
	// Register, when set, is the body's register: a number that does not
	// fit its pattern is reported (a column of names or dates read as
	// numbers would otherwise match nobody and lapse everybody).
	Register *verify.Register
	// Known, when set, reports the numbers the directory holds (or has
	// lapsed) for the body: a verifier accepted those, so they are read
	// whatever the pattern says (demo data, numbers from before a pattern
	// was tightened).
	Known func(number string) bool
}

// Read reads r as format ("csv" or "jsonl"). A file that cannot be read
// as rows at all is a *FileError; every bad row is a Problem with its
// line, and is not in Members. The same membership twice with the same
// status counts once; with different statuses it is a problem, since only
// a person can say which is right.
func (lr ListReader) Read(r io.Reader, format string) (*List, error) {
	rows, problems, err := ReadAs(r, format, Members)
	if err != nil {
		return nil, err
	}
	l := &List{Body: lr.Body, Members: map[string]Listed{}, Problems: problems, Rows: len(rows) + len(problems)}
	for _, row := range rows {
		m, probs := lr.row(row)
		if len(probs) == 0 {
			if prev, dup := l.Members[m.Number]; dup && prev.Standing != m.Standing {
				probs = append(probs, Problem{Line: row.Line, Column: "status",
					Reason: fmt.Sprintf("membership %s is already on line %d as %s, here as %s", m.Number, prev.Line, prev.Standing, m.Standing)})
			} else if !dup {
				l.Members[m.Number] = m
			}
		}
		l.Problems = append(l.Problems, probs...)
	}
	slices.SortStableFunc(l.Problems, func(a, b Problem) int { return a.Line - b.Line })
	return l, nil
}

func (lr ListReader) row(r Row) (Listed, []Problem) {
	var probs []Problem
	bad := func(col, format string, args ...any) {
		probs = append(probs, Problem{Line: r.Line, Column: col, Reason: fmt.Sprintf(format, args...)})
	}
	m := Listed{Line: r.Line, Number: verify.NormalizeNumber(r.Fields["membership_number"])}
	switch {
	case m.Number == "":
		bad("membership_number", "required, and empty")
	case len(m.Number) > 40:
		bad("membership_number", "longer than 40 characters")
	case lr.Register != nil && !lr.Register.Valid(m.Number) && (lr.Known == nil || !lr.Known(m.Number)):
		bad("membership_number", "%q does not look like a %s number (%s)", m.Number, lr.Register.Name, lr.Register.Hint)
	}
	status := strings.ToLower(strings.Join(strings.Fields(r.Fields["status"]), " "))
	standing, ok := statusWords[status]
	if !ok {
		bad("status", "%q is not a status we know: use current, lapsed or suspended (see docs/import.md)", r.Fields["status"])
	}
	m.Standing = standing
	if b := r.Fields["body"]; b != "" {
		if got, found := FindBody(lr.Tax, b); !found || got.Slug != lr.Body.Slug {
			bad("body", "%q is not %s: this list is being read as %s's", b, lr.Body.Abbreviation, lr.Body.Abbreviation)
		}
	}
	return m, probs
}

// Current reports whether the list shows number as a current member, and
// on which line.
func (l *List) Current(number string) (int, bool) {
	m, ok := l.Members[number]
	return m.Line, ok && m.Standing == StandingCurrent
}
