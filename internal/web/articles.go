package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/markup"
	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// ContentReader is what the public article pages read.
type ContentReader interface {
	ArticleBySlug(ctx context.Context, kind content.Kind, slug string) (*content.Article, error)
	Articles(ctx context.Context) ([]*content.Article, error)
	Contributors(ctx context.Context) ([]content.Contributor, error)
	ContributorByID(ctx context.Context, id int64) (*content.Contributor, error)
	Revisions(ctx context.Context, articleID int64) ([]content.Revision, error)
	ArticleByID(ctx context.Context, id int64) (*content.Article, error)
}

// ProfileLister streams every profile, for the sitemap.
type ProfileLister interface {
	EachProfile(ctx context.Context, fn func(*directory.Profile) error) (int64, error)
}

type personView struct {
	Name, Credentials, Bio, Slug string
}

type faqView struct {
	Question string
	Answer   template.HTML
}

type articlePage struct {
	layout
	Kind          content.Kind
	Section       string
	SectionURL    string
	Heading       string
	Summary       string
	Author        personView
	Reviewer      personView
	ReviewComment string
	LastUpdated   time.Time
	LastReviewed  time.Time
	NextDue       time.Time
	Overdue       bool
	// EditorsTold: the editors have been emailed about the overdue
	// review (the page says so only then).
	EditorsTold bool
	Contents    []markup.Heading
	Body        template.HTML
	FAQs        []faqView
	Sources     []content.Source
	Funding     string
	Panel       []personView
	// Find a therapist block.
	Term, TermLabel, TermParam string
	TherapistCount             int
	JSONLD                     []any
	Preview                    bool
	Sample                     bool
}

func (h *Handler) contributor(ctx context.Context, id int64) personView {
	if id == 0 {
		return personView{}
	}
	c, err := h.Content.ContributorByID(ctx, id)
	if err != nil {
		return personView{}
	}
	return personView{Name: c.Name, Credentials: c.Credentials, Bio: c.Bio, Slug: c.Slug}
}

// countFor is how many verified therapists offer a term right now.
func (h *Handler) countFor(kind content.Kind, term string) int {
	res := h.everything()
	facet := search.FacetApproach
	if kind == content.KindIssue {
		facet = search.FacetIssue
	}
	for _, c := range res.Facets[facet] {
		if c.Value == term {
			return c.Count
		}
	}
	return 0
}

func sectionOf(k content.Kind) (string, string) {
	switch k {
	case content.KindTherapy:
		return "Types of therapy", "/therapies"
	case content.KindIssue:
		return "What therapy can help with", "/issues"
	}
	return "Guides", "/guides"
}

// articleView builds the page for revision r of article a.
func (h *Handler) articleView(r *http.Request, a *content.Article, rev *content.Revision, now time.Time) (articlePage, error) {
	ctx := r.Context()
	body := h.ArticleMarkup.Render(rev.Body)
	nav := map[content.Kind]string{content.KindTherapy: "therapies", content.KindIssue: "issues"}[a.Kind]
	page := articlePage{layout: h.layout(r, rev.Title, nav), Kind: a.Kind, Heading: rev.Title, Summary: rev.Summary,
		Author: h.contributor(ctx, rev.AuthorID), Reviewer: h.contributor(ctx, rev.ReviewerID), ReviewComment: rev.ReviewComment,
		LastUpdated: a.UpdatedAt, LastReviewed: rev.ReviewedAt, NextDue: rev.NextReviewDue,
		Overdue:  !rev.NextReviewDue.IsZero() && !now.Before(rev.NextReviewDue.AddDate(0, 0, 1)),
		Contents: markup.Headings(body), Body: body, Sources: rev.Sources, Funding: rev.Funding, Sample: h.Config.Demo}
	if page.Overdue {
		told, err := h.Editorial.EditorsTold(ctx, a, rev)
		if err != nil {
			return page, err
		}
		page.EditorsTold = told
	}
	page.Section, page.SectionURL = sectionOf(a.Kind)
	page.Description = rev.Summary
	if page.LastUpdated.IsZero() {
		page.LastUpdated = rev.SavedAt
	}
	for _, f := range rev.FAQs {
		page.FAQs = append(page.FAQs, faqView{Question: f.Question, Answer: h.ArticleMarkup.Render(f.Answer)})
	}
	panel, err := h.Content.Contributors(ctx)
	if err != nil {
		return page, err
	}
	for _, c := range panel {
		if c.Panel {
			page.Panel = append(page.Panel, personView{Name: c.Name, Credentials: c.Credentials, Slug: c.Slug})
		}
	}
	if t := rev.Term(); t != "" {
		kind, param := taxonomy.Approach, "approach"
		if a.Kind == content.KindIssue || (a.Kind == content.KindGuide && h.Tax.Label(taxonomy.Approach, t) == t) {
			kind, param = taxonomy.Issue, "issue"
		}
		page.Term, page.TermLabel, page.TermParam = t, lowerFirst(h.Tax.Label(kind, t)), param
		ck := content.KindTherapy
		if param == "issue" {
			ck = content.KindIssue
		}
		page.TherapistCount = h.countFor(ck, t)
	}
	page.JSONLD = h.articleJSONLD(a, rev, page)
	return page, nil
}

