package importer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/importer"
	"github.com/confide-org/confide/internal/verify"
)

func listReader(t *testing.T, body string) importer.ListReader {
	t.Helper()
	regs, err := verify.LoadRegisters(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := importer.FindBody(tax, body)
	if !ok {
		t.Fatalf("no body %q", body)
	}
	reg, _ := regs.Get(b.Slug)
	return importer.ListReader{Tax: tax, Body: b, Register: reg}
}

// TestMemberListFileErrors: a member list that cannot be read as rows is
// refused whole, before anything is compared, with a reason to act on.
func TestMemberListFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, data, want string
	}{
		{"empty", "csv", "\n\n", "the file is empty"},
		{"semicolons", "csv", "membership_number;status\n012345;current\n", "separated by semicolons"},
		{"tabs", "csv", "membership_number\tstatus\n", "separated by tabs"},
		{"no number column", "csv", "name,status\nAnn,current\n", `required column "membership_number" is missing`},
		{"unknown column", "csv", "membership_number,statut\n012345,current\n", `unknown column "statut"`},
		{"therapist columns", "csv", "membership_number,email\n012345,a@example.org\n", `unknown column "email"`},
		{"column twice", "csv", "membership_number,status,status\n", "appears twice"},
		{"header not csv", "csv", "\"membership_number\n", "header is not a comma-separated list"},
		{"unknown format", "xlsx", "membership_number\n", "use csv or jsonl"},
		{"too big", "csv", "membership_number\n" + strings.Repeat("1", importer.MaxBytes), "larger than 32 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := listReader(t, "bacp").Read(strings.NewReader(tt.data), tt.format)
			var fe *importer.FileError
			if !errorsAs(err, &fe) || !strings.Contains(err.Error(), tt.want) || l != nil {
				t.Fatalf("err %v, want a file error with %q", err, tt.want)
			}
		})
	}
}

// TestMemberListRowProblems: every kind of bad row is reported with its
// line and column, the good rows around it are still read, and statuses
// are read in the documented words.
func TestMemberListRowProblems(t *testing.T) {
	t.Parallel()
	const head = "membership_number,status,name,level,body\n"
	good := "012345,current,Ann Example,Registered,BACP\n"
	tests := []struct {
		name, row, column, words string
	}{
		{"empty number", ",current,Bo,,\n", "membership_number", "required, and empty"},
		{"number not the register's", "AB-12,current,Bo,,\n", "membership_number", "does not look like a BACP Register number"},
		{"number too long", strings.Repeat("9", 41) + ",current,Bo,,\n", "membership_number", "longer than 40"},
		{"unknown status", "0456789,laspsed,Bo,,\n", "status", `"laspsed" is not a status we know`},
		{"another body", "0456789,current,Bo,,UKCP\n", "body", `"UKCP" is not BACP`},
		{"unknown body", "0456789,current,Bo,,XYZ\n", "body", `"XYZ" is not BACP`},
		{"conflicting duplicate", "012345,lapsed,Ann Example,,\n", "status", "already on line 2 as current, here as lapsed"},
		{"ragged", "0456789,current\n", "", "cells where the header has 5 columns"},
		{"not utf-8", "0456789,current,Ren\xe9e,,\n", "", "not UTF-8"},
		{"stray quote", "0456789,cur\"rent\",Bo,,\n", "", "not well-formed CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := listReader(t, "BACP").Read(strings.NewReader(head+good+tt.row+"0111222,lapsed,,,\n"), "csv")
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Problems) != 1 || l.Problems[0].Line != 3 || l.Problems[0].Column != tt.column || !strings.Contains(l.Problems[0].Reason, tt.words) {
				t.Fatalf("problems %v, want line 3, %q: …%s…", l.Problems, tt.column, tt.words)
			}
			if m := l.Members["012345"]; m.Line != 2 || m.Standing != importer.StandingCurrent {
				t.Fatalf("the good row before: %+v", m)
			}
			if m := l.Members["0111222"]; m.Standing != importer.StandingLapsed {
				t.Fatalf("the good row after: %+v", l.Members)
			}
		})
	}
}

// TestMemberListKnownNumbers: a number the directory holds is read even
// when it does not fit the register's pattern (a verifier accepted it);
// any other such number is still a problem.
func TestMemberListKnownNumbers(t *testing.T) {
	t.Parallel()
	lr := listReader(t, "bacp")
	lr.Known = func(n string) bool { return n == "DEMO-123456" }
	l, err := lr.Read(strings.NewReader("membership_number\nDEMO-123456\nDEMO-654321\n"), "csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Members["DEMO-123456"]; !ok || len(l.Problems) != 1 || l.Problems[0].Line != 3 || !strings.Contains(l.Problems[0].Reason, "does not look like") {
		t.Fatalf("members %v, problems %v", l.Members, l.Problems)
	}
}

// TestMemberListStatuses: the words each status is read from, numbers
// normalised as stored memberships are, repeats with the same status
// counted once, and JSON lines read like CSV.
func TestMemberListStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status string
		want   importer.Standing
	}{
		{"", importer.StandingCurrent}, {"Current", importer.StandingCurrent}, {"ACTIVE", importer.StandingCurrent},
		{"registered", importer.StandingCurrent}, {"lapsed", importer.StandingLapsed}, {"Expired", importer.StandingLapsed},
		{"resigned", importer.StandingLapsed}, {"removed", importer.StandingLapsed}, {"struck  off", importer.StandingLapsed},
		{"not renewed", importer.StandingLapsed}, {"Suspended", importer.StandingSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			t.Parallel()
			l, err := listReader(t, "bacp").Read(strings.NewReader("membership_number,status\n 01 2345 ,"+tt.status+"\n"), "csv")
			if err != nil || len(l.Problems) != 0 {
				t.Fatalf("err %v, problems %v", err, l.Problems)
			}
			if m := l.Members["012345"]; m.Standing != tt.want || m.Line != 2 {
				t.Fatalf("%q read as %+v, want %s", tt.status, l.Members, tt.want)
			}
		})
	}
	l, err := listReader(t, "bacp").Read(strings.NewReader("membership_number,status\n012345,current\n012345,active\n"), "csv")
	if err != nil || len(l.Problems) != 0 || len(l.Members) != 1 || l.Members["012345"].Line != 2 || l.Rows != 2 {
		t.Fatalf("same membership twice, same status: %v %v %+v", err, l.Problems, l)
	}
	data := `{"membership_number":"012345","status":"current"}
{"membership_number":12399,"status":"suspended","name":"Bo"}
{"membership_number":7000000}
{"membership_number":"0777","status":["x"]}
not json
{"membership_number":"0888","email":"a@example.org"}
`
	l, err = listReader(t, "bacp").Read(strings.NewReader(data), "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if l.Members["012345"].Standing != importer.StandingCurrent || l.Members["12399"].Standing != importer.StandingSuspended ||
		l.Members["7000000"].Standing != importer.StandingCurrent {
		t.Fatalf("members %+v", l.Members)
	}
	var lines []int
	for _, p := range l.Problems {
		lines = append(lines, p.Line)
	}
	if len(lines) != 3 || lines[0] != 4 || lines[1] != 5 || lines[2] != 6 || l.Problems[2].Column != "email" {
		t.Fatalf("problems %v", l.Problems)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
