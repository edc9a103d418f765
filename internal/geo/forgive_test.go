package geo

import (
	"errors"
	"testing"
)

// TestResolveForgiving is the table of what people type into the place
// box: typos, short names, counties, town-and-postcode, postcodes in any
// spacing, and places abroad, each with the answer a person would expect.
// want is the label resolved to (with kind), or for an unknown input the
// first suggestion ("" for none); outside is the name abroad.
func TestResolveForgiving(t *testing.T) {
	g := MustLoad()
	tests := []struct {
		input     string
		kind      string // "" when the input is not resolved
		want      string
		corrected bool
		outside   string
	}{
		// Typos: one or two slips from one clear town are taken as it.
		{"Leds", KindPlace, "Leeds", true, ""},
		{"Leedz", KindPlace, "Leeds", true, ""},
		{"Manchster", KindPlace, "Manchester", true, ""},
		{"Mancehstre", KindPlace, "Manchester", true, ""},
		{"Birmingam", KindPlace, "Birmingham", true, ""},
		{"Birminghum", KindPlace, "Birmingham", true, ""},
		{"Nottinhgam", KindPlace, "Nottingham", true, ""},
		{"Brighten", KindPlace, "Brighton", true, ""},
		{"Liverpol", KindPlace, "Liverpool", true, ""},
		{"Sheffeild", KindPlace, "Sheffield", true, ""},
		{"Cambrige", KindPlace, "Cambridge", true, ""},
		{"Oxfrd", KindPlace, "Oxford", true, ""},
		{"Sothampton", KindPlace, "Southampton", true, ""},
		{"Portsmuth", KindPlace, "Portsmouth", true, ""},
		{"Newcastel", KindPlace, "Newcastle upon Tyne", true, ""},
		{"Plymoth", KindPlace, "Plymouth", true, ""},
		{"Norwhich", KindPlace, "Norwich", true, ""},
		{"Leicster", KindPlace, "Leicester", true, ""},
		{"Aberystwth", KindPlace, "Aberystwyth", true, ""},
		{"Lundon", KindPlace, "London", true, ""},
		{"Londn", KindPlace, "London", true, ""},
		{"Yrok", KindPlace, "York", true, ""},
		{"Glasgo", KindPlace, "Glasgow", true, ""},
		{"Cardif", KindPlace, "Cardiff", true, ""},
		{"Miltonkeynes", KindPlace, "Milton Keynes", true, ""},
		{"leeds", KindPlace, "Leeds", false, ""},
		// Further off: choices, closest and most built up first.
		{"Edinborough", "", "Edinburgh", false, ""},
		{"Qqxyzzy", "", "", false, ""},
		{"Atlantis", "", "", false, ""},
		// Saint and St, punctuation, case.
		{"St Albans", KindPlace, "St Albans", false, ""},
		{"Saint Albans", KindPlace, "St Albans", false, ""},
		{"st. albans", KindPlace, "St Albans", false, ""},
		{"ST ALBANS", KindPlace, "St Albans", false, ""},
		{"Stoke-on-Trent", KindPlace, "Stoke-on-Trent", false, ""},
		{"stoke on trent", KindPlace, "Stoke-on-Trent", false, ""},
		{"Newcastle", KindPlace, "Newcastle upon Tyne", false, ""},
		// Short names everyone uses.
		{"Hull", KindPlace, "Kingston upon Hull", false, ""},
		{"Brum", KindPlace, "Birmingham", false, ""},
		{"Southend", KindPlace, "Southend-on-Sea", false, ""},
		// A county the person grew up with after the town.
		{"Leeds, West Yorkshire", KindPlace, "Leeds", false, ""},
		{"Bristol, Avon", KindPlace, "Bristol", false, ""},
		{"York, North Yorkshire", KindPlace, "York", false, ""},
		{"Newport, Isle of Wight", KindPlace, "Newport, Isle of Wight", false, ""},
		// Counties and authorities: searched across.
		{"Cornwall", KindCounty, "Cornwall", false, ""},
		{"Isle of Wight", KindCounty, "Isle of Wight", false, ""},
		{"Kent", KindCounty, "Kent", false, ""},
		{"Surrey", KindCounty, "Surrey", false, ""},
		{"Wiltshire", KindCounty, "Wiltshire", false, ""},
		// Town and postcode together: the postcode is more precise.
		{"Leeds LS1", KindDistrict, "LS1 (Leeds)", false, ""},
		{"Leeds, LS6", KindDistrict, "LS6 (Leeds)", false, ""},
		{"LS6 Leeds", KindDistrict, "LS6 (Leeds)", false, ""},
		{"Leeds LS1 4AP", KindPostcode, "LS1 4AP", false, ""},
		{"Manchester M1 4", KindSector, "M1 4", false, ""},
		// Postcodes with and without spaces, any case.
		{"ls1 4ap", KindPostcode, "LS1 4AP", false, ""},
		{"LS14AP", KindPostcode, "LS1 4AP", false, ""},
		{"  ls1   4ap ", KindPostcode, "LS1 4AP", false, ""},
		{"sw1a1aa", KindPostcode, "SW1A 1AA", false, ""},
		{"SW1A 1AA", KindPostcode, "SW1A 1AA", false, ""},
		{"EH1 1YZ", KindPostcode, "EH1 1YZ", false, ""},
		{"ls1", KindDistrict, "LS1 (Leeds)", false, ""},
		{"M1", KindDistrict, "M1 (Manchester)", false, ""},
		{"m1 4", KindSector, "M1 4", false, ""},
		// Abroad: the directory covers the UK.
		{"Paris", "", "", false, "Paris"},
		{"paris", "", "", false, "Paris"},
		{"Berlin", "", "", false, "Berlin"},
		{"New York", "", "", false, "New York"},
		{"Dublin", "", "", false, "Dublin"},
		{"France", "", "", false, "France"},
		{"Sydney", "", "", false, "Sydney"},
		// UK places that share a name abroad stay in the UK.
		{"Boston", KindPlace, "Boston", false, ""},
		{"Perth", KindPlace, "Perth", false, ""},
	}
	if len(tests) < 60 {
		t.Fatalf("the table has %d inputs; keep at least 60", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			loc, err := g.Resolve(tt.input)
			if tt.kind == "" {
				var ue *UnknownLocationError
				if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownLocation) {
					t.Fatalf("Resolve(%q) = %+v, %v; want unknown", tt.input, loc, err)
				}
				if ue.Outside != tt.outside {
					t.Errorf("outside %q, want %q", ue.Outside, tt.outside)
				}
				if first := append(ue.Suggestions, "")[0]; first != tt.want {
					t.Errorf("suggestions %q, want %q first", ue.Suggestions, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.input, err)
			}
			if loc.Kind != tt.kind || loc.Label != tt.want || loc.Corrected != tt.corrected {
				t.Fatalf("Resolve(%q) = %s %q corrected %v; want %s %q corrected %v", tt.input, loc.Kind, loc.Label, loc.Corrected, tt.kind, tt.want, tt.corrected)
			}
			if tt.kind == KindCounty && (loc.SpanKm < 5 || loc.SpanKm > 150) {
				t.Errorf("county span %v km", loc.SpanKm)
			}
		})
	}
}
