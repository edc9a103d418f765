package guided_test

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/taxonomy"
)

func ruleSet(t *testing.T) *guided.RuleSet {
	t.Helper()
	rs, err := guided.Default(taxonomy.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestSuggest walks answer combinations through the shipped rule set: the
// approaches suggested, in order, and words the first suggestion's reasons
// must contain (what the person said, echoed back).
func TestSuggest(t *testing.T) {
	t.Parallel()
	rs := ruleSet(t)
	tests := []struct {
		name    string
		answers string // form values, as the path posts them
		want    []string
		reason  string // in the first suggestion's reasons
	}{
		{"all skipped", "", []string{"person-centred", "cbt"}, "you set the pace"},
		{"only safety answered", "safety=no", []string{"person-centred", "cbt"}, "gentle place to start"},
		{"something else only", "issue_other=true", []string{"person-centred", "cbt"}, "you set the pace"},
		{"format only", "format=online&near=Leeds", []string{"person-centred", "cbt"}, "you set the pace"},
		{"for me only", "who=me", []string{"person-centred", "cbt"}, "you set the pace"},
		{"depression", "issue=depression", []string{"cbt", "brief-psychodynamic", "interpersonal", "person-centred"}, "feeling low or depressed"},
		{"anxiety", "issue=anxiety", []string{"cbt", "psychodynamic", "act"}, "anxious or worried"},
		{"panic, padded by the fallback", "issue=panic", []string{"cbt", "person-centred"}, "panic attacks"},
		{"ocd", "issue=ocd", []string{"cbt", "person-centred"}, "exposure and response prevention"},
		{"trauma", "issue=trauma", []string{"emdr", "cbt", "psychodynamic"}, "traumatic"},
		{"bereavement", "issue=bereavement", []string{"person-centred", "integrative"}, "grieving"},
		{"social anxiety", "issue=social-anxiety", []string{"cbt", "brief-psychodynamic"}, "social situations"},
		{"stress", "issue=stress", []string{"cbt", "mindfulness-based"}, "stress"},
		{"burnout", "issue=work-burnout", []string{"act", "person-centred"}, "worn you out"},
		{"self-esteem", "issue=low-self-esteem", []string{"compassion-focused", "person-centred"}, "feel bad about yourself"},
		{"addiction", "issue=addiction", []string{"cbt", "integrative"}, "out of hand"},
		{"self-harm", "issue=self-harm", []string{"dbt", "person-centred"}, "hurt yourself"},
		{"long-term illness", "issue=long-term-health", []string{"act", "person-centred"}, "long-term health"},
		{"relationships", "issue=relationship-difficulties", []string{"psychodynamic", "interpersonal"}, "relationships are difficult"},
		{"family problems", "issue=family-problems", []string{"systemic-family", "person-centred"}, "problems in your family"},
		{"sexual difficulties", "issue=sexual-issues", []string{"psychosexual", "person-centred"}, "sexual difficulties"},
		{"understand the past", "want=past", []string{"psychodynamic", "brief-psychodynamic"}, "patterns from your past"},
		{"practical tools", "want=tools", []string{"cbt", "dbt", "act"}, "practical tools for now"},
		{"someone to listen", "want=listen", []string{"person-centred", "integrative"}, "someone to listen"},
		{"not sure", "want=unsure", []string{"integrative", "person-centred"}, "not sure"},
		{"short-term", "length=short", []string{"brief-psychodynamic", "cbt", "interpersonal"}, "short-term"},
		{"open-ended", "length=open", []string{"psychodynamic", "person-centred", "integrative"}, "open-ended"},
		{"a couple", "who=couple", []string{"systemic-family", "psychosexual"}, "for a couple"},
		{"a family", "who=family", []string{"systemic-family", "person-centred"}, "for a family"},
		{"a child", "who=child", []string{"play-therapy", "systemic-family", "cbt"}, "child or young person"},
		{"couple with sexual difficulties", "who=couple&issue=sexual-issues", []string{"psychosexual", "systemic-family"}, "sexual difficulties"},
		{"child with eating difficulties", "who=child&issue=eating-disorders", []string{"cbt", "systemic-family", "play-therapy"}, "eating or food"},
		{"depression, the past, open-ended", "issue=depression&want=past&length=open", []string{"psychodynamic", "cbt", "brief-psychodynamic", "person-centred"}, "patterns from your past"},
		{"depression, tools, short-term", "issue=depression&want=tools&length=short", []string{"cbt", "brief-psychodynamic", "interpersonal", "person-centred"}, "feeling low or depressed"},
		{"anxiety and a listener", "issue=anxiety&want=listen", []string{"cbt", "person-centred", "psychodynamic", "integrative"}, "anxious"},
		{"many issues: at most four", "issue=anxiety&issue=depression&issue=trauma&issue=ocd&issue=panic", []string{"cbt", "emdr", "psychodynamic", "brief-psychodynamic"}, "exposure and response prevention"},
		// Contradictory answers: both wishes count, neither wins outright.
		{"contradictory: past and tools", "want=past&want=tools", []string{"cbt", "psychodynamic", "brief-psychodynamic", "dbt"}, "practical tools"},
		{"contradictory: past but short-term", "want=past&length=short", []string{"psychodynamic", "brief-psychodynamic", "cbt", "interpersonal"}, "patterns from your past"},
		{"contradictory: tools but open-ended", "want=tools&length=open", []string{"cbt", "psychodynamic", "person-centred", "integrative"}, "practical tools"},
		{"contradictory: not sure and tools", "want=unsure&want=tools", []string{"cbt", "integrative", "person-centred", "dbt"}, "practical tools"},
		// A child is never offered psychosexual therapy, whatever else was said.
		{"contradictory: a child and sexual difficulties", "who=child&issue=sexual-issues", []string{"play-therapy", "systemic-family", "cbt"}, "child or young person"},
		// Play therapy is for children only.
		{"an adult is not offered play therapy", "who=me&want=past", []string{"psychodynamic", "brief-psychodynamic"}, "patterns from your past"},
		{"unknown values are ignored", "issue=werewolves&who=dragon&want=past", []string{"psychodynamic", "brief-psychodynamic"}, "patterns from your past"},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d combinations; the acceptance asks for 30", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(tt.answers)
			if err != nil {
				t.Fatal(err)
			}
			got := rs.Suggest(guided.Read(v))
			var slugs []string
			for _, s := range got {
				slugs = append(slugs, s.Approach)
			}
			if !slices.Equal(slugs, tt.want) {
				t.Fatalf("suggested %v, want %v", slugs, tt.want)
			}
			if n := len(got); n < guided.MinSuggestions || n > guided.MaxSuggestions {
				t.Errorf("%d suggestions, want %d to %d", n, guided.MinSuggestions, guided.MaxSuggestions)
			}
			if r := strings.Join(got[0].Reasons, " "); !strings.Contains(r, tt.reason) {
				t.Errorf("first reasons %q lack %q", r, tt.reason)
			}
			for _, s := range got {
				if len(s.Reasons) < 1 || len(s.Reasons) > 2 || s.Evidence == "" {
					t.Errorf("%s: %d reasons, evidence %q: want one or two reasons and the evidence", s.Approach, len(s.Reasons), s.Evidence)
				}
			}
		})
	}
}

