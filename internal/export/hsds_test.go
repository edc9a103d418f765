package export_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/export"
	"github.com/confide-org/confide/internal/hsds"
	"github.com/confide-org/confide/internal/hsds/hsdstest"
	"github.com/confide-org/confide/internal/taxonomy"
	"github.com/confide-org/confide/internal/testworld"
)

type pkgResource struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Profile string `json:"profile"`
	Schema  struct {
		Fields []struct {
			Name        string `json:"name"`
			Type        string `json:"type"`
			Format      string `json:"format"`
			Constraints struct {
				Required bool `json:"required"`
				Unique   bool `json:"unique"`
			} `json:"constraints"`
		} `json:"fields"`
		PrimaryKey  []string `json:"primaryKey"`
		ForeignKeys []struct {
			Fields    []string `json:"fields"`
			Reference struct {
				Resource string   `json:"resource"`
				Fields   []string `json:"fields"`
			} `json:"reference"`
		} `json:"foreignKeys"`
	} `json:"schema"`
}

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

// officialType is the Frictionless type the HSDS schema gives a property.
func officialType(prop map[string]any) string {
	if dt, ok := prop["datapackage_type"].(string); ok {
		return dt
	}
	return prop["type"].(string)
}

// TestHSDSPackage exports a demo directory as an HSDS data package and
// checks it table by table against the official HSDS 3.0 schemas:
// datapackage.json lists every file with its path and fields, each
// declared as the schema declares it; every CSV row, turned back into a
// typed object by the schema's field types, validates against its
// table's schema; ids are unique and every link leads to a row; nothing
// private is in it.
func TestHSDSPackage(t *testing.T) {
	t.Parallel()
	w := testworld.New(t, 120)
	set := hsdstest.Load(t)
	dir := filepath.Join(t.TempDir(), "hsds")
	m := hsds.NewMapper(w.Tax, "https://confide.example", "Confide")
	n, err := export.WriteHSDS(context.Background(), dir, w.DB, m, export.Package{Title: "Confide", BaseURL: "https://confide.example"}, testworld.Now)
	if err != nil {
		t.Fatal(err)
	}
	public := 0
	var private []string
	if _, err := w.DB.EachProfile(context.Background(), func(p *directory.Profile) error {
		if p.IsPublic(testworld.Now) {
			public++
		}
		if p.ContactEmail != "" {
			private = append(private, p.ContactEmail)
		}
		for _, l := range p.Locations {
			if l.Postcode != "" && l.Postcode != l.Outcode {
				private = append(private, l.Postcode)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != public || n == 0 {
		t.Fatalf("exported %d of %d public profiles", n, public)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("package directory: %v %v", st.Mode(), err)
	}

	var desc struct {
		Profile   string        `json:"profile"`
		Resources []pkgResource `json:"resources"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "datapackage.json"))
	if err != nil || json.Unmarshal(b, &desc) != nil || desc.Profile != "tabular-data-package" {
		t.Fatalf("datapackage.json: %v\n%s", err, b)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != len(desc.Resources)+1 {
		t.Errorf("%d files for %d resources and datapackage.json", len(files), len(desc.Resources))
	}
	ids := map[string]map[string]bool{} // table → ids
	type link struct{ table, field, value, target string }
	var links []link
	rowsValidated := 0
	for _, res := range desc.Resources {
		t.Run(res.Name, func(t *testing.T) {
			official := set.Raw[res.Name+".json"]
			if official == nil {
				t.Fatalf("no HSDS table %q", res.Name)
			}
			if res.Path != official["path"] || res.Profile != "tabular-data-resource" || !slices.Equal(res.Schema.PrimaryKey, []string{"id"}) {
				t.Errorf("resource %s: path %s, profile %s; HSDS says %v", res.Name, res.Path, res.Profile, official["path"])
			}
			props := official["properties"].(map[string]any)
			mustHave := append(strs(official["required"]), strs(official["tabular_required"])...)
			var names []string
			for _, f := range res.Schema.Fields {
				names = append(names, f.Name)
				prop, ok := props[f.Name].(map[string]any)
				if !ok {
					t.Errorf("%s.%s is not an HSDS field", res.Name, f.Name)
					continue
				}
				format, _ := prop["format"].(string)
				if format == "date-time" {
					format = ""
				}
				unique, _ := prop["constraints"].(map[string]any)["unique"].(bool)
				if f.Type != officialType(prop) || f.Format != format || f.Constraints.Unique != unique ||
					f.Constraints.Required != slices.Contains(mustHave, f.Name) {
					t.Errorf("%s.%s declared %+v; HSDS says type %s format %q unique %v required %v",
						res.Name, f.Name, f, officialType(prop), format, unique, slices.Contains(mustHave, f.Name))
				}
			}
			for _, req := range mustHave {
				if !slices.Contains(names, req) {
					t.Errorf("%s lacks required field %s", res.Name, req)
				}
			}
			f, err := os.Open(filepath.Join(dir, res.Path))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if st, _ := f.Stat(); st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v", res.Path, st.Mode())
			}
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Fatalf("%s: %v, %d rows", res.Path, err, len(rows))
			}
			if !slices.Equal(rows[0], names) {
				t.Fatalf("%s header %v, datapackage.json says %v", res.Path, rows[0], names)
			}
			seen := map[string]map[string]bool{}
			for i, row := range rows[1:] {
				typed := map[string]any{}
				for j, cell := range row {
					for _, p := range private {
						if strings.Contains(cell, p) {
							t.Fatalf("%s row %d shows private %q", res.Path, i+1, p)
						}
					}
					if cell == "" {
						continue
					}
					name := names[j]
					switch officialType(props[name].(map[string]any)) {
					case "number":
						v, err := strconv.ParseFloat(cell, 64)
						if err != nil {
							t.Fatalf("%s row %d: %s %q is not a number", res.Path, i+1, name, cell)
						}
						typed[name] = v
					default:
						typed[name] = cell
					}
					if res.Schema.Fields[j].Constraints.Unique {
						if seen[name] == nil {
							seen[name] = map[string]bool{}
						}
						if seen[name][cell] {
							t.Errorf("%s: %s %s twice", res.Path, name, cell)
						}
						seen[name][cell] = true
					}
				}
				for _, req := range mustHave {
					if typed[req] == nil {
						t.Errorf("%s row %d: no %s", res.Path, i+1, req)
					}
				}
				if err := set.ValidateValue(t, res.Name+".json", typed); err != nil {
					t.Fatalf("%s row %d is not a valid HSDS %s: %v\n%v", res.Path, i+1, res.Name, err, typed)
				}
				rowsValidated++
				for _, fk := range res.Schema.ForeignKeys {
					if v, ok := typed[fk.Fields[0]].(string); ok {
						links = append(links, link{res.Name, fk.Fields[0], v, fk.Reference.Resource})
					}
				}
			}
			ids[res.Name] = seen["id"]
		})
	}
	for _, l := range links {
		if !ids[l.target][l.value] {
			t.Errorf("%s.%s %s names no %s", l.table, l.field, l.value, l.target)
		}
	}
	for _, table := range []string{"organization", "service", "location", "service_at_location", "attribute", "taxonomy_term", "cost_option", "language"} {
		if len(ids[table]) == 0 {
			t.Errorf("no %s rows", table)
		}
	}
	if len(ids["service"]) != public {
		t.Errorf("%d services for %d public profiles", len(ids["service"]), public)
	}
	t.Logf("%d public profiles, %d tables, %d rows validated, %d links checked", n, len(desc.Resources), rowsValidated, len(links))
}

// TestHSDSPackageRefusals: a hostile headline stays text; an existing
// directory is never written into; a package without the site's address
// (HSDS links must be absolute) is refused before anything is written.
func TestHSDSPackageRefusals(t *testing.T) {
	t.Parallel()
	hostile := profile("jo-bloggs", "Jo Bloggs", "=HYPERLINK(\"http://evil.example\",\"Click\")", true)
	hostile.ID = 1
	other := profile("sam-smith", "Sam Smith", "Counsellor", true)
	other.ID = 2
	m := hsds.NewMapper(taxonomy.MustLoad(), "https://confide.example", "Confide")
	pkg := export.Package{Title: "Confide", BaseURL: "https://confide.example"}
	dir := filepath.Join(t.TempDir(), "out")
	if n, err := export.WriteHSDS(context.Background(), dir, list{hostile, other}, m, pkg, now); err != nil || n != 2 {
		t.Fatalf("wrote %d: %v", n, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "services.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "description")
	if !strings.HasPrefix(rows[1][col], "'=") {
		t.Errorf("description cell %q would run as a formula", rows[1][col])
	}
	if strings.Contains(string(b), "private-") {
		t.Error("the package carries a contact email")
	}
	before, _ := os.ReadFile(filepath.Join(dir, "datapackage.json"))
	if _, err := export.WriteHSDS(context.Background(), dir, list{other}, m, pkg, now); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("over an existing directory: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "datapackage.json")); string(after) != string(before) {
		t.Error("a refused export changed the existing package")
	}
	fresh := filepath.Join(t.TempDir(), "nobase")
	if _, err := export.WriteHSDS(context.Background(), fresh, list{other}, m, export.Package{Title: "Confide"}, now); err == nil || !strings.Contains(err.Error(), "base-url") {
		t.Errorf("without a base URL: %v", err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s behind", fresh)
	}
}
