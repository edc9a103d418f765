package search_test

import (
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/search"
)

func TestParseDefaultsAndValues(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		query string
		check func(t *testing.T, q search.Query)
	}{
		{"empty", "", func(t *testing.T, q search.Query) {
			if q.Sort != search.SortRotation || q.Page != 1 || q.PerPage != 20 || q.RadiusKm != 16 || q.Point != nil || q.MaxFeePence != -1 {
				t.Fatalf("defaults wrong: %+v", q)
			}
		}},
		{"near sorts by recommendation", "near=m1", func(t *testing.T, q search.Query) {
			if q.Sort != search.SortRecommended || q.Location.Outcode != "M1" {
				t.Fatalf("%+v", q)
			}
		}},
		{"q sorts by recommendation", "q=grief&near=M1", func(t *testing.T, q search.Query) {
			if q.Sort != search.SortRecommended || q.Terms.Last != "grief" {
				t.Fatalf("%+v", q)
			}
		}},
		{"recommended without place or words", "sort=recommended&issue=anxiety", func(t *testing.T, q search.Query) {
			if q.Sort != search.SortRecommended || q.Values().Get("sort") != "recommended" {
				t.Fatalf("%+v", q)
			}
		}},
		{"stop words only is no text", "q=the+of", func(t *testing.T, q search.Query) {
			if !q.Terms.Empty() || q.Sort != search.SortRotation {
				t.Fatalf("%+v", q)
			}
		}},
		{"empty values are absent", "near=&approach=&radius_km=&page=", func(t *testing.T, q search.Query) {
			if q.Point != nil || len(q.Approaches) != 0 || q.Page != 1 {
				t.Fatalf("%+v", q)
			}
		}},
		{"repeated values dedupe", "approach=cbt&approach=CBT&issue=anxiety&issue=depression", func(t *testing.T, q search.Query) {
			if !slices.Equal(q.Approaches, []string{"cbt"}) || len(q.Issues) != 2 {
				t.Fatalf("%+v", q)
			}
		}},
		{"money", "max_fee=£45.50", func(t *testing.T, q search.Query) {
			if q.MaxFeePence != 4550 {
				t.Fatalf("max fee %d", q.MaxFeePence)
			}
		}},
		{"gender folds", "gender=Non+Binary", func(t *testing.T, q search.Query) {
			if !slices.Equal(q.Genders, []string{"non-binary"}) {
				t.Fatalf("%v", q.Genders)
			}
		}},
		{"lat lon", "lat=53.48&lon=-2.24&radius_km=5.5", func(t *testing.T, q search.Query) {
			if q.Point == nil || q.Point.Lat != 53.48 || q.RadiusKm != 5.5 {
				t.Fatalf("%+v", q)
			}
		}},
		{"booleans", "concessions=1&accepting=on&wheelchair=TRUE", func(t *testing.T, q search.Query) {
			if !q.Concessions || !q.Accepting || !q.Wheelchair {
				t.Fatalf("%+v", q)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := f.parser.Parse(v, now)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.query, err)
			}
			tt.check(t, q)
		})
	}
}

func TestParseCollectsEveryError(t *testing.T) {
	f := newFixture(t)
	v, _ := url.ParseQuery("page=0&near=Atlantis&approach=nope&radius_km=500")
	_, err := f.parser.Parse(v, time.Now())
	fe, ok := errs.FieldsOf(err)
	if !ok || len(fe) != 4 || errs.KindOf(err) != errs.Invalid {
		t.Fatalf("got %v, want four field errors of kind Invalid", err)
	}
	// Reported in parameter order, so the API's single error is stable.
	if order := search.ParamOrder(fe); !slices.Equal(order, []string{"near", "radius_km", "approach", "page"}) {
		t.Fatalf("order %v", order)
	}
	// The error text is logged: it names parameters, never what was typed.
	if strings.Contains(err.Error(), "Atlantis") {
		t.Fatalf("error text %q quotes the search", err)
	}
	if s := search.SuggestionsFor(err, "page"); s == nil || len(s) != 0 {
		t.Fatalf("suggestions for page = %#v, want an empty list", s)
	}
}

