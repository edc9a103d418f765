// Package export writes the public directory in forms other software
// reads: CSV for spreadsheets and JSON lines for programs. It takes only
// public profiles, and of those only what their public page shows (the
// verified name, districts rather than postcodes, no email address), so an
// export can be handed to anyone. Enquiries and accounts never pass
// through here.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
)

// Formats are the forms Write can produce.
var Formats = []string{"csv", "jsonl"}

// Lister streams every profile; the store implements it.
type Lister interface {
	EachProfile(ctx context.Context, fn func(*directory.Profile) error) (int64, error)
}

// Record is one therapist as exported: the public fields, flattened so
// that a CSV row and a JSON line carry the same things.
type Record struct {
	Slug         string   `json:"slug"`
	URL          string   `json:"url"`
	Name         string   `json:"name"`
	Headline     string   `json:"headline"`
	Approaches   []string `json:"approaches"`
	Issues       []string `json:"issues"`
	ClientGroups []string `json:"client_groups"`
	Formats      []string `json:"formats"`
	Languages    []string `json:"languages"`
	Gender       string   `json:"gender"`
	FeeMinGBP    float64  `json:"fee_min_gbp"`
	FeeMaxGBP    float64  `json:"fee_max_gbp"`
	Concessions  bool     `json:"concessions"`
	Availability string   `json:"availability"`
	// Districts are the practices' postcode districts with their area
	// ("LS6 Headingley"): never a full postcode.
	Districts []string `json:"districts"`
	// Memberships are "body:number" for each register membership checked.
	Memberships  []string `json:"memberships"`
	VerifiedAt   string   `json:"verified_at"`
	NextCheckDue string   `json:"next_check_due"`
}

// columns is the CSV header, in Record's order.
var columns = []string{"slug", "url", "name", "headline", "approaches", "issues", "client_groups", "formats", "languages", "gender",
	"fee_min_gbp", "fee_max_gbp", "concessions", "availability", "districts", "memberships", "verified_at", "next_check_due"}

func (r Record) cells() []string {
	list := func(s []string) string { return strings.Join(s, ";") }
	money := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	return []string{r.Slug, r.URL, r.Name, r.Headline, list(r.Approaches), list(r.Issues), list(r.ClientGroups), list(r.Formats), list(r.Languages),
		r.Gender, money(r.FeeMinGBP), money(r.FeeMaxGBP), strconv.FormatBool(r.Concessions), r.Availability, list(r.Districts), list(r.Memberships),
		r.VerifiedAt, r.NextCheckDue}
}

// NewRecord is p as exported. baseURL (no trailing slash) makes the
// profile's address absolute.
func NewRecord(p *directory.Profile, baseURL string) Record {
	r := Record{Slug: p.Slug, URL: baseURL + "/therapists/" + p.Slug, Name: p.DisplayName, Headline: p.Headline,
		Approaches: nonNil(p.Approaches), Issues: nonNil(p.Issues), ClientGroups: nonNil(p.ClientGroups), Formats: nonNil(p.Formats),
		Languages: nonNil(p.Languages), Gender: p.Gender, FeeMinGBP: float64(p.FeeMinPence) / 100, FeeMaxGBP: float64(p.FeeMaxPence) / 100,
		Concessions: p.Concessions, Availability: string(p.Availability), Districts: []string{}, Memberships: []string{}}
	for _, l := range p.Locations {
		r.Districts = append(r.Districts, strings.TrimSpace(l.Outcode+" "+l.Area))
	}
	for _, m := range p.Memberships {
		r.Memberships = append(r.Memberships, m.Body+":"+m.Number)
	}
	if !p.Verification.VerifiedAt.IsZero() {
		r.VerifiedAt = p.Verification.VerifiedAt.UTC().Format(time.DateOnly)
	}
	if !p.Verification.NextCheckDue.IsZero() {
		r.NextCheckDue = p.Verification.NextCheckDue.UTC().Format(time.DateOnly)
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Write exports every profile public at now to w in format, and returns
// how many it wrote.
func Write(ctx context.Context, w io.Writer, format string, profiles Lister, baseURL string, now time.Time) (int, error) {
	bw := bufio.NewWriter(w)
	var put func(Record) error
	var finish func() error
	switch format {
	case "csv":
		cw := csv.NewWriter(bw)
		if err := cw.Write(columns); err != nil {
			return 0, err
		}
		put = func(r Record) error {
			cells := r.cells()
			for i, c := range cells {
				cells[i] = Neutralise(c)
			}
			return cw.Write(cells)
		}
		finish = func() error { cw.Flush(); return cw.Error() }
	case "jsonl":
		enc := json.NewEncoder(bw)
		put = func(r Record) error { return enc.Encode(r) }
		finish = func() error { return nil }
	default:
		return 0, fmt.Errorf("export: unknown format %q (use %s)", format, strings.Join(Formats, " or "))
	}
	n := 0
	_, err := profiles.EachProfile(ctx, func(p *directory.Profile) error {
		if !p.IsPublic(now) {
			return nil
		}
		n++
		return put(NewRecord(p, baseURL))
	})
	if err == nil {
		err = finish()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// Neutralise keeps a spreadsheet from running a cell as a formula: text
// starting with =, +, -, @, a tab or a carriage return (what Excel,
// LibreOffice and Google Sheets treat as the start of a formula) gets a
// leading apostrophe, which they show as text and do not display. A
// negative number would be changed too, but exports hold none.
func Neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
