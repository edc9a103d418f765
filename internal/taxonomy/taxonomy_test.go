package taxonomy

import (
	"slices"
	"strings"
	"testing"
)

func TestEmbeddedTaxonomy(t *testing.T) {
	tax, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(tax.Approaches) < 25 || len(tax.Issues) < 40 {
		t.Fatalf("%d approaches and %d issues; the brief needs at least 25 and 40", len(tax.Approaches), len(tax.Issues))
	}
	required := map[Kind][]string{
		Approach: {"psychodynamic", "psychoanalytic", "istdp", "dit", "brief-psychodynamic", "jungian", "cbt", "person-centred",
			"integrative", "humanistic", "gestalt", "transactional-analysis", "emdr", "dbt", "schema", "mentalization-based",
			"systemic-family", "solution-focused", "compassion-focused", "existential"},
		Issue: {"anxiety", "depression", "eating-disorders", "loss-of-meaning", "panic", "personality-disorders", "ptsd",
			"loneliness", "relationship-difficulties", "sexual-issues", "addiction", "childhood-trauma", "bereavement", "stress",
			"low-self-esteem", "ocd", "phobias", "self-harm", "suicidal-thoughts"},
		Client: {"individuals", "couples", "families", "groups", "children", "young-people", "older-adults"},
		Format: {FormatInPerson, FormatOnline, FormatPhone},
	}
	for kind, slugs := range required {
		for _, s := range slugs {
			if _, ok := tax.Lookup(kind, s); !ok {
				t.Errorf("%s %q is missing", kind, s)
			}
		}
	}
	pd, _ := tax.Lookup(Approach, "psychodynamic")
	if !slices.ContainsFunc(pd.Codes, func(c Code) bool { return c.Code == "314034001" && c.System == "http://snomed.info/sct" }) {
		t.Errorf("psychodynamic lacks SNOMED CT 314034001: %+v", pd.Codes)
	}
	if len(tax.Languages) != 183 {
		t.Errorf("%d ISO 639-1 languages, want 183", len(tax.Languages))
	}
	for _, code := range []string{"en", "cy", "gd", "pl", "ur"} {
		if _, ok := tax.Language(code); !ok {
			t.Errorf("language %q missing", code)
		}
	}
	for _, b := range []string{"bacp", "ukcp", "ncps", "bpc", "cosca", "hcpc", "babcp", "acc"} {
		if body, ok := tax.Body(b); !ok || !strings.HasPrefix(body.RegisterURL, "https://") {
			t.Errorf("professional body %q missing or without a register link", b)
		}
	}
}

func TestSuggest(t *testing.T) {
	tax := MustLoad()
	tests := []struct {
		kind  Kind
		input string
		want  string
	}{
		{Issue, "grief", "bereavement"},
		{Issue, "post-traumatic stress", "ptsd"},
		{Issue, "anxeity", "anxiety"},
		{Approach, "psychodynamc", "psychodynamic"},
		{Approach, "cognitive behavioural therapy", "cbt"},
		{Approach, "family therapy", "systemic-family"},
		{Client, "teenagers", "young-people"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			got := tax.Suggest(tt.kind, tt.input, 3)
			if len(got) == 0 || got[0] != tt.want {
				t.Fatalf("Suggest(%s, %q) = %v, want %q first", tt.kind, tt.input, got, tt.want)
			}
		})
	}
	if got := tax.SuggestLanguage("polish", 3); len(got) == 0 || got[0] != "pl" {
		t.Fatalf("SuggestLanguage(polish) = %v", got)
	}
}

func TestParseRejectsBadData(t *testing.T) {
	langs := []byte("code,name\nen,English\n")
	tests := []struct{ name, doc string }{
		{"no version", `{"approaches":[]}`},
		{"bad slug", `{"version":"1","approaches":[{"slug":"Bad Slug","label":"x","description":"y"}]}`},
		{"duplicate", `{"version":"1","issues":[{"slug":"a","label":"x","description":"y"},{"slug":"a","label":"x","description":"y"}]}`},
		{"no label", `{"version":"1","issues":[{"slug":"a","description":"y"}]}`},
		{"unknown field", `{"version":"1","colour":"blue"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.doc), langs); err == nil {
				t.Fatal("Parse accepted bad data")
			}
		})
	}
	if _, err := Parse([]byte(`{"version":"1"}`), []byte("code,name\neng,English\n")); err == nil {
		t.Fatal("Parse accepted a three-letter language code")
	}
}
