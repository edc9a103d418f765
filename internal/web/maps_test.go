package web_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
)

// TestDistrictMaps: a profile page shows each practice district's map as
// an image from this site with a text alternative; the map is SVG that
// parses, names the district, and draws no finer place than it; names
// that are not districts are 404s, never a 500.
func TestDistrictMaps(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t)
	pub := w.PublicProfile(t)
	_, body, _ := fetch(t, srv.URL+"/therapists/"+pub.Slug)
	outcode := pub.Locations[0].Outcode
	img := `<img src="/maps/districts/` + outcode + `.svg" alt="Map of the ` + outcode + ` postcode district`
	if !strings.Contains(body, img) {
		t.Fatalf("the profile page has no map of %s:\n%s", outcode, body)
	}
	status, svg, header := fetch(t, srv.URL+"/maps/districts/"+outcode+".svg")
	if status != http.StatusOK || header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(header.Get("Cache-Control"), "max-age") {
		t.Fatalf("map: %d %q %q", status, header.Get("Content-Type"), header.Get("Cache-Control"))
	}
	var doc struct {
		XMLName xml.Name
		Title   string   `xml:"title"`
		Texts   []string `xml:"text"`
		Polys   []struct {
			Points string `xml:"points,attr"`
		} `xml:"polygon"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("the map is not XML: %v", err)
	}
	if doc.XMLName.Local != "svg" || !strings.Contains(doc.Title, outcode) || len(doc.Polys) < 2 {
		t.Fatalf("map of %s: root %q, title %q, %d polygons", outcode, doc.XMLName.Local, doc.Title, len(doc.Polys))
	}
	if !slicesContain(doc.Texts, outcode) {
		t.Errorf("the map does not label %s: %q", outcode, doc.Texts)
	}
	if p := pub.Locations[0].Postcode; p != "" && strings.Contains(svg, p) {
		t.Errorf("the map shows the full postcode %s", p)
	}
	for _, path := range []string{"ZZ99.svg", outcode + ".png", outcode, "..%2F..%2Fetc.svg", "%00.svg", strings.Repeat("A", 300) + ".svg"} {
		if status, _, _ := fetch(t, srv.URL+"/maps/districts/"+path); status != http.StatusNotFound {
			t.Errorf("/maps/districts/%s: %d, want 404", path, status)
		}
	}
	// Lower case and spaces are the same district.
	if status, _, _ := fetch(t, srv.URL+"/maps/districts/"+strings.ToLower(outcode)+".svg"); status != http.StatusOK {
		t.Errorf("lower-case %s: %d", outcode, status)
	}
}

func slicesContain(xs []string, want string) bool {
	for _, x := range xs {
		if strings.TrimSpace(x) == want {
			return true
		}
	}
	return false
}
