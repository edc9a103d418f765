package guided

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/taxonomy"
)

//go:embed rules.json
var rulesJSON []byte

// Why a rule set may not be used. The path checks these before it
// suggests anything, and says in plain words why it offers the plain
// search instead.
var (
	// ErrUnreviewed: the rule set has no named reviewer with credentials
	// other than its author, or no review date.
	ErrUnreviewed = errors.New("guided: the rule set has not been reviewed")
	// ErrOverdue: the rule set is past its next review date.
	ErrOverdue = errors.New("guided: the rule set is overdue for review")
)

// Person is an author or reviewer, named with their credentials so that a
// reader can judge whose word the rules are.
type Person struct {
	Name        string `json:"name"`
	Credentials string `json:"credentials"`
}

// Source is a published document the rules rely on.
type Source struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Publisher string `json:"publisher"`
	Year      int    `json:"year"`
	URL       string `json:"url"`
}

// Approach is what the rule set says about one approach whatever the
// answers: the evidence in plain words and its source. OnlyFor limits it
// to some answers to "who is it for" (play therapy is for children);
// NotFor rules some out (psychosexual therapy is not for a child).
type Approach struct {
	Approach string   `json:"approach"`
	Evidence string   `json:"evidence"`
	Source   string   `json:"source"`
	OnlyFor  []string `json:"only_for,omitempty"`
	NotFor   []string `json:"not_for,omitempty"`
}

// Rule gives an approach points when an answer was given, with the reason
// in words that refer to the answer. Evidence and Source, when set, say
// what the evidence is for this answer in particular (CBT for OCD rather
// than CBT in general).
type Rule struct {
	// When is "question=value", such as "want=past" or "issue=ocd".
	When     string `json:"when"`
	Approach string `json:"approach"`
	Points   int    `json:"points"`
	Reason   string `json:"reason"`
	Evidence string `json:"evidence,omitempty"`
	Source   string `json:"source,omitempty"`
}

// Fallback is an approach offered when the answers point to too few.
type Fallback struct {
	Approach string `json:"approach"`
	Reason   string `json:"reason"`
}

// RuleSet is one reviewed version of the rules.
type RuleSet struct {
	Version    string     `json:"version"`
	Author     Person     `json:"author"`
	Reviewer   Person     `json:"reviewer"`
	Reviewed   Date       `json:"reviewed"`
	NextReview Date       `json:"next_review"`
	Summary    string     `json:"summary"`
	Sources    []Source   `json:"sources"`
	Approaches []Approach `json:"approaches"`
	Rules      []Rule     `json:"rules"`
	Fallback   []Fallback `json:"fallback"`
}

// Date is a calendar day written as 2006-01-02.
type Date struct{ time.Time }

// UnmarshalJSON reads "2006-01-02"; an empty string is the zero date.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("guided: date: %w", err)
	}
	if s == "" {
		d.Time = time.Time{}
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("guided: date %q: %w", s, err)
	}
	d.Time = t
	return nil
}

// Limits on what is suggested.
const (
	MinSuggestions = 2
	MaxSuggestions = 4
	maxReasons     = 2
)

// questions whose answers rules may test.
var ruleQuestions = []string{"issue", "who", "want", "length", "format"}

// Default parses the rule set shipped in the binary.
func Default(tax *taxonomy.Taxonomy) (*RuleSet, error) {
	return Parse(rulesJSON, tax)
}

