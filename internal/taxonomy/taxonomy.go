// Package taxonomy holds the controlled vocabularies Confide searches by:
// therapy approaches, issues, client groups, session formats, languages and
// professional bodies. They live in versioned data files beside this code so
// that a change of wording or a new term is a reviewed data change, and so
// that every page, the API and the search index agree on one list.
package taxonomy

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/confide-org/confide/internal/fuzzy"
)

//go:embed taxonomy.json
var taxonomyJSON []byte

//go:embed languages.csv
var languagesCSV []byte

// Kind names one of the slug vocabularies.
type Kind string

// The vocabularies a profile is tagged with and search filters by.
const (
	Approach Kind = "approach"
	Issue    Kind = "issue"
	Client   Kind = "client"
	Format   Kind = "format"
)

// The session formats. InPerson is implied by having a practice location.
const (
	FormatInPerson = "in_person"
	FormatOnline   = "online"
	FormatPhone    = "phone"
)

// Code is a concept in an external terminology such as SNOMED CT, so that
// machine-readable output can say exactly which therapy a page is about.
type Code struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

// Term is one entry of a vocabulary.
type Term struct {
	Slug        string   `json:"slug"`
	Label       string   `json:"label"`
	Description string   `json:"description"`
	Synonyms    []string `json:"synonyms,omitempty"`
	Codes       []Code   `json:"codes,omitempty"`
}

// Body is a professional body whose register a therapist can belong to.
type Body struct {
	Slug         string `json:"slug"`
	Abbreviation string `json:"abbreviation"`
	Name         string `json:"name"`
	URL          string `json:"url"`
	RegisterURL  string `json:"register_url"`
}