func TestParamOrder(t *testing.T) {
	tests := []struct {
		name   string
		params []string
		want   []string
	}{
		{"one", []string{"q"}, []string{"q"}},
		{"as Params lists them", []string{"page", "sort", "near"}, []string{"near", "sort", "page"}},
		{"unknown ones last, sorted", []string{"zeta", "limit", "per_page"}, []string{"per_page", "limit", "zeta"}},
		{"none", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := errs.Fields{}
			for _, p := range tt.params {
				f[p] = "wrong"
			}
			if got := search.ParamOrder(f); !slices.Equal(got, tt.want) {
				t.Fatalf("ParamOrder = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestValuesRoundTrip checks that a parsed query written back as URL
// parameters parses to the same query, so "next page" links keep filters.
func TestValuesRoundTrip(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	for _, raw := range []string{
		"near=Leeds&radius_km=40&format=online&approach=cbt&issue=anxiety&client=couples&language=pl&gender=woman&max_fee=60&concessions=true&accepting=true&wheelchair=true&q=grief+loss&sort=fee&page=3&per_page=10",
		"lat=51.5&lon=-0.12",
		"",
	} {
		v, _ := url.ParseQuery(raw)
		q1, err := f.parser.Parse(v, now)
		if err != nil {
			t.Fatal(err)
		}
		q2, err := f.parser.Parse(q1.Values(), now)
		if err != nil {
			t.Fatalf("re-parse %q: %v", q1.Values().Encode(), err)
		}
		if q1.Values().Encode() != q2.Values().Encode() || q1.Sort != q2.Sort || q1.Page != q2.Page {
			t.Fatalf("round trip changed %q into %q", q1.Values().Encode(), q2.Values().Encode())
		}
	}
}

// FuzzParse feeds arbitrary query strings to the parser: it must never
// panic, must return either a valid query or parameter errors with
// messages, and a valid query must be searchable.
func FuzzParse(f *testing.F) {
	fx := newFixture(f)
	ix := search.NewIndex(fx.tax, fx.an, func() time.Time { return indexTime })
	if err := ix.Load(f.Context(), sliceSource(fx.profiles(rand.New(rand.NewPCG(3, 3)), 200, 3))); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"near=M1&radius_km=10&approach=psychodynamic&sort=distance",
		"q=grie&format=online&format=phone",
		"lat=53.1&lon=-1&wheelchair=true&page=2&per_page=5",
		"max_fee=£40.5&accepting=1&language=pl&gender=Non-binary",
		"near=st+albans&issue=anxiety&issue=depression&sort=fee",
		"radius_km=1e9&page=-3&q=%00%FF",
		"gender=x&gender=woman",
		"gender=martian&near=Leds",
		"near=Paris&approach=cbt",
		"near=Cornwall",
	} {
		f.Add(seed)
	}
	strict := *fx.parser
	strict.Genders = ix
	known := append(ix.GenderKeys(), search.BaseGenders...)
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := strict.Parse(v, indexTime)
		if err != nil {
			fe, ok := errs.FieldsOf(err)
			if !ok || len(fe) == 0 {
				t.Fatalf("error carries no field errors: %v", err)
			}
			for param, msg := range fe {
				if param == "" || msg == "" || len(search.SuggestionsFor(err, param)) > 3 {
					t.Fatalf("bad error %q: %q %v", param, msg, search.SuggestionsFor(err, param))
				}
			}
			return
		}
		if q.Page < 1 || q.PerPage < 1 || q.PerPage > search.MaxPerPage || q.RadiusKm < search.MinRadiusKm || q.RadiusKm > search.MaxRadiusKm {
			t.Fatalf("out-of-range query accepted: %+v", q)
		}
		if q.Sort == search.SortDistance && q.Point == nil {
			t.Fatal("distance sort without a point")
		}
		if q.Sort == search.SortRelevance && q.Terms.Empty() {
			t.Fatal("relevance sort without words")
		}
		for _, g := range q.Genders {
			if !slices.Contains(known, g) {
				t.Fatalf("gender %q accepted, but no therapist gives it", g)
			}
		}
		res := ix.Search(q)
		if len(res.Hits) > q.PerPage || res.Total < len(res.Hits) {
			t.Fatalf("result does not fit the query: %d hits, total %d", len(res.Hits), res.Total)
		}
	})
}
