package markup

import (
	"strings"
	"testing"
)

func TestRenderSanitises(t *testing.T) {
	r := New()
	tests := []struct {
		name, in      string
		want, notWant []string
	}{
		{"emphasis", "I work with **anxiety**.", []string{"<strong>anxiety</strong>"}, nil},
		{"list", "- one\n- two", []string{"<ul>", "<li>one</li>"}, nil},
		{"raw script", "<script>alert(1)</script>\n\nhello", []string{"hello"}, []string{"<script", "alert(1)</"}},
		{"javascript link", "[x](javascript:alert(1))", nil, []string{"javascript:"}},
		{"image beacon", "![t](https://tracker.example/p.gif)", nil, []string{"<img"}},
		{"event handler", `<p onclick="x()">hi</p>`, nil, []string{"onclick"}},
		{"heading demoted", "# Big", []string{"<h3>Big</h3>"}, []string{"<h1>"}},
		{"link kept safe", "[BACP](https://www.bacp.co.uk/)", []string{`href="https://www.bacp.co.uk/"`, `rel="nofollow noreferrer"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(r.Render(tt.in))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Render(%q) = %q, want it to contain %q", tt.in, got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("Render(%q) = %q, must not contain %q", tt.in, got, w)
				}
			}
		})
	}
}
