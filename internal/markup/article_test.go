package markup

import (
	"strings"
	"testing"
)

func TestArticleHeadings(t *testing.T) {
	r := NewArticle()
	out := r.Render("# Top\n\nIntro.\n\n## What it is\n\nText <script>alert(1)</script>.\n\n### Detail\n\n## How it *works*\n\n[x](javascript:alert(1))")
	hs := Headings(out)
	if len(hs) != 3 || hs[0].ID != "top" || hs[1].Text != "What it is" || hs[2].Text != "How it works" {
		t.Fatalf("headings %+v in %s", hs, out)
	}
	for _, bad := range []string{"<script", "javascript:", "<h1"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("output contains %q: %s", bad, out)
		}
	}
	if !strings.Contains(string(out), `<h3 id="detail">`) {
		t.Errorf("h3 lost its id: %s", out)
	}
}
