package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/taxonomy"
)

// The guided path ("Which kind of therapy might suit me?") asks one
// question per page. Its answers are health data, so they live only in the
// pages' form posts: each page carries the earlier answers as hidden
// fields, nothing is kept on the server, and nothing about them is logged.
// Posting (rather than GET forms) keeps them out of addresses, and so out
// of access logs, browser history and Referer headers; the pages are
// no-store because they hold forms that post.

// hiddenField is one carried answer.
type hiddenField struct{ Name, Value string }

// choiceView is a radio or checkbox option with its state.
type choiceView struct {
	ID, Name, Type, Value, Label, Hint string
	Checked                            bool
}

// choiceInputs are the field name and input type of each page's options.
var choiceInputs = map[guided.Step][2]string{
	guided.StepSafety: {guided.FieldSafety, "radio"},
	guided.StepIssues: {guided.FieldIssue, "checkbox"},
	guided.StepWho:    {guided.FieldWho, "radio"},
	guided.StepWant:   {guided.FieldWant, "checkbox"},
	guided.StepLength: {guided.FieldLength, "radio"},
	guided.StepFormat: {guided.FieldFormat, "checkbox"},
}

type languageOption struct {
	Code, Name string
	Selected   bool
}

// guidedPage is a question page.
type guidedPage struct {
	layout
	Step           guided.Step
	Question, Hint string
	Number, Total  int
	// Carry is every answer except this page's own; All is every answer,
	// for the Back and "I need help now" forms.
	Carry, All []hiddenField
	FromCheck  bool
	Errors     []fieldMsg
	Choices    []choiceView
	Other      bool
	Near       string
	MaxFee     string
	Concession bool
	Languages  []languageOption
}

// answerRow is one line of the "check your answers" page.
type answerRow struct {
	Step     guided.Step
	Question string
	Answer   string
}

type guidedCheckPage struct {
	layout
	All  []hiddenField
	Rows []answerRow
}

// guidedCrisisPage shows the crisis lines; Resume is the page to go on
// to, with the answers so far, if the person wants to carry on.
type guidedCrisisPage struct {
	layout
	Resume guided.Step
	All    []hiddenField
}

type suggestionView struct {
	Slug, Label              string
	Reasons                  []string
	Evidence                 string
	Source                   guided.Source
	ArticleURL, ArticleTitle string
	// SearchURL searches for this approach with everything else said;
	// Count is how many therapists it finds. WiderURL and WiderCount drop
	// all but the approach, offered when the full search finds nobody.
	SearchURL  string
	Count      int
	WiderURL   string
	WiderCount int
}

type guidedResultPage struct {
	layout
	Suggestions []suggestionView
	// AllURL searches for any of the suggested approaches with every
	// other answer; AllCount is how many it finds.
	AllURL   string
	AllCount int
	Skipped  bool
	// Risk is set when the person said they hurt themselves: the page
	// then shows the crisis lines above the suggestions.
	Risk  bool
	Rules *guided.RuleSet
	All   []hiddenField
}

// guidedOffPage is shown instead of the path when the rules may not be
// used.
type guidedOffPage struct {
	layout
	Reason string
}

type guidedHowPage struct {
	layout
	Rules    *guided.RuleSet
	Usable   bool
	Problem  string
	Groups   []ruleGroup
	Labels   map[string]string
	Fallback []string
}

// ruleGroup is the rules that test one question, for the public page.
type ruleGroup struct {
	Question string
	Rules    []ruleView
}

type ruleView struct {
	Answer, Approach, Reason string
	Points                   int
}

// questions are the headings of the pages, also used on the check page.
var questions = map[guided.Step]string{
	guided.StepSafety:   "Are you in danger, or thinking about harming yourself?",
	guided.StepIssues:   "What would you like help with?",
	guided.StepWho:      "Who is the therapy for?",
	guided.StepWant:     "What would you like from therapy?",
	guided.StepLength:   "Would you prefer short-term or open-ended therapy?",
	guided.StepFormat:   "How would you like to meet?",
	guided.StepBudget:   "How much can you pay for each session?",
	guided.StepLanguage: "Which language would you like to have therapy in?",
}

// hints say under each question what kind of answer it wants.
var hints = map[guided.Step]string{
	guided.StepSafety: "We ask everyone this first. If you are, we will show you who can help straight away, and you can come back to the questions afterwards.",
	guided.StepIssues: "Choose as many as you like. You can skip this.",
	guided.StepWho:    "Choose one. You can skip this.",
	guided.StepWant:   "Choose any that feel right. There are no wrong answers.",
	guided.StepLength: "Choose one. You can skip this.",
	guided.StepFormat: "Choose any you would be happy with. You can skip this.",
}