// Parse reads a rule set and checks it is consistent: every approach is
// in the taxonomy, every source cited is listed, every rule tests a real
// answer. Whether it has been reviewed is a separate question (Check),
// because a consistent rule set can still be out of date.
func Parse(data []byte, tax *taxonomy.Taxonomy) (*RuleSet, error) {
	var rs RuleSet
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("guided: parse rule set: %w", err)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if rs.Version == "" {
		bad("no version")
	}
	sources := map[string]bool{}
	for _, s := range rs.Sources {
		if s.ID == "" || s.Title == "" {
			bad("a source lacks an id or title")
		}
		sources[s.ID] = true
	}
	cite := func(where, id string) {
		if id != "" && !sources[id] {
			bad("%s cites unknown source %q", where, id)
		}
	}
	known := map[string]bool{}
	for _, a := range rs.Approaches {
		if _, ok := tax.Lookup(taxonomy.Approach, a.Approach); !ok {
			bad("approach %q is not in the taxonomy", a.Approach)
		}
		if a.Evidence == "" {
			bad("approach %q says nothing about the evidence", a.Approach)
		}
		cite("approach "+a.Approach, a.Source)
		for _, w := range slices.Concat(a.OnlyFor, a.NotFor) {
			if !hasChoice(whoChoices, w) {
				bad("approach %q: %q is not an answer to who it is for", a.Approach, w)
			}
		}
		known[a.Approach] = true
	}
	for i, r := range rs.Rules {
		q, val, ok := strings.Cut(r.When, "=")
		if !ok || !slices.Contains(ruleQuestions, q) || !validAnswer(q, val) {
			bad("rule %d: %q is not a question and answer", i+1, r.When)
		}
		if !known[r.Approach] {
			bad("rule %d: approach %q is not described", i+1, r.Approach)
		}
		if r.Points <= 0 || r.Reason == "" {
			bad("rule %d: needs positive points and a reason", i+1)
		}
		cite(fmt.Sprintf("rule %d", i+1), r.Source)
	}
	if len(rs.Fallback) < MinSuggestions {
		bad("the fallback needs at least %d approaches", MinSuggestions)
	}
	for _, f := range rs.Fallback {
		if !known[f.Approach] || f.Reason == "" {
			bad("fallback %q needs a described approach and a reason", f.Approach)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("guided: rule set %s: %s", rs.Version, strings.Join(problems, "; "))
	}
	return &rs, nil
}

func hasChoice(cs []Choice, v string) bool {
	return slices.ContainsFunc(cs, func(c Choice) bool { return c.Value == v })
}

func validAnswer(q, v string) bool {
	switch q {
	case "issue":
		return hasChoice(issueChoices, v)
	case "who":
		return hasChoice(whoChoices, v)
	case "want":
		return hasChoice(wantChoices, v)
	case "length":
		return hasChoice(lengthChoices, v)
	case "format":
		return hasChoice(formatChoices, v)
	}
	return false
}

// Check says whether the rule set may be used on day now: it must name an
// author, and a different reviewer with credentials, carry a review date
// no later than now and a next review date after now.
func (rs *RuleSet) Check(now time.Time) error {
	switch {
	case rs.Author.Name == "" || rs.Reviewer.Name == "" || rs.Reviewer.Credentials == "" ||
		strings.EqualFold(strings.TrimSpace(rs.Author.Name), strings.TrimSpace(rs.Reviewer.Name)) ||
		rs.Reviewed.IsZero() || rs.NextReview.IsZero() || rs.Reviewed.After(now):
		return fmt.Errorf("rule set %s: %w", rs.Version, ErrUnreviewed)
	case !now.Before(rs.NextReview.Time):
		return fmt.Errorf("rule set %s, due %s: %w", rs.Version, rs.NextReview.Format(time.DateOnly), ErrOverdue)
	}
	return nil
}

// SourceByID returns a listed source.
func (rs *RuleSet) SourceByID(id string) (Source, bool) {
	i := slices.IndexFunc(rs.Sources, func(s Source) bool { return s.ID == id })
	if i < 0 {
		return Source{}, false
	}
	return rs.Sources[i], true
}

// Suggestion is one approach worth reading about, with why.
type Suggestion struct {
	Approach string
	// Reasons are one or two sentences referring to what was said.
	Reasons []string
	// Evidence is what the research says in plain words; Source is where
	// it says so (zero when no document is cited).
	Evidence string
	Source   Source
	Points   int
}

// Suggest turns answers into two to four suggestions, most points first
// (ties in the rule set's order of approaches). With too few answers to go
// on, the fallback fills the list, so the all-skipped path still gets a
// useful start.
func (rs *RuleSet) Suggest(a Answers) []Suggestion {
	given := map[string]bool{}
	mark := func(q string, vals ...string) {
		for _, v := range vals {
			if v != "" {
				given[q+"="+v] = true
			}
		}
	}
	mark("issue", a.Issues...)
	mark("who", a.Who)
	mark("want", a.Wants...)
	mark("length", a.Length)
	mark("format", a.Formats...)

	type tally struct {
		points   int
		rules    []Rule
		evidence *Rule
	}
	tallies := map[string]*tally{}
	for _, r := range rs.Rules {
		if !given[r.When] || !rs.allowed(r.Approach, a.Who) {
			continue
		}
		t := tallies[r.Approach]
		if t == nil {
			t = &tally{}
			tallies[r.Approach] = t
		}
		t.points += r.Points
		t.rules = append(t.rules, r)
		if r.Evidence != "" && (t.evidence == nil || r.Points > t.evidence.Points) {
			rr := r
			t.evidence = &rr
		}
	}
	var out []Suggestion
	for _, ap := range rs.Approaches {
		t := tallies[ap.Approach]
		if t == nil {
			continue
		}
		// The strongest reasons first; equal ones in the rule set's order.
		slices.SortStableFunc(t.rules, func(x, y Rule) int { return y.Points - x.Points })
		s := Suggestion{Approach: ap.Approach, Points: t.points, Evidence: ap.Evidence}
		src := ap.Source
		if t.evidence != nil {
			s.Evidence, src = t.evidence.Evidence, t.evidence.Source
		}
		s.Source, _ = rs.SourceByID(src)
		for _, r := range t.rules[:min(maxReasons, len(t.rules))] {
			s.Reasons = append(s.Reasons, r.Reason)
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(x, y Suggestion) int { return y.Points - x.Points })
	if len(out) > MaxSuggestions {
		out = out[:MaxSuggestions]
	}
	for _, f := range rs.Fallback {
		if len(out) >= MinSuggestions {
			break
		}
		if slices.ContainsFunc(out, func(s Suggestion) bool { return s.Approach == f.Approach }) || !rs.allowed(f.Approach, a.Who) {
			continue
		}
		ap := rs.approach(f.Approach)
		src, _ := rs.SourceByID(ap.Source)
		out = append(out, Suggestion{Approach: f.Approach, Reasons: []string{f.Reason}, Evidence: ap.Evidence, Source: src})
	}
	return out
}

func (rs *RuleSet) approach(slug string) Approach {
	i := slices.IndexFunc(rs.Approaches, func(a Approach) bool { return a.Approach == slug })
	if i < 0 {
		return Approach{Approach: slug}
	}
	return rs.Approaches[i]
}

// allowed says whether an approach may be suggested for who. An approach
// limited to some answers (play therapy, to children) needs one of them:
// a skipped answer does not count.
func (rs *RuleSet) allowed(slug, who string) bool {
	ap := rs.approach(slug)
	if slices.Contains(ap.NotFor, who) {
		return false
	}
	return len(ap.OnlyFor) == 0 || slices.Contains(ap.OnlyFor, who)
}
