package web

import "testing"

// TestFormatRadius: a radius reads in the unit it was chosen in, the
// other unit in brackets, rounded honestly.
func TestFormatRadius(t *testing.T) {
	for _, tt := range []struct {
		km   float64
		want string
	}{
		{16, "10 miles"},
		{1.6, "1 mile"},
		{8, "5 miles"},
		{160, "100 miles"},
		{10, "10 km (6 miles)"},
		{1, "1 km (0.6 miles)"},
		{2, "2 km (1 mile)"},
		{30, "30 km (19 miles)"},
		{53, "53 km (33 miles)"},
		{200, "200 km (124 miles)"},
		{12.5, "12.5 km (8 miles)"},
	} {
		if got := formatRadius(tt.km); got != tt.want {
			t.Errorf("formatRadius(%v) = %q, want %q", tt.km, got, tt.want)
		}
	}
}
