package geo

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestHaversine(t *testing.T) {
	tests := []struct {
		name string
		a, b Point
		km   float64
	}{
		{"same point", Point{51.5, -0.12}, Point{51.5, -0.12}, 0},
		{"one degree of latitude", Point{0, 0}, Point{1, 0}, 111.195},
		{"London to Manchester", Point{51.50853, -0.12574}, Point{53.48095, -2.23743}, 261.8},
		{"antipodes", Point{0, 0}, Point{0, 180}, math.Pi * EarthRadiusKm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HaversineKm(tt.a, tt.b); math.Abs(got-tt.km) > 0.1 {
				t.Fatalf("HaversineKm = %.3f, want %.3f", got, tt.km)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	g := MustLoad()
	m1, _ := g.District("M1")
	sw1a, _ := g.District("SW1A")
	tests := []struct {
		input   string
		kind    string
		label   string
		near    Point
		withinK float64
	}{
		{"sw1a1aa", KindPostcode, "SW1A 1AA", sw1a.Point, 0.001},
		{"SW1A 1AA", KindPostcode, "SW1A 1AA", sw1a.Point, 0.001},
		{"  sw1a   1aa ", KindPostcode, "SW1A 1AA", sw1a.Point, 0.001},
		{"M11AA", KindPostcode, "M1 1AA", m1.Point, 0.001},
		{"m1", KindDistrict, "M1 (Manchester)", m1.Point, 0.001},
		{"M1 4", KindSector, "M1 4", m1.Point, 0.001},
		{"Manchester", KindPlace, "Manchester", Point{53.48095, -2.23743}, 0.01},
		{"manchester", KindPlace, "Manchester", Point{53.48095, -2.23743}, 0.01},
		{"st albans", KindPlace, "St Albans", Point{51.75, -0.33333}, 0.01},
		{"St. Albans", KindPlace, "St Albans", Point{51.75, -0.33333}, 0.01},
		{"Saint Albans", KindPlace, "St Albans", Point{51.75, -0.33333}, 0.01},
		{"st andrews", KindPlace, "Saint Andrews", Point{56.33871, -2.79902}, 0.01},
		{"stoke on trent", KindPlace, "Stoke-on-Trent", Point{53.00415, -2.18538}, 0.01},
		// Ambiguous names: the most built-up place wins.
		{"Newport", KindPlace, "Newport, Newport", Point{51.58774, -2.99835}, 0.01},
		{"Richmond", KindPlace, "Richmond, Greater London", Point{51.46171, -0.30633}, 0.01},
		{"Bangor", KindPlace, "Bangor, Ards and North Down", Point{54.66079, -5.66802}, 0.01},
		// "Name, County" picks one of them.
		{"Newport, Isle of Wight", KindPlace, "Newport, Isle of Wight", Point{50.70146, -1.29124}, 0.01},
		{"newport, isle", KindPlace, "Newport, Isle of Wight", Point{50.70146, -1.29124}, 0.01},
		{"Richmond, North Yorkshire", KindPlace, "Richmond, North Yorkshire", Point{54.4036, -1.73434}, 0.01},
		// A much bigger place whose name starts with the input wins.
		{"Newcastle", KindPlace, "Newcastle upon Tyne", Point{54.97328, -1.61396}, 0.01},
		{"Stoke", KindPlace, "Stoke-on-Trent", Point{53.00415, -2.18538}, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			loc, err := g.Resolve(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if loc.Kind != tt.kind || loc.Label != tt.label || HaversineKm(loc.Point, tt.near) > tt.withinK {
				t.Fatalf("Resolve(%q) = %+v, want %s %q near %v", tt.input, loc, tt.kind, tt.label, tt.near)
			}
		})
	}
}

func TestResolveAlternatives(t *testing.T) {
	loc, err := MustLoad().Resolve("Newport")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(loc.Alternatives, "Newport, Isle of Wight") && len(loc.Alternatives) != 3 {
		t.Fatalf("alternatives %v", loc.Alternatives)
	}
	if len(loc.Alternatives) == 0 || len(loc.Alternatives) > 3 {
		t.Fatalf("want 1 to 3 alternatives, got %v", loc.Alternatives)
	}
}

func TestResolveUnknown(t *testing.T) {
	g := MustLoad()
	tests := []struct {
		input string
		want  string // expected first suggestion, "" for none
	}{
		{"Edinborough", "Edinburgh"},
		{"Qqxyzzy", ""},
		{"ZZ1 1ZZ", ""},
		{"M70 1AA", "M7"},
		{"Atlantis", ""},
		{"", ""},
		{"!!!", ""},
		{"XX9", ""},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			_, err := g.Resolve(tt.input)
			var ue *UnknownLocationError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownLocation) {
				t.Fatalf("Resolve(%q) error = %v, want an UnknownLocationError", tt.input, err)
			}
			if len(ue.Suggestions) > 3 {
				t.Fatalf("too many suggestions: %v", ue.Suggestions)
			}
			if tt.want != "" && (len(ue.Suggestions) == 0 || ue.Suggestions[0] != tt.want) {
				t.Fatalf("suggestions %v, want %q first", ue.Suggestions, tt.want)
			}
		})
	}
}

func TestComplete(t *testing.T) {
	g := MustLoad()
	got := g.Complete("manch", 5)
	if len(got) == 0 || got[0].Value != "Manchester" {
		t.Fatalf("Complete(manch) = %+v", got)
	}
	got = g.Complete("ls1", 5)
	if len(got) == 0 || got[0].Value != "LS1" || got[0].Kind != KindDistrict {
		t.Fatalf("Complete(ls1) = %+v", got)
	}
	for _, s := range g.Complete("new", 10) {
		if _, err := g.Resolve(s.Value); err != nil {
			t.Fatalf("suggestion %q does not resolve: %v", s.Value, err)
		}
	}
}

func TestDataLoaded(t *testing.T) {
	g := MustLoad()
	if n := len(g.Districts()); n != 2988 {
		t.Fatalf("%d districts, want 2988", n)
	}
	if n := len(g.Places()); n != 4681 {
		t.Fatalf("%d places, want 4681", n)
	}
	bt58, _ := g.District("BT58")
	if bt58.Postcodes != MedianPostcodes {
		t.Fatalf("district without a count got %d", bt58.Postcodes)
	}
}

func FuzzResolve(f *testing.F) {
	g := MustLoad()
	for _, s := range []string{"SW1A 1AA", "m1", "St Albans", "Newport, Isle", "M1 4", "ñ", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := g.Resolve(s)
		if err != nil {
			var ue *UnknownLocationError
			if !errors.As(err, &ue) || len(ue.Suggestions) > 3 {
				t.Fatalf("Resolve(%q): %v", s, err)
			}
			return
		}
		if loc.Label == "" || loc.Lat < 49 || loc.Lat > 61 || loc.Lon < -9 || loc.Lon > 2 {
			t.Fatalf("Resolve(%q) = %+v", s, loc)
		}
	})
}
