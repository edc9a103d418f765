package search

import (
	"fmt"
	"slices"
	"strings"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/fuzzy"
	"github.com/confide-org/confide/internal/taxonomy"
)

// A search facet is declared once, in facetTable below: its parameter
// name, where its values come from, how several chosen values combine,
// and its labels. The parser, the index's postings and counts, the API's
// labels and OpenAPI enums, the HTML filter form and the benchmark peers
// all read the table, so that adding a facet is one entry here plus the
// profile field it reads, not a change in eight places that can drift.

// ValueSource says where a facet's values come from, which decides how a
// value is checked and labelled.
type ValueSource int

// Value sources.
const (
	// FromTaxonomy: the slugs of one taxonomy vocabulary (Facet.Kind).
	FromTaxonomy ValueSource = iota
	// FromLanguages: the taxonomy's ISO 639-1 language codes.
	FromLanguages
	// FromChoices: a fixed list declared with the facet (Facet.Choices).
	FromChoices
	// FromProfiles: whatever therapists give, in their own words (gender);
	// the parser checks values against the index when it can.
	FromProfiles
)

// Match says how several chosen values of one facet combine, which also
// decides how the facet is counted.
type Match int

// Matchings.
const (
	// AnyOf finds profiles with at least one chosen value; each value is
	// counted without the facet's own filter (a disjunctive count), so
	// that the form shows what ticking another box would add.
	AnyOf Match = iota
	// AllOf finds profiles with every chosen value; values are counted
	// within the results, as ticking another narrows them.
	AllOf
)

// Choice is one value of a facet with a fixed list of values.
type Choice struct {
	Value string
	Label string
}

// Facet declares one search facet. Its exported fields are what other
// packages need to present it; the accessors tie it to the Query and Card
// fields that hold its values.
type Facet struct {
	// Name is the URL parameter and the key of its facet counts.
	Name string
	// Label is the legend of its group in the filter form.
	Label string
	// Noun names one value in messages: "%q is not a <Noun> we know".
	Noun string
	// APIDoc starts the parameter's description in the OpenAPI document;
	// how values combine is appended.
	APIDoc string
	// JSON is the name of the field holding a therapist's values in the
	// API's therapist object.
	JSON   string
	Source ValueSource
	// Kind is the taxonomy vocabulary of a FromTaxonomy facet.
	Kind taxonomy.Kind
	// Choices are a FromChoices facet's values, in display order.
	Choices []Choice
	// Multi is true when a profile may have several values (gender has
	// one).
	Multi bool
	Match Match
	// FormOpen shows the facet's form group unfolded even when nothing in
	// it is chosen.
	FormOpen bool

	query func(*Query) *[]string
	card  func(*Card) *[]string
}

// facetTable is every facet, in the order of the filter form and of the
// parameters (Params). A facet's position is its index in the segment
// (type facet); the snapshot writes facets in this order, so reordering
// or adding one needs a new snapshotFormat.
//
// It is never written after initialisation: Facets hands out copies.
var facetTable = [...]Facet{
	{Name: FacetFormat, Label: "How you would like to meet", Noun: "session format", APIDoc: "Session formats", JSON: "formats",
		Source: FromTaxonomy, Kind: taxonomy.Format, Multi: true, Match: AnyOf, FormOpen: true,
		query: func(q *Query) *[]string { return &q.Formats }, card: func(c *Card) *[]string { return &c.Formats }},
	{Name: FacetApproach, Label: "Therapy approach", Noun: "therapy approach", APIDoc: "Therapy approaches", JSON: "approaches",
		Source: FromTaxonomy, Kind: taxonomy.Approach, Multi: true, Match: AnyOf,
		query: func(q *Query) *[]string { return &q.Approaches }, card: func(c *Card) *[]string { return &c.Approaches }},
	{Name: FacetIssue, Label: "What you would like help with", Noun: "issue", APIDoc: "Issues the therapist works with", JSON: "issues",
		Source: FromTaxonomy, Kind: taxonomy.Issue, Multi: true, Match: AllOf,
		query: func(q *Query) *[]string { return &q.Issues }, card: func(c *Card) *[]string { return &c.Issues }},
	{Name: FacetClient, Label: "Who it is for", Noun: "client group", APIDoc: "Client groups", JSON: "client_groups",
		Source: FromTaxonomy, Kind: taxonomy.Client, Multi: true, Match: AnyOf,
		query: func(q *Query) *[]string { return &q.Clients }, card: func(c *Card) *[]string { return &c.ClientGroups }},
	{Name: FacetLanguage, Label: "Language", Noun: "language", APIDoc: "Languages (ISO 639-1)", JSON: "languages",
		Source: FromLanguages, Multi: true, Match: AnyOf,
		query: func(q *Query) *[]string { return &q.Languages }, card: func(c *Card) *[]string { return &c.Languages }},
	{Name: FacetGender, Label: "Therapist's gender", Noun: "gender", APIDoc: "The therapist's gender, in their words (lower case, hyphenated)", JSON: "gender",
		Source: FromProfiles, Multi: false, Match: AnyOf,
		query: func(q *Query) *[]string { return &q.Genders }, card: func(c *Card) *[]string { return &c.genderKeys }},
	// Any of: someone who asks for evenings or Saturdays can go at either
	// time, and all-of would hide a therapist who offers one of them.
	{Name: FacetTimes, Label: "Evenings and weekends", Noun: "session time", APIDoc: "Times besides weekday daytime: weekday evenings after 5 pm, Saturdays, Sundays", JSON: "session_times",
		Source: FromChoices, Choices: sessionTimeChoices(), Multi: true, Match: AnyOf,
		query: func(q *Query) *[]string { return &q.Times }, card: func(c *Card) *[]string { return &c.SessionTimes }},
}

