package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
)

// showDistrictMap serves a schematic map of one postcode district as SVG:
// drawn here from the gazetteer, so a profile page shows where a
// therapist works without any request to a third-party tile server and
// without any address finer than the district.
func (h *Handler) showDistrictMap(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		return errs.NotFound
	}
	m, err := h.Gaz.DistrictMap(name)
	if err != nil {
		return errs.NotFound
	}
	var b strings.Builder
	writeDistrictSVG(&b, m)
	w.Header().Set("Content-Type", "image/svg+xml")
	// The gazetteer changes only with a new release.
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, err = w.Write([]byte(b.String()))
	return err
}

// districtMapAlt is the text alternative of a district's map.
func districtMapAlt(m *geo.DistrictMap) string {
	var names []string
	for _, p := range m.Places {
		names = append(names, p.Name)
	}
	alt := fmt.Sprintf("Map of the %s postcode district (%s) and the districts around it", m.Outcode, m.Area)
	if len(names) > 0 {
		alt += "; places nearby: " + strings.Join(names, ", ")
	}
	return alt
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func points(poly []geo.XY) string {
	parts := make([]string, len(poly))
	for i, p := range poly {
		parts[i] = fmt.Sprintf("%.2f,%.2f", p.X, p.Y)
	}
	return strings.Join(parts, " ")
}

// writeDistrictSVG draws m: the neighbours in grey, the district in the
// site's colour, outcodes at each cell's centre, nearby places as dots,
// and a scale bar.
func writeDistrictSVG(b *strings.Builder, m *geo.DistrictMap) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="map-title">`, m.Width, m.Height)
	fmt.Fprintf(b, `<title id="map-title">%s</title>`, esc(districtMapAlt(m)))
	fmt.Fprintf(b, `<rect width="%.0f" height="%.0f" fill="#f3f2f1"/>`, m.Width, m.Height)
	for _, n := range m.Neighbours {
		fmt.Fprintf(b, `<polygon points="%s" fill="#e8e8e6" stroke="#ffffff" stroke-width="0.6"/>`, points(n.Cell))
	}
	fmt.Fprintf(b, `<polygon points="%s" fill="#b8dcd9" stroke="#0b4f4a" stroke-width="0.8"/>`, points(m.Cell))
	for _, n := range m.Neighbours {
		fmt.Fprintf(b, `<text x="%.2f" y="%.2f" font-family="sans-serif" font-size="2.6" fill="#505a5f" text-anchor="middle">%s</text>`, n.At.X, n.At.Y, esc(n.Outcode))
	}
	for _, p := range m.Places {
		fmt.Fprintf(b, `<circle cx="%.2f" cy="%.2f" r="0.7" fill="#0b0c0c"/><text x="%.2f" y="%.2f" font-family="sans-serif" font-size="3" fill="#0b0c0c">%s</text>`,
			p.At.X, p.At.Y, p.At.X+1.2, p.At.Y-1, esc(p.Name))
	}
	fmt.Fprintf(b, `<text x="%.2f" y="%.2f" font-family="sans-serif" font-size="4.2" font-weight="bold" fill="#0b4f4a" text-anchor="middle">%s</text>`, m.Centre.X, m.Centre.Y+1.5, esc(m.Outcode))
	y := m.Height - 4
	fmt.Fprintf(b, `<rect x="3" y="%.2f" width="%.2f" height="1" fill="#0b0c0c"/><text x="3" y="%.2f" font-family="sans-serif" font-size="2.6" fill="#0b0c0c">%.0f km (%.1f miles)</text>`,
		y, m.ScaleLen, y-1.2, m.ScaleKm, m.ScaleKm/1.609344)
	b.WriteString(`</svg>`)
}
