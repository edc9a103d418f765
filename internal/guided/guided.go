// Package guided is the "Which kind of therapy might suit me?" path: the
// questions, the answers someone gives, and the reviewed rule set that
// turns answers into a few explained suggestions.
//
// Answers are health data. This package never stores or logs them: they
// are values that travel in the path's form posts and end, at most, as a
// search's filters. The mapping from answers to suggestions is content
// (rules.json, with its author, reviewer, review dates and sources), not
// code, so that a clinician can read and review it; a rule set that is
// unreviewed or overdue for review is refused.
package guided

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Step names one page of the path.
type Step string

// The pages of the path, in order. Safety comes first: nobody should
// answer questions about therapy before being offered help if they are in
// danger.
const (
	StepSafety   Step = "safety"
	StepIssues   Step = "issues"
	StepWho      Step = "who"
	StepWant     Step = "want"
	StepLength   Step = "length"
	StepFormat   Step = "format"
	StepBudget   Step = "budget"
	StepLanguage Step = "language"
	StepCheck    Step = "check"
)

// steps are the question pages in the order they are asked, then the
// "check your answers" page.
var steps = []Step{StepSafety, StepIssues, StepWho, StepWant, StepLength, StepFormat, StepBudget, StepLanguage, StepCheck}

// Steps returns the pages of the path in order (a copy, so callers cannot
// change the order for everyone).
func Steps() []Step { return slices.Clone(steps) }

// Questions returns the question pages only, without the check page.
func Questions() []Step { return slices.Clone(steps[:len(steps)-1]) }

// Valid says whether s is a page of the path.
func (s Step) Valid() bool { return slices.Contains(steps, s) }

// Next is the page after s; the check page is last.
func (s Step) Next() Step {
	i := slices.Index(steps, s)
	if i < 0 || i+1 >= len(steps) {
		return StepCheck
	}
	return steps[i+1]
}

// Prev is the page before s, or "" on the first page.
func (s Step) Prev() Step {
	i := slices.Index(steps, s)
	if i <= 0 {
		return ""
	}
	return steps[i-1]
}

// Number is s's position counting from 1, for "Question 3 of 8".
func (s Step) Number() int { return slices.Index(steps, s) + 1 }

// Choice is one option of a question: the value sent and the words shown.
type Choice struct {
	Value, Label string
	// Hint explains the option in a few more words.
	Hint string
	// Issue is the taxonomy issue an issue choice stands for.
	Issue string
}

// IssueChoices are the issues the first question offers, in the plain
// words people use rather than clinical names, each standing for one
// taxonomy issue. They are the ones most often brought to therapy; a
// "something else" box covers the rest.
var issueChoices = []Choice{
	{Value: "anxiety", Label: "Feeling anxious or worried a lot", Issue: "anxiety"},
	{Value: "depression", Label: "Feeling low, down or depressed", Issue: "depression"},
	{Value: "stress", Label: "Stress", Issue: "stress"},
	{Value: "panic", Label: "Panic attacks", Issue: "panic"},
	{Value: "relationship-difficulties", Label: "Problems in my relationships", Issue: "relationship-difficulties"},
	{Value: "family-problems", Label: "Problems in my family", Issue: "family-problems"},
	{Value: "bereavement", Label: "Grief after someone died", Issue: "bereavement"},
	{Value: "trauma", Label: "Something traumatic that happened to me", Issue: "trauma"},
	{Value: "low-self-esteem", Label: "Feeling bad about myself", Issue: "low-self-esteem"},
	{Value: "work-burnout", Label: "Work, or feeling burnt out", Issue: "work-burnout"},
	{Value: "ocd", Label: "Obsessive thoughts or things I feel I must do", Issue: "ocd"},
	{Value: "eating-disorders", Label: "Eating or food", Issue: "eating-disorders"},
	{Value: "social-anxiety", Label: "Fear of social situations", Issue: "social-anxiety"},
	{Value: "addiction", Label: "Drinking, drugs, gambling or another habit", Issue: "addiction"},
	{Value: "self-harm", Label: "Hurting myself", Issue: "self-harm"},
	{Value: "long-term-health", Label: "Living with a long-term illness or pain", Issue: "long-term-health"},
	{Value: "sexual-issues", Label: "Sex or intimacy", Issue: "sexual-issues"},
}

// IssueChoices returns the issue options (a copy).
func IssueChoices() []Choice { return slices.Clone(issueChoices) }

var safetyChoices = []Choice{
	{Value: "yes", Label: "Yes, I am in danger or thinking of harming myself"},
	{Value: "no", Label: "No"},
}

var whoChoices = []Choice{
	{Value: "me", Label: "Me"},
	{Value: "couple", Label: "Me and my partner, as a couple"},
	{Value: "family", Label: "My family, together"},
	{Value: "child", Label: "A child or young person"},
}

var wantChoices = []Choice{
	{Value: "past", Label: "To understand patterns from my past", Hint: "How earlier experiences shape how I feel and act now"},
	{Value: "tools", Label: "Practical tools for now", Hint: "Techniques to try between sessions"},
	{Value: "listen", Label: "Someone to listen", Hint: "Space to talk things through without being judged"},
	{Value: "unsure", Label: "I am not sure"},
}

var lengthChoices = []Choice{
	{Value: "short", Label: "Short-term", Hint: "A set number of sessions, often 6 to 20"},
	{Value: "open", Label: "Open-ended", Hint: "For as long as it helps, perhaps months or more"},
	{Value: "unsure", Label: "I am not sure"},
}

var formatChoices = []Choice{
	{Value: "in_person", Label: "In person"},
	{Value: "online", Label: "Online, by video"},
	{Value: "phone", Label: "By phone"},
}