// Language is an ISO 639-1 language.
type Language struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Taxonomy is the loaded, validated set of vocabularies. It is immutable
// after Load, so it can be shared by every goroutine without locks.
type Taxonomy struct {
	Version      string     `json:"version"`
	Approaches   []Term     `json:"approaches"`
	Issues       []Term     `json:"issues"`
	ClientGroups []Term     `json:"client_groups"`
	Formats      []Term     `json:"formats"`
	Bodies       []Body     `json:"professional_bodies"`
	Languages    []Language `json:"languages"`

	terms     map[Kind]map[string]Term
	bodies    map[string]Body
	languages map[string]Language
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:[-_][a-z0-9]+)*$`)

// Load parses the vocabularies embedded in the binary.
func Load() (*Taxonomy, error) {
	return Parse(taxonomyJSON, languagesCSV)
}

// MustLoad is Load for program start-up and tests, where the embedded files
// are part of the build and a failure is a programming error.
func MustLoad() *Taxonomy {
	t, err := Load()
	if err != nil {
		panic(err)
	}
	return t
}

// Parse reads a taxonomy JSON document and an ISO 639-1 CSV (code,name) and
// checks them: every slug well formed and unique within its vocabulary,
// every label present.
func Parse(doc, languages []byte) (*Taxonomy, error) {
	var t Taxonomy
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("taxonomy: decode: %w", err)
	}
	if t.Version == "" {
		return nil, errors.New("taxonomy: version is missing")
	}
	t.terms = make(map[Kind]map[string]Term)
	for _, kv := range []struct {
		kind  Kind
		terms []Term
	}{{Approach, t.Approaches}, {Issue, t.Issues}, {Client, t.ClientGroups}, {Format, t.Formats}} {
		m := make(map[string]Term, len(kv.terms))
		for _, term := range kv.terms {
			if !slugPattern.MatchString(term.Slug) {
				return nil, fmt.Errorf("taxonomy: %s slug %q is not lower-case letters, digits and hyphens", kv.kind, term.Slug)
			}
			if term.Label == "" || term.Description == "" {
				return nil, fmt.Errorf("taxonomy: %s %q needs a label and a description", kv.kind, term.Slug)
			}
			if _, dup := m[term.Slug]; dup {
				return nil, fmt.Errorf("taxonomy: %s slug %q appears twice", kv.kind, term.Slug)
			}
			m[term.Slug] = term
		}
		t.terms[kv.kind] = m
	}
	t.bodies = make(map[string]Body, len(t.Bodies))
	for _, b := range t.Bodies {
		if !slugPattern.MatchString(b.Slug) || b.Name == "" || b.Abbreviation == "" {
			return nil, fmt.Errorf("taxonomy: professional body %q is incomplete", b.Slug)
		}
		if _, dup := t.bodies[b.Slug]; dup {
			return nil, fmt.Errorf("taxonomy: professional body %q appears twice", b.Slug)
		}
		t.bodies[b.Slug] = b
	}
	langs, err := parseLanguages(languages)
	if err != nil {
		return nil, err
	}
	t.Languages = langs
	t.languages = make(map[string]Language, len(langs))
	for _, l := range langs {
		t.languages[l.Code] = l
	}
	return &t, nil
}

func parseLanguages(data []byte) ([]Language, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 2
	header, err := r.Read()
	if err != nil || header[0] != "code" || header[1] != "name" {
		return nil, fmt.Errorf("taxonomy: languages: header must be code,name")
	}
	var out []Language
	seen := make(map[string]bool)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("taxonomy: languages: %w", err)
		}
		code := rec[0]
		if len(code) != 2 || strings.ToLower(code) != code || seen[code] {
			return nil, fmt.Errorf("taxonomy: languages: bad or repeated code %q", code)
		}
		seen[code] = true
		out = append(out, Language{Code: code, Name: rec[1]})
	}
	return out, nil
}

// Terms lists a vocabulary in its curated order.
func (t *Taxonomy) Terms(kind Kind) []Term {
	switch kind {
	case Approach:
		return t.Approaches
	case Issue:
		return t.Issues
	case Client:
		return t.ClientGroups
	case Format:
		return t.Formats
	}
	return nil
}

// Lookup finds a term by slug.
func (t *Taxonomy) Lookup(kind Kind, slug string) (Term, bool) {
	term, ok := t.terms[kind][slug]
	return term, ok
}

// Label is the display label of a slug, or the slug itself when unknown, so
// that a page never shows an empty name.
func (t *Taxonomy) Label(kind Kind, slug string) string {
	if term, ok := t.terms[kind][slug]; ok {
		return term.Label
	}
	return slug
}

// Body finds a professional body by slug.
func (t *Taxonomy) Body(slug string) (Body, bool) {
	b, ok := t.bodies[slug]
	return b, ok
}

// Language finds an ISO 639-1 language by its two-letter code.
func (t *Taxonomy) Language(code string) (Language, bool) {
	l, ok := t.languages[code]
	return l, ok
}

// LanguageName is the English name of a code, or the code when unknown.
func (t *Taxonomy) LanguageName(code string) string {
	if l, ok := t.languages[code]; ok {
		return l.Name
	}
	return code
}

// Suggest proposes up to n slugs of kind for an unrecognised input: an exact
// label or synonym first (someone typed "grief" for bereavement), then the
// nearest spellings.
func (t *Taxonomy) Suggest(kind Kind, input string, n int) []string {
	var cands []fuzzy.Candidate
	for _, term := range t.Terms(kind) {
		cands = append(cands, fuzzy.Candidate{Text: term.Slug, Value: term.Slug})
		cands = append(cands, fuzzy.Candidate{Text: term.Label, Value: term.Slug})
		for _, s := range term.Synonyms {
			cands = append(cands, fuzzy.Candidate{Text: s, Value: term.Slug})
		}
	}
	return fuzzy.Closest(strings.ReplaceAll(input, "-", " "), append(cands, hyphenless(cands)...), n, 3)
}

// SuggestLanguage proposes up to n language codes for an unrecognised input,
// matching either codes or English names ("polish" → "pl").
func (t *Taxonomy) SuggestLanguage(input string, n int) []string {
	var cands []fuzzy.Candidate
	for _, l := range t.Languages {
		cands = append(cands, fuzzy.Candidate{Text: l.Name, Value: l.Code})
	}
	for _, l := range t.Languages {
		cands = append(cands, fuzzy.Candidate{Text: l.Code, Value: l.Code})
	}
	return fuzzy.Closest(input, cands, n, 2)
}

func hyphenless(cands []fuzzy.Candidate) []fuzzy.Candidate {
	out := make([]fuzzy.Candidate, 0, len(cands))
	for _, c := range cands {
		if strings.ContainsAny(c.Text, "-_") {
			out = append(out, fuzzy.Candidate{Text: strings.NewReplacer("-", " ", "_", " ").Replace(c.Text), Value: c.Value})
		}
	}
	return out
}
