package search_test

import (
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/search"
)

// TestForgivingWords is the table of search words as people type them:
// slips in taxonomy words are searched as the word meant (and reported),
// everyday phrases find their taxonomy terms through the synonyms, and
// words that are right, too short to judge, or not a slip of one clear
// word are searched as typed.
func TestForgivingWords(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ix := search.NewIndex(fx.tax, fx.an, func() time.Time { return indexTime })
	if err := ix.Load(t.Context(), sliceSource(fx.profiles(rand.New(rand.NewPCG(5, 5)), 1500, 5))); err != nil {
		t.Fatal(err)
	}
	p := *fx.parser
	p.Vocabulary = ix
	tests := []struct {
		q string
		// fixed lists the corrections as "from>to"; none means as typed.
		fixed []string
		// found: the search finds someone. issue, when set, is a taxonomy
		// issue every match has (the synonym led there).
		found bool
		issue string
	}{
		// Slips one edit from a taxonomy word.
		{"anxeity", []string{"anxeity>anxiety"}, true, ""},
		{"anxiety", nil, true, ""},
		{"depresion", []string{"depresion>depression"}, true, ""},
		{"deppression", []string{"deppression>depression"}, true, ""},
		{"bereavment", nil, true, "bereavement"}, // the stem already matches
		{"berevement", []string{"berevement>bereavement"}, true, ""},
		{"trauma", nil, true, ""},
		{"truama", []string{"truama>trauma"}, true, ""},
		{"psychodynamc", []string{"psychodynamc>psychodynamic"}, true, ""},
		{"pyschodynamic", []string{"pyschodynamic>psychodynamic"}, true, ""},
		{"psycodynamic therapy", []string{"psycodynamic>psychodynamic"}, true, ""},
		{"insomina", []string{"insomina>insomnia"}, true, ""},
		{"grieff", []string{"grieff>grief"}, true, ""},
		{"greif", []string{"greif>grief"}, true, ""},
		{"loneliness", nil, true, ""},
		{"lonelyness", []string{"lonelyness>loneliness"}, true, ""},
		{"menopuase", []string{"menopuase>menopause"}, true, ""},
		{"perfectionsim", []string{"perfectionsim>perfectionism"}, true, ""},
		{"gamblng", []string{"gamblng>gambling"}, true, ""},
		{"bullyng", []string{"bullyng>bullying"}, true, ""},
		{"phobais", []string{"phobais>phobias"}, true, ""},
		{"autsim", []string{"autsim>autism"}, true, ""},
		{"schizophrenai", []string{"schizophrenai>schizophrenia"}, true, ""},
		{"gestlat", []string{"gestlat>gestalt"}, true, ""},
		{"family therapy", nil, true, ""},
		// Two slips in a long word.
		{"bereavmnt", []string{"bereavmnt>bereavement"}, true, ""},
		{"psychodinamik", []string{"psychodinamik>psychodynamic"}, true, ""},
		// Everyday phrases, through the synonyms.
		{"panic attacks", nil, true, "panic"},
		{"grief", nil, true, "bereavement"},
		{"grieving", nil, true, "bereavement"},
		{"low mood", nil, true, "depression"},
		{"hearing voices", nil, true, "psychosis"},
		{"burnout", nil, true, "work-burnout"},
		{"miscarriage", nil, true, "pregnancy-loss"},
		{"insomnia", nil, true, "sleep-problems"},
		{"intrusive thoughts", nil, true, "ocd"},
		{"lgbtq", nil, true, "sexuality"},
		// Still being typed: a prefix is no slip.
		{"anx", nil, true, ""},
		{"depre", nil, true, ""},
		// Too short to judge, or no clear word within reach: as typed.
		{"ocf", nil, false, ""},
		{"zzzzqqq", nil, false, ""},
		{"xylophone", nil, false, ""},
	}
	if len(tests) < 40 {
		t.Fatalf("the table has %d inputs; keep at least 40", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q, err := p.Parse(url.Values{"q": {tt.q}}, indexTime)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range q.Corrections {
				got = append(got, c.From+">"+c.To)
			}
			if !slices.Equal(got, tt.fixed) {
				t.Fatalf("corrections %q, want %q", got, tt.fixed)
			}
			q.PerPage = search.MaxPerPage
			res := ix.Search(q)
			if (res.Total > 0) != tt.found {
				t.Fatalf("%d found, want found=%v", res.Total, tt.found)
			}
			if tt.issue != "" {
				with := 0
				for _, h := range res.Hits {
					if slices.Contains(h.Card.Issues, tt.issue) {
						with++
					}
				}
				if with*2 < len(res.Hits) {
					t.Errorf("only %d of %d matches work with %s", with, len(res.Hits), tt.issue)
				}
			}
			if q.Text != tt.q || !strings.Contains(q.Values().Get("q"), tt.q) {
				t.Errorf("the search keeps %q, not what was typed", q.Text)
			}
		})
	}
	// A search that finds nobody offers the looser reading.
	if alt := p.DidYouMean("berevment"); alt != "bereavement" {
		t.Errorf("did you mean %q, want bereavement", alt)
	}
	if alt := p.DidYouMean("anxiety"); alt != "" {
		t.Errorf("did you mean %q for a known word", alt)
	}
}