// Choices returns the options of a question with fixed options, or nil.
func Choices(s Step) []Choice {
	switch s {
	case StepSafety:
		return slices.Clone(safetyChoices)
	case StepIssues:
		return IssueChoices()
	case StepWho:
		return slices.Clone(whoChoices)
	case StepWant:
		return slices.Clone(wantChoices)
	case StepLength:
		return slices.Clone(lengthChoices)
	case StepFormat:
		return slices.Clone(formatChoices)
	}
	return nil
}

// WhoClients maps "who is it for" to the taxonomy's client groups, for the
// search's client filter.
func WhoClients(who string) []string {
	switch who {
	case "me":
		return []string{"individuals"}
	case "couple":
		return []string{"couples"}
	case "family":
		return []string{"families"}
	case "child":
		return []string{"children", "young-people"}
	}
	return nil
}

// Answers are what someone said on the path. Every field may be empty: each
// question can be skipped.
type Answers struct {
	// Safety is "yes", "no" or "" (skipped).
	Safety string
	// Issues are values of IssueChoices; Other says "something else".
	Issues []string
	Other  bool
	Who    string
	Wants  []string
	Length string
	// Formats are taxonomy formats; Near is a town or postcode as typed.
	Formats []string
	Near    string
	// MaxFee is whole pounds as typed ("" when skipped); the web layer
	// checks it is a number.
	MaxFee      string
	Concessions bool
	// Language is an ISO 639-1 code.
	Language string
}

// Form field names: the same names as the search page's parameters where
// an answer becomes a filter, so that what the path carries reads the
// same as the search it ends in.
const (
	FieldSafety      = "safety"
	FieldIssue       = "issue"
	FieldOther       = "issue_other"
	FieldWho         = "who"
	FieldWant        = "want"
	FieldLength      = "length"
	FieldFormat      = "format"
	FieldNear        = "near"
	FieldMaxFee      = "max_fee"
	FieldConcessions = "concessions"
	FieldLanguage    = "language"
)

// fields lists every answer field, for carrying answers from page to page.
var fields = []string{FieldSafety, FieldIssue, FieldOther, FieldWho, FieldWant, FieldLength, FieldFormat, FieldNear, FieldMaxFee, FieldConcessions, FieldLanguage}

// StepFields are the fields a question page asks; the others are carried
// along unseen.
func StepFields(s Step) []string {
	switch s {
	case StepSafety:
		return []string{FieldSafety}
	case StepIssues:
		return []string{FieldIssue, FieldOther}
	case StepWho:
		return []string{FieldWho}
	case StepWant:
		return []string{FieldWant}
	case StepLength:
		return []string{FieldLength}
	case StepFormat:
		return []string{FieldFormat, FieldNear}
	case StepBudget:
		return []string{FieldMaxFee, FieldConcessions}
	case StepLanguage:
		return []string{FieldLanguage}
	}
	return nil
}

// Fields returns every answer field name (a copy).
func Fields() []string { return slices.Clone(fields) }

// Read takes answers from form values. Anything not among a question's
// options is dropped rather than refused: the values come from hidden
// fields the path wrote itself, and a path that fails on an odd value
// helps nobody. Free text is trimmed and cut to a sensible length.
func Read(v url.Values) Answers {
	one := func(name string, opts []Choice) string {
		s := strings.TrimSpace(v.Get(name))
		for _, c := range opts {
			if c.Value == s {
				return s
			}
		}
		return ""
	}
	many := func(name string, opts []Choice) []string {
		var out []string
		for _, c := range opts {
			if slices.Contains(v[name], c.Value) {
				out = append(out, c.Value)
			}
		}
		return out
	}
	a := Answers{
		Safety:      one(FieldSafety, safetyChoices),
		Issues:      many(FieldIssue, issueChoices),
		Other:       v.Get(FieldOther) == "true",
		Who:         one(FieldWho, whoChoices),
		Wants:       many(FieldWant, wantChoices),
		Length:      one(FieldLength, lengthChoices),
		Formats:     many(FieldFormat, formatChoices),
		Near:        clip(v.Get(FieldNear), 100),
		MaxFee:      clip(strings.TrimPrefix(strings.TrimSpace(v.Get(FieldMaxFee)), "£"), 8),
		Concessions: v.Get(FieldConcessions) == "true",
		Language:    clip(strings.ToLower(v.Get(FieldLanguage)), 3),
	}
	return a
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return ""
	}
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n])
	}
	return s
}

// Values writes the answers back as form values, leaving out what was
// skipped.
func (a Answers) Values() url.Values {
	v := url.Values{}
	set := func(name, s string) {
		if s != "" {
			v.Set(name, s)
		}
	}
	set(FieldSafety, a.Safety)
	v[FieldIssue] = slices.Clone(a.Issues)
	if a.Other {
		v.Set(FieldOther, "true")
	}
	set(FieldWho, a.Who)
	v[FieldWant] = slices.Clone(a.Wants)
	set(FieldLength, a.Length)
	v[FieldFormat] = slices.Clone(a.Formats)
	set(FieldNear, a.Near)
	set(FieldMaxFee, a.MaxFee)
	if a.Concessions {
		v.Set(FieldConcessions, "true")
	}
	set(FieldLanguage, a.Language)
	for k, vals := range v {
		if len(vals) == 0 {
			delete(v, k)
		}
	}
	return v
}

// Label is the words shown for value among a question's options, or the
// value itself.
func Label(s Step, value string) string {
	for _, c := range Choices(s) {
		if c.Value == value {
			return c.Label
		}
	}
	return value
}
