// Package markup renders Markdown written by therapists (and, later,
// editors) into HTML that is safe to put on a page: goldmark parses it
// without raw HTML, then bluemonday keeps only a small set of harmless
// elements, so no script, style or tracking pixel can get through.
package markup

import (
	"bytes"
	"html"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Renderer turns Markdown into sanitised HTML. It is safe for concurrent
// use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	// demote turns h1/h2 into h3 (user text must not outrank the page).
	demote bool
}

// New returns a renderer for user-written text.
func New() *Renderer {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "em", "strong", "ul", "ol", "li", "blockquote", "h3", "h4", "code")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("https", "http", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return &Renderer{
		md:     goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough)),
		policy: p,
		demote: true,
	}
}

// NewArticle returns a renderer for editors' articles: sections are h2
// with ids (for the contents list), subsections h3; everything else is as
// strict as for therapists' text.
func NewArticle() *Renderer {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "em", "strong", "ul", "ol", "li", "blockquote", "h2", "h3", "h4", "code")
	p.AllowAttrs("id").Matching(headingID).OnElements("h2", "h3")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("https", "http", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(false)
	p.RequireNoReferrerOnLinks(true)
	return &Renderer{
		md:     goldmark.New(goldmark.WithExtensions(extension.Linkify), goldmark.WithParserOptions(parser.WithAutoHeadingID())),
		policy: p,
	}
}

var h1Re = regexp.MustCompile(`<(/?)h1([ >])`)

var headingID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,80}$`)

// Heading is a section of a rendered article.
type Heading struct{ ID, Text string }

var h2Re = regexp.MustCompile(`<h2 id="([a-z0-9-]+)">(.*?)</h2>`)
var tagRe = regexp.MustCompile(`<[^>]*>`)

// Headings lists the h2 sections of rendered HTML, for a contents list.
func Headings(h template.HTML) []Heading {
	var out []Heading
	for _, m := range h2Re.FindAllStringSubmatch(string(h), -1) {
		out = append(out, Heading{ID: m[1], Text: html.UnescapeString(tagRe.ReplaceAllString(m[2], ""))})
	}
	return out
}

// Render converts Markdown to sanitised HTML. Headings are demoted to h3 so
// a statement cannot outrank the page's own headings.
func (r *Renderer) Render(src string) template.HTML {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors; a bytes.Buffer has none.
		return template.HTML(template.HTMLEscapeString(src))
	}
	out := buf.String()
	if r.demote {
		out = strings.NewReplacer(
			"<h1>", "<h3>", "</h1>", "</h3>", "<h2>", "<h3>", "</h2>", "</h3>",
			"<h5>", "<h4>", "</h5>", "</h4>", "<h6>", "<h4>", "</h6>", "</h4>",
		).Replace(out)
	} else {
		out = h1Re.ReplaceAllString(out, "<${1}h2${2}")
	}
	return template.HTML(r.policy.Sanitize(out)) //nolint:gosec // sanitised by the policy above
}