var wholePounds = regexp.MustCompile(`^[0-9]{1,5}$`)

// guidedRules returns the rule set in force (guided.Rules.Current) and,
// when it may not be used, why in words for the public (otherwise "").
func (h *Handler) guidedRules(r *http.Request) (*guided.RuleSet, string, error) {
	rules := guided.Rules{Shipped: h.Guided, Tax: h.Tax, Now: h.Now}
	if h.Content != nil {
		rules.Articles = h.Content
	}
	rs, err := rules.Current(r.Context())
	if err == nil || !guided.Refused(err) {
		return rs, "", err
	}
	if errors.Is(err, guided.ErrUnreadable) {
		h.Log.ErrorContext(r.Context(), "guided rules article cannot be read", "err", err)
	}
	return rs, guided.RefusalText(rs, err), nil
}

func (h *Handler) guidedOff(w http.ResponseWriter, r *http.Request, reason string) error {
	page := guidedOffPage{layout: h.layout(r, "Suggestions are not available", "search"), Reason: reason}
	return h.render(w, r, http.StatusOK, "guided-off", page)
}

// showGuided is the first page: the safety question.
func (h *Handler) showGuided(w http.ResponseWriter, r *http.Request) error {
	if _, p, err := h.guidedRules(r); err != nil || p != "" {
		if err != nil {
			return err
		}
		return h.guidedOff(w, r, p)
	}
	return h.renderStep(w, r, guided.StepSafety, guided.Answers{}, false, nil)
}

// postGuided moves through the path: "go" says which way.
func (h *Handler) postGuided(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	rs, p, err := h.guidedRules(r)
	if err != nil {
		return err
	}
	if p != "" {
		return h.guidedOff(w, r, p)
	}
	v := r.PostForm
	step := guided.Step(v.Get("step"))
	if !step.Valid() {
		step = guided.StepSafety
	}
	action := v.Get("go")
	fromCheck := v.Get("from_check") == "true"
	if action == "skip" {
		for _, f := range guided.StepFields(step) {
			v.Del(f)
		}
	}
	a := guided.Read(v)
	switch {
	case action == "help":
		return h.renderCrisis(w, r, step, a)
	case action == "back":
		prev := step.Prev()
		if prev == "" {
			prev = guided.StepSafety
		}
		return h.renderStep(w, r, prev, a, false, nil)
	case action == "resume":
		return h.renderStep(w, r, step, a, false, nil)
	case strings.HasPrefix(action, "change-"):
		target := guided.Step(strings.TrimPrefix(action, "change-"))
		if !target.Valid() || target == guided.StepCheck {
			return errs.Invalid
		}
		return h.renderStep(w, r, target, a, true, nil)
	case action == "check":
		return h.renderCheck(w, r, a)
	case action == "results":
		return h.renderResult(w, r, rs, a)
	}
	if problems := h.checkStep(step, &a); len(problems) > 0 {
		return h.renderStep(w, r, step, a, fromCheck, problems)
	}
	if step == guided.StepSafety && a.Safety == "yes" {
		// Help first, before anything else is asked.
		return h.renderCrisis(w, r, guided.StepIssues, a)
	}
	next := step.Next()
	if fromCheck {
		next = guided.StepCheck
	}
	return h.renderStep(w, r, next, a, false, nil)
}

// checkStep validates what a page asks that can be mistyped: the place
// and the fee. Codes we do not know are dropped.
func (h *Handler) checkStep(step guided.Step, a *guided.Answers) []fieldMsg {
	var out []fieldMsg
	switch step {
	case guided.StepFormat:
		if a.Near != "" {
			if loc, err := h.Gaz.Resolve(a.Near); err != nil {
				out = append(out, fieldMsg{ID: "near", Message: fmt.Sprintf("We could not find %q. Check the spelling, try a postcode, or leave it blank", a.Near)})
			} else if loc.Corrected {
				// "Leds" was a slip for Leeds: carry the name meant, so the
				// check page shows what will be searched.
				a.Near = loc.Label
			}
		}
	case guided.StepBudget:
		if a.MaxFee != "" && !wholePounds.MatchString(a.MaxFee) {
			out = append(out, fieldMsg{ID: "max_fee", Message: "Enter an amount in whole pounds, such as 50, or leave it blank"})
		}
	case guided.StepLanguage:
		if _, ok := h.Tax.Language(a.Language); !ok {
			a.Language = ""
		}
	}
	return out
}