func (h *Handler) showArticle(kind content.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := h.Content.ArticleBySlug(r.Context(), kind, r.PathValue("slug"))
		if err != nil {
			return err
		}
		if !a.IsPublic() {
			return errs.NotFound
		}
		page, err := h.articleView(r, a, a.Live, h.Now())
		if err != nil {
			return err
		}
		return h.render(w, r, http.StatusOK, "article", page)
	}
}

type guidesPage struct {
	layout
	Guides []articleLink
}

type articleLink struct {
	Title, Summary, URL string
}

func (h *Handler) listGuides(w http.ResponseWriter, r *http.Request) error {
	as, err := h.Content.Articles(r.Context())
	if err != nil {
		return err
	}
	page := guidesPage{layout: h.layout(r, "Guides", "")}
	for _, a := range as {
		if a.Kind == content.KindGuide && a.IsPublic() {
			page.Guides = append(page.Guides, articleLink{a.Live.Title, a.Live.Summary, a.Kind.Path() + a.Slug})
		}
	}
	return h.render(w, r, http.StatusOK, "guides", page)
}

// publicArticles maps each taxonomy term to its public article's address.
func (h *Handler) publicArticles(ctx context.Context, kind content.Kind) (map[string]articleLink, error) {
	out := map[string]articleLink{}
	if h.Content == nil {
		return out, nil
	}
	as, err := h.Content.Articles(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a.Kind == kind && a.IsPublic() && a.Live.Term() != "" {
			out[a.Live.Term()] = articleLink{a.Live.Title, a.Live.Summary, a.Kind.Path() + a.Slug}
		}
	}
	return out, nil
}

type panelMember struct {
	personView
	Reviewed []articleLink
}

type panelPage struct {
	layout
	Members []panelMember
}

func (h *Handler) showPanel(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.Content.Contributors(r.Context())
	if err != nil {
		return err
	}
	as, err := h.Content.Articles(r.Context())
	if err != nil {
		return err
	}
	page := panelPage{layout: h.layout(r, "Our expert panel", "")}
	page.Description = "The qualified professionals who review every article before it is published."
	for _, c := range cs {
		if !c.Panel {
			continue
		}
		m := panelMember{personView: personView{Name: c.Name, Credentials: c.Credentials, Bio: c.Bio, Slug: c.Slug}}
		for _, a := range as {
			if a.IsPublic() && a.Live.ReviewerID == c.ID {
				m.Reviewed = append(m.Reviewed, articleLink{a.Live.Title, a.Live.Summary, a.Kind.Path() + a.Slug})
			}
		}
		page.Members = append(page.Members, m)
	}
	return h.render(w, r, http.StatusOK, "panel", page)
}

// --- sitemap, feed, robots ---------------------------------------------

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

type urlset struct {
	XMLName xml.Name     `xml:"urlset"`
	NS      string       `xml:"xmlns,attr"`
	URLs    []sitemapURL `xml:"url"`
}