// TestSuggestEvidenceFitsTheAnswer: the evidence shown is the guideline
// for what was said (CBT for OCD cites the OCD guideline, not depression).
func TestSuggestEvidenceFitsTheAnswer(t *testing.T) {
	t.Parallel()
	rs := ruleSet(t)
	tests := []struct{ answers, approach, source string }{
		{"issue=ocd", "cbt", "cg31"},
		{"issue=anxiety", "cbt", "cg113"},
		{"issue=trauma", "emdr", "ng116"},
		{"issue=depression", "cbt", "ng222"},
		{"want=past", "psychodynamic", "shedler2010"},
		{"who=child", "systemic-family", "ng134"},
		{"issue=long-term-health", "act", "ng193"},
	}
	for _, tt := range tests {
		t.Run(tt.answers, func(t *testing.T) {
			t.Parallel()
			v, _ := url.ParseQuery(tt.answers)
			for _, s := range rs.Suggest(guided.Read(v)) {
				if s.Approach == tt.approach {
					if s.Source.ID != tt.source || s.Source.Title == "" {
						t.Errorf("source %+v, want %s", s.Source, tt.source)
					}
					return
				}
			}
			t.Errorf("%s not suggested", tt.approach)
		})
	}
}

// TestCheck: a rule set is used only while reviewed and before its next
// review date, on an injected clock.
func TestCheck(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	shipped := ruleSet(t)
	tests := []struct {
		name   string
		change func(rs *guided.RuleSet)
		now    time.Time
		want   error
	}{
		{"shipped, the day after review", nil, shipped.Reviewed.AddDate(0, 0, 1), nil},
		{"shipped, the day before it is due", nil, shipped.NextReview.AddDate(0, 0, -1), nil},
		{"shipped, on the due day", nil, shipped.NextReview.Time, guided.ErrOverdue},
		{"shipped, a year overdue", nil, shipped.NextReview.AddDate(1, 0, 0), guided.ErrOverdue},
		{"shipped, before it was reviewed", nil, shipped.Reviewed.AddDate(0, 0, -1), guided.ErrUnreviewed},
		{"no reviewer", func(rs *guided.RuleSet) { rs.Reviewer = guided.Person{} }, day("2027-01-01"), guided.ErrUnreviewed},
		{"reviewer without credentials", func(rs *guided.RuleSet) { rs.Reviewer.Credentials = "" }, day("2027-01-01"), guided.ErrUnreviewed},
		{"author reviewed their own rules", func(rs *guided.RuleSet) { rs.Reviewer.Name = " " + strings.ToUpper(rs.Author.Name) }, day("2027-01-01"), guided.ErrUnreviewed},
		{"no review date", func(rs *guided.RuleSet) { rs.Reviewed = guided.Date{} }, day("2027-01-01"), guided.ErrUnreviewed},
		{"no next review date", func(rs *guided.RuleSet) { rs.NextReview = guided.Date{} }, day("2027-01-01"), guided.ErrUnreviewed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs := ruleSet(t)
			if tt.change != nil {
				tt.change(rs)
			}
			err := rs.Check(tt.now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Check(%s) = %v, want %v", tt.now.Format(time.DateOnly), err, tt.want)
			}
		})
	}
	if shipped.Author.Name == "" || shipped.Reviewer.Name == "" || len(shipped.Sources) < 5 {
		t.Errorf("the shipped rule set names author %q, reviewer %q and %d sources", shipped.Author.Name, shipped.Reviewer.Name, len(shipped.Sources))
	}
}

