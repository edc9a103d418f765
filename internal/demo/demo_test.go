package demo_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/demo"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

var asOf = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func TestGenerate(t *testing.T) {
	tax, gaz := taxonomy.MustLoad(), geo.MustLoad()
	gen, err := demo.NewGenerator(tax, gaz)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	ps := gen.Generate(n, 9, asOf)
	if again := gen.Generate(n, 9, asOf); !reflect.DeepEqual(ps, again) {
		t.Fatal("the same seed gave different profiles")
	}
	if other := gen.Generate(10, 10, asOf); reflect.DeepEqual(ps[:10], other) {
		t.Fatal("different seeds gave the same profiles")
	}
	v := directory.Validator{Tax: tax, Gaz: gaz}
	slugs := map[string]bool{}
	states := map[directory.VerificationState]int{}
	districts := map[string]bool{}
	public, twoChecked, rechecking := 0, 0, 0
	for _, p := range ps {
		v.Normalize(p)
		if err := v.Validate(p, asOf.Add(24*time.Hour)); err != nil {
			t.Fatalf("profile %q invalid: %v", p.Slug, err)
		}
		if slugs[p.Slug] {
			t.Fatalf("slug %q repeated", p.Slug)
		}
		slugs[p.Slug] = true
		states[p.Verification.State]++
		for _, m := range p.Memberships {
			if !strings.HasPrefix(m.Number, "DEMO-") {
				t.Fatalf("membership number %q could be a real one", m.Number)
			}
		}
		if !strings.HasSuffix(p.ContactEmail, "@example.org") {
			t.Fatalf("email %q is not on a reserved domain", p.ContactEmail)
		}
		if !strings.Contains(p.Statement, "fictional") {
			t.Fatal("statement does not say the profile is fictional")
		}
		for _, l := range p.Locations {
			districts[l.Outcode] = true
		}
		if p.IsPublic(asOf) {
			public++
			if !p.Insurance.Checked() || p.Insurance.Until.Before(p.Verification.NextCheckDue) {
				t.Fatalf("public profile %q: insurance %+v does not cover its next check %v", p.Slug, p.Insurance, p.Verification.NextCheckDue)
			}
			for _, m := range p.Memberships {
				if m.CheckedAt.IsZero() || m.CheckedAt.AddDate(1, 0, 0).Before(p.Verification.NextCheckDue) {
					t.Fatalf("public profile %q: membership %s checked %v, next check %v", p.Slug, m.Body, m.CheckedAt, p.Verification.NextCheckDue)
				}
			}
			if len(p.Memberships) > 1 {
				twoChecked++
			}
		}
		if p.Verification.Rechecking() {
			rechecking++
		}
	}
	if twoChecked < n/20 {
		t.Fatalf("only %d public profiles with two checked memberships", twoChecked)
	}
	rs := demo.Requests(ps, asOf)
	if rechecking < n/200 || len(rs) != rechecking+states[directory.Pending] {
		t.Fatalf("%d profiles waiting for a re-check and %d for a first check, %d queue items for them", rechecking, states[directory.Pending], len(rs))
	}
	for _, r := range rs {
		if r.Name == "" || r.Status != "pending" || !strings.HasPrefix(r.Number, "DEMO-") || r.Insurer == "" ||
			!r.InsuranceExpires.After(asOf) || r.SubmittedAt.IsZero() || r.SubmittedAt.After(asOf) {
			t.Fatalf("verification request %+v", r)
		}
	}
	share := float64(states[directory.Verified]) / n
	if share < 0.82 || share > 0.88 {
		t.Fatalf("%.1f%% verified, want about 85%%", share*100)
	}
	for _, s := range []directory.VerificationState{directory.Pending, directory.Expired, directory.Suspended} {
		if states[s] == 0 {
			t.Fatalf("no %s profiles", s)
		}
	}
	if len(districts) < 1000 {
		t.Fatalf("profiles cover only %d districts", len(districts))
	}
	if public < n*3/4 {
		t.Fatalf("only %d of %d public", public, n)
	}
}
