// Package markup renders Markdown written by therapists (and, later,
// editors) into HTML that is safe to put on a page: goldmark parses it
// without raw HTML, then bluemonday keeps only a small set of harmless
// elements, so no script, style or tracking pixel can get through.
package markup

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Renderer turns Markdown into sanitised HTML. It is safe for concurrent
// use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
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
	}
}

// Render converts Markdown to sanitised HTML. Headings are demoted to h3 so
// a statement cannot outrank the page's own headings.
func (r *Renderer) Render(src string) template.HTML {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors; a bytes.Buffer has none.
		return template.HTML(template.HTMLEscapeString(src))
	}
	html := strings.NewReplacer(
		"<h1>", "<h3>", "</h1>", "</h3>", "<h2>", "<h3>", "</h2>", "</h3>",
		"<h5>", "<h4>", "</h5>", "</h4>", "<h6>", "<h4>", "</h6>", "</h4>",
	).Replace(buf.String())
	return template.HTML(r.policy.Sanitize(html)) //nolint:gosec // sanitised by the policy above
}
