package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/guided"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Articles is what the guided endpoint reads of the articles: the rules
// article that may replace the shipped rules, and the therapy articles a
// suggestion links to.
type Articles interface {
	guided.Articles
	Articles(ctx context.Context) ([]*content.Article, error)
}

// SuggestionCounter counts how often each approach is suggested, when the
// operator has turned anonymous counts on; it never sees the answers.
type SuggestionCounter interface {
	Suggested(approach string)
}

// maxGuidedBody bounds the answers document: eight short answers fit in
// a few hundred bytes.
const maxGuidedBody = 16 << 10

// guidedRequest is the answers of the guided path, each skippable: a
// missing or empty field is a skipped question. Values are those of the
// path's own options (GET /api/openapi.json lists them).
type guidedRequest struct {
	Safety      string   `json:"safety"`
	Issues      []string `json:"issues"`
	IssueOther  bool     `json:"issue_other"`
	Who         string   `json:"who"`
	Wants       []string `json:"wants"`
	Length      string   `json:"length"`
	Formats     []string `json:"formats"`
	Near        string   `json:"near"`
	MaxFeeGBP   *int     `json:"max_fee_gbp"`
	Concessions bool     `json:"concessions"`
	Language    string   `json:"language"`
}

type personJSON struct {
	Name        string `json:"name"`
	Credentials string `json:"credentials"`
}

type rulesJSON struct {
	Version    string     `json:"version"`
	Author     personJSON `json:"author"`
	Reviewer   personJSON `json:"reviewer"`
	Reviewed   string     `json:"reviewed"`
	NextReview string     `json:"next_review"`
	// HowURL is the public page listing every rule and source.
	HowURL string `json:"how_url"`
}

type sourceJSON struct {
	Title     string `json:"title"`
	Publisher string `json:"publisher"`
	Year      int    `json:"year"`
	URL       string `json:"url"`
}

type searchLinkJSON struct {
	SearchURL string `json:"search_url"`
	APIURL    string `json:"api_url"`
	Count     int    `json:"count"`
}

type suggestionJSON struct {
	Approach   string      `json:"approach"`
	Label      string      `json:"label"`
	Reasons    []string    `json:"reasons"`
	Evidence   string      `json:"evidence"`
	Source     *sourceJSON `json:"source"`
	ArticleURL string      `json:"article_url,omitempty"`
	searchLinkJSON
	// Wider drops every answer but the approach and the formats; it is
	// given when the full search finds nobody.
	Wider *searchLinkJSON `json:"wider,omitempty"`
}

type guidedJSON struct {
	Rules rulesJSON `json:"rules"`
	// Risk is true when the answers say the person is in danger or hurts
	// themselves: show the crisis lines first.
	Risk        bool             `json:"risk"`
	CrisisLines []string         `json:"crisis_lines"`
	Suggestions []suggestionJSON `json:"suggestions"`
	// All searches for any of the suggested approaches.
	All searchLinkJSON `json:"all"`
	// Notice is what the suggestions are not, to show beside them.
	Notice string `json:"notice"`
}

// guidedNotice says what the suggestions are, in the result page's words.
const guidedNotice = "These suggestions are a starting point, not a diagnosis or a recommendation. Any therapist listed can talk through whether their way of working suits you, and none of them is an emergency service."

// suggest answers POST /api/v1/guided: the same suggestions, reasons and
// searches as the guided path's result page, from the same rule set. The
// answers are health data: they are read, used and forgotten — never
// logged, stored or echoed into an error message.
func (h *Handler) suggest(w http.ResponseWriter, r *http.Request) error {
	if h.Rules == nil {
		return errs.New(errs.NotFound, "api: the guided suggestions are not configured")
	}
	a, err := h.readAnswers(r)
	if err != nil {
		return err
	}
	rs, err := h.Rules.Current(r.Context())
	if guided.Refused(err) {
		return &refusal{text: guided.RefusalText(rs, err)}
	}
	if err != nil {
		return err
	}
	links := map[string]string{}
	if h.Articles != nil {
		as, err := h.Articles.Articles(r.Context())
		if err != nil {
			return err
		}
		for _, art := range as {
			if art.Kind == content.KindTherapy && art.IsPublic() && art.Live.Term() != "" {
				links[art.Live.Term()] = art.Kind.Path() + art.Slug
			}
		}
	}
	out := guidedJSON{
		Rules: rulesJSON{Version: rs.Version, Author: personJSON(rs.Author), Reviewer: personJSON(rs.Reviewer),
			Reviewed: rs.Reviewed.Format("2006-01-02"), NextReview: rs.NextReview.Format("2006-01-02"), HowURL: "/find/guided/how"},
		Risk:        a.Safety == "yes" || slices.Contains(a.Issues, "self-harm"),
		CrisisLines: nonNil(h.CrisisLines),
		Suggestions: []suggestionJSON{},
		Notice:      guidedNotice,
	}
	link := func(approaches []string, full bool) searchLinkJSON {
		v, n := guided.Search(h.Parser, h.Index, h.Now(), a, approaches, full)
		return searchLinkJSON{SearchURL: "/search?" + v.Encode(), APIURL: "/api/v1/therapists?" + v.Encode(), Count: n}
	}
	var all []string
	for _, s := range rs.Suggest(a) {
		sj := suggestionJSON{Approach: s.Approach, Label: h.Tax.Label(taxonomy.Approach, s.Approach), Reasons: nonNil(s.Reasons),
			Evidence: s.Evidence, ArticleURL: links[s.Approach], searchLinkJSON: link([]string{s.Approach}, true)}
		if s.Source.Title != "" {
			sj.Source = &sourceJSON{Title: s.Source.Title, Publisher: s.Source.Publisher, Year: s.Source.Year, URL: s.Source.URL}
		}
		if sj.Count == 0 {
			wider := link([]string{s.Approach}, false)
			sj.Wider = &wider
		}
		if h.Counter != nil {
			h.Counter.Suggested(s.Approach)
		}
		out.Suggestions = append(out.Suggestions, sj)
		all = append(all, s.Approach)
	}
	out.All = link(all, true)
	// The answers are in the body, not the address, and the answer says
	// what they are: no cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, r, http.StatusOK, out)
	return nil
}

