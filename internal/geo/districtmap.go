package geo

import (
	"errors"
	"math"
	"sort"
	"strings"
)

// A DistrictMap is a small, schematic map of one postcode district for a
// profile page: where the district lies among its neighbours and the
// towns around it, drawn from the gazetteer alone, so that a page can
// show a map without sending the visitor to a tile server. The gazetteer
// holds each district's centre, not its boundary, so the district's shape
// is the area nearer its centre than any other district's (its Voronoi
// cell): an approximation, which the page says it is. It never shows
// more than the district, the level at which profiles give their place.
type DistrictMap struct {
	Outcode, Area string
	// Width and Height are the drawing's size in its own units (1 unit is
	// about 1/100 of the frame's width).
	Width, Height float64
	// Cell is the district's approximate outline; Neighbours the outlines
	// of the districts around it, each with its label at its centre.
	Cell       []XY
	Neighbours []MapDistrict
	// Places are towns and villages in the frame, largest first.
	Places []MapLabel
	// Centre is the district's centre on the drawing.
	Centre XY
	// ScaleKm is the length the scale bar stands for, and ScaleLen its
	// length on the drawing.
	ScaleKm, ScaleLen float64
}

// XY is a point on a map's drawing, y growing downwards as in SVG.
type XY struct{ X, Y float64 }

// MapDistrict is a neighbouring district: its outline and its label.
type MapDistrict struct {
	Outcode string
	Cell    []XY
	At      XY
}

// MapLabel is a named point on the drawing.
type MapLabel struct {
	Name string
	At   XY
}

// ErrNoDistrict is a district the gazetteer does not hold.
var ErrNoDistrict = errors.New("geo: no such postcode district")

// mapHalfKm is half the frame's width: enough to show a district among its
// neighbours in a town (districts are 1–3 km across) and a good part of one
// in the country.
const mapHalfKm = 6.0

// neighbourKm is how far to look for districts whose cells may touch the
// frame: a district whose centre is further than this from every point of
// the frame cannot own any of it in practice.
const neighbourKm = 3 * mapHalfKm

// minMapPostcodes is the fewest postcodes a neighbouring district needs
// to be drawn.
const minMapPostcodes = 40

// DistrictMap draws outcode's district. Width and height are fixed (a 4:3
// frame); the scale is the same in both directions.
func (g *Gazetteer) DistrictMap(outcode string) (*DistrictMap, error) {
	d, ok := g.District(strings.ToUpper(strings.TrimSpace(outcode)))
	if !ok {
		return nil, ErrNoDistrict
	}
	const width, height = 100.0, 75.0
	kmPerUnit := 2 * mapHalfKm / width
	kmPerLat := 111.32
	kmPerLon := 111.32 * math.Cos(d.Lat*math.Pi/180)
	project := func(p Point) XY {
		return XY{X: width/2 + (p.Lon-d.Lon)*kmPerLon/kmPerUnit, Y: height/2 - (p.Lat-d.Lat)*kmPerLat/kmPerUnit}
	}
	m := &DistrictMap{Outcode: d.Outcode, Area: d.Area, Width: width, Height: height, Centre: project(d.Point)}
	frame := []XY{{0, 0}, {width, 0}, {width, height}, {0, height}}
	var near []District
	for _, o := range g.districts {
		// Districts of a few dozen postcodes are mostly large users' and
		// PO boxes' (LS98, BD99): their centres would carve false areas.
		if o.Postcodes < minMapPostcodes {
			continue
		}
		if o.Outcode != d.Outcode && HaversineKm(d.Point, o.Point) <= neighbourKm {
			near = append(near, o)
		}
	}
	sort.Slice(near, func(i, j int) bool { return near[i].Outcode < near[j].Outcode })
	cell := func(c District) []XY {
		poly := frame
		pc := project(c.Point)
		for _, o := range append(near, d) {
			if o.Outcode == c.Outcode {
				continue
			}
			poly = clipNearer(poly, pc, project(o.Point))
			if len(poly) == 0 {
				break
			}
		}
		return poly
	}
	m.Cell = cell(d)
	for _, o := range near {
		c := cell(o)
		if len(c) < 3 {
			continue
		}
		m.Neighbours = append(m.Neighbours, MapDistrict{Outcode: o.Outcode, Cell: c, At: centroid(c)})
	}
	inside := func(p XY) bool { return p.X >= 4 && p.X <= width-4 && p.Y >= 4 && p.Y <= height-4 }
	var places []Place
	for _, p := range g.places {
		if inside(project(p.Point)) {
			places = append(places, p)
		}
	}
	sort.Slice(places, func(i, j int) bool { return places[i].Weight > places[j].Weight })
	for _, p := range places {
		at := project(p.Point)
		crowded := false
		for _, l := range m.Places {
			if math.Abs(l.At.X-at.X) < 18 && math.Abs(l.At.Y-at.Y) < 6 {
				crowded = true
				break
			}
		}
		if !crowded {
			m.Places = append(m.Places, MapLabel{Name: p.Name, At: at})
		}
		if len(m.Places) == 6 {
			break
		}
	}
	m.ScaleKm = 2
	m.ScaleLen = m.ScaleKm / kmPerUnit
	return m, nil
}

// clipNearer keeps the part of the convex polygon poly that is nearer to
// a than to b: one half-plane of the Voronoi construction
// (Sutherland–Hodgman against the perpendicular bisector of a and b).
func clipNearer(poly []XY, a, b XY) []XY {
	// Points p with (p - mid)·(b - a) <= 0 are nearer a.
	mid := XY{(a.X + b.X) / 2, (a.Y + b.Y) / 2}
	n := XY{b.X - a.X, b.Y - a.Y}
	side := func(p XY) float64 { return (p.X-mid.X)*n.X + (p.Y-mid.Y)*n.Y }
	var out []XY
	for i, cur := range poly {
		prev := poly[(i+len(poly)-1)%len(poly)]
		sc, sp := side(cur), side(prev)
		if sc <= 0 {
			if sp > 0 {
				out = append(out, cross(prev, cur, sp, sc))
			}
			out = append(out, cur)
		} else if sp <= 0 {
			out = append(out, cross(prev, cur, sp, sc))
		}
	}
	return out
}

// cross is where the segment p–q meets the line, given each end's signed
// side.
func cross(p, q XY, sp, sq float64) XY {
	t := sp / (sp - sq)
	return XY{p.X + t*(q.X-p.X), p.Y + t*(q.Y-p.Y)}
}

// centroid is a polygon's centre of area (its vertices' mean when it has
// none).
func centroid(poly []XY) XY {
	var a, cx, cy float64
	for i, p := range poly {
		q := poly[(i+1)%len(poly)]
		f := p.X*q.Y - q.X*p.Y
		a += f
		cx += (p.X + q.X) * f
		cy += (p.Y + q.Y) * f
	}
	if math.Abs(a) < 1e-9 {
		var m XY
		for _, p := range poly {
			m.X += p.X / float64(len(poly))
			m.Y += p.Y / float64(len(poly))
		}
		return m
	}
	return XY{cx / (3 * a), cy / (3 * a)}
}