func (h *Handler) showSitemap(w http.ResponseWriter, r *http.Request) error {
	base := h.Config.BaseURL
	set := urlset{NS: "http://www.sitemaps.org/schemas/sitemap/0.9"}
	for _, p := range []string{"/", "/search", "/therapies", "/issues", "/guides", "/panel", "/about"} {
		set.URLs = append(set.URLs, sitemapURL{Loc: base + p})
	}
	as, err := h.Content.Articles(r.Context())
	if err != nil {
		return err
	}
	for _, a := range as {
		if a.IsPublic() {
			set.URLs = append(set.URLs, sitemapURL{Loc: base + a.Kind.Path() + a.Slug, LastMod: a.UpdatedAt.UTC().Format(time.DateOnly)})
		}
	}
	now := h.Now()
	if _, err := h.ProfileList.EachProfile(r.Context(), func(p *directory.Profile) error {
		if p.IsPublic(now) {
			set.URLs = append(set.URLs, sitemapURL{Loc: base + "/therapists/" + p.Slug, LastMod: p.UpdatedAt.UTC().Format(time.DateOnly)})
		}
		return nil
	}); err != nil {
		return err
	}
	return writeXML(w, "application/xml; charset=utf-8", set)
}

func writeXML(w http.ResponseWriter, contentType string, v any) error {
	b, err := xml.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
	return nil
}