// sessionTimeChoices are the session times of the directory package.
func sessionTimeChoices() []Choice {
	var out []Choice
	for _, t := range directory.SessionTimes() {
		out = append(out, Choice{Value: t.Slug, Label: t.Label})
	}
	return out
}

// Facet names, as used in query parameters and in facet counts.
const (
	FacetApproach = "approach"
	FacetIssue    = "issue"
	FacetFormat   = "format"
	FacetClient   = "client"
	FacetLanguage = "language"
	FacetGender   = "gender"
	FacetTimes    = "times"
)

// facet is a facet's position in facetTable, which indexes the segment's
// postings.
type facet int

// numFacets is how many facets there are.
const numFacets = facet(len(facetTable))

// The facets the index treats specially: formats decide the range of a
// local search (a remote format is in range anywhere), and the parser
// checks genders against those the index holds.
const (
	fFormat facet = 0
	fGender facet = 5
)

// Facets lists every facet in form order. The slice is the caller's.
func Facets() []Facet { return slices.Clone(facetTable[:]) }

// FacetByName finds a facet by its parameter name.
func FacetByName(name string) (Facet, bool) {
	for _, f := range facetTable {
		if f.Name == name {
			return f, true
		}
	}
	return Facet{}, false
}

// FacetNames lists the facets' names in form order.
func FacetNames() []string {
	out := make([]string, numFacets)
	for i, f := range facetTable {
		out[i] = f.Name
	}
	return out
}

// Selected returns the values q asks for in this facet.
func (f Facet) Selected(q *Query) []string { return *f.query(q) }

// CardValues returns the card's values of this facet (for gender, the
// GenderKey of what the therapist wrote).
func (f Facet) CardValues(c *Card) []string { return *f.card(c) }

// Key folds a value as typed into the form the facet stores: GenderKey for
// words in the therapist's own terms, lower case for everything else.
func (f Facet) Key(s string) string {
	if f.Source == FromProfiles {
		return GenderKey(s)
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// Enum lists every valid value in display order, or nil when values are
// open (FromProfiles).
func (f Facet) Enum(tax *taxonomy.Taxonomy) []string {
	var out []string
	switch f.Source {
	case FromTaxonomy:
		for _, t := range tax.Terms(f.Kind) {
			out = append(out, t.Slug)
		}
	case FromLanguages:
		for _, l := range tax.Languages {
			out = append(out, l.Code)
		}
	case FromChoices:
		for _, c := range f.Choices {
			out = append(out, c.Value)
		}
	}
	return out
}

// ValueLabel is how a value reads on a page: the taxonomy label, the
// language's name, the choice's label, or a gender key in words
// ("non-binary" → "Non-binary"); the value itself when unknown.
func (f Facet) ValueLabel(tax *taxonomy.Taxonomy, v string) string {
	switch f.Source {
	case FromTaxonomy:
		return tax.Label(f.Kind, v)
	case FromLanguages:
		return tax.LanguageName(v)
	case FromChoices:
		for _, c := range f.Choices {
			if c.Value == v {
				return c.Label
			}
		}
		return v
	}
	if v == "" {
		return v
	}
	r := []rune(v)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// APIDescription is the parameter's description in the OpenAPI document.
func (f Facet) APIDescription() string {
	if f.Match == AllOf {
		return f.APIDoc + ": all of those given."
	}
	return f.APIDoc + ": any of those given."
}

// parseFacet reads one facet's parameter, refusing any value the facet
// does not have with a message naming the parameter (and, where the list
// is short enough to read, the valid values) and up to three it may have
// meant.
func (p *Parser) parseFacet(f *Facet, v map[string][]string, fail func(string, string, ...string)) []string {
	var out []string
	var genders []string
	for _, s := range limit(v, f.Name, fail) {
		switch f.Source {
		case FromTaxonomy:
			s = strings.ToLower(s)
			if _, ok := p.Tax.Lookup(f.Kind, s); !ok {
				fail(f.Name, fmt.Sprintf("%q is not a %s we know", s, f.Noun), p.Tax.Suggest(f.Kind, s, 3)...)
				continue
			}
		case FromLanguages:
			s = strings.ToLower(s)
			if _, ok := p.Tax.Language(s); !ok {
				fail(f.Name, fmt.Sprintf("%q is not a language code we know; use a two-letter ISO 639-1 code such as \"en\"", s), p.Tax.SuggestLanguage(s, 3)...)
				continue
			}
		case FromChoices:
			s = strings.ToLower(s)
			valid := f.Enum(p.Tax)
			if !slices.Contains(valid, s) {
				fail(f.Name, fmt.Sprintf("%q is not a %s we know. Choose from: %s", s, f.Noun, strings.Join(valid, ", ")), fuzzy.ClosestOf(s, valid, 3, 3)...)
				continue
			}
		case FromProfiles:
			s = GenderKey(s)
			if !genderRe.MatchString(s) {
				fail(f.Name, "Gender must be a word or hyphenated words, such as \"woman\" or \"non-binary\"")
				continue
			}
			if p.Genders != nil && !slices.Contains(BaseGenders, s) {
				if genders == nil {
					genders = append(slices.Clone(BaseGenders), p.Genders.GenderKeys()...)
					slices.Sort(genders)
					genders = slices.Compact(genders)
				}
				if !slices.Contains(genders, s) {
					fail(f.Name, fmt.Sprintf("No listed therapist gives %q as their gender. Choose from: %s", s, strings.Join(genders, ", ")), fuzzy.ClosestOf(s, genders, 3, 3)...)
					continue
				}
			}
		}
		out = appendUnique(out, s)
	}
	return out
}