// carry lists the answers as hidden fields, leaving out except's own.
func carry(a guided.Answers, except guided.Step) []hiddenField {
	skip := guided.StepFields(except)
	v := a.Values()
	var out []hiddenField
	for _, name := range guided.Fields() {
		if slices.Contains(skip, name) {
			continue
		}
		for _, val := range v[name] {
			out = append(out, hiddenField{name, val})
		}
	}
	return out
}

func (h *Handler) renderStep(w http.ResponseWriter, r *http.Request, step guided.Step, a guided.Answers, fromCheck bool, problems []fieldMsg) error {
	if step == guided.StepCheck {
		return h.renderCheck(w, r, a)
	}
	title := questions[step]
	if len(problems) > 0 {
		title = "Error: " + title
	}
	page := guidedPage{
		layout: h.layout(r, title, "search"), Step: step, Question: questions[step], Hint: hints[step], Number: step.Number(), Total: len(guided.Questions()),
		Carry: carry(a, step), All: carry(a, ""), FromCheck: fromCheck, Errors: problems,
		Other: a.Other, Near: a.Near, MaxFee: a.MaxFee, Concession: a.Concessions,
	}
	chosen := map[guided.Step][]string{guided.StepSafety: {a.Safety}, guided.StepIssues: a.Issues, guided.StepWho: {a.Who},
		guided.StepWant: a.Wants, guided.StepLength: {a.Length}, guided.StepFormat: a.Formats}[step]
	for i, c := range guided.Choices(step) {
		in := choiceInputs[step]
		page.Choices = append(page.Choices, choiceView{ID: fmt.Sprintf("%s-%d", step, i+1), Name: in[0], Type: in[1], Value: c.Value, Label: c.Label, Hint: c.Hint, Checked: slices.Contains(chosen, c.Value)})
	}
	if step == guided.StepLanguage {
		for _, l := range h.Tax.Languages {
			page.Languages = append(page.Languages, languageOption{Code: l.Code, Name: l.Name, Selected: l.Code == a.Language})
		}
		slices.SortFunc(page.Languages, func(x, y languageOption) int { return strings.Compare(x.Name, y.Name) })
	}
	return h.render(w, r, http.StatusOK, "guided", page)
}

func (h *Handler) renderCheck(w http.ResponseWriter, r *http.Request, a guided.Answers) error {
	page := guidedCheckPage{layout: h.layout(r, "Check your answers", "search"), All: carry(a, "")}
	labels := func(s guided.Step, vals []string) string {
		var out []string
		for _, v := range vals {
			out = append(out, guided.Label(s, v))
		}
		return strings.Join(out, "; ")
	}
	issues := labels(guided.StepIssues, a.Issues)
	if a.Other {
		issues = strings.Join(slices.DeleteFunc([]string{issues, "Something else"}, func(s string) bool { return s == "" }), "; ")
	}
	meet := labels(guided.StepFormat, a.Formats)
	if a.Near != "" {
		meet = strings.Join(slices.DeleteFunc([]string{meet, "Near " + a.Near}, func(s string) bool { return s == "" }), "; ")
	}
	budget := ""
	if a.MaxFee != "" {
		budget = "Up to £" + a.MaxFee
	}
	if a.Concessions {
		budget = strings.Join(slices.DeleteFunc([]string{budget, "Lower fees (concessions) wanted"}, func(s string) bool { return s == "" }), "; ")
	}
	answers := map[guided.Step]string{
		guided.StepSafety:   guided.Label(guided.StepSafety, a.Safety),
		guided.StepIssues:   issues,
		guided.StepWho:      guided.Label(guided.StepWho, a.Who),
		guided.StepWant:     labels(guided.StepWant, a.Wants),
		guided.StepLength:   guided.Label(guided.StepLength, a.Length),
		guided.StepFormat:   meet,
		guided.StepBudget:   budget,
		guided.StepLanguage: h.Tax.LanguageName(a.Language),
	}
	for _, s := range guided.Questions() {
		if s == guided.StepSafety {
			continue
		}
		page.Rows = append(page.Rows, answerRow{Step: s, Question: questions[s], Answer: answers[s]})
	}
	return h.render(w, r, http.StatusOK, "guided-check", page)
}