// Atom is an Atom 1.0 feed (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string     `xml:"title"`
	ID        string     `xml:"id"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Link      atomLink   `xml:"link"`
	Author    atomPerson `xml:"author"`
	Summary   string     `xml:"summary"`
}

// showFeed lists published articles by their last publication, so a
// re-reviewed article comes back to the top.
func (h *Handler) showFeed(w http.ResponseWriter, r *http.Request) error {
	as, err := h.Content.Articles(r.Context())
	if err != nil {
		return err
	}
	var pub []*content.Article
	for _, a := range as {
		if a.IsPublic() {
			pub = append(pub, a)
		}
	}
	sort.Slice(pub, func(i, j int) bool { return pub[i].UpdatedAt.After(pub[j].UpdatedAt) })
	base := h.Config.BaseURL
	feed := atomFeed{Title: h.Config.SiteName + ": articles", ID: base + "/feed.atom", Updated: h.Now().UTC().Format(time.RFC3339),
		Links: []atomLink{{Href: base + "/feed.atom", Rel: "self"}, {Href: base + "/"}}, Author: atomPerson{Name: h.Config.SiteName}}
	if len(pub) > 0 {
		feed.Updated = pub[0].UpdatedAt.UTC().Format(time.RFC3339)
	}
	for _, a := range pub {
		author := h.contributor(r.Context(), a.Live.AuthorID).Name
		if author == "" {
			author = h.Config.SiteName
		}
		u := base + a.Kind.Path() + a.Slug
		feed.Entries = append(feed.Entries, atomEntry{Title: a.Live.Title, ID: u, Updated: a.UpdatedAt.UTC().Format(time.RFC3339),
			Published: a.PublishedAt.UTC().Format(time.RFC3339), Link: atomLink{Href: u}, Author: atomPerson{Name: author}, Summary: a.Live.Summary})
	}
	return writeXML(w, "application/atom+xml; charset=utf-8", feed)
}

func (h *Handler) showRobots(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "User-agent: *\nDisallow: /account\nDisallow: /dashboard\nDisallow: /staff\nDisallow: /admin\nDisallow: /demo/\nDisallow: /search?\n\nSitemap: %s/sitemap.xml\n", h.Config.BaseURL)
	return nil
}

// --- JSON-LD -------------------------------------------------------------

func person(p personView) map[string]any {
	m := map[string]any{"@type": "Person", "name": p.Name}
	if p.Credentials != "" {
		m["description"] = p.Credentials
	}
	return m
}

func (h *Handler) articleJSONLD(a *content.Article, rev *content.Revision, page articlePage) []any {
	u := h.Config.BaseURL + a.Kind.Path() + a.Slug
	doc := map[string]any{
		"@context": "https://schema.org", "@type": "MedicalWebPage", "@id": u, "url": u, "name": rev.Title, "headline": rev.Title,
		"description": rev.Summary, "inLanguage": "en-GB",
		"publisher": map[string]any{"@type": "Organization", "name": h.Config.SiteName, "url": h.Config.BaseURL + "/"},
	}
	if page.Author.Name != "" {
		doc["author"] = person(page.Author)
	}
	if page.Reviewer.Name != "" {
		doc["reviewedBy"] = person(page.Reviewer)
	}
	if !rev.ReviewedAt.IsZero() {
		doc["lastReviewed"] = rev.ReviewedAt.UTC().Format(time.DateOnly)
	}
	if !a.PublishedAt.IsZero() {
		doc["datePublished"] = a.PublishedAt.UTC().Format(time.DateOnly)
	}
	if !a.UpdatedAt.IsZero() {
		doc["dateModified"] = a.UpdatedAt.UTC().Format(time.DateOnly)
	}
	var cites []any
	for _, s := range rev.Sources {
		c := map[string]any{"@type": "CreativeWork", "name": s.Title, "datePublished": fmt.Sprint(s.Year),
			"publisher": map[string]any{"@type": "Organization", "name": s.Publisher}}
		if s.URL != "" {
			c["url"] = s.URL
		}
		cites = append(cites, c)
	}
	doc["citation"] = cites
	if t := rev.Term(); t != "" {
		about := map[string]any{"name": h.Tax.Label(taxonomy.Approach, t)}
		kind := taxonomy.Approach
		if page.TermParam == "issue" {
			kind = taxonomy.Issue
			about["@type"] = "MedicalCondition"
			about["name"] = h.Tax.Label(taxonomy.Issue, t)
		} else {
			about["@type"] = "PsychologicalTreatment"
		}
		if term, ok := h.Tax.Lookup(kind, t); ok && len(term.Codes) > 0 {
			c := term.Codes[0]
			about["code"] = map[string]any{"@type": "MedicalCode", "codeValue": c.Code, "codingSystem": "SNOMED CT"}
		}
		doc["about"] = about
	}
	out := []any{doc}
	if len(rev.FAQs) > 0 {
		var qs []any
		for _, f := range rev.FAQs {
			qs = append(qs, map[string]any{"@type": "Question", "name": f.Question,
				"acceptedAnswer": map[string]any{"@type": "Answer", "text": strings.TrimSpace(f.Answer)}})
		}
		out = append(out, map[string]any{"@context": "https://schema.org", "@type": "FAQPage", "@id": u + "#faqs", "mainEntity": qs})
	}
	return out
}

// profileJSONLD describes a public profile: a ProfilePage whose main
// entity is the therapist, with their verified memberships as credentials.
func (h *Handler) profileJSONLD(p *directory.Profile) any {
	u := h.Config.BaseURL + "/therapists/" + p.Slug
	var creds, orgs, knows []any
	for _, m := range p.Memberships {
		org := map[string]any{"@type": "Organization", "name": m.Body}
		if b, ok := h.Tax.Body(m.Body); ok {
			org = map[string]any{"@type": "Organization", "name": b.Name, "alternateName": b.Abbreviation, "url": b.URL}
		}
		orgs = append(orgs, org)
		cred := map[string]any{"@type": "EducationalOccupationalCredential", "credentialCategory": "Professional membership",
			"identifier": m.Number, "recognizedBy": org}
		if m.Level != "" {
			cred["name"] = m.Level
		}
		creds = append(creds, cred)
	}
	for _, s := range p.Approaches {
		k := map[string]any{"@type": "PsychologicalTreatment", "name": h.Tax.Label(taxonomy.Approach, s)}
		if t, ok := h.Tax.Lookup(taxonomy.Approach, s); ok && len(t.Codes) > 0 {
			k["code"] = map[string]any{"@type": "MedicalCode", "codeValue": t.Codes[0].Code, "codingSystem": "SNOMED CT"}
		}
		knows = append(knows, k)
	}
	for _, s := range p.Issues {
		knows = append(knows, h.Tax.Label(taxonomy.Issue, s))
	}
	return map[string]any{
		"@context": "https://schema.org", "@type": "ProfilePage", "@id": u, "url": u,
		"dateModified": p.UpdatedAt.UTC().Format(time.DateOnly),
		"mainEntity": map[string]any{"@type": "Person", "name": p.DisplayName, "description": p.Headline,
			"hasCredential": creds, "memberOf": orgs, "knowsAbout": knows},
	}
}