// refusal is a rule set that may not be used: a 503 whose message says
// why, in the guided path's words.
type refusal struct{ text string }

func (e *refusal) Error() string { return e.text }
func (e *refusal) Unwrap() error { return errs.Unavailable }

// readAnswers decodes and checks the answers. Unlike the path's pages,
// which carry their own hidden fields and drop an odd value, the API
// refuses anything it does not know, naming the field and the values it
// takes; the message never repeats what was sent.
func (h *Handler) readAnswers(r *http.Request) (guided.Answers, error) {
	var req guidedRequest
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return guided.Answers{}, invalidParam("body", "Send the answers as a JSON object (Content-Type: application/json).", nil)
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxGuidedBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute) && ute.Field != "":
			return guided.Answers{}, invalidParam(ute.Field, fmt.Sprintf("%s has the wrong type: it should be %s.", ute.Field, jsonType(ute.Type.Kind().String())), nil)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return guided.Answers{}, invalidParam(name, fmt.Sprintf("%q is not one of the answers this endpoint takes.", name), guidedFieldNames)
		}
		return guided.Answers{}, invalidParam("body", "The body is not a JSON object of answers, or is larger than 16 KiB.", nil)
	}
	if dec.More() {
		return guided.Answers{}, invalidParam("body", "Send one JSON object of answers.", nil)
	}
	a := guided.Answers{Issues: req.Issues, Other: req.IssueOther, Wants: req.Wants, Formats: req.Formats,
		Concessions: req.Concessions, Safety: req.Safety, Who: req.Who, Length: req.Length,
		Near: strings.TrimSpace(req.Near), Language: strings.ToLower(strings.TrimSpace(req.Language))}
	one := []struct {
		name, value string
		step        guided.Step
	}{{"safety", a.Safety, guided.StepSafety}, {"who", a.Who, guided.StepWho}, {"length", a.Length, guided.StepLength}}
	for _, f := range one {
		if f.value != "" && !validChoice(f.step, f.value) {
			return guided.Answers{}, invalidParam(f.name, fmt.Sprintf("%s must be one of %s, or left out.", f.name, strings.Join(choiceValues(f.step), ", ")), choiceValues(f.step))
		}
	}
	many := []struct {
		name   string
		values []string
		step   guided.Step
	}{{"issues", a.Issues, guided.StepIssues}, {"wants", a.Wants, guided.StepWant}, {"formats", a.Formats, guided.StepFormat}}
	for _, f := range many {
		if len(f.values) > 20 {
			return guided.Answers{}, invalidParam(f.name, fmt.Sprintf("%s lists too many answers (at most 20).", f.name), nil)
		}
		for _, v := range f.values {
			if !validChoice(f.step, v) {
				return guided.Answers{}, invalidParam(f.name, fmt.Sprintf("%s may only contain %s.", f.name, strings.Join(choiceValues(f.step), ", ")), choiceValues(f.step))
			}
		}
	}
	if a.Near != "" {
		if len(a.Near) > 100 {
			return guided.Answers{}, invalidParam("near", "near is too long: give a town, a postcode district or a postcode.", nil)
		}
		if _, err := h.Gaz.Resolve(a.Near); err != nil {
			return guided.Answers{}, invalidParam("near", "near is not a UK place or postcode we know. Check the spelling, try a postcode, or leave it out.", nil)
		}
	}
	if req.MaxFeeGBP != nil {
		if *req.MaxFeeGBP < 0 || *req.MaxFeeGBP > 99999 {
			return guided.Answers{}, invalidParam("max_fee_gbp", "max_fee_gbp must be a whole number of pounds from 0 to 99999, or left out.", nil)
		}
		a.MaxFee = fmt.Sprint(*req.MaxFeeGBP)
	}
	if a.Language != "" {
		if _, ok := h.Tax.Language(a.Language); !ok {
			var codes []string
			for _, l := range h.Tax.Languages {
				codes = append(codes, l.Code)
			}
			return guided.Answers{}, invalidParam("language", "language must be one of the directory's ISO 639-1 language codes (GET /api/v1/taxonomy lists them), or left out.", codes)
		}
	}
	return a, nil
}

// guidedFieldNames are the request's fields, for the unknown-field error.
var guidedFieldNames = []string{"safety", "issues", "issue_other", "who", "wants", "length", "formats", "near", "max_fee_gbp", "concessions", "language"}

func validChoice(s guided.Step, v string) bool {
	return slices.Contains(choiceValues(s), v)
}

func choiceValues(s guided.Step) []string {
	var out []string
	for _, c := range guided.Choices(s) {
		out = append(out, c.Value)
	}
	return out
}

// jsonType names a Go kind as JSON calls it.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice":
		return "an array of strings"
	case "bool":
		return "true or false"
	case "int", "int64", "ptr":
		return "a whole number"
	}
	return "of another type"
}

// invalidParam is a 400 naming one field, in the search's error shape.
func invalidParam(name, msg string, valid []string) error {
	return &search.QueryError{Params: errs.Fields{name: msg}, Suggestions: map[string][]string{name: nonNil(valid)}}
}
