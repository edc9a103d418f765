package verify

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func registers(t *testing.T) *Registers {
	t.Helper()
	rs, err := LoadRegisters(nil, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestDefaultRegisters(t *testing.T) {
	rs := registers(t)
	var bodies []string
	for _, r := range rs.All() {
		bodies = append(bodies, r.Body)
		if !strings.HasPrefix(r.Link("123"), "https://") || r.Hint == "" {
			t.Errorf("%s: link %q hint %q", r.Body, r.Link("123"), r.Hint)
		}
	}
	if got := strings.Join(bodies, " "); got != "bacp ukcp ncps bpc cosca hcpc babcp acc" {
		t.Fatalf("bodies %s", got)
	}
	hcpc, _ := rs.Get("hcpc")
	for number, ok := range map[string]bool{"PYL12345": true, "AS01234": true, "12345": false, "PYL": false} {
		if hcpc.Valid(number) != ok {
			t.Errorf("HCPC %q valid=%v", number, !ok)
		}
	}
}

func TestLoadRegistersRejectsBadFiles(t *testing.T) {
	known := func(s string) bool { return s != "nope" }
	for name, doc := range map[string]string{
		"not json":     `{`,
		"empty":        `{"registers": []}`,
		"unknown body": `{"registers": [{"body": "nope", "name": "N", "register_url": "https://x.example", "pattern": "^1$"}]}`,
		"http link":    `{"registers": [{"body": "bacp", "name": "N", "register_url": "http://x.example", "pattern": "^1$"}]}`,
		"bad pattern":  `{"registers": [{"body": "bacp", "name": "N", "register_url": "https://x.example", "pattern": "("}]}`,
		"twice":        `{"registers": [{"body": "bacp", "name": "N", "register_url": "https://x.example", "pattern": "^1$"}, {"body": "bacp", "name": "N", "register_url": "https://x.example", "pattern": "^1$"}]}`,
		"no pattern":   `{"registers": [{"body": "bacp", "name": "N", "register_url": "https://x.example"}]}`,
	} {
		if _, err := LoadRegisters([]byte(doc), known); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	rs, err := LoadRegisters([]byte(`{"registers": [{"body": "bacp", "name": "N", "register_url": "https://x.example", "search_url": "https://x.example/?n={number}", "pattern": "^[0-9]+$"}]}`), known)
	if err != nil || rs.All()[0].Link("42") != "https://x.example/?n=42" {
		t.Fatalf("custom register: %v", err)
	}
}

func TestNextCheckDue(t *testing.T) {
	verified := time.Date(2026, 11, 25, 15, 30, 0, 0, time.UTC)
	tests := []struct {
		insurance, want string
	}{
		{"2027-03-31", "2027-03-31"}, // insurance ends first
		{"2028-01-01", "2027-11-25"}, // twelve months first
		{"2027-11-25", "2027-11-25"},
	}
	for _, tt := range tests {
		ins, _ := time.Parse(time.DateOnly, tt.insurance)
		if got := NextCheckDue(verified, ins).Format(time.DateOnly); got != tt.want {
			t.Errorf("insurance %s: due %s, want %s", tt.insurance, got, tt.want)
		}
	}
}

func TestCheckEvidence(t *testing.T) {
	s := &Service{Registers: registers(t)}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	good := Evidence{Body: "bacp", Number: " 012 345 ", Level: "Accredited", Insurer: "Example Mutual", InsuranceExpires: "2027-06-30", Qualification: "MA Counselling"}
	r, err := s.Check(good, now)
	if err != nil || r.Number != "012345" || r.InsuranceExpires.Format(time.DateOnly) != "2027-06-30" {
		t.Fatalf("good evidence: %+v %v", r, err)
	}
	tests := []struct {
		name  string
		edit  func(*Evidence)
		field string
	}{
		{"unknown body", func(e *Evidence) { e.Body = "xyz" }, "body"},
		{"no number", func(e *Evidence) { e.Number = "" }, "number"},
		{"number of the wrong shape", func(e *Evidence) { e.Body, e.Number = "hcpc", "12345" }, "number"},
		{"expired insurance", func(e *Evidence) { e.InsuranceExpires = "2026-11-25" }, "insurance_expires"},
		{"not a date", func(e *Evidence) { e.InsuranceExpires = "next year" }, "insurance_expires"},
		{"far future", func(e *Evidence) { e.InsuranceExpires = "2031-01-01" }, "insurance_expires"},
		{"no insurer", func(e *Evidence) { e.Insurer = " " }, "insurer"},
		{"control characters", func(e *Evidence) { e.Qualification = "MA\x00" }, "qualification"},
		{"long level", func(e *Evidence) { e.Level = strings.Repeat("x", 81) }, "level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := good
			tt.edit(&ev)
			_, err := s.Check(ev, now)
			var fe FieldErrors
			if !errors.As(err, &fe) || fe[tt.field] == "" {
				t.Fatalf("err %v, want a message for %s", err, tt.field)
			}
		})
	}
}
