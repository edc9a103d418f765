package search

import "testing"

// TestSpecialFacetPositions checks that the facets the index treats
// specially sit where their constants say, so that reordering the table
// cannot quietly give formats' range rule to another facet.
func TestSpecialFacetPositions(t *testing.T) {
	for _, tt := range []struct {
		f    facet
		name string
	}{{fFormat, FacetFormat}, {fGender, FacetGender}} {
		t.Run(tt.name, func(t *testing.T) {
			if got := facetTable[tt.f].Name; got != tt.name {
				t.Fatalf("facet %d is %q, want %q", tt.f, got, tt.name)
			}
		})
	}
}