func (h *Handler) renderCrisis(w http.ResponseWriter, r *http.Request, resume guided.Step, a guided.Answers) error {
	page := guidedCrisisPage{layout: h.layout(r, "Help now", "search"), Resume: resume, All: carry(a, "")}
	return h.render(w, r, http.StatusOK, "guided-crisis", page)
}

// showGuidedHelp is the crisis page reached by a link.
func (h *Handler) showGuidedHelp(w http.ResponseWriter, r *http.Request) error {
	return h.renderCrisis(w, r, "", guided.Answers{})
}

func (h *Handler) renderResult(w http.ResponseWriter, r *http.Request, rs *guided.RuleSet, a guided.Answers) error {
	links, err := h.publicArticles(r.Context(), content.KindTherapy)
	if err != nil {
		return err
	}
	page := guidedResultPage{layout: h.layout(r, "Therapies that might suit you", "search"), Rules: rs, All: carry(a, "")}
	page.Risk = a.Safety == "yes" || slices.Contains(a.Issues, "self-harm")
	page.Skipped = len(a.Issues) == 0 && a.Who == "" && len(a.Wants) == 0 && a.Length == ""
	var all []string
	for _, s := range rs.Suggest(a) {
		sv := suggestionView{Slug: s.Approach, Label: h.Tax.Label(taxonomy.Approach, s.Approach), Reasons: s.Reasons, Evidence: s.Evidence, Source: s.Source}
		if l, ok := links[s.Approach]; ok {
			sv.ArticleURL, sv.ArticleTitle = l.URL, l.Title
		}
		sv.SearchURL, sv.Count = h.guidedSearch(a, []string{s.Approach}, true)
		if sv.Count == 0 {
			sv.WiderURL, sv.WiderCount = h.guidedSearch(a, []string{s.Approach}, false)
		}
		if h.SuggestionCounter != nil {
			h.SuggestionCounter.Suggested(s.Approach)
		}
		page.Suggestions = append(page.Suggestions, sv)
		all = append(all, s.Approach)
	}
	page.AllURL, page.AllCount = h.guidedSearch(a, all, true)
	return h.render(w, r, http.StatusOK, "guided-result", page)
}

// guidedSearch is the search for any of approaches from the answers
// (guided.Search) as a search page address, with its count.
func (h *Handler) guidedSearch(a guided.Answers, approaches []string, full bool) (string, int) {
	v, n := guided.Search(h.Parser, h.Index, h.Now(), a, approaches, full)
	return "/search?" + v.Encode(), n
}

// showGuidedHow is the public account of the rules: who wrote and
// reviewed them, when, on what sources, and every rule.
func (h *Handler) showGuidedHow(w http.ResponseWriter, r *http.Request) error {
	rs, problem, err := h.guidedRules(r)
	if err != nil {
		return err
	}
	page := guidedHowPage{layout: h.layout(r, "How our suggestions work", "search"), Rules: rs, Labels: map[string]string{}, Problem: problem, Usable: problem == ""}
	if rs == nil {
		return h.render(w, r, http.StatusOK, "guided-how", page)
	}
	for _, ap := range rs.Approaches {
		page.Labels[ap.Approach] = h.Tax.Label(taxonomy.Approach, ap.Approach)
	}
	names := map[string]string{"issue": "What would you like help with?", "who": questions[guided.StepWho], "want": questions[guided.StepWant], "length": questions[guided.StepLength], "format": questions[guided.StepFormat]}
	steps := map[string]guided.Step{"issue": guided.StepIssues, "who": guided.StepWho, "want": guided.StepWant, "length": guided.StepLength, "format": guided.StepFormat}
	var order []string
	byQ := map[string][]ruleView{}
	for _, rule := range rs.Rules {
		q, val, _ := strings.Cut(rule.When, "=")
		if _, ok := byQ[q]; !ok {
			order = append(order, q)
		}
		byQ[q] = append(byQ[q], ruleView{Answer: guided.Label(steps[q], val), Approach: page.Labels[rule.Approach], Reason: rule.Reason, Points: rule.Points})
	}
	for _, q := range order {
		page.Groups = append(page.Groups, ruleGroup{Question: names[q], Rules: byQ[q]})
	}
	for _, f := range rs.Fallback {
		page.Fallback = append(page.Fallback, page.Labels[f.Approach])
	}
	return h.render(w, r, http.StatusOK, "guided-how", page)
}
