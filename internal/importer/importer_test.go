package importer_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/importer"
	"github.com/confide-org/confide/internal/taxonomy"
)

var (
	tax = taxonomy.MustLoad()
	gaz = geo.MustLoad()
)

func builder() *importer.Builder {
	return &importer.Builder{Tax: tax, Gaz: gaz, Validator: directory.Validator{Tax: tax, Gaz: gaz},
		Now: func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }}
}

const header = "name,email,body,membership_number,level,postcode,formats,approaches,issues,client_groups,languages,fee_min,fee_max,concessions\n"

// TestReadFileErrors: a file that cannot be read as rows is refused whole,
// with a reason a person can act on.
func TestReadFileErrors(t *testing.T) {
	tests := []struct {
		name, format, data, want string
	}{
		{"empty", "csv", "  \n", "empty"},
		{"semicolons", "csv", "name;email;body;membership_number;approaches\nA;b@example.org;bacp;1;cbt\n", "separated by semicolons"},
		{"tabs", "csv", "name\temail\tbody\n", "separated by tabs"},
		{"unknown column", "csv", "name,email,body,membership_number,approachs\n", `unknown column "approachs"`},
		{"missing column", "csv", "name,email,body,approaches\n", `"membership_number" is missing`},
		{"column twice", "csv", "name,email,body,membership_number,approaches,name\n", "appears twice"},
		{"unknown format", "xlsx", "x", "use csv or jsonl"},
		{"too big", "csv", header + strings.Repeat("x", importer.MaxBytes), "larger than 32 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := importer.Read(strings.NewReader(tt.data), tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRowProblems: every kind of bad row is reported with its line and
// column, and every good row becomes an entry.
func TestRowProblems(t *testing.T) {
	good := "Ann Example,ann@example.org,BACP,012345,Registered member,LS6 2AB,online,CBT;person-centred,Anxiety,individuals,en;Polish,45,60,yes\n"
	tests := []struct {
		name, row, column, words string
	}{
		{"unknown approach", "Bo,bo@example.org,bacp,1,,LS6,,psychodynamc,,,,,,\n", "approaches", `did you mean "psychodynamic"`},
		{"bad postcode", "Bo,bo@example.org,bacp,1,,ZZ99 9ZZ,,cbt,,,,,,\n", "postcode", "not recognised"},
		{"not a postcode", "Bo,bo@example.org,bacp,1,,12345,,cbt,,,,,,\n", "postcode", "full UK postcode"},
		{"missing email", "Bo,,bacp,1,,LS6,,cbt,,,,,,\n", "email", "required"},
		{"bad email", "Bo,bo at example,bacp,1,,LS6,,cbt,,,,,,\n", "email", "correct format"},
		{"bad fee", "Bo,bo@example.org,bacp,1,,LS6,,cbt,,,,forty,,\n", "fee_min", "amount in pounds"},
		{"fee range", "Bo,bo@example.org,bacp,1,,LS6,,cbt,,,,60,40,\n", "fee_max", "at least the lowest"},
		{"unknown body", "Bo,bo@example.org,XYZ,1,,LS6,,cbt,,,,,,\n", "body", "not a professional body"},
		{"bad number", "Bo,bo@example.org,bacp,<1>,,LS6,,cbt,,,,,,\n", "membership_number", "letters, digits"},
		{"unknown language", "Bo,bo@example.org,bacp,1,,LS6,,cbt,,,Klingon,,,\n", "languages", "not a language"},
		{"bad concessions", "Bo,bo@example.org,bacp,1,,LS6,,cbt,,,,,,maybe\n", "concessions", "yes or no"},
		{"wrong encoding", "B\xf6,bo@example.org,bacp,1,,LS6,,cbt,,,,,,\n", "", "not UTF-8"},
		{"ragged", "Bo,bo@example.org,bacp\n", "", "cells where the header has"},
		{"duplicate membership", "Ann Other,other@example.org,bacp,012345,,LS6,,cbt,,,,,,\n", "membership_number", "already on line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, problems, err := importer.Read(strings.NewReader(header+good+tt.row), "csv")
			if err != nil {
				t.Fatal(err)
			}
			entries, bad := builder().Build(rows)
			problems = append(problems, bad...)
			if len(entries) != 1 || entries[0].Line != 2 {
				t.Fatalf("the good row: %d entries", len(entries))
			}
			if len(problems) == 0 || problems[0].Line != 3 || problems[0].Column != tt.column || !strings.Contains(problems[0].Reason, tt.words) {
				t.Fatalf("problems %v, want line 3, %s: …%s…", problems, tt.column, tt.words)
			}
		})
	}
	rows, _, _ := importer.Read(strings.NewReader(header+good), "csv")
	entries, _ := builder().Build(rows)
	p := entries[0].Profile
	if entries[0].Key != (importer.Key{Body: "bacp", Number: "012345"}) || strings.Join(p.Approaches, ",") != "cbt,person-centred" ||
		strings.Join(p.Languages, ",") != "en,pl" || p.FeeMinPence != 4500 || !p.Concessions || p.Locations[0].Outcode != "LS6" ||
		p.Locations[0].Postcode != "LS6 2AB" || p.Published || p.Verification.State != directory.Unverified || len(p.Memberships) != 0 {
		t.Fatalf("profile %+v", p)
	}
}

// TestJSONLines: the same rows as JSON objects, lists as arrays.
func TestJSONLines(t *testing.T) {
	data := `{"name":"Ann Example","email":"ann@example.org","body":"ukcp","membership_number":"A-77","postcode":"LS6","approaches":["cbt","EMDR"],"fee_min":100}
not json
{"name":"Bo","email":"bo@example.org","body":"bacp","membership_number":"9","approaches":"cbt","languages":{"x":1}}
`
	rows, problems, err := importer.Read(bytes.NewReader([]byte(data)), "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	entries, bad := builder().Build(rows)
	problems = append(problems, bad...)
	if len(entries) != 1 || entries[0].Profile.FeeMinPence != 10000 || strings.Join(entries[0].Profile.Approaches, ",") != "cbt,emdr" {
		t.Fatalf("entries %+v", entries)
	}
	if len(problems) != 2 || problems[0].Line != 2 || problems[1].Line != 3 || problems[1].Column != "languages" {
		t.Fatalf("problems %v", problems)
	}
}
