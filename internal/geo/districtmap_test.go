package geo

import (
	"math"
	"testing"
)

// TestDistrictMap: a district's cell holds its own centre and no other
// district's, every point of it is nearer its centre than any
// neighbour's (the Voronoi property), and the neighbours' cells do not
// overlap it. Unknown districts are refused.
func TestDistrictMap(t *testing.T) {
	t.Parallel()
	g := MustLoad()
	for _, outcode := range []string{"LS6", "SW1A", "EH1", "IV27", "TR18", "BT1", "ls6 "} {
		t.Run(outcode, func(t *testing.T) {
			m, err := g.DistrictMap(outcode)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Cell) < 3 {
				t.Fatalf("cell has %d corners", len(m.Cell))
			}
			if !inConvex(m.Cell, m.Centre) {
				t.Errorf("the cell does not hold the district's own centre %v", m.Centre)
			}
			c := centroid(m.Cell)
			for _, n := range m.Neighbours {
				if inConvex(m.Cell, n.At) && dist(n.At, c) > 1e-6 {
					t.Errorf("neighbour %s's label at %v lies in %s's cell", n.Outcode, n.At, m.Outcode)
				}
				if inConvex(n.Cell, c) {
					t.Errorf("neighbour %s's cell holds %s's centroid", n.Outcode, m.Outcode)
				}
			}
			for _, p := range m.Cell {
				if p.X < -1e-6 || p.Y < -1e-6 || p.X > m.Width+1e-6 || p.Y > m.Height+1e-6 {
					t.Errorf("corner %v outside the frame", p)
				}
			}
			if m.ScaleLen <= 0 || m.ScaleLen > m.Width {
				t.Errorf("scale bar %v units", m.ScaleLen)
			}
		})
	}
	if _, err := g.DistrictMap("ZZ99"); err != ErrNoDistrict {
		t.Errorf("unknown district: %v", err)
	}
}

func dist(a, b XY) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

// inConvex reports whether p lies inside (or on) the convex polygon.
func inConvex(poly []XY, p XY) bool {
	sign := 0.0
	for i, a := range poly {
		b := poly[(i+1)%len(poly)]
		c := (b.X-a.X)*(p.Y-a.Y) - (b.Y-a.Y)*(p.X-a.X)
		if math.Abs(c) < 1e-9 {
			continue
		}
		if sign == 0 {
			sign = c
		} else if sign*c < 0 {
			return false
		}
	}
	return true
}
