package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/export"
)

var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type list []*directory.Profile

func (l list) EachProfile(ctx context.Context, fn func(*directory.Profile) error) (int64, error) {
	for _, p := range l {
		if err := fn(p); err != nil {
			return 0, err
		}
	}
	return int64(len(l)), nil
}

func profile(slug, name, headline string, public bool) *directory.Profile {
	return &directory.Profile{Slug: slug, DisplayName: name, Headline: headline, Published: public,
		Verification: directory.Verification{State: directory.Verified, VerifiedAt: now.AddDate(0, -1, 0), NextCheckDue: now.AddDate(0, 11, 0)},
		Approaches:   []string{"cbt"}, ClientGroups: []string{"adults"}, Formats: []string{"in_person", "online"}, Languages: []string{"en"},
		FeeMinPence: 4500, FeeMaxPence: 6000, Availability: directory.Accepting, ContactEmail: "private-" + slug + "@example.org",
		Memberships: []directory.Membership{{Body: "bacp", Number: "012345", Level: "Registered member"}},
		Locations:   []directory.Location{{Postcode: "LS6 2AB", Outcode: "LS6", Area: "Headingley"}}}
}

// TestNeutralise: the characters that start a formula in Excel,
// LibreOffice and Google Sheets are made text; nothing else changes.
func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://evil.example\")": "'=HYPERLINK(\"http://evil.example\")",
		"+44 113":                             "'+44 113",
		"-2+3":                                "'-2+3",
		"@SUM(A1)":                            "'@SUM(A1)",
		"\t=1":                                "'\t=1",
		"\r=1":                                "'\r=1",
		"Jo = Counsellor":                     "Jo = Counsellor",
		"":                                    "",
		"45.00":                               "45.00",
	} {
		if got := export.Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWrite: only public profiles, only public fields, in both formats;
// a hostile headline stays text in the CSV.
func TestWrite(t *testing.T) {
	profiles := list{
		profile("jo-bloggs", "Jo Bloggs", "=HYPERLINK(\"http://evil.example\",\"Click\")", true),
		profile("not-published", "Hidden Person", "Counsellor in Leeds for adults", false),
		profile("sam-smith", "Sam Smith", "Counsellor in Leeds for adults", true),
	}
	for _, format := range export.Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := export.Write(context.Background(), &buf, format, profiles, "https://confide.example", now)
			if err != nil || n != 2 {
				t.Fatalf("wrote %d, %v; want 2", n, err)
			}
			out := buf.String()
			for _, secret := range []string{"private-", "LS6 2AB", "Hidden Person"} {
				if strings.Contains(out, secret) {
					t.Errorf("the export contains %q", secret)
				}
			}
			var rows [][]string
			if format == "csv" {
				rows, err = csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil || len(rows) != 3 || rows[0][0] != "slug" {
					t.Fatalf("CSV: %v, %d rows", err, len(rows))
				}
				if h := rows[1][3]; !strings.HasPrefix(h, "'=") {
					t.Errorf("headline cell %q would run as a formula", h)
				}
				if rows[2][2] != "Sam Smith" || rows[2][14] != "LS6 Headingley" || rows[2][15] != "bacp:012345" || rows[2][10] != "45.00" {
					t.Errorf("row %v", rows[2])
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d lines", len(lines))
			}
			var r export.Record
			if err := json.Unmarshal([]byte(lines[1]), &r); err != nil || r.URL != "https://confide.example/therapists/sam-smith" || r.Districts[0] != "LS6 Headingley" ||
				r.FeeMinGBP != 45 || r.VerifiedAt != "2026-10-25" {
				t.Fatalf("record %+v, %v", r, err)
			}
		})
	}
	if _, err := export.Write(context.Background(), &bytes.Buffer{}, "xlsx", profiles, "", now); err == nil || !strings.Contains(err.Error(), "csv or jsonl") {
		t.Fatalf("unknown format: %v", err)
	}
}