// TestParseRefuses: a rule set that cites what it does not list, or names
// an approach the taxonomy lacks, is refused before anyone sees it.
func TestParseRefuses(t *testing.T) {
	t.Parallel()
	shipped, err := os.ReadFile("rules.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, old, new, want string }{
		{"unknown source", `"source": "cg31"`, `"source": "nice-made-up"`, "unknown source"},
		{"unknown approach", `"approach": "emdr", "evidence"`, `"approach": "tapping", "evidence"`, "not in the taxonomy"},
		{"unknown answer", `"when": "want=past"`, `"when": "want=magic"`, "not a question and answer"},
		{"no points", `"points": 4`, `"points": 0`, "positive points"},
		{"unknown field", `"version"`, `"versio"`, "unknown field"},
	}
	tax := taxonomy.MustLoad()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := bytes.Replace(shipped, []byte(tt.old), []byte(tt.new), 1)
			if bytes.Equal(doc, shipped) {
				t.Fatalf("%q is not in rules.json", tt.old)
			}
			if _, err := guided.Parse(doc, tax); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestReadKeepsOnlyOptions: answers carried in hidden fields are read
// back; anything that is not an option is dropped.
func TestReadKeepsOnlyOptions(t *testing.T) {
	t.Parallel()
	v := url.Values{"issue": {"ocd", "nonsense", "anxiety"}, "who": {"couple"}, "want": {"past", "<script>"}, "format": {"online"},
		"near": {"  Leeds  "}, "max_fee": {"£60"}, "concessions": {"true"}, "language": {"CY"}, "safety": {"maybe"}}
	a := guided.Read(v)
	if !slices.Equal(a.Issues, []string{"anxiety", "ocd"}) || a.Who != "couple" || !slices.Equal(a.Wants, []string{"past"}) ||
		a.Near != "Leeds" || a.MaxFee != "60" || !a.Concessions || a.Language != "cy" || a.Safety != "" {
		t.Errorf("Read = %+v", a)
	}
	if back := guided.Read(a.Values()); !slices.Equal(back.Issues, a.Issues) || back.Near != a.Near || back.MaxFee != a.MaxFee || back.Who != a.Who {
		t.Errorf("round trip %+v, want %+v", back, a)
	}
}

// TestSteps: at most eight questions, safety first, then check answers.
func TestSteps(t *testing.T) {
	t.Parallel()
	qs := guided.Questions()
	if len(qs) > 8 || qs[0] != guided.StepSafety {
		t.Fatalf("questions %v: want at most 8, safety first", qs)
	}
	if guided.StepLanguage.Next() != guided.StepCheck || guided.StepSafety.Prev() != "" || guided.StepIssues.Prev() != guided.StepSafety {
		t.Error("steps out of order")
	}
}
