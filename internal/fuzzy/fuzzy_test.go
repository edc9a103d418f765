package fuzzy

import (
	"slices"
	"testing"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"manchester", "mancehster", 1}, {"leeds", "leedz", 1}, {"ça", "ca", 1}, {"ab", "ba", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := Distance(tt.a, tt.b); got != tt.want {
				t.Fatalf("Distance = %d, want %d", got, tt.want)
			}
			if got := Distance(tt.b, tt.a); got != tt.want {
				t.Fatalf("Distance is not symmetric: %d", got)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	cands := []Candidate{{"Leeds", "Leeds"}, {"Lee", "Lee"}, {"Manchester", "Manchester"}, {"Grief", "bereavement"}, {"Bereavement", "bereavement"}, {"M7", "M7"}, {"M20", "M20"}}
	tests := []struct {
		input string
		want  []string
	}{
		{"leedz", []string{"Leeds"}},
		{"manch", []string{"Manchester"}},
		{"grief", []string{"bereavement"}},
		{"m70", []string{"M7", "M20"}},
		{"xyzzy", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			got := Closest(tt.input, cands, 3, 1)
			if len(tt.want) > 0 && !slices.Equal(got[:min(len(got), len(tt.want))], tt.want) {
				t.Fatalf("Closest(%q) = %v, want %v first", tt.input, got, tt.want)
			}
			if len(tt.want) == 0 && len(got) != 0 {
				t.Fatalf("Closest(%q) = %v, want nothing", tt.input, got)
			}
		})
	}
}
