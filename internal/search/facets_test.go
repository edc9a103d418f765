package search_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/search"
)

// TestFacetTable checks that every declared facet is whole: a parameter
// the parser reads, a label, a JSON field, and for a facet with a list of
// values, every value accepted and labelled and a value outside the list
// refused with an error on that parameter.
func TestFacetTable(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for _, fc := range search.Facets() {
		t.Run(fc.Name, func(t *testing.T) {
			if seen[fc.Name] || seen[fc.JSON] {
				t.Fatalf("facet %q or its JSON field %q declared twice", fc.Name, fc.JSON)
			}
			seen[fc.Name], seen[fc.JSON] = true, true
			if !slices.Contains(search.Params, fc.Name) || fc.Label == "" || fc.Noun == "" || fc.APIDoc == "" || fc.JSON == "" {
				t.Fatalf("facet %+v is missing a parameter, label, noun or JSON field", fc)
			}
			enum := fc.Enum(f.tax)
			if fc.Source == search.FromProfiles {
				if enum != nil {
					t.Fatalf("open facet has an enum %v", enum)
				}
				return
			}
			if len(enum) == 0 {
				t.Fatal("no values")
			}
			for _, v := range enum {
				q, err := f.parser.Parse(url.Values{fc.Name: {strings.ToUpper(v)}}, time.Now())
				if err != nil {
					t.Fatalf("%s=%s: %v", fc.Name, v, err)
				}
				if got := fc.Selected(&q); !slices.Equal(got, []string{v}) {
					t.Fatalf("%s=%s parsed as %v", fc.Name, v, got)
				}
				if fc.ValueLabel(f.tax, v) == "" {
					t.Fatalf("%s=%s has no label", fc.Name, v)
				}
				if back := q.Values()[fc.Name]; !slices.Equal(back, []string{v}) {
					t.Fatalf("%s=%s written back as %v", fc.Name, v, back)
				}
			}
			_, err := f.parser.Parse(url.Values{fc.Name: {"zzzq"}}, time.Now())
			fe, ok := errs.FieldsOf(err)
			if !ok || fe[fc.Name] == "" || len(fe) != 1 {
				t.Fatalf("%s=zzzq: got %v, want an error on %s", fc.Name, err, fc.Name)
			}
		})
	}
	if got := search.FacetNames(); len(got) != len(search.Facets()) {
		t.Fatalf("FacetNames %v", got)
	}
	if _, ok := search.FacetByName("nope"); ok {
		t.Fatal("FacetByName found an undeclared facet")
	}
}

// TestParseTimes is the parser's table for the session-times facet: any
// case, repeated values once, and an unknown value refused with a message
// naming the parameter's valid values and what was probably meant.
func TestParseTimes(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		query   string
		want    []string
		problem string   // part of the error on times; "" for none
		suggest []string // suggestions for times
	}{
		{"times=evenings", []string{"evenings"}, "", nil},
		{"times=Saturdays&times=sundays", []string{"saturdays", "sundays"}, "", nil},
		{"times=evenings&times=EVENINGS", []string{"evenings"}, "", nil},
		{"times=", nil, "", nil},
		{"times=weekends", nil, "Choose from: evenings, saturdays, sundays", []string{}},
		{"times=saturday", nil, `"saturday" is not a session time we know`, []string{"saturdays"}},
		{"times=evening&times=sundays", nil, "Choose from: evenings, saturdays, sundays", []string{"evenings"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			q, err := f.parser.Parse(v, time.Now())
			if tt.problem == "" {
				if err != nil || !slices.Equal(q.Times, tt.want) {
					t.Fatalf("times %v (%v), want %v", q.Times, err, tt.want)
				}
				if back := q.Values()["times"]; !slices.Equal(back, tt.want) {
					t.Fatalf("written back as %v", back)
				}
				return
			}
			fe, ok := errs.FieldsOf(err)
			if !ok || !strings.Contains(fe["times"], tt.problem) {
				t.Fatalf("error %v, want one on times containing %q", err, tt.problem)
			}
			if got := search.SuggestionsFor(err, "times"); len(tt.suggest) > 0 && !slices.Equal(got, tt.suggest) {
				t.Fatalf("suggestions %v, want %v", got, tt.suggest)
			}
		})
	}
}
